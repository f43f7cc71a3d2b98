"""The dispatcher leases when work may be due, not every time a worker frees up."""

from __future__ import annotations

import asyncio
from typing import Any

from jirabridge.sync.queue import Job, Queue, run_workers
from jirabridge.sync.store import Store

from .conftest import FakeClock
from .test_queue import make_queue, notice

IDLE = 30.0  # no polling during a test: every lease comes from a wake-up


def counting(queue: Queue) -> list[int]:
    """Counts the lease calls (each returns how many it leased)."""
    calls: list[int] = []
    real = queue.lease

    def lease(owner: str, *, limit: int = 1) -> list[Job]:
        jobs = real(owner, limit=limit)
        calls.append(len(jobs))
        return jobs

    queue.lease = lease  # type: ignore[method-assign]
    return calls


async def _until(condition: Any, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (polling the test's own observations)
            await asyncio.sleep(0.01)


async def test_workers_ending_with_nothing_due_call_for_no_lease(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock)
    for issue in "12345":
        q.enqueue(notice(issue, clock))
    calls = counting(q)
    done: list[str] = []

    async def handler(job: Job) -> None:
        done.append(job.issue_id)

    stop = asyncio.Event()
    runner = asyncio.create_task(run_workers(q, handler, workers=8, stop=stop, idle_seconds=IDLE))
    await _until(lambda: len(done) == 5 and q.stats().queued == 0)
    await asyncio.sleep(0.2)  # every ended worker has been seen
    stop.set()
    await runner
    assert calls[0] == 5
    assert len(calls) == 1, calls  # five ended workers: no lease for nothing


async def test_a_notice_for_a_running_issue_runs_as_soon_as_its_job_ends(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock)
    q.enqueue(notice("1", clock))
    release = asyncio.Event()
    runs: list[int] = []

    async def handler(job: Job) -> None:
        runs.append(len(job.notices))
        if len(runs) == 1:
            await release.wait()

    stop = asyncio.Event()
    runner = asyncio.create_task(run_workers(q, handler, workers=4, stop=stop, idle_seconds=IDLE))
    await _until(lambda: runs == [1])
    q.enqueue(notice("1", clock, changelog_id="later"))  # its key is running: it waits
    await asyncio.sleep(0.1)
    assert runs == [1]
    release.set()
    await _until(lambda: len(runs) == 2, seconds=2.0)  # not after the 30 s poll
    stop.set()
    await runner


async def test_notices_that_came_while_every_worker_was_busy_run_when_one_frees(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock)
    q.enqueue(notice("1", clock))
    release = asyncio.Event()
    ran: list[str] = []

    async def handler(job: Job) -> None:
        ran.append(job.issue_id)
        if job.issue_id == "1":
            await release.wait()

    stop = asyncio.Event()
    runner = asyncio.create_task(run_workers(q, handler, workers=1, stop=stop, idle_seconds=IDLE))
    await _until(lambda: ran == ["1"])
    q.enqueue(notice("2", clock))  # the only worker is busy
    await asyncio.sleep(0.1)
    release.set()
    await _until(lambda: ran == ["1", "2"], seconds=2.0)
    stop.set()
    await runner


async def test_a_failed_job_is_leased_again_after_its_backoff(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock, backoff_base_seconds=0.2, backoff_max_seconds=0.2)
    q.enqueue(notice("1", clock))
    attempts: list[int] = []

    async def handler(job: Job) -> None:
        attempts.append(job.attempts)
        if job.attempts == 1:
            raise RuntimeError("transient")

    stop = asyncio.Event()
    runner = asyncio.create_task(run_workers(q, handler, workers=2, stop=stop, idle_seconds=IDLE))
    await _until(lambda: attempts == [1])
    clock.advance(1)  # past the backoff
    await _until(lambda: attempts == [1, 2], seconds=3.0)
    stop.set()
    await runner
