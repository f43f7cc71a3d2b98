"""A state store that fails while a job is leased or finished does not end the run: the
worker logs it, backs off, and the job comes back when its lease expires."""

from __future__ import annotations

import asyncio
import logging

import pytest

from jirabridge.errors import RetryLaterError
from jirabridge.sync.config import QueueConfig
from jirabridge.sync.queue import FailOutcome, Job, Queue, run_workers
from jirabridge.sync.store import Store

from .conftest import FakeClock
from .test_queue import notice

LEASE = 30.0


class FlakyStoreQueue(Queue):
    """A queue whose store fails once in ``fail``, ``complete`` or ``lease``; after the
    failure the clock moves past the lease so the job can be reclaimed."""

    def __init__(self, store: Store, clock: FakeClock, broken: str) -> None:
        super().__init__(
            store, config=QueueConfig(coalesce_seconds=0, lease_seconds=LEASE), clock=clock
        )
        self._clock = clock
        self.broken = broken
        self.failures = 0

    def _break(self, name: str) -> None:
        if name == self.broken and self.failures == 0:
            self.failures += 1
            self._clock.advance(LEASE + 1)
            raise RetryLaterError("state store unavailable: connection refused")

    def fail(self, job: Job, error: BaseException) -> FailOutcome:
        self._break("fail")
        return super().fail(job, error)

    def complete(self, job: Job, **kw: object) -> bool:  # type: ignore[override]
        self._break("complete")
        return super().complete(job, **kw)  # type: ignore[arg-type]

    def lease(self, owner: str, *, limit: int = 1) -> list[Job]:
        self._break("lease")
        return super().lease(owner, limit=limit)


@pytest.mark.parametrize("broken", ["fail", "complete", "lease"])
async def test_a_store_failure_while_finishing_does_not_end_the_run(
    store: Store, clock: FakeClock, broken: str, caplog: pytest.LogCaptureFixture
) -> None:
    q = FlakyStoreQueue(store, clock, broken)
    q.enqueue(notice("1", clock))
    calls: list[int] = []
    stop = asyncio.Event()

    async def handler(job: Job) -> bool:
        calls.append(job.id)
        if broken == "fail" and len(calls) == 1:
            raise RetryLaterError("site busy", retry_after=0)
        if q.failures and len(calls) >= (2 if broken != "lease" else 1):
            stop.set()
        return False  # the worker completes it

    with caplog.at_level(logging.WARNING, logger="jirabridge.sync.queue"):
        await asyncio.wait_for(run_workers(q, handler, workers=1, stop=stop, idle_seconds=0.01), 10)
    assert q.failures == 1
    assert "state store failed" in caplog.text
    assert "connection refused" in caplog.text
    # the job ran again after the failure and was then completed: nothing is left behind
    assert len(calls) == (1 if broken == "lease" else 2)
    stats = q.stats()
    assert stats.queued == 0 and stats.leased == 0
    assert q.dead_letters() == []
