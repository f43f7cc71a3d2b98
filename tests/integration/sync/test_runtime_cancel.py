"""Cancellation always propagates out of the workers, and the interrupted job goes back."""

from __future__ import annotations

import asyncio

import pytest

from jirabridge.sync.queue import Job, Queue, run_workers
from jirabridge.sync.store import Store

from .conftest import FakeClock
from .test_queue import make_queue, notice


class SlowCleanup:
    """A handler that, when cancelled, takes its time cleaning up (until told to finish)."""

    def __init__(self, *, swallow: bool = False) -> None:
        self.started = asyncio.Event()
        self.cleaning = asyncio.Event()
        self.finish_cleanup = asyncio.Event()
        self.swallow = swallow  # end normally after the clean-up instead of re-raising

    async def __call__(self, job: Job) -> bool:
        self.started.set()
        try:
            await asyncio.sleep(600)
        except asyncio.CancelledError:
            self.cleaning.set()
            await self.finish_cleanup.wait()
            if not self.swallow:
                raise
        return True


def assert_given_back(q: Queue) -> None:
    stats = q.stats()
    assert (stats.queued, stats.leased, stats.dead) == (1, 0, 0)
    [again] = q.lease("next-run")
    assert again.attempts == 1  # the interrupted attempt is not counted
    assert len(again.notices) == 1


@pytest.mark.parametrize("swallow", [False, True])
@pytest.mark.parametrize("first", ["stop", "cancel"])
async def test_a_cancel_during_the_jobs_own_cancellation_is_not_lost(
    store: Store, clock: FakeClock, swallow: bool, first: str
) -> None:
    q = make_queue(store, clock)
    q.enqueue(notice("1", clock))
    handler = SlowCleanup(swallow=swallow)
    stop = asyncio.Event()
    workers = asyncio.create_task(run_workers(q, handler, workers=2, stop=stop))
    await asyncio.wait_for(handler.started.wait(), 10)
    if first == "stop":
        stop.set()  # the workers cancel the job ...
    else:
        workers.cancel()
    await asyncio.wait_for(handler.cleaning.wait(), 10)
    workers.cancel()  # ... and are cancelled (again) while it cleans up
    await asyncio.sleep(0)
    handler.finish_cleanup.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(workers, 10)
    assert workers.cancelled()
    assert_given_back(q)


async def test_cancelled_while_idle_ends_cancelled(store: Store, clock: FakeClock) -> None:
    q = make_queue(store, clock)
    workers = asyncio.create_task(
        run_workers(q, SlowCleanup(), workers=1, stop=asyncio.Event(), idle_seconds=3600)
    )
    await asyncio.sleep(0.05)
    workers.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(workers, 10)
    q.enqueue(notice("1", clock))
    assert len(q.lease("w")) == 1


class Crash(BaseException):
    """Not an Exception: stands for the process dying (nothing may catch it)."""


async def test_a_crash_in_a_handler_ends_the_run_and_leaves_the_job_leased(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock)
    q.enqueue(notice("1", clock))

    async def crash(job: Job) -> bool:
        raise Crash

    with pytest.raises(Crash):
        await asyncio.wait_for(run_workers(q, crash, workers=2, stop=asyncio.Event()), 10)
    stats = q.stats()
    assert (stats.queued, stats.leased, stats.dead) == (0, 1, 0)  # as a dead process leaves it
