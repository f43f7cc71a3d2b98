from __future__ import annotations

import pytest

from jirabridge.emulator.model import Flavour, IssueUpdated, Site, ValidationFailed

from .conftest import bug, rich


def _items(history):  # type: ignore[no-untyped-def]
    return [
        (i.field, i.fieldtype, i.from_value, i.from_string, i.to_value, i.to_string)
        for i in history.items
    ]


def test_update_operations_on_labels(site: Site) -> None:
    issue = bug(site, labels=["a", "b"])
    history = site.edit_issue(
        site.admin_key, issue.key, update={"labels": [{"add": "c"}, {"remove": "a"}]}
    )
    assert issue.fields["labels"] == ["b", "c"]
    assert _items(history) == [("labels", "jira", None, "a b", None, "b c")]
    site.edit_issue(site.admin_key, issue.key, update={"labels": [{"set": []}]})
    assert "labels" not in issue.fields


def test_components_record_one_item_per_change(site: Site) -> None:
    issue = bug(site, components=[{"name": "Backend"}])
    backend, frontend = site.project_components("CLS")
    history = site.edit_issue(
        site.admin_key,
        issue.key,
        update={"components": [{"add": {"name": "Frontend"}}, {"remove": {"id": str(backend.id)}}]},
    )
    assert issue.fields["components"] == [frontend.id]
    assert _items(history) == [
        ("Component", "jira", str(backend.id), "Backend", None, None),
        ("Component", "jira", None, None, str(frontend.id), "Frontend"),
    ]


def test_fields_and_update_on_same_field_is_refused(site: Site) -> None:
    issue = bug(site)
    with pytest.raises(ValidationFailed) as err:
        site.edit_issue(
            site.admin_key, issue.key, fields={"labels": ["x"]}, update={"labels": [{"add": "y"}]}
        )
    assert list(err.value.errors) == ["labels"]
    assert "labels" not in issue.fields


def test_unsupported_operation(site: Site) -> None:
    issue = bug(site)
    with pytest.raises(ValidationFailed) as err:
        site.edit_issue(site.admin_key, issue.key, update={"summary": [{"add": "x"}]})
    assert "does not support operation 'add'" in err.value.errors["summary"]
    assert issue.fields["summary"] == "A bug"


def test_edit_records_changelog_like_jira(site: Site, events: list) -> None:
    issue = bug(site, priority={"name": "Low"})
    number = site.create_custom_field("Estimate days", "float")
    history = site.edit_issue(
        site.admin_key,
        issue.key,
        fields={"summary": "Renamed", "priority": {"id": "1"}, number.id: 12},
    )
    assert _items(history) == [
        ("summary", "jira", None, "A bug", None, "Renamed"),
        ("priority", "jira", "4", "Low", "1", "Highest"),
        ("Estimate days", "custom", None, None, None, "12"),
    ]
    assert [i.field_id for i in history.items] == ["summary", "priority", number.id]
    assert history.author_key == site.admin_key
    last = events[-1]
    assert isinstance(last, IssueUpdated)
    assert last.event_type == "issue_updated" and last.changelog is history
    assert site.issue_changelog(issue.key)[-1] is history


def test_no_change_records_nothing(site: Site, events: list) -> None:
    issue = bug(site)
    count = len(events)
    assert site.edit_issue(site.admin_key, issue.key, fields={"summary": "A bug"}) is None
    assert len(events) == count
    assert site.issue_changelog(issue.key) == []


def test_assign_emits_issue_assigned(site: Site, events: list) -> None:
    issue = bug(site)
    bob = site.find_user("bob@jirabridge.test")
    assert bob is not None
    history = site.assign_issue(site.admin_key, issue.key, {"accountId": bob.key})
    assert history is not None
    assert _items(history) == [("assignee", "jira", None, None, bob.key, "Bob Builder")]
    assert events[-1].event_type == "issue_assigned"
    site.assign_issue(site.admin_key, issue.key, None)
    assert "assignee" not in issue.fields
    site.assign_issue(site.admin_key, issue.key, "-1")  # automatic: the project lead
    assert issue.fields["assignee"] == site.get_project("CLS").lead_key


def test_description_change_item_uses_plain_text(site: Site) -> None:
    issue = bug(site, description=rich(site, "first"))
    history = site.edit_issue(site.admin_key, issue.key, {"description": rich(site, "second")})
    assert _items(history) == [("description", "jira", None, "first", None, "second")]


