"""The state store's tables (SQLAlchemy 2 typed ORM). Alembic migrations mirror this file.

Datetimes are stored as naive UTC and come back timezone-aware (SQLite has no time zones).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "AttachmentPair",
    "AuditEntry",
    "Base",
    "CommentPair",
    "Conflict",
    "CreateIntent",
    "DeadLetter",
    "IssuePair",
    "JobState",
    "LinkPair",
    "PollCursorRow",
    "QueueJob",
    "QueueNotice",
    "SiteRow",
    "Snapshot",
    "UTCDateTime",
    "WebhookSeen",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Jira issue ids and keys: a project key may be up to 255 characters long (migration 0004)
ISSUE_LENGTH = 255
# queue keys (a site name, a colon, an issue id) and audit subjects
KEY_LENGTH = 400

# SQLite reuses the largest rowid after a delete unless AUTOINCREMENT is on: queue, notice,
# dead-letter and audit ids must never come back, or a stale worker could touch a new job.
_NO_ID_REUSE: dict[str, Any] = {"sqlite_autoincrement": True}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes in, UTC out; stored naive UTC on every dialect."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the state store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class JobState(enum.StrEnum):
    QUEUED = "queued"
    LEASED = "leased"


class SiteRow(Base):
    __tablename__ = "jb_sites"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    flavour: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime]


class IssuePair(Base):
    """A Server issue and its Cloud mirror."""

    __tablename__ = "jb_issue_pairs"
    __table_args__ = (
        UniqueConstraint("pair_id", "server_issue_id"),
        UniqueConstraint("pair_id", "cloud_issue_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pair_id: Mapped[str] = mapped_column(String(100))
    # indexed: notices, leases and jobs find a pair by one side's issue id
    server_issue_id: Mapped[str] = mapped_column(String(ISSUE_LENGTH), index=True)
    server_key: Mapped[str] = mapped_column(String(ISSUE_LENGTH))
    cloud_issue_id: Mapped[str] = mapped_column(String(ISSUE_LENGTH), index=True)
    cloud_key: Mapped[str] = mapped_column(String(ISSUE_LENGTH))
    origin: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CreateIntent(Base):
    """A mirror create about to be sent (write-ahead): written before the create POST (one by
    one or in bulk), deleted in the transaction that records the pair (or once the create was
    refused for sure). A row left over means a create may have happened with its pair never
    recorded: whoever mirrors that source next looks for the mirror by its marker first."""

    __tablename__ = "jb_create_intents"
    __table_args__ = (UniqueConstraint("pair_id", "source_side", "source_issue_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pair_id: Mapped[str] = mapped_column(String(100))
    source_side: Mapped[str] = mapped_column(String(10))
    source_site: Mapped[str] = mapped_column(String(100))
    source_issue_id: Mapped[str] = mapped_column(String(ISSUE_LENGTH))
    source_key: Mapped[str] = mapped_column(String(ISSUE_LENGTH))
    at: Mapped[datetime]


class Snapshot(Base):
    """The last synced values of one side of an issue pair, for diffs and echo suppression."""

    __tablename__ = "jb_snapshots"
    __table_args__ = (UniqueConstraint("issue_pair_id", "side"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_pair_id: Mapped[int] = mapped_column(ForeignKey("jb_issue_pairs.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(10))
    fields: Mapped[dict[str, Any]]
    field_hashes: Mapped[dict[str, Any]]
    issue_updated: Mapped[datetime | None]
    synced_at: Mapped[datetime]


class CommentPair(Base):
    __tablename__ = "jb_comment_pairs"
    __table_args__ = (
        UniqueConstraint("issue_pair_id", "server_comment_id"),
        UniqueConstraint("issue_pair_id", "cloud_comment_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_pair_id: Mapped[int] = mapped_column(ForeignKey("jb_issue_pairs.id", ondelete="CASCADE"))
    server_comment_id: Mapped[str] = mapped_column(String(50))
    cloud_comment_id: Mapped[str] = mapped_column(String(50))
    origin: Mapped[str] = mapped_column(String(10))
    server_hash: Mapped[str] = mapped_column(String(64))
    cloud_hash: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime]


class AttachmentPair(Base):
    __tablename__ = "jb_attachment_pairs"
    __table_args__ = (
        UniqueConstraint("issue_pair_id", "server_attachment_id"),
        UniqueConstraint("issue_pair_id", "cloud_attachment_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_pair_id: Mapped[int] = mapped_column(ForeignKey("jb_issue_pairs.id", ondelete="CASCADE"))
    server_attachment_id: Mapped[str] = mapped_column(String(50))
    cloud_attachment_id: Mapped[str] = mapped_column(String(50))
    filename: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime]
    # Jira Cloud's Media Services file id of the Cloud attachment (what ADF media nodes
    # carry); None until learned (rows from before migration 0002, a Cloud that did not say)
    cloud_media_id: Mapped[str | None] = mapped_column(String(50), default=None)


class LinkPair(Base):
    __tablename__ = "jb_link_pairs"
    __table_args__ = (
        UniqueConstraint("issue_pair_id", "server_link_id"),
        UniqueConstraint("issue_pair_id", "cloud_link_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_pair_id: Mapped[int] = mapped_column(ForeignKey("jb_issue_pairs.id", ondelete="CASCADE"))
    server_link_id: Mapped[str] = mapped_column(String(50))
    cloud_link_id: Mapped[str] = mapped_column(String(50))
    link_type: Mapped[str] = mapped_column(String(100))
    synced_at: Mapped[datetime]


class PollCursorRow(Base):
    __tablename__ = "jb_poll_cursors"

    site: Mapped[str] = mapped_column(String(100), primary_key=True)
    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[datetime | None]
    seen: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class WebhookSeen(Base):
    """Webhook identifiers already accepted (Cloud retries carry the same one)."""

    __tablename__ = "jb_webhook_seen"

    site: Mapped[str] = mapped_column(String(100), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class QueueJob(Base):
    """One unit of work: bring one issue (pair) up to date. At most one queued and one leased
    job per key (unique), so notices coalesce and each key is applied in order."""

    __tablename__ = "jb_queue_jobs"
    __table_args__ = (
        UniqueConstraint("key", "state"),
        Index("ix_jb_queue_jobs_state_available", "state", "available_at"),
        _NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    state: Mapped[JobState] = mapped_column(
        Enum(JobState, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e])
    )
    site: Mapped[str] = mapped_column(String(100))
    issue_id: Mapped[str] = mapped_column(String(ISSUE_LENGTH))
    issue_key: Mapped[str | None] = mapped_column(String(ISSUE_LENGTH))
    enqueued_at: Mapped[datetime]
    available_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class QueueNotice(Base):
    """A change notice waiting in a job (many notices coalesce into one job)."""

    __tablename__ = "jb_queue_notices"
    __table_args__ = (_NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(
        ForeignKey("jb_queue_jobs.id", ondelete="CASCADE"), index=True
    )
    notice: Mapped[dict[str, Any]]
    observed_at: Mapped[datetime]


class DeadLetter(Base):
    __tablename__ = "jb_dead_letters"
    __table_args__ = (_NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), index=True)
    site: Mapped[str] = mapped_column(String(100))
    issue_id: Mapped[str] = mapped_column(String(ISSUE_LENGTH))
    issue_key: Mapped[str | None] = mapped_column(String(ISSUE_LENGTH))
    reason: Mapped[str] = mapped_column(Text)
    error_branch: Mapped[str] = mapped_column(String(50))
    attempts: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]]
    failed_at: Mapped[datetime]


class Conflict(Base):
    """A field changed on both sides since the last sync: how it was settled, for review."""

    __tablename__ = "jb_conflicts"
    __table_args__ = (_NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_pair_id: Mapped[int | None] = mapped_column(
        ForeignKey("jb_issue_pairs.id", ondelete="SET NULL")
    )
    field: Mapped[str] = mapped_column(String(200))
    server_value: Mapped[dict[str, Any]]
    cloud_value: Mapped[dict[str, Any]]
    rule: Mapped[str] = mapped_column(String(20))
    winner: Mapped[str] = mapped_column(String(10))
    detected_at: Mapped[datetime]
    reviewed: Mapped[bool] = mapped_column(default=False)


class AuditEntry(Base):
    """Run and audit log: what the engine did and why."""

    __tablename__ = "jb_audit_log"
    __table_args__ = (_NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    site: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]]
