from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jirabridge.errors import BadInputError
from jirabridge.sync.notices import EventKind
from jirabridge.sync.webhooks import parse_webhook

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def captures(shared_dir: Path) -> list[Path]:
    return sorted((shared_dir / "fixtures" / "webhooks").glob("*/*.json"))


def test_every_capture_parses_into_notices(shared_dir: Path) -> None:
    files = captures(shared_dir)
    assert len(files) >= 26
    for path in files:
        body = json.loads(path.read_text())
        parsed = parse_webhook("site", body, observed_at=NOW, webhook_id="w-1")
        assert parsed.ignored is None, path.name
        assert len(parsed.notices) == 1, path.name
        notice = parsed.notices[0]
        assert notice.issue_id.isdigit(), path.name
        if "issue" in body:
            assert notice.issue_id == body["issue"]["id"]
            assert notice.issue_key == body["issue"]["key"]
        if "comment" in body:
            assert notice.comment_id == body["comment"]["id"], path.name
        if "changelog" in body:
            assert notice.changelog_id == str(body["changelog"]["id"])
        assert notice.webhook_id == "w-1"


@pytest.mark.parametrize(
    ("name", "event", "issue", "fields", "actor"),
    [
        (
            "server/webhook-server-issue-updated-resolved.json",
            EventKind.ISSUE_UPDATED,
            "10300",
            ("status", "resolution"),
            "admin",
        ),
        (
            "server/webhook-server-issue-updated-commented-1.json",
            EventKind.COMMENT_CREATED,
            "10013",
            (),
            "levbrouk",
        ),
        (
            "server/webhook-server-issue-updated-comment-edited.json",
            EventKind.COMMENT_UPDATED,
            "10013",
            (),
            "levbrouk",
        ),
        # Server comment events carry no issue: the id comes from the comment's self URL
        (
            "server/webhook-server-comment-created.json",
            EventKind.COMMENT_CREATED,
            "10013",
            (),
            "levbrouk",
        ),
        (
            "server/webhook-server-comment-deleted.json",
            EventKind.COMMENT_DELETED,
            "10013",
            (),
            "levbrouk",
        ),
        (
            "cloud/webhook-cloud-issue-created-many-fields.json",
            EventKind.ISSUE_CREATED,
            "10509",
            None,
            "5cedcb4355a88a0fc86388ba",
        ),
        (
            "cloud/webhook-cloud-issue-updated-custom-field.json",
            EventKind.ISSUE_UPDATED,
            "10368",
            None,
            "5cedcb4355a88a0fc86388ba",
        ),
        (
            "cloud/webhook-cloud-comment-deleted.json",
            EventKind.COMMENT_DELETED,
            "10357",
            (),
            "5cedcb4355a88a0fc86388ba",
        ),
    ],
)
def test_capture_details(
    shared_dir: Path,
    name: str,
    event: EventKind,
    issue: str,
    fields: tuple[str, ...] | None,
    actor: str,
) -> None:
    body = json.loads((shared_dir / "fixtures" / "webhooks" / name).read_text())
    [notice] = parse_webhook("s", body, observed_at=NOW).notices
    assert notice.event is event
    assert notice.issue_id == issue
    if fields is not None:
        assert notice.fields == fields
    assert notice.actor == actor


def test_cloud_changelog_prefers_field_ids(shared_dir: Path) -> None:
    body = json.loads(
        (
            shared_dir / "fixtures/webhooks/cloud/webhook-cloud-issue-updated-custom-field.json"
        ).read_text()
    )
    [notice] = parse_webhook("s", body, observed_at=NOW).notices
    item = body["changelog"]["items"][0]
    assert notice.fields == (item.get("fieldId") or item["field"],)


def test_link_events_notify_both_ends() -> None:
    body = {
        "webhookEvent": "issuelink_created",
        "timestamp": 1,
        "issueLink": {"id": 5, "sourceIssueId": 10, "destinationIssueId": 11},
    }
    parsed = parse_webhook("s", body, observed_at=NOW)
    assert [n.issue_id for n in parsed.notices] == ["10", "11"]
    assert {n.event for n in parsed.notices} == {EventKind.LINK_CHANGED}


def test_worklog_event() -> None:
    body = {"webhookEvent": "worklog_created", "worklog": {"issueId": "10", "id": "3"}}
    [notice] = parse_webhook("s", body, observed_at=NOW).notices
    assert notice.event is EventKind.WORKLOG_CHANGED


def test_known_but_unsynced_events_are_ignored() -> None:
    parsed = parse_webhook("s", {"webhookEvent": "project_created"}, observed_at=NOW)
    assert parsed.ignored and parsed.notices == ()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], "must be an object"),
        ({}, "webhookEvent"),
        ({"webhookEvent": "jira:issue_exploded", "issue": {"id": "1"}}, "unknown webhook event"),
        ({"webhookEvent": "jira:issue_updated"}, "without `issue`"),
        ({"webhookEvent": "jira:issue_updated", "issue": {"id": "abc"}}, "numeric id"),
        ({"webhookEvent": "jira:issue_updated", "issue": {"id": True}}, "numeric id"),
        ({"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "key": "nokey"}}, "key"),
        ({"webhookEvent": "jira:issue_updated", "issue": "10"}, "must be an object"),
        (
            {"webhookEvent": "jira:issue_updated", "timestamp": "x", "issue": {"id": "1"}},
            "timestamp",
        ),
        (
            {"webhookEvent": "comment_created", "comment": {"id": "1", "self": "http://x/y"}},
            "without an issue id",
        ),
        (
            {
                "webhookEvent": "jira:issue_updated",
                "issue": {"id": "1"},
                "changelog": {"id": "2", "items": "status"},
            },
            "items",
        ),
    ],
)
def test_malformed_bodies_get_a_clear_error(body: object, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        parse_webhook("s", body, observed_at=NOW)
