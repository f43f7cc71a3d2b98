"""Idle workers are woken by what makes a job due, not by polling the queue.

Every test runs the workers with ``idle_seconds=3600``: a job started within the test's
timeout was started by a wake-up (an enqueue, a finished job, a delay running out)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import httpx
import pytest

from jirabridge.errors import RetryLaterError
from jirabridge.sync.config import QueueConfig
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.queue import Job, Queue, Wakeup, run_workers
from jirabridge.sync.store import Store
from jirabridge.sync.webhooks import ReceiverSite, create_receiver

IDLE = 3600.0


def change(issue: str, n: int = 0) -> ChangeNotice:
    return ChangeNotice(
        site="srv",
        issue_id=issue,
        issue_key=f"OPS-{issue}",
        event=EventKind.ISSUE_UPDATED,
        observed_at=datetime.now(UTC),
        changelog_id=str(n),
    )


class Recorder:
    """A handler that records the jobs it ran and stops the workers after ``until``."""

    def __init__(self, stop: asyncio.Event, until: int) -> None:
        self.stop = stop
        self.until = until
        self.jobs: list[Job] = []
        self.first_started = asyncio.Event()
        self.hold_first = asyncio.Event()
        self.hold_first.set()

    async def __call__(self, job: Job) -> bool:
        self.jobs.append(job)
        self.first_started.set()
        if len(self.jobs) == 1:
            await self.hold_first.wait()
        if len(self.jobs) >= self.until:
            self.stop.set()
        return False


async def start(queue: Queue, handler: Recorder) -> asyncio.Task[None]:
    task = asyncio.create_task(
        run_workers(queue, handler, workers=2, stop=handler.stop, idle_seconds=IDLE)
    )
    await asyncio.sleep(0.05)  # the workers found nothing and went idle
    return task


def fresh_queue(store: Store, **config: float) -> Queue:
    return Queue(store, config=QueueConfig(**{"coalesce_seconds": 0, **config}))


async def test_an_enqueue_from_another_thread_wakes_idle_workers(store: Store) -> None:
    queue = fresh_queue(store)
    handler = Recorder(asyncio.Event(), until=1)
    task = await start(queue, handler)
    producer = threading.Thread(target=queue.enqueue, args=(change("1"),))
    producer.start()
    producer.join()
    await asyncio.wait_for(task, 30)
    assert [j.issue_id for j in handler.jobs] == ["1"]


async def test_a_webhook_wakes_idle_workers(store: Store) -> None:
    queue = fresh_queue(store)
    handler = Recorder(asyncio.Event(), until=1)
    task = await start(queue, handler)
    app = create_receiver(sites={"srv": ReceiverSite("srv", "k", frozenset())}, queue=queue)
    body = {"webhookEvent": "jira:issue_updated", "issue": {"id": "5", "key": "OPS-5"}}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://receiver"
    ) as client:
        r = await client.post("/webhooks/srv?secret=k", json=body)
    assert r.status_code == 202
    await asyncio.wait_for(task, 30)
    assert [j.issue_id for j in handler.jobs] == ["5"]


async def test_workers_sleep_until_the_coalescing_delay_ends(store: Store) -> None:
    queue = fresh_queue(store, coalesce_seconds=0.2)
    handler = Recorder(asyncio.Event(), until=1)
    task = await start(queue, handler)
    queue.enqueue(change("1", 0))
    queue.enqueue(change("1", 1))
    await asyncio.wait_for(task, 30)
    [job] = handler.jobs
    assert [n.changelog_id for n in job.notices] == ["0", "1"]  # still coalesced


async def test_a_backed_off_job_is_retried_when_its_backoff_ends(store: Store) -> None:
    queue = fresh_queue(store, backoff_base_seconds=0.1)
    stop = asyncio.Event()
    attempts: list[int] = []

    async def flaky(job: Job) -> bool:
        attempts.append(job.attempts)
        if len(attempts) == 1:
            raise RetryLaterError("site busy")
        stop.set()
        return False

    queue.enqueue(change("1"))
    await asyncio.wait_for(run_workers(queue, flaky, workers=1, stop=stop, idle_seconds=IDLE), 30)
    assert attempts == [1, 2]
    assert queue.stats().queued == 0 and queue.stats().dead == 0


async def test_a_finished_job_lets_the_next_job_of_its_key_start(store: Store) -> None:
    queue = fresh_queue(store)
    handler = Recorder(asyncio.Event(), until=2)
    handler.hold_first.clear()
    task = await start(queue, handler)
    queue.enqueue(change("1", 0))
    await asyncio.wait_for(handler.first_started.wait(), 30)
    queue.enqueue(change("1", 1))  # same key: waits for the running job
    await asyncio.sleep(0.05)
    assert len(handler.jobs) == 1  # never two jobs of one key at once
    handler.hold_first.set()
    await asyncio.wait_for(task, 30)
    assert [[n.changelog_id for n in j.notices] for j in handler.jobs] == [["0"], ["1"]]


class CountingWakeup(Wakeup):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def notify(self) -> None:
        self.calls += 1
        super().notify()


def test_an_enqueue_in_a_callers_transaction_wakes_only_after_its_commit(store: Store) -> None:
    wakeup = CountingWakeup()
    queue = Queue(store, config=QueueConfig(coalesce_seconds=0), wakeup=wakeup)
    with store.session() as session:
        queue.enqueue(change("1", 0), session=session)  # a new job: inserted in a savepoint
        queue.enqueue(change("2", 0), session=session)
        assert wakeup.calls == 0  # the workers could not see the jobs yet
    assert wakeup.calls == 1

    with pytest.raises(RuntimeError), store.session() as session:
        queue.enqueue(change("3", 0), session=session)
        raise RuntimeError("the caller's transaction fails")
    assert wakeup.calls == 1  # nothing was committed: nothing to wake for

    queue.enqueue(change("4", 0))
    assert wakeup.calls == 2
    assert sorted(j.issue_id for j in queue.lease("w", limit=10)) == ["1", "2", "4"]
