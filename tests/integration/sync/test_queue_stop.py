"""A stop interrupts a worker stuck in a long wait and gives its job back, untouched."""

from __future__ import annotations

import asyncio
import time

from jirabridge.sync.queue import Job, Queue, run_workers
from jirabridge.sync.store import Store

from .conftest import FakeClock
from .test_queue import make_queue, notice


async def test_stop_cancels_a_busy_worker_and_requeues_its_job(
    store: Store, clock: FakeClock
) -> None:
    q: Queue = make_queue(store, clock)
    q.enqueue(notice("1", clock))
    started = asyncio.Event()
    cancelled: list[int] = []

    async def slow(job: Job) -> bool:
        started.set()
        try:
            await asyncio.sleep(600)  # a client waiting out Retry-After: 600
        except asyncio.CancelledError:
            cancelled.append(job.id)
            raise
        return True

    stop = asyncio.Event()
    runner = asyncio.create_task(run_workers(q, slow, workers=2, stop=stop, idle_seconds=0.01))
    await asyncio.wait_for(started.wait(), 5)
    t0 = time.monotonic()
    stop.set()
    await asyncio.wait_for(runner, 5)
    assert time.monotonic() - t0 < 2
    assert len(cancelled) == 1
    assert q.dead_letters() == []
    stats = q.stats()
    assert stats.queued == 1 and stats.leased == 0
    again = q.lease("w")
    assert [j.issue_id for j in again] == ["1"]
    assert again[0].attempts == 1  # the interrupted attempt is not counted
    assert len(again[0].notices) == 1


async def test_cancelling_the_workers_also_gives_the_job_back(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock)
    q.enqueue(notice("1", clock))
    started = asyncio.Event()

    async def slow(job: Job) -> bool:
        started.set()
        await asyncio.sleep(600)
        return True

    runner = asyncio.create_task(run_workers(q, slow, workers=1, stop=asyncio.Event()))
    await asyncio.wait_for(started.wait(), 5)
    runner.cancel()
    try:
        await asyncio.wait_for(runner, 5)
    except asyncio.CancelledError:
        pass
    assert q.dead_letters() == []
    assert q.stats().queued == 1 and q.stats().leased == 0


async def test_a_finished_job_is_not_given_back(store: Store, clock: FakeClock) -> None:
    q = make_queue(store, clock)
    q.enqueue(notice("1", clock))
    stop = asyncio.Event()

    async def quick(job: Job) -> bool:
        stop.set()
        return False  # run_workers completes it

    await asyncio.wait_for(run_workers(q, quick, workers=1, stop=stop, idle_seconds=0.01), 5)
    assert q.stats().queued == 0 and q.stats().leased == 0
    assert q.release is not None and q.lease("w") == []