def test_comment_and_link_through_update(site: Site, events: list) -> None:
    issue = bug(site)
    other = bug(site, "Other")
    site.edit_issue(
        site.admin_key,
        issue.key,
        update={
            "comment": [{"add": {"body": rich(site, "via update")}}],
            "issuelinks": [
                {"add": {"type": {"name": "Blocks"}, "outwardIssue": {"key": other.key}}}
            ],
        },
    )
    assert [c.body for c in site.issue_comments(issue.key)] == [rich(site, "via update")]
    (link,) = site.issue_links(issue.key)
    assert (link.source_issue_id, link.destination_issue_id) == (issue.id, other.id)
    link_items = [h.items[0].to_string for h in site.issue_changelog(other.key)]
    assert link_items == [f"This issue is blocked by {issue.key}"]


def test_timetracking_and_worklog(site: Site) -> None:
    if site.flavour is Flavour.CLOUD:
        config = site.field_configuration(site.get_project("CLS").id, 1)
        config.create_fields.append("timetracking")
        config.edit_fields.append("timetracking")
    issue = bug(site, timetracking={"originalEstimate": "1d"})
    assert issue.fields["timeoriginalestimate"] == 8 * 3600
    assert issue.fields["timeestimate"] == 8 * 3600
    site.add_worklog(site.admin_key, issue.key, "2h 30m")
    assert issue.fields["timespent"] == 9000
    assert issue.fields["timeestimate"] == 8 * 3600 - 9000
    with pytest.raises(ValidationFailed):
        site.add_worklog(site.admin_key, issue.key, "soon")


def test_properties_on_create_and_limits(site: Site) -> None:
    issue = site.create_issue(
        site.admin_key,
        {"project": {"key": "CLS"}, "issuetype": {"name": "Task"}, "summary": "p"},
        properties=[{"key": "sync", "value": {"origin": "other"}}],
    )
    assert site.get_property("issue", issue.key, "sync") == {"origin": "other"}
    assert site.set_property("issue", issue.key, "sync", 2) is False
    with pytest.raises(ValidationFailed):
        site.set_property("issue", issue.key, "k" * 256, 1)
    with pytest.raises(ValidationFailed):
        site.set_property("issue", issue.key, "big", "x" * 40000)
    assert site.property_keys("issue", issue.key) == ["sync"]


def test_edit_with_comment_is_one_issue_event(site: Site, events: list) -> None:
    issue = bug(site)
    start = len(events)
    history = site.edit_issue(
        site.admin_key,
        issue.key,
        fields={"summary": "changed"},
        update={"comment": [{"add": {"body": rich(site, "why")}}]},
    )
    new = events[start:]
    assert [type(e).__name__ for e in new] == ["CommentCreated", "IssueUpdated"]
    assert new[1].changelog is history and new[1].comment is new[0].comment
    assert new[1].event_type == "issue_updated"


def test_transition_with_comment(site: Site, events: list) -> None:
    issue = bug(site)
    site.transition_issue(
        site.admin_key,
        issue.key,
        5,
        fields={"resolution": {"name": "Duplicate"}},
        update={"comment": [{"add": {"body": rich(site, "dup of X")}}]},
    )
    last = events[-1]
    assert isinstance(last, IssueUpdated) and last.event_type == "issue_resolved"
    assert last.comment is not None and last.comment.body == rich(site, "dup of X")
    assert len(site.issue_comments(issue.key)) == 1


def test_bad_side_effect_refuses_the_whole_edit(site: Site, events: list) -> None:
    issue = bug(site)
    start = len(events)
    for update in (
        {
            "comment": [
                {
                    "add": {
                        "body": rich(site, "x"),
                        "visibility": {"type": "group", "value": "nobody"},
                    }
                }
            ]
        },
        {"issuelinks": [{"add": {"type": {"name": "Nope"}, "outwardIssue": {"key": "CLS-1"}}}]},
        {"issuelinks": [{"add": {"type": {"name": "Blocks"}, "outwardIssue": {"key": "ZZ-9"}}}]},
        {"worklog": [{"add": {"timeSpent": "forever"}}]},
    ):
        with pytest.raises(ValidationFailed):
            site.edit_issue(site.admin_key, issue.key, {"summary": "changed"}, update)
        with pytest.raises(ValidationFailed):
            site.transition_issue(site.admin_key, issue.key, 4, update=update)
    assert issue.fields["summary"] == "A bug"
    assert site.statuses[issue.status_id].name == "Open"
    assert events[start:] == []
    assert site.issue_comments(issue.key) == [] and site.issue_links(issue.key) == []
