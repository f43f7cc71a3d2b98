"""Dead leases: a job leased by a process that died is taken over at once, not after its
lease ran out; a running job keeps its lease alive with a heartbeat."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from jirabridge.sync.config import QueueConfig
from jirabridge.sync.queue import Job, Queue, owner_is_gone, run_workers
from jirabridge.sync.store import Store

from .conftest import FakeClock
from .test_queue import notice

LONG_LEASE = 300.0  # the default: a resumed run must not wait this out

HOLDER = textwrap.dedent(
    """
    import sys, time
    from jirabridge.sync.config import QueueConfig
    from jirabridge.sync.queue import Queue
    from jirabridge.sync.store import open_store

    store = open_store(sys.argv[1], schema=sys.argv[2] or None, migrate=False)
    queue = Queue(store, config=QueueConfig(coalesce_seconds=0, lease_seconds=300))
    jobs = queue.lease("holder", limit=10)
    print(",".join(j.owner for j in jobs), flush=True)
    time.sleep(600)
    """
)


@contextmanager
def holder(store_url: tuple[str, str | None]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A real process that leases every due job and then hangs on to the leases."""
    url, schema = store_url
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, schema or ""],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        owners = proc.stdout.readline().strip()
        assert owners, proc.stderr.read() if proc.stderr else ""
        yield proc, owners
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def long_lease_queue(store: Store) -> Queue:
    return Queue(store, config=QueueConfig(coalesce_seconds=0, lease_seconds=LONG_LEASE))


def test_a_sigkilled_workers_job_is_leased_again_at_once(
    store: Store, store_url: tuple[str, str | None], clock: FakeClock
) -> None:
    queue = long_lease_queue(store)
    queue.enqueue(notice("1", clock, changelog_id="a"))
    with holder(store_url) as (proc, owner):
        assert f":{proc.pid}:" in owner  # the lease names the process holding it
        assert queue.lease("resumed") == []  # alive: its lease is respected
        assert not owner_is_gone(owner)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert owner_is_gone(owner)
        [job] = queue.lease("resumed")  # no waiting out the 300 s lease
    assert job.issue_id == "1"
    assert job.attempts == 2  # the dead worker's attempt counts
    assert [n.changelog_id for n in job.notices] == ["a"]
    assert queue.complete(job)
    stats = queue.stats()
    assert (stats.queued, stats.leased, stats.notices) == (0, 0, 0)


async def test_resumed_workers_start_on_the_dead_processes_jobs(
    store: Store, store_url: tuple[str, str | None], clock: FakeClock
) -> None:
    queue = long_lease_queue(store)
    for i in range(3):
        queue.enqueue(notice(str(i), clock))
    with holder(store_url) as (proc, _owner):
        proc.kill()
        proc.wait(timeout=30)
    done: list[str] = []
    stop = asyncio.Event()

    async def handler(job: Job) -> bool:
        done.append(job.issue_id)
        if len(done) == 3:
            stop.set()
        return False

    # idle_seconds is huge: only an immediate reclaim can start these jobs
    await asyncio.wait_for(run_workers(queue, handler, workers=2, stop=stop, idle_seconds=3600), 30)
    assert sorted(done) == ["0", "1", "2"]
    assert queue.stats().leased == 0 and queue.stats().queued == 0


@pytest.mark.parametrize(
    "owner",
    [
        "w@some-other-host:1:abcdef/0123456789ab",  # another host: only its expiry counts
        "w/0123456789ab",  # an owner from before leases named their process
        "garbage",
    ],
)
def test_owners_that_cannot_be_judged_are_left_to_expire(owner: str) -> None:
    assert not owner_is_gone(owner)


def test_an_earlier_process_with_our_pid_is_gone(store: Store, clock: FakeClock) -> None:
    queue = long_lease_queue(store)
    queue.enqueue(notice("1", clock))
    [job] = queue.lease("w")
    assert not owner_is_gone(job.owner)
    head, _, tail = job.owner.rpartition("/")
    host_pid, _, incarnation = head.rpartition(":")
    assert host_pid.endswith(f":{os.getpid()}")
    other = "0" * len(incarnation) if incarnation != "0" * len(incarnation) else "1" * 6
    assert owner_is_gone(f"{host_pid}:{other}/{tail}")


class SpyQueue(Queue):
    """Counts heartbeats; each one is announced to the test."""

    def __init__(self, store: Store, clock: FakeClock) -> None:
        super().__init__(
            store, config=QueueConfig(coalesce_seconds=0, lease_seconds=0.3), clock=clock
        )
        self.beats: asyncio.Queue[bool] = asyncio.Queue()
        self.loop = asyncio.get_running_loop()

    def extend(self, job: Job) -> bool:
        held = super().extend(job)
        self.loop.call_soon_threadsafe(self.beats.put_nowait, held)
        return held


async def test_a_long_job_keeps_its_lease_alive(store: Store, clock: FakeClock) -> None:
    queue = SpyQueue(store, clock)
    queue.enqueue(notice("1", clock))
    taken_over: list[list[Job]] = []
    stop = asyncio.Event()

    async def long_job(job: Job) -> bool:
        # far past the 0.3 s lease on the store's clock, one heartbeat at a time
        for _ in range(4):
            clock.advance(0.2)
            assert await asyncio.wait_for(queue.beats.get(), 30)
        taken_over.append(await asyncio.to_thread(queue.lease, "someone-else"))
        stop.set()
        return False

    await asyncio.wait_for(run_workers(queue, long_job, workers=1, stop=stop), 60)
    assert taken_over == [[]]  # nobody took the job over while it ran
    stats = queue.stats()
    assert (stats.queued, stats.leased, stats.dead) == (0, 0, 0)


async def test_a_job_whose_lease_was_taken_over_is_stopped(store: Store, clock: FakeClock) -> None:
    queue = SpyQueue(store, clock)
    queue.enqueue(notice("1", clock))
    stop = asyncio.Event()
    interrupted = asyncio.Event()
    stolen: list[Job] = []

    async def stalled(job: Job) -> bool:
        clock.advance(1)  # the worker stalled past its lease: another one takes the job
        stolen.extend(await asyncio.to_thread(queue.lease, "someone-else"))
        try:
            await asyncio.sleep(600)
        except asyncio.CancelledError:
            interrupted.set()
            stop.set()
            raise
        return False

    await asyncio.wait_for(run_workers(queue, stalled, workers=1, stop=stop), 60)
    assert interrupted.is_set()
    assert [j.issue_id for j in stolen] == ["1"]
    assert queue.complete(stolen[0])  # the new owner still holds it
