"""Small read/write helpers over the state store: poll cursors and the status report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jirabridge.sync.cursor import PollCursor
from jirabridge.sync.queue import Queue, QueueStats
from jirabridge.sync.store import (
    AuditEntry,
    Conflict,
    CreateIntent,
    IssuePair,
    PollCursorRow,
    QueueJob,
)

__all__ = [
    "ConflictInfo",
    "CursorInfo",
    "ErrorInfo",
    "StatusReport",
    "load_cursor",
    "save_cursor",
    "status_report",
]


def load_cursor(session: Session, site: str, scope: str) -> PollCursor:
    """The saved cursor for (site, scope), or a fresh one."""
    row = session.get(PollCursorRow, (site, scope))
    if row is None:
        return PollCursor()
    return PollCursor(position=row.position, seen=PollCursor.from_json(row.seen).seen)


def save_cursor(
    session: Session, site: str, scope: str, cursor: PollCursor, *, now: datetime
) -> None:
    """Save a cursor; call it in the transaction that made the polled notices durable."""
    row = session.get(PollCursorRow, (site, scope))
    seen = {"seen": cursor.to_json()["seen"]}
    if row is None:
        session.add(
            PollCursorRow(
                site=site, scope=scope, position=cursor.position, seen=seen, updated_at=now
            )
        )
    else:
        row.position = cursor.position
        row.seen = seen
        row.updated_at = now


@dataclass(frozen=True)
class CursorInfo:
    site: str
    scope: str
    position: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class ErrorInfo:
    at: datetime
    kind: str
    site: str | None
    subject: str | None
    message: str


@dataclass(frozen=True)
class ConflictInfo:
    at: datetime
    issues: str
    field: str
    rule: str
    winner: str


@dataclass(frozen=True)
class StatusReport:
    queue: QueueStats
    issue_pairs: int
    open_conflicts: int
    cursors: tuple[CursorInfo, ...]
    recent_errors: tuple[ErrorInfo, ...]
    retrying: tuple[ErrorInfo, ...]
    conflicts: tuple[ConflictInfo, ...] = ()
    too_large: tuple[ErrorInfo, ...] = ()  # attachments not copied: over the size limit
    pending_creates: int = 0  # mirror creates sent (or about to be) whose pair is not recorded


TOO_LARGE = "attachment_too_large"
"""Audit kind of an attachment not copied because of its size (the apply step writes it)."""

_ERROR_KINDS = ("dead_letter", "webhook_rejected", "error")


def status_report(queue: Queue, *, errors: int = 10) -> StatusReport:
    stats = queue.stats()
    with queue.store.session() as session:
        pairs = session.scalar(select(func.count()).select_from(IssuePair)) or 0
        intents = session.scalar(select(func.count()).select_from(CreateIntent)) or 0
        conflicts = (
            session.scalar(
                select(func.count()).select_from(Conflict).where(Conflict.reviewed.is_(False))
            )
            or 0
        )
        cursors = tuple(
            CursorInfo(r.site, r.scope, r.position, r.updated_at)
            for r in session.scalars(
                select(PollCursorRow).order_by(PollCursorRow.site, PollCursorRow.scope)
            )
        )
        recent = tuple(
            ErrorInfo(e.at, e.kind, e.site, e.subject, e.message)
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.kind.in_(_ERROR_KINDS))
                .order_by(AuditEntry.id.desc())
                .limit(errors)
            )
        )
        retrying = tuple(
            ErrorInfo(j.available_at, "retrying", j.site, j.issue_key or j.issue_id, j.last_error)
            for j in session.scalars(
                select(QueueJob)
                .where(QueueJob.last_error.is_not(None))
                .order_by(QueueJob.available_at)
                .limit(errors)
            )
            if j.last_error
        )
        too_large = tuple(
            ErrorInfo(e.at, e.kind, e.site, e.subject, e.message)
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.kind == TOO_LARGE)
                .order_by(AuditEntry.id.desc())
                .limit(errors)
            )
        )
        conflict_rows = session.execute(
            select(Conflict, IssuePair.server_key, IssuePair.cloud_key)
            .join(IssuePair, IssuePair.id == Conflict.issue_pair_id, isouter=True)
            .where(Conflict.reviewed.is_(False))
            .order_by(Conflict.id.desc())
            .limit(errors)
        ).all()
        conflict_list = tuple(
            ConflictInfo(
                c.detected_at, f"{s_key or '?'} <-> {c_key or '?'}", c.field, c.rule, c.winner
            )
            for c, s_key, c_key in conflict_rows
        )
    return StatusReport(
        conflicts=conflict_list,
        queue=stats,
        issue_pairs=int(pairs),
        open_conflicts=int(conflicts),
        cursors=cursors,
        recent_errors=recent,
        retrying=retrying,
        too_large=too_large,
        pending_creates=int(intents),
    )
