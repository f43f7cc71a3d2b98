"""The receiver writes a burst of deliveries in shared transactions (group commit), yet each
delivery is answered for itself: only once durable, and never failed by another one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy.orm import Session

from jirabridge.errors import RetryLaterError
from jirabridge.sync.config import QueueConfig
from jirabridge.sync.notices import ChangeNotice
from jirabridge.sync.queue import Queue
from jirabridge.sync.store import Store
from jirabridge.sync.webhooks import ReceiverSite, create_receiver

SITES = {"srv": ReceiverSite("srv", "k", frozenset())}
BURST = 40


class CountingStore(Store):
    """The real store, counting transactions; ``down`` makes every one fail."""

    def __init__(self, inner: Store) -> None:
        self.__dict__.update(inner.__dict__)
        self.transactions = 0
        self.down = False

    @contextmanager
    def session(self) -> Iterator[Session]:
        self.transactions += 1
        if self.down:
            raise RetryLaterError("state store unavailable: connection refused")
        with super().session() as s:
            yield s


async def deliver(app: object, issues: list[str]) -> list[int]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://receiver",
    ) as client:

        async def one(issue: str) -> int:
            body = {"webhookEvent": "jira:issue_updated", "issue": {"id": issue, "key": "A-1"}}
            r = await client.post("/webhooks/srv?secret=k", json=body)
            return r.status_code

        return list(await asyncio.gather(*(one(i) for i in issues)))


def queued_issues(queue: Queue) -> list[str]:
    return sorted(j.issue_id for j in queue.lease("w", limit=1000))


async def test_a_burst_shares_transactions_and_every_delivery_is_stored(store: Store) -> None:
    counting = CountingStore(store)
    queue = Queue(counting, config=QueueConfig(coalesce_seconds=0))
    app = create_receiver(sites=SITES, queue=queue)
    issues = [str(i) for i in range(BURST)]
    assert await deliver(app, issues) == [202] * BURST
    assert counting.transactions < BURST  # some deliveries shared a commit
    assert queued_issues(queue) == sorted(issues)


async def test_one_failing_delivery_does_not_fail_the_others(store: Store) -> None:
    queue = Queue(store, config=QueueConfig(coalesce_seconds=0))

    def immediate(notice: ChangeNotice) -> bool:
        if notice.issue_id == "13":  # this one cannot be stored
            raise RetryLaterError("state store unavailable: disk I/O error")
        return False

    app = create_receiver(sites=SITES, queue=queue, immediate=immediate)
    issues = [str(i) for i in range(BURST)]
    answers = dict(zip(issues, await deliver(app, issues), strict=True))
    assert answers.pop("13") == 503  # Cloud retries it
    assert set(answers.values()) == {202}
    assert queued_issues(queue) == sorted(answers)


async def test_a_store_that_is_down_answers_503_to_everyone(store: Store) -> None:
    counting = CountingStore(store)
    queue = Queue(counting, config=QueueConfig(coalesce_seconds=0))
    app = create_receiver(sites=SITES, queue=queue)
    counting.down = True
    assert await deliver(app, [str(i) for i in range(5)]) == [503] * 5
    counting.down = False
    assert await deliver(app, ["7"]) == [202]  # and it recovers
    assert queued_issues(queue) == ["7"]


async def test_deliveries_go_through_the_stores_one_writer(store: Store) -> None:
    # the jobs' reads and commits go through it too: one writer thread, not two taking turns
    # on SQLite's write lock while a delivery holds one of the site's slots
    queue = Queue(store, config=QueueConfig(coalesce_seconds=0))
    app = create_receiver(sites=SITES, queue=queue)
    before = store.writer.transactions
    issues = [str(i) for i in range(BURST)]
    assert await deliver(app, issues) == [202] * BURST
    assert 0 < store.writer.transactions - before < BURST
    assert queued_issues(queue) == sorted(issues)
