"""Store fixes: database errors in the branch that lets a job reach the dead letters, issue
keys up to 255 characters (migration 0004), the webhook key cap (review finding 8)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from jirabridge.errors import JirabridgeError, RetryLaterError, SkipItemError
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.queue import FailOutcome, Job, Queue
from jirabridge.sync.store import (
    AuditEntry,
    IssuePair,
    JobState,
    QueueJob,
    QueueNotice,
    Snapshot,
    Store,
    open_store,
)
from jirabridge.sync.webhooks import ReceiverSite, create_receiver

from .conftest import FakeClock
from .test_media_ids_store import _to
from .test_queue import make_queue

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LONG_KEY = "A" + "B" * 59 + "-1"  # 62 characters: a legal Jira key, longer than 50
LONGEST_KEY = "A" * 250 + "-1234"  # 255


def pair(server_id: str, cloud_id: str, key: str = "A-1") -> IssuePair:
    return IssuePair(
        pair_id="p",
        server_issue_id=server_id,
        server_key=key,
        cloud_issue_id=cloud_id,
        cloud_key=key,
        origin="server",
        created_at=NOW,
        updated_at=NOW,
    )


def store_error(store: Store, row: object) -> JirabridgeError:
    with pytest.raises(JirabridgeError) as caught, store.session() as s:
        s.add(row)
    return caught.value


def leased_job(q: Queue, clock: FakeClock) -> Job:
    q.enqueue(
        ChangeNotice(site="srv", issue_id="7", event=EventKind.ISSUE_UPDATED, observed_at=NOW)
    )
    [job] = q.lease("w")
    return job


# ---- the error branches -----------------------------------------------------------------


def test_a_broken_constraint_is_retried_and_reaches_the_dead_letters(
    store: Store, clock: FakeClock
) -> None:
    with store.session() as s:
        s.add(pair("1", "2"))
    error = store_error(store, pair("1", "3"))
    assert isinstance(error, RetryLaterError)
    q = make_queue(store, clock, max_attempts=2)
    job = leased_job(q, clock)
    assert q.fail(job, error) is FailOutcome.RETRY
    clock.advance(3600)
    [again] = q.lease("w")
    assert again.attempts == 2
    assert q.fail(again, error) is FailOutcome.DEAD
    [dead] = q.dead_letters()
    assert dead.error_branch == "RetryLaterError"


def test_a_value_the_database_refuses_dead_letters_the_job_at_once(
    store: Store, clock: FakeClock
) -> None:
    if store.dialect == "sqlite":
        pytest.skip("SQLite does not refuse long strings")
    error = store_error(store, pair("1", "2", key="K" * 300))  # longer than any Jira key
    assert isinstance(error, SkipItemError)
    q = make_queue(store, clock)
    job = leased_job(q, clock)
    assert q.fail(job, error) is FailOutcome.DEAD
    [dead] = q.dead_letters()
    assert (dead.error_branch, dead.attempts) == ("SkipItemError", 1)


# ---- long keys ----------------------------------------------------------------------------


def test_issue_keys_of_255_characters_are_stored(store: Store, clock: FakeClock) -> None:
    with store.session() as s:
        s.add(pair("1", "2", key=LONGEST_KEY))
    q = make_queue(store, clock)
    q.enqueue(
        ChangeNotice(
            site="s" * 100,
            issue_id="9" * 255,
            issue_key=LONGEST_KEY,
            event=EventKind.ISSUE_UPDATED,
            observed_at=NOW,
        )
    )
    [job] = q.lease("w")
    assert (job.issue_key, len(job.key)) == (LONGEST_KEY, 356)
    assert q.complete(job)
    with store.session() as s:
        assert s.scalars(select(IssuePair.server_key)).one() == LONGEST_KEY
        done = s.scalars(select(AuditEntry).where(AuditEntry.kind == "job_done")).one()
        assert done.subject == LONGEST_KEY


def _body(key: str) -> bytes:
    return json.dumps(
        {
            "webhookEvent": "jira:issue_updated",
            "issue": {"id": "10001", "key": key},
            "user": {"accountId": "someone"},
        }
    ).encode()


async def test_a_webhook_with_a_long_key_is_queued_and_a_too_long_one_refused(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock)
    site = ReceiverSite(name="cloud", secret="s3cret", integration_user=frozenset({"bot"}))
    app = create_receiver(sites={"cloud": site}, queue=q, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as c:
        url = "/webhooks/cloud?secret=s3cret"
        headers = {"content-type": "application/json"}
        ok = await c.post(url, content=_body(LONG_KEY), headers=headers)
        longest = await c.post(url, content=_body(LONGEST_KEY), headers=headers)
        too_long = await c.post(url, content=_body("A" * 251 + "-1234"), headers=headers)
    assert (ok.status_code, longest.status_code) == (202, 202)
    assert too_long.status_code == 400
    assert "at most 255" in too_long.json()["message"]
    with store.session() as s:
        assert s.scalars(select(QueueJob.issue_key)).one() == LONGEST_KEY  # the newest key


# ---- migration 0004 -----------------------------------------------------------------------


def _pair_with_snapshot(store: Store) -> None:
    """A store at 0003 with a pair and a snapshot referring to it."""
    _to(store, "0003")
    with store.session() as s:
        old = pair("1", "2")
        s.add(old)
        s.flush()
        s.add(
            Snapshot(
                issue_pair_id=old.id,
                side="server",
                fields={"summary": "x"},
                field_hashes={},
                issue_updated=None,
                synced_at=NOW,
            )
        )


def test_rows_of_0003_survive_migration_0004(store_url: tuple[str, str | None]) -> None:
    url, schema = store_url
    store = open_store(url, schema=schema, migrate=False)
    try:
        _pair_with_snapshot(store)
        with store.session() as s:
            job = QueueJob(
                key="srv:1",
                state=JobState.QUEUED,
                site="srv",
                issue_id="1",
                issue_key="A-1",
                enqueued_at=NOW,
                available_at=NOW,
                attempts=0,
            )
            s.add(job)
            s.flush()
            s.add(QueueNotice(job_id=job.id, notice={"n": 1}, observed_at=NOW))
        store.migrate()  # to the head, as every start runs it
        with store.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == "0005"
        with store.session() as s:
            # nothing referring to the recreated tables was deleted with them
            assert s.scalar(select(func.count()).select_from(Snapshot)) == 1
            assert s.scalar(select(func.count()).select_from(QueueNotice)) == 1
            assert s.scalars(select(QueueJob.key)).one() == "srv:1"
            s.add(pair("3", "4", key=LONGEST_KEY))
        columns = {c["name"]: c["type"] for c in inspect(store.engine).get_columns("jb_queue_jobs")}
        assert getattr(columns["issue_key"], "length", None) == 255
        if store.dialect == "sqlite":
            with store.engine.connect() as conn:
                for table in ("jb_queue_jobs", "jb_dead_letters", "jb_audit_log"):
                    sql = conn.execute(
                        text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}
                    ).scalar_one()
                    assert "AUTOINCREMENT" in sql, table  # ids are still never reused
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        store.dispose()


def test_migration_0004_refuses_to_delete_rows_on_sqlite_with_foreign_keys_on(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}", migrate=False)
    try:
        _pair_with_snapshot(store)
        with pytest.raises(RuntimeError, match="jb_snapshots"):
            _to(store, "0004")  # foreign keys on: the snapshot would go with the old table
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(Snapshot)) == 1
    finally:
        store.dispose()
