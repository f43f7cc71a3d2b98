from __future__ import annotations

import httpx
import pytest

from jirabridge.emulator.infra import (
    DeliveryQueue,
    DeliveryStatus,
    DeliveryWorker,
    FlavourName,
    WebhookFaults,
)
from jirabridge.emulator.infra._webhooks import Target, TargetKind

ADMIN = Target(TargetKind.ADMIN, 1, "http://hooks.test/in")
REST = Target(TargetKind.REST, 7, "http://hooks.test/app")
PAYLOAD = {"webhookEvent": "jira:issue_created", "issue": {"key": "PRJ-1"}}


def enqueue(q: DeliveryQueue, clock, target: Target = ADMIN, payload=PAYLOAD):
    return q.enqueue(target, payload["webhookEvent"], payload, clock.monotonic(), clock.now())


def test_server_tries_once_and_never_retries(clock) -> None:
    q = DeliveryQueue(FlavourName.SERVER)
    [d] = enqueue(q, clock)
    assert q.take_due(clock.monotonic()) == [d]
    q.complete(d, 503, None, clock.monotonic(), clock.now())
    assert d.status is DeliveryStatus.FAILED
    clock.advance(3600)
    assert q.take_due(clock.monotonic()) == []
    assert "X-Atlassian-Webhook-Identifier" not in d.headers(FlavourName.SERVER)


def test_server_queue_overflow_drops_new_events(clock) -> None:
    q = DeliveryQueue(FlavourName.SERVER, capacity=2)
    out = [enqueue(q, clock)[0] for _ in range(4)]
    assert [d.status for d in out] == [
        DeliveryStatus.PENDING,
        DeliveryStatus.PENDING,
        DeliveryStatus.DROPPED,
        DeliveryStatus.DROPPED,
    ]
    assert out[2].reason == "queue full"


def test_cloud_retry_schedule_on_the_clock(clock) -> None:
    q = DeliveryQueue(FlavourName.CLOUD, retry_delays=(10, 20, 40))
    [d] = enqueue(q, clock)
    codes = iter([429, 500, 408, 503])
    seen_retry_headers = []
    times = []
    while True:
        due = q.take_due(clock.monotonic())
        if due:
            assert due == [d]
            seen_retry_headers.append(d.headers(FlavourName.CLOUD).get("X-Atlassian-Webhook-Retry"))
            times.append(clock.monotonic())
            q.complete(d, next(codes), None, clock.monotonic(), clock.now())
        if d.status is DeliveryStatus.FAILED:
            break
        clock.advance(1)
    start = times[0]
    assert [t - start for t in times] == [0, 10, 30, 70]
    assert seen_retry_headers == [None, "1", "2", "3"]
    assert d.headers(FlavourName.CLOUD)["X-Atlassian-Webhook-Identifier"] == d.identifier
    assert q.failed() == [d]


def test_cloud_does_not_retry_client_errors(clock) -> None:
    q = DeliveryQueue(FlavourName.CLOUD)
    [d] = enqueue(q, clock)
    q.take_due(clock.monotonic())
    q.complete(d, 404, None, clock.monotonic(), clock.now())
    assert d.status is DeliveryStatus.FAILED
    [e] = enqueue(q, clock)
    q.take_due(clock.monotonic())
    q.complete(e, None, "timeout: ReadTimeout", clock.monotonic(), clock.now())
    assert e.status is DeliveryStatus.PENDING


def _statuses(
    seed: int, faults: WebhookFaults, clock, n: int = 300
) -> list[tuple[str, str | None]]:
    q = DeliveryQueue(FlavourName.CLOUD, seed=seed)
    q.set_faults(faults)
    out = []
    for _ in range(n):
        out += [(d.status.value, d.reason) for d in enqueue(q, clock, REST)]
    return out


def test_injected_drops_duplicates_and_delays_are_seeded(clock) -> None:
    faults = WebhookFaults(drop_rate=0.1, duplicate_rate=0.2, delay_rate=0.3, delay_seconds=120)
    a = _statuses(4, faults, clock)
    assert a == _statuses(4, faults, clock)
    assert a != _statuses(5, faults, clock)
    dropped = sum(1 for s, _ in a if s == "dropped")
    dups = sum(1 for _, r in a if r == "injected duplicate")
    delayed = sum(1 for _, r in a if r == "injected delay")
    assert 15 <= dropped <= 50
    assert 30 <= dups <= 90
    assert 50 <= delayed <= 130


