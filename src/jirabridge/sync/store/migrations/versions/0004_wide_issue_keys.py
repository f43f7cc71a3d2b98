"""issue ids and keys up to 255 characters (Jira allows project keys that long), queue keys
and audit subjects up to 400 (a site name, a colon and an issue id or key)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 07:20:00.000000

SQLite recreates each table (batch mode). Its foreign keys must be off meanwhile, or dropping
the old ``jb_issue_pairs`` / ``jb_queue_jobs`` would delete the snapshots, comment pairs and
notices that refer to them (ON DELETE CASCADE): ``Store.migrate()`` turns them off, and this
migration refuses to run on SQLite with them on while such rows exist.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ISSUE = 255
KEY = 400
# table -> ((column, old length, new length, nullable), ...)
_COLUMNS: dict[str, tuple[tuple[str, int, int, bool], ...]] = {
    "jb_issue_pairs": (
        ("server_issue_id", 50, ISSUE, False),
        ("server_key", 50, ISSUE, False),
        ("cloud_issue_id", 50, ISSUE, False),
        ("cloud_key", 50, ISSUE, False),
    ),
    "jb_create_intents": (
        ("source_issue_id", 50, ISSUE, False),
        ("source_key", 50, ISSUE, False),
    ),
    "jb_queue_jobs": (
        ("key", 200, KEY, False),
        ("issue_id", 50, ISSUE, False),
        ("issue_key", 50, ISSUE, True),
    ),
    "jb_dead_letters": (
        ("key", 200, KEY, False),
        ("issue_id", 50, ISSUE, False),
        ("issue_key", 50, ISSUE, True),
    ),
    "jb_audit_log": (("subject", 200, KEY, True),),
}
# SQLite reuses rowids unless AUTOINCREMENT is on (see _schema._NO_ID_REUSE); a recreated
# table must keep it
_NO_ID_REUSE = {"jb_queue_jobs", "jb_dead_letters", "jb_audit_log"}


def _rows_at_risk(bind: sa.Connection) -> list[str]:
    """SQLite with foreign keys on: the tables with rows that refer to a table recreated
    here (dropping the old one would delete or orphan them)."""
    if bind.dialect.name != "sqlite" or not bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        return []
    inspector = sa.inspect(bind)
    out = []
    for name in inspector.get_table_names():
        refers = any(fk["referred_table"] in _COLUMNS for fk in inspector.get_foreign_keys(name))
        if (
            refers
            and bind.execute(sa.select(sa.literal(1)).select_from(sa.table(name)).limit(1)).first()
        ):
            out.append(name)
    return out


def _alter(widen: bool) -> None:
    at_risk = _rows_at_risk(op.get_bind())
    if at_risk:
        raise RuntimeError(
            "migration 0004 recreates tables: on SQLite run it through Store.migrate() "
            f"(foreign keys off), or the rows of {', '.join(at_risk)} would be deleted"
        )
    for table, columns in _COLUMNS.items():
        kwargs: dict[str, Any] = {}
        if table in _NO_ID_REUSE:
            kwargs["table_kwargs"] = {"sqlite_autoincrement": True}
        with op.batch_alter_table(table, **kwargs) as batch:
            for name, old, new, nullable in columns:
                batch.alter_column(
                    name,
                    existing_type=sa.String(length=old if widen else new),
                    type_=sa.String(length=new if widen else old),
                    existing_nullable=nullable,
                )


def upgrade() -> None:
    _alter(widen=True)


def downgrade() -> None:
    _alter(widen=False)
