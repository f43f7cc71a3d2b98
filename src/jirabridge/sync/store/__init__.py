"""The state store: SQLAlchemy 2 tables, Alembic migrations, SQLite or PostgreSQL."""

from jirabridge.sync.store._engine import Store, alembic_config, open_store
from jirabridge.sync.store._group import GroupWriter
from jirabridge.sync.store._schema import (
    AttachmentPair,
    AuditEntry,
    Base,
    CommentPair,
    Conflict,
    CreateIntent,
    DeadLetter,
    IssuePair,
    JobState,
    LinkPair,
    PollCursorRow,
    QueueJob,
    QueueNotice,
    SiteRow,
    Snapshot,
    UTCDateTime,
    WebhookSeen,
)

__all__ = [
    "AttachmentPair",
    "AuditEntry",
    "Base",
    "CommentPair",
    "Conflict",
    "CreateIntent",
    "DeadLetter",
    "GroupWriter",
    "IssuePair",
    "JobState",
    "LinkPair",
    "PollCursorRow",
    "QueueJob",
    "QueueNotice",
    "SiteRow",
    "Snapshot",
    "Store",
    "UTCDateTime",
    "WebhookSeen",
    "alembic_config",
    "open_store",
]
