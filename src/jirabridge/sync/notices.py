"""Change notices: what the webhook receiver and the poller tell the queue.

A notice says "this issue on this site changed (and roughly how)"; it never carries the new
field values. The engine always re-reads the issue before applying, so a late, duplicated or
out-of-order notice can only cause a no-op, never a wrong write.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ChangeNotice", "EventKind", "NoticeSource"]


class EventKind(enum.StrEnum):
    """What happened to the issue, as far as the notice tells."""

    ISSUE_CREATED = "issue_created"
    ISSUE_UPDATED = "issue_updated"
    ISSUE_DELETED = "issue_deleted"
    COMMENT_CREATED = "comment_created"
    COMMENT_UPDATED = "comment_updated"
    COMMENT_DELETED = "comment_deleted"
    WORKLOG_CHANGED = "worklog_changed"
    ATTACHMENT_CHANGED = "attachment_changed"
    LINK_CHANGED = "link_changed"
    POLLED = "polled"


class NoticeSource(enum.StrEnum):
    """Where the notice came from."""

    WEBHOOK = "webhook"
    POLL = "poll"
    MANUAL = "manual"


@dataclass(frozen=True)
class ChangeNotice:
    """One observed change of one issue on one site (``site`` is the config's site name)."""

    site: str
    issue_id: str
    event: EventKind
    observed_at: datetime
    source: NoticeSource = NoticeSource.WEBHOOK
    issue_key: str | None = None
    changelog_id: str | None = None
    webhook_id: str | None = None
    comment_id: str | None = None
    actor: str | None = None
    fields: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.observed_at.tzinfo is None:
            raise ValueError("ChangeNotice.observed_at must be timezone-aware")
        if not self.site or not self.issue_id:
            raise ValueError("ChangeNotice needs a site and an issue id")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the queue stores notices in this form)."""
        return {
            "site": self.site,
            "issue_id": self.issue_id,
            "event": self.event.value,
            "observed_at": self.observed_at.isoformat(),
            "source": self.source.value,
            "issue_key": self.issue_key,
            "changelog_id": self.changelog_id,
            "webhook_id": self.webhook_id,
            "comment_id": self.comment_id,
            "actor": self.actor,
            "fields": list(self.fields),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChangeNotice:
        """Inverse of :meth:`to_json`."""
        return cls(
            site=str(data["site"]),
            issue_id=str(data["issue_id"]),
            event=EventKind(data["event"]),
            observed_at=datetime.fromisoformat(str(data["observed_at"])),
            source=NoticeSource(data.get("source", "webhook")),
            issue_key=data.get("issue_key"),
            changelog_id=data.get("changelog_id"),
            webhook_id=data.get("webhook_id"),
            comment_id=data.get("comment_id"),
            actor=data.get("actor"),
            fields=tuple(data.get("fields") or ()),
        )
