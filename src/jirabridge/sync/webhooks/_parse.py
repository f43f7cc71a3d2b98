"""Turn a Jira webhook body (Server or Cloud) into change notices. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jirabridge.errors import BadInputError
from jirabridge.sync.notices import ChangeNotice, EventKind, NoticeSource

__all__ = ["IGNORED_EVENTS", "ParsedWebhook", "actor_ids", "parse_webhook"]

_ISSUE_EVENTS = {
    "jira:issue_created": EventKind.ISSUE_CREATED,
    "jira:issue_updated": EventKind.ISSUE_UPDATED,
    "jira:issue_deleted": EventKind.ISSUE_DELETED,
}
_COMMENT_EVENTS = {
    "comment_created": EventKind.COMMENT_CREATED,
    "comment_updated": EventKind.COMMENT_UPDATED,
    "comment_deleted": EventKind.COMMENT_DELETED,
}
_WORKLOG_EVENTS = {"worklog_created", "worklog_updated", "worklog_deleted"}
_ATTACHMENT_EVENTS = {"attachment_created", "attachment_deleted"}
_LINK_EVENTS = {"issuelink_created", "issuelink_deleted"}
# well-formed events that do not change an issue the engine syncs: answered 200, not queued
IGNORED_EVENTS = frozenset(
    {
        "project_created",
        "project_updated",
        "project_deleted",
        "project_soft_deleted",
        "project_restored_deleted",
        "project_archived",
        "project_restored_archived",
        "jira:version_created",
        "jira:version_updated",
        "jira:version_deleted",
        "jira:version_released",
        "jira:version_unreleased",
        "jira:version_moved",
        "jira:version_merged",
        "user_created",
        "user_updated",
        "user_deleted",
        "option_voting_changed",
        "option_watching_changed",
        "option_unassigned_issues_changed",
        "option_subtasks_changed",
        "option_attachments_changed",
        "option_issuelinks_changed",
        "option_timetracking_changed",
        "sprint_created",
        "sprint_updated",
        "sprint_deleted",
        "sprint_started",
        "sprint_closed",
        "board_created",
        "board_updated",
        "board_deleted",
        "board_configuration_changed",
        "issuetype_created",
        "issuetype_updated",
        "issuetype_deleted",
        "issue_property_set",
        "issue_property_deleted",
    }
)
_BY_EVENT_TYPE = {
    "issue_commented": EventKind.COMMENT_CREATED,
    "issue_comment_edited": EventKind.COMMENT_UPDATED,
    "issue_comment_deleted": EventKind.COMMENT_DELETED,
}
_ISSUE_IN_URL = re.compile(r"/rest/api/\d+/issue/(\d+)(?:/|$)")
_ID = re.compile(r"^\d{1,19}$")
_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-\d+$")
# Jira's longest issue key: a project key may be up to 255 characters (the state store keeps
# keys up to 255: a longer one could never be queued)
_KEY_MAX = 255


@dataclass(frozen=True)
class ParsedWebhook:
    event: str
    actor: frozenset[str]  # every id the acting user is known by (name, key, accountId)
    notices: tuple[ChangeNotice, ...]
    ignored: str | None = None  # why nothing is queued, when nothing is


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if type(value) is dict:  # what json.loads makes: no slow abstract-class check
        return value
    if not isinstance(value, Mapping):
        raise BadInputError(f"webhook body: `{what}` must be an object")
    return value


def _opt_obj(body: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = body.get(key)
    return None if value is None else _obj(value, key)


def _id(value: Any, what: str) -> str:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not _ID.match(text):
        raise BadInputError(f"webhook body: `{what}` is not a numeric id")
    return text


def actor_ids(user: Mapping[str, Any] | None) -> frozenset[str]:
    """The ids a user object carries (``name``, ``key``, ``accountId``)."""
    if not user:
        return frozenset()
    return frozenset(
        str(user[k]) for k in ("accountId", "key", "name") if isinstance(user.get(k), str)
    )


def parse_webhook(
    site: str, body: Any, *, observed_at: datetime, webhook_id: str | None = None
) -> ParsedWebhook:
    """Parse one webhook body; :class:`BadInputError` when it is malformed or unknown."""
    body = _obj(body, "body")
    event = body.get("webhookEvent")
    if not isinstance(event, str) or not event:
        raise BadInputError("webhook body: `webhookEvent` is missing")
    if "timestamp" in body and (
        not isinstance(body["timestamp"], int) or isinstance(body["timestamp"], bool)
    ):
        raise BadInputError("webhook body: `timestamp` must be milliseconds (an integer)")
    if event in IGNORED_EVENTS:
        return ParsedWebhook(event, actor_ids(_opt_obj(body, "user")), (), ignored="not synced")
    user = _opt_obj(body, "user")
    issue = _opt_obj(body, "issue")
    comment = _opt_obj(body, "comment")
    changelog = _opt_obj(body, "changelog")
    base: dict[str, Any] = {
        "site": site,
        "observed_at": observed_at,
        "source": NoticeSource.WEBHOOK,
        "webhook_id": webhook_id,
    }

    if event in _ISSUE_EVENTS:
        if issue is None:
            raise BadInputError(f"webhook body: {event} without `issue`")
        kind = _ISSUE_EVENTS[event]
        comment_id = None
        if comment is not None:
            comment_id = _id(comment.get("id"), "comment.id")
        type_name = body.get("issue_event_type_name")
        if kind is EventKind.ISSUE_UPDATED and isinstance(type_name, str):
            kind = _BY_EVENT_TYPE.get(type_name, kind)
        notice = ChangeNotice(
            issue_id=_id(issue.get("id"), "issue.id"),
            issue_key=_key(issue.get("key")),
            event=kind,
            changelog_id=None if changelog is None else _opt_id(changelog.get("id")),
            comment_id=comment_id,
            actor=_actor_text(user),
            fields=_changed_fields(changelog),
            **base,
        )
        return ParsedWebhook(event, actor_ids(user), (notice,))

    if event in _COMMENT_EVENTS:
        if comment is None:
            raise BadInputError(f"webhook body: {event} without `comment`")
        issue_id = _issue_id_of(issue, comment)
        kind = _COMMENT_EVENTS[event]
        author_key = "author" if kind is EventKind.COMMENT_CREATED else "updateAuthor"
        acting = user or _opt_obj(comment, author_key) or _opt_obj(comment, "author")
        notice = ChangeNotice(
            issue_id=issue_id,
            issue_key=None if issue is None else _key(issue.get("key")),
            event=kind,
            comment_id=_id(comment.get("id"), "comment.id"),
            actor=_actor_text(acting),
            **base,
        )
        return ParsedWebhook(event, actor_ids(acting), (notice,))

    if event in _WORKLOG_EVENTS:
        worklog = _obj(body.get("worklog"), "worklog")
        notice = ChangeNotice(
            issue_id=_id(worklog.get("issueId"), "worklog.issueId"),
            event=EventKind.WORKLOG_CHANGED,
            actor=_actor_text(_opt_obj(worklog, "updateAuthor")),
            **base,
        )
        return ParsedWebhook(event, actor_ids(_opt_obj(worklog, "updateAuthor")), (notice,))

    if event in _ATTACHMENT_EVENTS:
        attachment = _obj(body.get("attachment"), "attachment")
        raw_issue = attachment.get("issueId")
        if raw_issue is None and issue is not None:
            raw_issue = issue.get("id")
        author = _opt_obj(attachment, "author")
        notice = ChangeNotice(
            issue_id=_id(raw_issue, "attachment.issueId"),
            event=EventKind.ATTACHMENT_CHANGED,
            actor=_actor_text(author),
            **base,
        )
        return ParsedWebhook(event, actor_ids(author or user), (notice,))

    if event in _LINK_EVENTS:
        link = _obj(body.get("issueLink"), "issueLink")
        ends = {
            _id(link.get("sourceIssueId"), "issueLink.sourceIssueId"),
            _id(link.get("destinationIssueId"), "issueLink.destinationIssueId"),
        }
        notices = tuple(
            ChangeNotice(issue_id=i, event=EventKind.LINK_CHANGED, **base) for i in sorted(ends)
        )
        return ParsedWebhook(event, actor_ids(user), notices)

    raise BadInputError(f"unknown webhook event {event[:80]!r}")


def _opt_id(value: Any) -> str | None:
    return None if value is None else _id(value, "changelog.id")


def _key(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and len(value) > _KEY_MAX:
        raise BadInputError(
            f"webhook body: `issue.key` is {len(value)} characters long (at most {_KEY_MAX})"
        )
    if not isinstance(value, str) or not _KEY.match(value):
        raise BadInputError("webhook body: `issue.key` is not an issue key")
    return value


def _actor_text(user: Mapping[str, Any] | None) -> str | None:
    if not user:
        return None
    for k in ("accountId", "key", "name"):
        if isinstance(user.get(k), str):
            return str(user[k])
    return None


def _issue_id_of(issue: Mapping[str, Any] | None, comment: Mapping[str, Any]) -> str:
    if issue is not None and issue.get("id") is not None:
        return _id(issue.get("id"), "issue.id")
    # Server comment events carry no `issue`; the comment's self URL names it
    link = comment.get("self")
    if isinstance(link, str):
        m = _ISSUE_IN_URL.search(link)
        if m:
            return m.group(1)
    raise BadInputError("webhook body: comment event without an issue id")


def _changed_fields(changelog: Mapping[str, Any] | None) -> tuple[str, ...]:
    if changelog is None:
        return ()
    items = changelog.get("items", [])
    if not isinstance(items, list):
        raise BadInputError("webhook body: `changelog.items` must be a list")
    names: list[str] = []
    for item in items:
        item = _obj(item, "changelog.items[]")
        name = item.get("fieldId") or item.get("field")
        if isinstance(name, str) and name not in names:
            names.append(name)
    return tuple(names)
