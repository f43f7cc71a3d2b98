from __future__ import annotations

import pytest

from jirabridge.emulator.model import IssueUpdated, Site, ValidationFailed

from .conftest import bug


def test_classic_workflow_offers_transitions_by_status(site: Site) -> None:
    issue = bug(site)
    assert site.statuses[issue.status_id].name == "Open"
    names = [t.name for t in site.available_transitions(issue.key)]
    assert names == ["Start Progress", "Resolve Issue", "Close Issue"]
    site.transition_issue(site.admin_key, issue.key, 4)
    assert site.statuses[issue.status_id].name == "In Progress"
    assert [t.id for t in site.available_transitions(issue.key)] == [5, 2, 301]


def test_unavailable_transition_fails_like_jira_and_changes_nothing(site: Site) -> None:
    issue = bug(site)
    before = dict(issue.fields)
    with pytest.raises(ValidationFailed) as err:
        site.transition_issue(site.admin_key, issue.key, 3)  # Reopen from Open
    assert err.value.status == 400
    assert err.value.error_messages == ["Transition id '3' is not valid for this issue."]
    assert issue.fields == before
    assert site.issue_changelog(issue.key) == []


def test_resolve_sets_resolution_and_reopen_clears_it(site: Site, events: list) -> None:
    issue = bug(site)
    history = site.transition_issue(
        site.admin_key, issue.key, 5, fields={"resolution": {"name": "Won't Do"}}
    )
    assert [(i.field, i.from_string, i.to_string) for i in history.items] == [
        ("status", "Open", "Resolved"),
        ("resolution", None, "Won't Do"),
    ]
    assert issue.fields["resolution"] == 10001
    assert issue.resolution_date is not None
    assert events[-1].event_type == "issue_resolved"
    history = site.transition_issue(site.admin_key, issue.key, 3)
    assert [(i.field, i.from_value, i.to_value) for i in history.items] == [
        ("resolution", "10001", None),
        ("status", "5", "4"),
    ]
    assert "resolution" not in issue.fields
    assert issue.resolution_date is None
    last = events[-1]
    assert isinstance(last, IssueUpdated) and last.event_type == "issue_reopened"


def test_screen_transition_defaults_resolution(site: Site) -> None:
    issue = bug(site)
    site.transition_issue(site.admin_key, issue.key, 2)
    assert site.resolutions[issue.fields["resolution"]].name == "Done"


def test_transition_without_screen_refuses_fields(site: Site) -> None:
    issue = bug(site)
    with pytest.raises(ValidationFailed) as err:
        site.transition_issue(site.admin_key, issue.key, 4, fields={"resolution": {"name": "Done"}})
    assert err.value.errors == {
        "resolution": "Field 'resolution' cannot be set. It is not on the appropriate screen, "
        "or unknown."
    }
    assert site.statuses[issue.status_id].name == "Open"


def test_simplified_workflow_sets_and_clears_resolution(site: Site, events: list) -> None:
    issue = bug(site, project="SMP")
    assert site.statuses[issue.status_id].name == "To Do"
    assert {t.name for t in site.available_transitions(issue.key)} == {"In Progress", "Done"}
    site.transition_issue(site.admin_key, issue.key, 31)
    assert site.resolutions[issue.fields["resolution"]].name == "Done"
    assert events[-1].event_type == "issue_generic"
    site.transition_issue(site.admin_key, issue.key, 11)
    assert "resolution" not in issue.fields


def test_bad_resolution_on_screen_is_a_field_error(site: Site) -> None:
    issue = bug(site)
    with pytest.raises(ValidationFailed) as err:
        site.transition_issue(site.admin_key, issue.key, 5, fields={"resolution": {"name": "Nope"}})
    assert err.value.errors == {"resolution": "Resolution name 'Nope' is not valid"}


def test_custom_workflow_status_and_issue_type(site: Site) -> None:
    from jirabridge.emulator.model import ResolutionRule, StatusCategory, Transition

    review = site.create_status("In Review", StatusCategory.INDETERMINATE)
    done = next(s for s in site.statuses.values() if s.name == "Done")
    todo = next(s for s in site.statuses.values() if s.name == "To Do")
    site.create_workflow(
        "review",
        todo.id,
        [
            Transition(11, "Review", review.id, (todo.id,)),
            Transition(21, "Approve", done.id, (review.id,), ResolutionRule.SET_DONE),
            Transition(31, "Back", todo.id, (), ResolutionRule.CLEAR),
        ],
    )
    itype = site.create_issue_type("Change", projects=["SMP"])
    site.set_workflow("SMP", "review", itype.id)
    issue = site.create_issue(
        site.admin_key,
        {"project": {"key": "SMP"}, "issuetype": {"name": "Change"}, "summary": "c"},
    )
    assert issue.status_id == todo.id
    assert [t.name for t in site.available_transitions(issue.key)] == ["Review"]
    site.clock.advance(60)
    site.transition_issue(site.admin_key, issue.key, 11)
    assert issue.status_category_changed == site.now()
    site.clock.advance(60)
    site.transition_issue(site.admin_key, issue.key, 21)
    assert site.resolutions[issue.fields["resolution"]].name == "Done"
    assert [t.name for t in site.available_transitions(issue.key)] == ["Back"]
    with pytest.raises(ValidationFailed):
        site.create_status("in review", StatusCategory.NEW)
    with pytest.raises(ValidationFailed) as err:
        site.create_workflow("broken", 99999, [Transition(1, "x", 1), Transition(1, "y", 3)])
    assert set(err.value.errors) == {"statuses", "transitions"}
    # the other issue types of the project keep the simplified workflow
    assert site.statuses[bug(site, project="SMP").status_id].name == "To Do"
    assert site.workflow_for(site.get_project("SMP").id, itype.id).name == "review"
