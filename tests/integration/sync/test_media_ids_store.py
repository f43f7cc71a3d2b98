"""Migration 0002: attachment pairs gain ``cloud_media_id``; rows made before it keep
everything and have no media id yet (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from jirabridge.sync.store import AttachmentPair, IssuePair, Store, open_store
from jirabridge.sync.store._engine import alembic_config

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _to(store: Store, revision: str, *, down: bool = False) -> None:
    with store.engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _columns(store: Store) -> set[str]:
    columns = inspect(store.engine).get_columns("jb_attachment_pairs", schema=store.schema)
    return {c["name"] for c in columns}


def test_rows_of_0001_survive_the_upgrade_and_the_downgrade(
    store_url: tuple[str, str | None],
) -> None:
    url, schema = store_url
    store = open_store(url, schema=schema, migrate=False)
    try:
        _to(store, "0001")
        assert "cloud_media_id" not in _columns(store)
        with store.session() as s:
            pair = IssuePair(
                pair_id="p",
                server_issue_id="1",
                server_key="A-1",
                cloud_issue_id="2",
                cloud_key="B-1",
                origin="server",
                created_at=NOW,
                updated_at=NOW,
            )
            s.add(pair)
            s.flush()
            s.execute(
                text(
                    "INSERT INTO jb_attachment_pairs (issue_pair_id, server_attachment_id, "
                    "cloud_attachment_id, filename, sha256, synced_at) "
                    "VALUES (:p, '10', '20', 'shot.png', :h, :t)"
                ),
                {"p": pair.id, "h": "0" * 64, "t": NOW.replace(tzinfo=None)},
            )
        _to(store, "0002")  # the revision under test (later ones follow it)
        with store.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == "0002"
        with store.session() as s:
            row = s.scalars(select(AttachmentPair)).one()
            assert (row.filename, row.cloud_attachment_id, row.cloud_media_id) == (
                "shot.png",
                "20",
                None,
            )
            row.cloud_media_id = "4f2a1c3e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
        with store.session() as s:
            assert s.scalars(select(AttachmentPair.cloud_media_id)).one() == (
                "4f2a1c3e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
            )
        _to(store, "0001", down=True)
        assert "cloud_media_id" not in _columns(store)
        with store.engine.connect() as conn:
            names = conn.execute(text("SELECT filename FROM jb_attachment_pairs")).scalars()
            assert list(names) == ["shot.png"]
    finally:
        store.dispose()
