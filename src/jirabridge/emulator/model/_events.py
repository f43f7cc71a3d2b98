"""Domain events: one frozen dataclass per change, delivered to ``Site.subscribe`` listeners.

Every event has ``at`` (from the site's clock), ``actor_key`` (the acting user's key) and the
ids involved; ``webhook_event`` is Jira's webhook event name. Events hold references to the
(current or, for deletions, last) records so a face can render a payload without a lookup.
``IssueUpdated.event_type`` is Jira's ``issue_event_type_name``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from jirabridge.emulator.model._records import (
    Attachment,
    ChangeHistory,
    Comment,
    Issue,
    IssueLink,
    Sprint,
    Worklog,
)

__all__ = [
    "AttachmentCreated",
    "AttachmentDeleted",
    "CommentCreated",
    "CommentDeleted",
    "CommentUpdated",
    "DomainEvent",
    "EventListener",
    "IssueCreated",
    "IssueDeleted",
    "IssueEventType",
    "IssueLinkCreated",
    "IssueLinkDeleted",
    "IssueUpdated",
    "SprintClosed",
    "SprintCreated",
    "SprintDeleted",
    "SprintStarted",
    "SprintUpdated",
    "WorklogCreated",
    "WorklogDeleted",
    "WorklogUpdated",
]


class IssueEventType:
    """Jira's ``issue_event_type_name`` values."""

    CREATED = "issue_created"
    UPDATED = "issue_updated"
    GENERIC = "issue_generic"
    ASSIGNED = "issue_assigned"
    RESOLVED = "issue_resolved"
    CLOSED = "issue_closed"
    REOPENED = "issue_reopened"
    WORK_STARTED = "issue_work_started"
    WORK_STOPPED = "issue_work_stopped"
    COMMENTED = "issue_commented"
    COMMENT_EDITED = "issue_comment_edited"
    COMMENT_DELETED = "issue_comment_deleted"
    DELETED = "issue_deleted"
    MOVED = "issue_moved"
    WORKLOGGED = "issue_worklogged"
    WORKLOG_UPDATED = "issue_worklog_updated"
    WORKLOG_DELETED = "issue_worklog_deleted"


@dataclass(frozen=True, slots=True)
class DomainEvent:
    webhook_event: ClassVar[str] = ""
    at: datetime
    actor_key: str


@dataclass(frozen=True, slots=True)
class IssueCreated(DomainEvent):
    """A new issue. On a Cloud site ``changelog`` lists the initial values (as Cloud's
    ``jira:issue_created`` webhook does); it is not part of the issue's stored history."""

    webhook_event: ClassVar[str] = "jira:issue_created"
    issue: Issue
    changelog: ChangeHistory | None = None


@dataclass(frozen=True, slots=True)
class IssueUpdated(DomainEvent):
    """An issue changed. ``changelog`` is None when nothing was recorded in the history (a
    comment added, for example); ``comment`` is set for comment-driven updates."""

    webhook_event: ClassVar[str] = "jira:issue_updated"
    issue: Issue
    event_type: str
    changelog: ChangeHistory | None = None
    comment: Comment | None = None


@dataclass(frozen=True, slots=True)
class IssueDeleted(DomainEvent):
    webhook_event: ClassVar[str] = "jira:issue_deleted"
    issue: Issue  # the record as it was when deleted


@dataclass(frozen=True, slots=True)
class CommentCreated(DomainEvent):
    webhook_event: ClassVar[str] = "comment_created"
    issue: Issue
    comment: Comment


@dataclass(frozen=True, slots=True)
class CommentUpdated(DomainEvent):
    webhook_event: ClassVar[str] = "comment_updated"
    issue: Issue
    comment: Comment


@dataclass(frozen=True, slots=True)
class CommentDeleted(DomainEvent):
    webhook_event: ClassVar[str] = "comment_deleted"
    issue: Issue
    comment: Comment


@dataclass(frozen=True, slots=True)
class WorklogCreated(DomainEvent):
    webhook_event: ClassVar[str] = "worklog_created"
    issue: Issue
    worklog: Worklog


@dataclass(frozen=True, slots=True)
class WorklogUpdated(DomainEvent):
    webhook_event: ClassVar[str] = "worklog_updated"
    issue: Issue
    worklog: Worklog


@dataclass(frozen=True, slots=True)
class WorklogDeleted(DomainEvent):
    webhook_event: ClassVar[str] = "worklog_deleted"
    issue: Issue
    worklog: Worklog


@dataclass(frozen=True, slots=True)
class AttachmentCreated(DomainEvent):
    webhook_event: ClassVar[str] = "attachment_created"
    issue: Issue
    attachment: Attachment


@dataclass(frozen=True, slots=True)
class AttachmentDeleted(DomainEvent):
    webhook_event: ClassVar[str] = "attachment_deleted"
    issue: Issue
    attachment: Attachment


@dataclass(frozen=True, slots=True)
class IssueLinkCreated(DomainEvent):
    webhook_event: ClassVar[str] = "issuelink_created"
    link: IssueLink


@dataclass(frozen=True, slots=True)
class IssueLinkDeleted(DomainEvent):
    webhook_event: ClassVar[str] = "issuelink_deleted"
    link: IssueLink


@dataclass(frozen=True, slots=True)
class SprintCreated(DomainEvent):
    webhook_event: ClassVar[str] = "sprint_created"
    sprint: Sprint


@dataclass(frozen=True, slots=True)
class SprintUpdated(DomainEvent):
    webhook_event: ClassVar[str] = "sprint_updated"
    sprint: Sprint


@dataclass(frozen=True, slots=True)
class SprintStarted(DomainEvent):
    webhook_event: ClassVar[str] = "sprint_started"
    sprint: Sprint


@dataclass(frozen=True, slots=True)
class SprintClosed(DomainEvent):
    webhook_event: ClassVar[str] = "sprint_closed"
    sprint: Sprint


@dataclass(frozen=True, slots=True)
class SprintDeleted(DomainEvent):
    webhook_event: ClassVar[str] = "sprint_deleted"
    sprint: Sprint


EventListener = Callable[[DomainEvent], None]
