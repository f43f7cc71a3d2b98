"""The set-based lease: a bounded number of statements however many jobs it leases, the
one-running-job-per-pair rule for jobs queued before their pair existed, and concurrent
leasers (threads, each with its own queue; on PostgreSQL truly at once) never sharing a job."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from jirabridge.sync.config import QueueConfig
from jirabridge.sync.queue import Job, Queue
from jirabridge.sync.store import IssuePair, Store

from .conftest import FakeClock
from .test_queue import make_queue, notice
from .test_queue_claim import pair_up, two_site_queue


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        seen.append(sql)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def add_pairs(store: Store, clock: FakeClock, servers: Iterable[int]) -> None:
    """Pair server issue ``i`` with cloud issue ``1000 + i``."""
    with store.session() as s:
        for i in servers:
            s.add(
                IssuePair(
                    pair_id="ops",
                    server_issue_id=str(i),
                    server_key=f"OPS-{i}",
                    cloud_issue_id=str(1000 + i),
                    cloud_key=f"OPS-{1000 + i}",
                    origin="server",
                    created_at=clock.now(),
                    updated_at=clock.now(),
                )
            )


def leased_count(q: Queue, n: int) -> tuple[int, int]:
    """(jobs leased, statements run) for a lease of up to ``n``."""
    with statements(q.store) as seen:
        jobs = q.lease("w", limit=n)
    return len(jobs), len(seen)


@pytest.mark.parametrize(
    ("keys", "most"),
    [("no pairs", 3), ("queued before their pairs", 5), ("of their pairs", 3)],
)
def test_leasing_many_jobs_costs_as_many_statements_as_leasing_one(
    store: Store, clock: FakeClock, keys: str, most: int
) -> None:
    # candidates, [pair rows, running jobs of the pairs,] update, notices; on SQLite its
    # BEGIN IMMEDIATE, on PostgreSQL a savepoint around the update (SAVEPOINT, RELEASE).
    # Jobs keyed by their pairs need no pair look-up while no job keyed by an issue runs
    q = make_queue(store, clock) if keys == "no pairs" else two_site_queue(store, clock)
    if keys == "of their pairs":
        add_pairs(store, clock, range(42))
    for i in range(42):
        q.enqueue(notice(str(i), clock, changelog_id="a"))
        q.enqueue(notice(str(i), clock, changelog_id="b"))
    if keys == "queued before their pairs":
        add_pairs(store, clock, range(42))
    q.lease("warm-up", limit=1)  # the first call reclaims; later ones within the quarter not

    one = leased_count(q, 1)
    many = leased_count(q, 40)

    assert (one[0], many[0]) == (1, 40)
    assert many[1] == one[1] == most + (1 if store.dialect == "sqlite" else 2)


def test_a_job_queued_before_its_pair_keeps_the_pairs_other_job_waiting(
    store: Store, clock: FakeClock
) -> None:
    q = two_site_queue(store, clock)
    q.enqueue(notice("1", clock, site="srv"))
    [early] = q.lease("w")
    assert early.key == "srv:1"  # no pair yet
    pair = pair_up(store, clock)  # srv 1 <-> cld 2
    q.enqueue(notice("2", clock, site="cld"))  # keyed by the pair now

    assert q.lease("w", limit=5) == []  # the pair's job waits for the issue's job

    assert q.complete(early)
    [late] = q.lease("w", limit=5)
    assert late.key == f"pair:{pair}"


def test_a_pairs_job_keeps_a_job_queued_before_the_pair_waiting(
    store: Store, clock: FakeClock
) -> None:
    q = two_site_queue(store, clock)
    q.enqueue(notice("2", clock, site="cld"))  # queued as cld:2
    pair = pair_up(store, clock)
    q.enqueue(notice("1", clock, site="srv"))  # queued as pair:N
    q.enqueue(notice("9", clock, site="srv"))  # another issue: free to run

    first = q.lease("w", limit=5)  # one of the pair's two jobs, and the other issue's

    assert sorted(j.key for j in first) in (
        sorted(["cld:2", "srv:9"]),
        sorted([f"pair:{pair}", "srv:9"]),
    )
    assert q.lease("w", limit=5) == []
    for job in first:
        assert q.complete(job)
    [second] = q.lease("w", limit=5)
    assert second.key in {"cld:2", f"pair:{pair}"} - {j.key for j in first}


def test_a_job_whose_key_is_running_is_left_for_later_and_the_rest_leased(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock)
    q.enqueue(notice("1", clock))
    [running] = q.lease("w")
    q.enqueue(notice("1", clock))  # queued behind the running one
    q.enqueue(notice("2", clock))
    assert [j.issue_id for j in q.lease("w", limit=5)] == ["2"]
    assert q.next_due is None  # nothing else waits
    assert q.complete(running)
    [again] = q.lease("w", limit=5)
    assert again.issue_id == "1"


def test_next_due_is_looked_up_only_when_the_lease_came_up_short(
    store: Store, clock: FakeClock
) -> None:
    q = Queue(store, config=QueueConfig(coalesce_seconds=5), clock=clock)
    q.enqueue(notice("1", clock, site="srv"), immediate=True)
    q.enqueue(notice("2", clock, site="srv"), immediate=True)
    q.enqueue(notice("3", clock, site="srv"))  # due in 5 s
    assert len(q.lease("w", limit=1)) == 1
    assert q.next_due is None  # full: the caller asks again at once
    assert len(q.lease("w", limit=5)) == 1
    assert q.next_due == clock.now() + timedelta(seconds=5)


def test_concurrent_leasers_never_share_a_job_or_run_a_pair_twice(
    store: Store, clock: FakeClock
) -> None:
    sides = {"srv": "server", "cld": "cloud"}
    config = QueueConfig(coalesce_seconds=0)
    queues = [Queue(store, config=config, clock=clock, site_sides=sides) for _ in range(3)]
    for i in range(60):
        queues[0].enqueue(notice(str(i), clock, site="srv"))
    for i in range(60):  # the other sides of the first 20, queued before their pairs exist
        queues[0].enqueue(notice(str(1000 + i), clock, site="cld"))
    add_pairs(store, clock, range(60))
    got: list[list[Job]] = [[] for _ in queues]
    start = threading.Barrier(len(queues))

    def lease_all(n: int) -> None:
        start.wait()
        for _ in range(20):
            got[n].extend(queues[n].lease(f"w{n}", limit=7))

    threads = [threading.Thread(target=lease_all, args=(n,)) for n in range(len(queues))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    leased = [j for jobs in got for j in jobs]
    assert len({j.id for j in leased}) == len(leased)  # no job twice
    # both jobs of each issue pair were queued under their issues' keys before the pair
    # existed: at most one of each pair runs
    pairs = {int(j.issue_id) % 1000 for j in leased}
    assert len(pairs) == len(leased) == 60


def test_a_stale_complete_leaves_the_new_owners_job_and_notices_alone(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock, lease_seconds=30)
    q.enqueue(notice("1", clock, changelog_id="a"))
    [stale] = q.lease("w1")
    clock.advance(31)
    [fresh] = q.lease("w2")
    assert fresh.id == stale.id

    with statements(store) as seen:
        assert not q.complete(stale)
    assert len(seen) <= 3  # (BEGIN,) notices delete, job delete; no audit row

    assert (q.stats().leased, q.stats().notices) == (1, 1)
    assert q.complete(fresh)
    assert (q.stats().leased, q.stats().notices) == (0, 0)