def test_duplicate_shares_identifier_and_delay_waits(clock) -> None:
    q = DeliveryQueue(FlavourName.CLOUD)
    q.set_faults(WebhookFaults(duplicate_rate=1.0, delay_rate=1.0, delay_seconds=90))
    first, dup = enqueue(q, clock, REST)
    assert first.identifier == dup.identifier and dup.duplicate_of == first.id
    assert q.take_due(clock.monotonic()) == []
    clock.advance(90)
    assert len(q.take_due(clock.monotonic())) == 2
    assert b'"matchedWebhookIds": [7]' in (first.body or b"")


def test_faults_reject_bad_rates() -> None:
    with pytest.raises(ValueError):
        WebhookFaults(drop_rate=2)


async def test_worker_sends_headers_and_body_and_flushes_retries(clock) -> None:
    seen: list[httpx.Request] = []
    answers = iter([503, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(next(answers))

    q = DeliveryQueue(FlavourName.CLOUD, retry_delays=(30,))
    worker = DeliveryWorker(q, clock, transport=httpx.MockTransport(handler))
    try:
        [d] = enqueue(q, clock, REST)
        assert await worker.flush(within=5)
        assert d.status is DeliveryStatus.PENDING and len(seen) == 1  # retry not due yet
        assert await worker.flush(include_scheduled=True, within=5)
        assert d.status is DeliveryStatus.DELIVERED
    finally:
        await worker.stop()
    first, second = seen
    assert (
        first.headers["X-Atlassian-Webhook-Identifier"]
        == second.headers["X-Atlassian-Webhook-Identifier"]
    )
    assert "X-Atlassian-Webhook-Retry" not in first.headers
    assert second.headers["X-Atlassian-Webhook-Retry"] == "1"
    assert first.headers["content-type"].startswith("application/json")
    assert b"PRJ-1" in first.content


async def test_worker_records_connection_errors(clock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    q = DeliveryQueue(FlavourName.SERVER)
    worker = DeliveryWorker(q, clock, transport=httpx.MockTransport(handler))
    try:
        [d] = enqueue(q, clock)
        await worker.flush(within=5)
    finally:
        await worker.stop()
    assert d.status is DeliveryStatus.FAILED
    assert d.attempts[0].status_code is None and "ConnectError" in (d.attempts[0].error or "")


async def test_background_worker_delivers_after_wake(clock) -> None:
    import asyncio

    got = asyncio.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        got.set()
        return httpx.Response(204)

    q = DeliveryQueue(FlavourName.SERVER)
    worker = DeliveryWorker(q, clock, transport=httpx.MockTransport(handler))
    await worker.start()
    try:
        enqueue(q, clock, Target(TargetKind.ADMIN, 1, "http://hooks.test/in", exclude_body=True))
        worker.wake()
        await asyncio.wait_for(got.wait(), 5)
        for _ in range(500):
            if q.summary()["delivered"] == 1:
                break
            await asyncio.sleep(0.01)
    finally:
        await worker.stop()
    assert not worker.running
    [d] = q.deliveries()
    assert d.status is DeliveryStatus.DELIVERED and d.body is None


def test_history_is_bounded_but_counts_and_queue_are_kept(clock) -> None:
    q = DeliveryQueue(FlavourName.SERVER, history_limit=3, capacity=100)
    made = [enqueue(q, clock)[0] for _ in range(5)]
    assert [d.id for d in q.deliveries()] == [3, 4, 5]
    assert q.summary()["pending"] == 5
    due = q.take_due(clock.monotonic())
    assert len(due) == 5  # forgotten history is still delivered
    for d in due:
        q.complete(d, 200, None, clock.monotonic(), clock.now())
    assert q.summary()["delivered"] == 5 and not q.has_pending()
    assert made[0].status is DeliveryStatus.DELIVERED
