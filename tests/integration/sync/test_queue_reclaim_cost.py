"""What a lease call costs in reclaim work: a lease call reclaims at most every quarter lease
(or when a local process seen holding leases died), and a reclaim must not read the live
leases of other hosts nor probe one local process once per job it holds."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from sqlalchemy import select, update

import jirabridge.sync.queue as queue_module
from jirabridge.errors import RetryLaterError
from jirabridge.sync.queue import Queue
from jirabridge.sync.store import JobState, QueueJob, Store

from .conftest import FakeClock
from .test_queue import make_queue, notice

pytestmark = pytest.mark.skipif(os.name != "posix", reason="local processes are judged on POSIX")

NO_SUCH_PID = 999_999_999  # above any pid_max: kill(pid, 0) answers ESRCH
OTHER_HOST = "another-node~0123456789abcdef"


class Spy:
    """Records the pids kill(pid, 0) is asked about and the owners parsed, then does the real
    thing."""

    def __init__(self) -> None:
        self.killed: list[int] = []
        self.parsed: list[str] = []
        self._kill = os.kill
        self._owner = queue_module._OWNER

    def kill(self, pid: int, sig: int) -> None:
        self.killed.append(pid)
        self._kill(pid, sig)

    def search(self, owner: str) -> re.Match[str] | None:
        self.parsed.append(owner)
        return self._owner.search(owner)


@pytest.fixture
def spy() -> Iterator[Spy]:
    s = Spy()
    with (
        mock.patch.object(queue_module, "_LOCAL_JUDGE", True),  # as on any Linux host
        mock.patch.object(queue_module.os, "kill", s.kill),
        mock.patch.object(queue_module, "_OWNER", s),
    ):
        yield s


def owner(host: str, pid: int, n: int) -> str:
    return f"w{n}@{host}:{pid}:abcdef/{n:012x}"


def lease_all(queue: Queue, clock: FakeClock, owners: list[str], store: Store) -> list[int]:
    """Enqueue one job per owner and make each leased by that owner (for 300 s)."""
    for i in range(len(owners)):
        queue.enqueue(notice(str(i), clock))
    jobs = queue.lease("setup", limit=len(owners))
    assert len(jobs) == len(owners)
    with store.session() as session:
        for job, who in zip(jobs, owners, strict=True):
            session.execute(update(QueueJob).where(QueueJob.id == job.id).values(lease_owner=who))
    return [j.id for j in jobs]


def states(store: Store, ids: list[int]) -> list[Any]:
    with store.session() as session:
        rows = {i: state for i, state in session.execute(select(QueueJob.id, QueueJob.state))}
    return [rows.get(i) for i in ids]


def test_a_live_local_process_is_probed_once_and_other_hosts_not_at_all(
    store: Store, clock: FakeClock, spy: Spy
) -> None:
    queue = make_queue(store, clock, lease_seconds=300)
    live = os.getppid()  # runs, and is not us
    local = [owner(queue_module._HOST, live, n) for n in range(5)]
    remote = [owner(OTHER_HOST, live, n) for n in range(5, 10)]
    ids = lease_all(queue, clock, local + remote, store)
    spy.killed.clear()
    spy.parsed.clear()
    clock.advance(300 / 4)  # a lease call reclaims at most every quarter lease

    assert queue.lease("poller", limit=10) == []

    assert spy.killed == [live]  # one probe for five jobs of one process
    assert sorted(spy.parsed) == sorted(local)  # other hosts' live leases were not even read
    assert states(store, ids) == [JobState.LEASED] * 10


def test_lease_calls_between_reclaims_read_no_leases_but_watch_local_holders(
    store: Store, clock: FakeClock, spy: Spy
) -> None:
    queue = make_queue(store, clock, lease_seconds=300)
    live = os.getppid()
    ids = lease_all(queue, clock, [owner(queue_module._HOST, live, 0)], store)
    clock.advance(75)
    assert queue.lease("poller") == []  # a reclaim: the holder is seen, and watched
    spy.killed.clear()
    spy.parsed.clear()
    clock.advance(74)

    assert queue.lease("poller") == []

    assert spy.parsed == []  # no lease was read
    assert spy.killed == [live]  # but the one local holder was asked after
    assert states(store, ids) == [JobState.LEASED]


def test_a_watched_local_holder_that_dies_is_reclaimed_at_the_next_lease_call(
    store: Store, clock: FakeClock, spy: Spy
) -> None:
    queue = make_queue(store, clock, lease_seconds=300)
    ids = lease_all(queue, clock, [owner(queue_module._HOST, NO_SUCH_PID, 0)], store)
    queue.enqueue(notice("other", clock))
    with mock.patch.object(queue_module, "_pid_is_gone", lambda pid: False):
        clock.advance(75)
        assert len(queue.lease("poller")) == 1  # "alive": watched, its job left alone
    assert states(store, ids) == [JobState.LEASED]
    clock.advance(1)  # well inside the quarter lease

    [job] = queue.lease("poller")  # now it is gone: reclaimed and leased again at once

    assert job.id == ids[0]
    assert job.attempts == 2


def test_each_distinct_local_process_is_probed_and_dead_ones_are_reclaimed(
    store: Store, clock: FakeClock, spy: Spy
) -> None:
    queue = make_queue(store, clock, lease_seconds=300)
    live = os.getppid()
    owners = [owner(queue_module._HOST, pid, n) for n, pid in enumerate([live, NO_SUCH_PID] * 3)]
    ids = lease_all(queue, clock, owners, store)
    spy.killed.clear()

    assert queue.reclaim_expired() == 3

    assert sorted(spy.killed) == sorted([live, NO_SUCH_PID])
    assert states(store, ids) == [JobState.LEASED, JobState.QUEUED] * 3


def test_an_expired_lease_of_another_host_is_still_reclaimed_without_a_probe(
    store: Store, clock: FakeClock, spy: Spy
) -> None:
    queue = make_queue(store, clock, lease_seconds=300)
    ids = lease_all(queue, clock, [owner(OTHER_HOST, NO_SUCH_PID, 0)], store)
    spy.killed.clear()
    assert queue.reclaim_expired() == 0  # alive as far as we may know
    clock.advance(301)

    assert queue.reclaim_expired() == 1

    assert spy.killed == []
    assert states(store, ids) == [JobState.QUEUED]


def test_without_a_boot_id_no_lease_is_probed(store: Store, clock: FakeClock, spy: Spy) -> None:
    queue = make_queue(store, clock, lease_seconds=300)
    ids = lease_all(queue, clock, [owner(queue_module._HOST, NO_SUCH_PID, 0)], store)
    spy.killed.clear()
    with mock.patch.object(queue_module, "_LOCAL_JUDGE", False):
        assert queue.reclaim_expired() == 0
    assert spy.killed == []
    assert states(store, ids) == [JobState.LEASED]


def test_a_host_id_with_like_wildcards_matches_only_itself(
    store: Store, clock: FakeClock, spy: Spy
) -> None:
    # a host id is made of [A-Za-z0-9.~-]; were it ever to hold % or _, they match literally
    queue = make_queue(store, clock, lease_seconds=300)
    with mock.patch.object(queue_module, "_HOST", "h_st%~1"):
        ids = lease_all(
            queue,
            clock,
            [owner("h_st%~1", NO_SUCH_PID, 0), owner("hxstABC~1", NO_SUCH_PID, 1)],
            store,
        )
        spy.parsed.clear()
        assert queue.reclaim_expired() == 1
    assert spy.parsed == [owner("h_st%~1", NO_SUCH_PID, 0)]
    assert states(store, ids) == [JobState.QUEUED, JobState.LEASED]


def test_a_lease_whose_transaction_failed_reclaims_again_next_time(
    store: Store, clock: FakeClock
) -> None:
    # the reclaim of a transaction that failed later was rolled back: the next lease call
    # must not take it as done and wait a quarter lease before reclaiming again
    dead = make_queue(store, clock, lease_seconds=40)
    dead.enqueue(notice("1", clock))
    [job] = dead.lease("crashed-worker")  # its worker dies; the lease runs out
    clock.advance(41)
    live = make_queue(store, clock, lease_seconds=40)
    real = live._mark_leased
    failures = [RetryLaterError("state store unavailable (injected)")]

    def fails_once(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    with mock.patch.object(live, "_mark_leased", fails_once), pytest.raises(RetryLaterError):
        live.lease("w")  # reclaimed the expired job, then rolled back
    clock.advance(1)
    with mock.patch.object(live, "_mark_leased", fails_once):
        assert [j.id for j in live.lease("w")] == [job.id]
