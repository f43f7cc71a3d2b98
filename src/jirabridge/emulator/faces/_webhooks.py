"""Render domain events as each flavour's webhook JSON (given to ``Infra.set_payload_builder``).

Shapes follow the real captures in ``shared/fixtures/webhooks``: both flavours send the issue
in its REST v2 shape with wiki strings; Server ``comment_created`` carries only the comment,
its ``comment_updated``/``comment_deleted`` add ``user``; Cloud comment events add a small
``issue`` (summary, type, project, assignee, priority, status). ``jira:issue_*`` events carry
``issue_event_type_name``, ``user``, the full issue and, when the change was recorded,
``changelog {id, items}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jirabridge.emulator.faces._issues import IssueRenderer
from jirabridge.emulator.faces._render import View, board_json, sprint_json
from jirabridge.emulator.model._events import (
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
    SprintClosed,
    SprintCreated,
    SprintDeleted,
    SprintStarted,
    SprintUpdated,
    WorklogCreated,
    WorklogDeleted,
    WorklogUpdated,
)
from jirabridge.emulator.model._records import ChangeHistory, Issue

__all__ = ["payload_builder"]

_SMALL_ISSUE_FIELDS = ("summary", "issuetype", "project", "assignee", "priority", "status")


def payload_builder(
    site: Any, *, cloud: bool, base_url: str
) -> Callable[[Any], Mapping[str, Any] | None]:
    """A function turning a domain event of ``site`` into the flavour's webhook JSON."""
    view = View(base_url, cloud, "2")

    def build(event: Any) -> Mapping[str, Any] | None:
        if not isinstance(event, DomainEvent):
            return None
        renderer = IssueRenderer(
            site, view, event.actor_key, adf=False, legacy_sprints=True, see_all=True
        )
        return _render(site, renderer, event, cloud=cloud)

    return build


def _full_issue(renderer: IssueRenderer, issue: Issue, *, cloud: bool) -> dict[str, Any]:
    # Cloud webhooks leave the comment and worklog pages out of the issue (see the captures).
    exclude = {"comment", "worklog"} if cloud else set()
    data = renderer.issue(issue, mode="*all", exclude=exclude)
    return {"id": data["id"], "self": data["self"], "key": data["key"], "fields": data["fields"]}


def _base(event: DomainEvent) -> dict[str, Any]:
    return {
        "timestamp": int(event.at.timestamp() * 1000),
        "webhookEvent": event.webhook_event,
    }


def _small_issue(renderer: IssueRenderer, issue: Issue) -> dict[str, Any]:
    fields = renderer.issue_fields(issue, _SMALL_ISSUE_FIELDS)
    return {
        "id": str(issue.id),
        "self": renderer.view.api(f"issue/{issue.id}"),
        "key": issue.key,
        "fields": fields,
    }


def _changelog(renderer: IssueRenderer, history: ChangeHistory, *, cloud: bool) -> dict[str, Any]:
    """``{id, items}``; Cloud items carry ``fieldId``, current Server ones do not."""
    rendered = renderer.history(history, keep_nulls=True)
    items = []
    for item in rendered["items"]:
        entry = dict(item)
        if cloud and "fieldId" not in entry:
            source = next(
                (i for i in history.items if i.field == item["field"] and i.field_id), None
            )
            if source is not None and source.field_id is not None:
                entry = {
                    "field": item["field"],
                    "fieldtype": item["fieldtype"],
                    "fieldId": source.field_id,
                    "from": item["from"],
                    "fromString": item["fromString"],
                    "to": item["to"],
                    "toString": item["toString"],
                }
        items.append(entry)
    return {"id": rendered["id"], "items": items}


def _render(
    site: Any, renderer: IssueRenderer, event: DomainEvent, *, cloud: bool
) -> dict[str, Any] | None:
    out = _base(event)
    actor = renderer.user(event.actor_key)
    if isinstance(event, IssueCreated | IssueUpdated | IssueDeleted):
        if isinstance(event, IssueCreated):
            out["issue_event_type_name"] = "issue_created"
        elif isinstance(event, IssueDeleted):
            out["issue_event_type_name"] = "issue_deleted"
        else:
            out["issue_event_type_name"] = event.event_type
        out["user"] = actor
        out["issue"] = _full_issue(renderer, event.issue, cloud=cloud)
        history = event.changelog if isinstance(event, IssueUpdated) else None
        if history is None and isinstance(event, IssueCreated) and cloud:
            histories = site.changelog.get(event.issue.id) or []
            history = histories[-1] if histories else None
            out["changelog"] = (
                _changelog(renderer, history, cloud=cloud)
                if history is not None
                else {"id": "0", "items": []}
            )
        elif history is not None:
            out["changelog"] = _changelog(renderer, history, cloud=cloud)
        if (
            isinstance(event, IssueUpdated)
            and event.comment is not None
            and event.event_type != "issue_comment_deleted"
        ):
            out["comment"] = renderer.comment(event.comment)
        return out
    if isinstance(event, CommentCreated | CommentUpdated | CommentDeleted):
        if cloud:
            out["comment"] = renderer.comment(event.comment)
            out["issue"] = _small_issue(renderer, event.issue)
        else:
            if not isinstance(event, CommentCreated):
                out["user"] = actor
            out["comment"] = renderer.comment(event.comment)
        return out
    if isinstance(event, WorklogCreated | WorklogUpdated | WorklogDeleted):
        out["worklog"] = renderer.worklog(event.worklog)
        return out
    if isinstance(event, AttachmentCreated | AttachmentDeleted):
        out["attachment"] = renderer.attachment(event.attachment)
        return out
    if isinstance(event, IssueLinkCreated | IssueLinkDeleted):
        link = event.link
        link_type = site.link_types.get(link.type_id)
        out["issueLink"] = {
            "id": link.id,
            "sourceIssueId": link.source_issue_id,
            "destinationIssueId": link.destination_issue_id,
            "issueLinkType": {
                "id": link.type_id,
                "name": link_type.name if link_type else "",
                "outwardName": link_type.outward if link_type else "",
                "inwardName": link_type.inward if link_type else "",
                "isSubTaskLinkType": False,
                "isSystemLinkType": False,
            },
            "systemLink": False,
        }
        return out
    if isinstance(
        event, SprintCreated | SprintUpdated | SprintStarted | SprintClosed | SprintDeleted
    ):
        agile_view = View(renderer.view.base_url, cloud, "2")
        out["sprint"] = sprint_json(agile_view, event.sprint)
        board = site.boards.get(event.sprint.board_id)
        if board is not None:
            project = site.projects.get(board.project_id) if board.project_id else None
            out["board"] = board_json(agile_view, board, project)
        return out
    return None
