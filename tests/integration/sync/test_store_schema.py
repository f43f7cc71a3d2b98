from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from jirabridge.errors import FixConfigError, RetryLaterError
from jirabridge.sync.store import Base, IssuePair, Store, open_store


def test_migrations_equal_the_fresh_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []
    tables = set(inspect(store.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrate_twice_is_a_no_op(store: Store) -> None:
    store.migrate()
    store.migrate()
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0005"


def test_datetimes_come_back_aware_in_utc(store: Store) -> None:
    local = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=5)))
    with store.session() as s:
        s.add(
            IssuePair(
                pair_id="p",
                server_issue_id="1",
                server_key="A-1",
                cloud_issue_id="2",
                cloud_key="B-1",
                origin="server",
                created_at=local,
                updated_at=local,
            )
        )
    with store.session() as s:
        row = s.scalars(select(IssuePair)).one()
    assert row.created_at == local
    assert row.created_at.tzinfo is UTC


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(FixConfigError), store.session() as s:
        s.add(
            IssuePair(
                pair_id="p",
                server_issue_id="1",
                server_key="A-1",
                cloud_issue_id="2",
                cloud_key="B-1",
                origin="server",
                created_at=datetime(2026, 1, 1),
                updated_at=datetime(2026, 1, 1),
            )
        )


def test_pair_uniqueness_is_enforced(store: Store) -> None:
    now = datetime.now(UTC)

    def pair(server_id: str, cloud_id: str) -> IssuePair:
        return IssuePair(
            pair_id="p",
            server_issue_id=server_id,
            server_key="A",
            cloud_issue_id=cloud_id,
            cloud_key="B",
            origin="cloud",
            created_at=now,
            updated_at=now,
        )

    with store.session() as s:
        s.add(pair("1", "2"))
    # a broken constraint is a race another transaction won: retried, attempts counted
    with pytest.raises(RetryLaterError), store.session() as s:
        s.add(pair("1", "3"))
    with store.session() as s:
        assert len(s.scalars(select(IssuePair)).all()) == 1


def test_sqlite_uses_wal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    with s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    s.dispose()


def test_bad_schema_name_is_refused() -> None:
    with pytest.raises(FixConfigError):
        Store("sqlite://", schema="x; drop table y")


@pytest.mark.parametrize("column", ["server_issue_id", "cloud_issue_id"])
def test_pairs_are_found_by_one_sides_issue_id_through_an_index(store: Store, column: str) -> None:
    # every notice's queue key is found this way: a scan would grow with the number of pairs
    indexed = [ix["column_names"] for ix in inspect(store.engine).get_indexes("jb_issue_pairs")]
    assert [column] in indexed
    if store.dialect == "sqlite":
        with store.engine.connect() as conn:
            plan = conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN SELECT id FROM jb_issue_pairs WHERE {column} = '10001'"
            ).all()
        assert any(f"ix_jb_issue_pairs_{column}" in str(row) for row in plan), plan
