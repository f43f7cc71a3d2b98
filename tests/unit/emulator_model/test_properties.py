"""Property tests: invariants that must hold after any sequence of operations."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jirabridge.emulator.model import Clock, Flavour, Site, StatusCategory, ValidationFailed

from .conftest import FROZEN

_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _site(flavour: Flavour) -> Site:
    site = Site(flavour, clock=Clock(FROZEN))
    site.create_project("CLS", "Classic", site.admin_key, workflow="classic")
    site.create_project("SMP", "Simple", site.admin_key, workflow="simplified")
    return site


@_SETTINGS
@given(
    flavour=st.sampled_from(list(Flavour)),
    project=st.sampled_from(["CLS", "SMP"]),
    choices=st.lists(st.integers(0, 5), max_size=12),
)
def test_resolution_follows_the_status_category(
    flavour: Flavour, project: str, choices: list[int]
) -> None:
    site = _site(flavour)
    issue = site.create_issue(
        site.admin_key,
        {"project": {"key": project}, "issuetype": {"name": "Task"}, "summary": "t"},
    )
    for pick in choices:
        options = site.available_transitions(issue.key)
        transition = options[pick % len(options)]
        before = len(site.issue_changelog(issue.key))
        site.transition_issue(site.admin_key, issue.key, transition.id)
        assert issue.status_id == transition.to_status_id
        assert len(site.issue_changelog(issue.key)) == before + 1
        done = site.statuses[issue.status_id].category is StatusCategory.DONE
        assert ("resolution" in issue.fields) == done
        assert (issue.resolution_date is not None) == done
    history = site.issue_changelog(issue.key)
    statuses = [i for h in history for i in h.items if i.field == "status"]
    for prev, nxt in zip(statuses, statuses[1:], strict=False):
        assert prev.to_value == nxt.from_value  # the status trail is continuous


_label = st.sampled_from(["a", "b", "c", "d"])


@_SETTINGS
@given(
    initial=st.lists(_label, max_size=4, unique=True),
    ops=st.lists(st.tuples(st.sampled_from(["add", "remove", "set"]), _label), max_size=8),
)
def test_label_operations_behave_like_an_ordered_set(
    initial: list[str], ops: list[tuple[str, str]]
) -> None:
    site = _site(Flavour.SERVER)
    issue = site.create_issue(
        site.admin_key,
        {
            "project": {"key": "CLS"},
            "issuetype": {"name": "Task"},
            "summary": "t",
            "labels": initial,
        },
    )
    expected = list(initial)
    update = []
    for name, label in ops:
        update.append({name: [label] if name == "set" else label})
        if name == "add" and label not in expected:
            expected.append(label)
        elif name == "remove":
            expected = [x for x in expected if x != label]
        elif name == "set":
            expected = [label]
    if update:
        site.edit_issue(site.admin_key, issue.key, update={"labels": update})
    assert issue.fields.get("labels", []) == expected


@_SETTINGS
@given(
    bad=st.one_of(
        st.integers(),
        st.text(max_size=5),
        st.lists(st.integers(), max_size=2),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        st.none(),
    )
)
def test_any_bad_value_is_a_clear_refusal_and_changes_nothing(bad: object) -> None:
    site = _site(Flavour.CLOUD)
    issue = site.create_issue(
        site.admin_key,
        {"project": {"key": "CLS"}, "issuetype": {"name": "Task"}, "summary": "t"},
    )
    snapshot = dict(issue.fields)
    for field in ("priority", "components", "duedate", "assignee", "labels", site.agile.sprint):
        try:
            site.edit_issue(site.admin_key, issue.key, {field: bad})
        except ValidationFailed as err:
            assert err.status == 400
            assert err.errors or err.error_messages
            assert issue.fields == snapshot
        else:
            snapshot = dict(issue.fields)


_json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 20000) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["id", "key", "name", "value", "accountId", "child", "type", "content", "body"]
            ),
            inner,
            max_size=3,
        )
    ),
    max_leaves=6,
)


@_SETTINGS
@given(
    flavour=st.sampled_from(list(Flavour)),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "summary",
                "description",
                "priority",
                "labels",
                "components",
                "fixVersions",
                "duedate",
                "assignee",
                "reporter",
                "parent",
                "timetracking",
                "customfield_10021",
                "customfield_10200",
                "customfield_10201",
                "environment",
                "foo",
            ]
        ),
        _json_value,
        max_size=5,
    ),
    update=st.dictionaries(
        st.sampled_from(["labels", "comment", "issuelinks", "worklog", "summary", "components"]),
        st.lists(
            st.dictionaries(
                st.sampled_from(["add", "set", "remove", "edit"]), _json_value, max_size=2
            ),
            max_size=2,
        )
        | _json_value,
        max_size=2,
    ),
)
def test_hostile_create_input_only_raises_model_errors(
    flavour: Flavour, fields: dict, update: dict
) -> None:
    from jirabridge.emulator.model import ModelError

    site = _site(flavour)
    before = len(site.issues)
    body = {"project": {"key": "CLS"}, "issuetype": {"name": "Task"}, "summary": "s", **fields}
    try:
        site.create_issue(site.admin_key, body, update)
    except ModelError as err:
        assert err.status in (400, 404, 413)
        assert len(site.issues) == before


@_SETTINGS
@given(
    flavour=st.sampled_from(list(Flavour)),
    fields=st.dictionaries(
        st.sampled_from(
            [
                "summary",
                "description",
                "priority",
                "labels",
                "components",
                "assignee",
                "parent",
                "issuetype",
                "project",
                "resolution",
                "customfield_10021",
                "customfield_10200",
            ]
        ),
        _json_value,
        max_size=4,
    ),
    update=st.dictionaries(
        st.sampled_from(["labels", "comment", "issuelinks", "worklog", "summary"]),
        st.lists(
            st.dictionaries(st.sampled_from(["add", "set", "remove"]), _json_value, max_size=2),
            max_size=2,
        ),
        max_size=2,
    ),
    transition=st.sampled_from([None, 2, 4, 5, 999]),
)
def test_hostile_edit_and_transition_change_nothing_when_refused(
    flavour: Flavour, fields: dict, update: dict, transition: int | None
) -> None:
    from jirabridge.emulator.model import ModelError

    site = _site(flavour)
    issue = site.create_issue(
        site.admin_key,
        {"project": {"key": "CLS"}, "issuetype": {"name": "Task"}, "summary": "s"},
    )
    snapshot = site.to_state()
    try:
        if transition is None:
            site.edit_issue(site.admin_key, issue.key, fields, update)
        else:
            site.transition_issue(site.admin_key, issue.key, transition, fields, update)
    except ModelError as err:
        assert err.status in (400, 404, 413)
        assert site.to_state() == snapshot
