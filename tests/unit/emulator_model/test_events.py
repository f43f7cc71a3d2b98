from __future__ import annotations

import dataclasses
import logging

import pytest

from jirabridge.emulator.model import (
    AttachmentCreated,
    AttachmentDeleted,
    CommentCreated,
    CommentDeleted,
    CommentUpdated,
    DomainEvent,
    IssueCreated,
    IssueDeleted,
    IssueLinkCreated,
    IssueLinkDeleted,
    IssueUpdated,
    Site,
    ValidationFailed,
    WorklogCreated,
)

from .conftest import FROZEN, bug, rich


def _names(events: list[DomainEvent]) -> list[str]:
    out = []
    for e in events:
        name = type(e).__name__
        if isinstance(e, IssueUpdated):
            name += f":{e.event_type}"
        out.append(name)
    return out


def test_event_stream_of_an_issue_life(site: Site, events: list[DomainEvent]) -> None:
    issue = bug(site)
    other = bug(site, "other")
    comment = site.add_comment(site.admin_key, issue.key, rich(site, "hi"))
    site.update_comment(site.admin_key, issue.key, comment.id, rich(site, "hello"))
    site.delete_comment(site.admin_key, issue.key, comment.id)
    link = site.create_link(site.admin_key, "Relates", issue.key, other.key)
    site.delete_link(site.admin_key, link.id)
    att = site.add_attachment(site.admin_key, issue.key, "a.txt", b"abc")
    site.delete_attachment(site.admin_key, att.id)
    site.add_worklog(site.admin_key, issue.key, 60)
    site.delete_issue(site.admin_key, issue.key)
    assert _names(events) == [
        "IssueCreated",
        "IssueCreated",
        "CommentCreated",
        "IssueUpdated:issue_commented",
        "CommentUpdated",
        "IssueUpdated:issue_comment_edited",
        "CommentDeleted",
        "IssueUpdated:issue_comment_deleted",
        "IssueLinkCreated",
        "IssueUpdated:issue_updated",
        "IssueUpdated:issue_updated",
        "IssueLinkDeleted",
        "IssueUpdated:issue_updated",
        "IssueUpdated:issue_updated",
        "AttachmentCreated",
        "IssueUpdated:issue_updated",
        "AttachmentDeleted",
        "IssueUpdated:issue_updated",
        "WorklogCreated",
        "IssueUpdated:issue_worklogged",
        "IssueDeleted",
    ]
    assert all(e.at == FROZEN and e.actor_key == site.admin_key for e in events)
    created = events[0]
    assert isinstance(created, IssueCreated) and created.webhook_event == "jira:issue_created"
    assert isinstance(events[2], CommentCreated) and events[2].comment.id == comment.id
    assert isinstance(events[4], CommentUpdated) and events[6].webhook_event == "comment_deleted"
    assert isinstance(events[6], CommentDeleted)
    assert isinstance(events[8], IssueLinkCreated) and isinstance(events[11], IssueLinkDeleted)
    assert isinstance(events[14], AttachmentCreated) and isinstance(events[16], AttachmentDeleted)
    assert isinstance(events[18], WorklogCreated)
    deleted = events[-1]
    assert isinstance(deleted, IssueDeleted) and deleted.issue.key == issue.key
    assert site.find_issue(issue.key) is None
    assert site.comments_by_issue.get(issue.id) is None


def test_events_are_frozen(site: Site, events: list[DomainEvent]) -> None:
    bug(site)
    with pytest.raises(dataclasses.FrozenInstanceError):
        events[0].actor_key = "someone"  # type: ignore[misc]


def test_refused_change_emits_nothing(site: Site, events: list[DomainEvent]) -> None:
    with pytest.raises(ValidationFailed):
        bug(site, priority={"name": "nope"})
    assert events == []


def test_listener_failure_is_logged_not_raised(
    site: Site, events: list[DomainEvent], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: DomainEvent) -> None:
        raise RuntimeError("boom")

    site.subscribe(broken)
    with caplog.at_level(logging.ERROR):
        issue = bug(site)
    assert site.get_issue(issue.key) is issue
    assert len(events) == 1
    assert "event listener failed" in caplog.text


def test_unsubscribe(site: Site) -> None:
    got: list[DomainEvent] = []
    stop = site.subscribe(got.append)
    bug(site)
    stop()
    bug(site, "two")
    assert len(got) == 1


def test_delete_with_subtasks(site: Site, events: list[DomainEvent]) -> None:
    parent = bug(site)
    child = site.create_issue(
        site.admin_key,
        {
            "project": {"key": "CLS"},
            "issuetype": {"name": "Sub-task"},
            "summary": "c",
            "parent": {"key": parent.key},
        },
    )
    with pytest.raises(ValidationFailed) as err:
        site.delete_issue(site.admin_key, parent.key)
    assert "deleteSubtasks" in err.value.error_messages[0]
    assert site.find_issue(child.key) is child
    deleted = site.delete_issue(site.admin_key, parent.key, delete_subtasks=True)
    assert [i.key for i in deleted] == [child.key, parent.key]
    assert [type(e).__name__ for e in events[-2:]] == ["IssueDeleted", "IssueDeleted"]
    assert site.find_issue(parent.key) is None and site.find_issue(child.key) is None


def test_cloud_creation_event_lists_initial_values(site: Site, events: list[DomainEvent]) -> None:
    issue = bug(site, labels=["x"], priority={"name": "High"})
    created = events[0]
    assert isinstance(created, IssueCreated)
    if site.flavour.value == "server":
        assert created.changelog is None
        return
    assert created.changelog is not None
    items = {(i.field, i.to_value, i.to_string) for i in created.changelog.items}
    assert ("priority", "2", "High") in items
    assert ("summary", None, "A bug") in items
    assert ("labels", None, "x") in items
    assert ("status", str(issue.status_id), "Open") in items
    assert site.issue_changelog(issue.key) == []  # not stored in the issue's history
