"""Webhook delivery: a pure queue with each flavour's rules, and the async worker that sends.

Server: each delivery is tried once, asynchronously, with no retry; when ``capacity``
deliveries are already waiting, a new one is dropped (Jira's bounded queue overflowing).
Cloud: every delivery carries ``X-Atlassian-Webhook-Identifier`` (the same on every retry and
on injected duplicates) and, on retries, ``X-Atlassian-Webhook-Retry``; 408, 409, 425, 429,
5xx answers and timeouts are retried after ``retry_delays`` (emulator clock); when the retries
are spent the delivery is listed by ``GET /rest/api/3/webhook/failed``.

Injected faults (seeded): drop a share of deliveries, deliver a share twice, deliver a share
late. All times are the emulator clock's ``monotonic`` seconds, so tests drive them by
advancing the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import random
import threading
import urllib.request
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import httpx

from jirabridge._keepalive import KeepAliveTransport
from jirabridge.emulator.infra._ports import ClockLike, FlavourName
from jirabridge.emulator.infra._webhooks import Target, TargetKind

__all__ = [
    "RETRYABLE_STATUSES",
    "Attempt",
    "Delivery",
    "DeliveryQueue",
    "DeliveryStatus",
    "DeliveryWorker",
    "WebhookFaults",
]

RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})
USER_AGENT = "Atlassian Webhook HTTP Client"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DELIVERED = "delivered"
    FAILED = "failed"
    DROPPED = "dropped"


@dataclass(frozen=True)
class WebhookFaults:
    """Injected delivery faults: shares (0..1) of deliveries dropped, duplicated or delayed."""

    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    delay_rate: float = 0.0
    delay_seconds: float = 60.0

    def __post_init__(self) -> None:
        for name in ("drop_rate", "duplicate_rate", "delay_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.delay_seconds < 0:
            raise ValueError("delay_seconds must be >= 0")


@dataclass(frozen=True)
class Attempt:
    at: datetime
    status_code: int | None
    error: str | None = None


@dataclass
class Delivery:
    id: int
    identifier: str
    kind: TargetKind
    webhook_id: int
    url: str
    event: str
    body: bytes | None
    created: datetime
    next_at: float
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: list[Attempt] = field(default_factory=list)
    reason: str | None = None
    duplicate_of: int | None = None
    failed_at: datetime | None = None
    secret: str | None = field(default=None, repr=False)

    @property
    def retries(self) -> int:
        return max(0, len(self.attempts) - 1) if self.attempts else 0

    def headers(self, flavour: FlavourName) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT}
        if self.body is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        if self.secret:
            digest = hmac.new(self.secret.encode(), self.body or b"", hashlib.sha256).hexdigest()
            headers["X-Hub-Signature"] = f"sha256={digest}"
        if flavour is FlavourName.CLOUD:
            headers["X-Atlassian-Webhook-Identifier"] = self.identifier
            headers["X-Atlassian-Webhook-Flow"] = "Primary"
            if self.attempts:
                headers["X-Atlassian-Webhook-Retry"] = str(len(self.attempts))
        return headers

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "identifier": self.identifier,
            "kind": self.kind.value,
            "webhookId": self.webhook_id,
            "url": self.url,
            "event": self.event,
            "status": self.status.value,
            "attempts": [
                {"at": a.at.isoformat(), "statusCode": a.status_code, "error": a.error}
                for a in self.attempts
            ],
            "reason": self.reason,
            "duplicateOf": self.duplicate_of,
            "created": self.created.isoformat(),
        }


def _is_retryable(status_code: int | None) -> bool:
    return status_code is None or status_code in RETRYABLE_STATUSES or status_code >= 500


class DeliveryQueue:
    """Deliveries of one site and the rules that move them between states (no I/O)."""

    def __init__(
        self,
        flavour: FlavourName,
        *,
        seed: int = 1,
        capacity: int = 1000,
        retry_delays: tuple[float, ...] = (30.0, 60.0, 120.0, 300.0, 600.0),
        history_limit: int = 100_000,
    ) -> None:
        self.flavour = flavour
        self.capacity = capacity
        self.retry_delays = retry_delays
        self.faults = WebhookFaults()
        self._seed = seed
        self._random = random.Random(f"webhooks:{seed}")
        self._lock = threading.Lock()
        # every delivery, newest last (oldest forgotten past history_limit; counts stay)
        self._history: deque[Delivery] = deque(maxlen=history_limit)
        # deliveries still to send or being sent, by id: the worker only scans these
        self._active: dict[int, Delivery] = {}
        self._counts: Counter[DeliveryStatus] = Counter()
        self._next_id = 1
        self._next_identifier = 1

    def reset(self) -> None:
        with self._lock:
            self._history.clear()
            self._active.clear()
            self._counts.clear()
            self._next_id = 1
            self._next_identifier = 1
            self._random = random.Random(f"webhooks:{self._seed}")
            self.faults = WebhookFaults()

    def set_faults(self, faults: WebhookFaults) -> None:
        with self._lock:
            self.faults = faults

    def _set(self, d: Delivery, status: DeliveryStatus) -> None:
        """Move ``d`` to ``status`` keeping counts and the active index right (lock held)."""
        self._counts[d.status] -= 1
        self._counts[status] += 1
        d.status = status
        if status in (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT):
            self._active[d.id] = d
        else:
            self._active.pop(d.id, None)

    def _new(self, d: Delivery) -> Delivery:
        self._next_id += 1
        self._history.append(d)
        self._counts[d.status] += 1
        self._active[d.id] = d
        return d

    def enqueue(
        self,
        target: Target,
        event: str,
        payload: Mapping[str, Any],
        now: float,
        wall: datetime,
    ) -> list[Delivery]:
        """Queue one delivery (two with an injected duplicate); returns what was recorded."""
        body_obj: dict[str, Any] = dict(payload)
        if target.kind is TargetKind.REST:
            body_obj["matchedWebhookIds"] = [target.webhook_id]
        body = None if target.exclude_body else json.dumps(body_obj).encode("utf-8")
        with self._lock:
            identifier = f"{self._next_identifier}"
            self._next_identifier += 1
            waiting = len(self._active)
            first = self._new(
                Delivery(
                    self._next_id,
                    identifier,
                    target.kind,
                    target.webhook_id,
                    target.url,
                    event,
                    body,
                    wall,
                    now,
                    secret=target.secret,
                )
            )
            f = self.faults
            if self.flavour is FlavourName.SERVER and waiting >= self.capacity:
                first.reason = "queue full"
                self._set(first, DeliveryStatus.DROPPED)
                return [first]
            if f.drop_rate and self._random.random() < f.drop_rate:
                first.reason = "injected drop"
                self._set(first, DeliveryStatus.DROPPED)
                return [first]
            if f.delay_rate and self._random.random() < f.delay_rate:
                first.next_at = now + f.delay_seconds
                first.reason = "injected delay"
            out = [first]
            if (
                self.flavour is FlavourName.CLOUD
                and f.duplicate_rate
                and self._random.random() < f.duplicate_rate
            ):
                dup = Delivery(
                    self._next_id,
                    identifier,
                    target.kind,
                    target.webhook_id,
                    target.url,
                    event,
                    body,
                    wall,
                    first.next_at,
                    duplicate_of=first.id,
                    reason="injected duplicate",
                    secret=target.secret,
                )
                out.append(self._new(dup))
            return out

    def take_due(self, now: float, *, force: bool = False) -> list[Delivery]:
        """Mark deliveries due at ``now`` (all pending ones with ``force``) as in flight."""
        with self._lock:
            due = [
                d
                for d in self._active.values()
                if d.status is DeliveryStatus.PENDING and (force or d.next_at <= now)
            ]
            for d in due:
                self._set(d, DeliveryStatus.IN_FLIGHT)
            return due

    def complete(
        self,
        delivery: Delivery,
        status_code: int | None,
        error: str | None,
        now: float,
        wall: datetime,
    ) -> None:
        """Record an attempt's outcome and decide: delivered, retry later, or failed."""
        with self._lock:
            delivery.attempts.append(Attempt(wall, status_code, error))
            if status_code is not None and 200 <= status_code < 300:
                self._set(delivery, DeliveryStatus.DELIVERED)
                return
            retry_no = len(delivery.attempts) - 1
            if (
                self.flavour is FlavourName.CLOUD
                and _is_retryable(status_code)
                and retry_no < len(self.retry_delays)
            ):
                delivery.next_at = now + self.retry_delays[retry_no]
                self._set(delivery, DeliveryStatus.PENDING)
                return
            delivery.failed_at = wall
            self._set(delivery, DeliveryStatus.FAILED)

    def requeue_in_flight(self) -> int:
        """Put deliveries whose send was interrupted (worker stopped) back in the queue."""
        with self._lock:
            stuck = [d for d in self._active.values() if d.status is DeliveryStatus.IN_FLIGHT]
            for d in stuck:
                self._set(d, DeliveryStatus.PENDING)
            return len(stuck)

    def deliveries(self) -> list[Delivery]:
        """The recorded deliveries, oldest first (at most ``history_limit``)."""
        with self._lock:
            return list(self._history)

    def has_pending(self, now: float | None = None) -> bool:
        """Anything waiting (due by ``now`` when given) or in flight."""
        with self._lock:
            return any(
                d.status is DeliveryStatus.IN_FLIGHT or now is None or d.next_at <= now
                for d in self._active.values()
            )

    def failed(self) -> list[Delivery]:
        with self._lock:
            return [d for d in self._history if d.status is DeliveryStatus.FAILED]

    def summary(self) -> dict[str, int]:
        with self._lock:
            return {s.value: self._counts[s] for s in DeliveryStatus}


class DeliveryWorker:
    """Sends due deliveries straight to an httpx transport (injectable).

    One pool for the worker's life, sized to ``concurrency`` (``KeepAliveTransport`` unless
    the environment names a proxy); each delivery is handed to the
    transport directly rather than through ``AsyncClient.send``, whose cookie, auth and
    redirect layers cost more CPU than the POST itself (at hundreds of deliveries a second
    the emulator shares the cores with the engine it feeds). Redirects are answers, as
    before (``follow_redirects=False``), and no cookies are kept.
    """

    def __init__(
        self,
        queue: DeliveryQueue,
        clock: ClockLike,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        poll_interval: float = 0.1,
        concurrency: int = 8,
    ) -> None:
        self.queue = queue
        self.clock = clock
        self.transport = transport
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.concurrency = concurrency
        self._sem = asyncio.Semaphore(concurrency)
        self._client: httpx.AsyncClient | None = None
        self._timeout = httpx.Timeout(timeout).as_dict()
        # lower-case name -> httpx's default header as sent (set with the client)
        self._defaults: dict[bytes, tuple[bytes, bytes]] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def _ensure_client(self) -> httpx.AsyncClient:
        """The client holding the transport, its pool and httpx's default headers; its own
        send is not used (see the class)."""
        if self._client is None:
            transport = self.transport
            if transport is None and not urllib.request.getproxies():
                # httpx's pool walks all its connections on every request and answer
                transport = KeepAliveTransport(max_idle=self.concurrency)
            self._client = httpx.AsyncClient(
                transport=transport,
                timeout=self.timeout,
                follow_redirects=False,
                limits=httpx.Limits(
                    max_connections=self.concurrency, max_keepalive_connections=self.concurrency
                ),
            )
            self._defaults = {k.lower(): (k, v) for k, v in self._client.headers.raw}
        return self._client

    def _request(self, delivery: Delivery) -> httpx.Request:
        """The POST ``client.post`` would build, without its per-call merging."""
        url = httpx.URL(delivery.url)
        body = delivery.body or b""
        headers = self._defaults.copy()
        headers[b"host"] = (b"Host", url.netloc)
        headers[b"content-length"] = (b"Content-Length", str(len(body)).encode())
        for key, value in delivery.headers(self.queue.flavour).items():
            name = key.encode("ascii")
            headers[name.lower()] = (name, value.encode("latin-1"))
        request = httpx.Request(
            "POST",
            url,
            headers=list(headers.values()),
            stream=httpx.ByteStream(body),
            extensions={"timeout": self._timeout},
        )
        request.read()  # in memory already; lets test transports read ``request.content``
        return request

    async def start(self) -> None:
        if self.running:
            return
        self._ensure_client()
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="jirabridge-webhook-delivery")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        self._loop = None
        self.queue.requeue_in_flight()

    def wake(self) -> None:
        """Tell the worker new deliveries are queued; safe from any thread (sync handlers run
        in a thread pool, and the model calls listeners inside the mutating call)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            await self.process_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def process_due(self, *, force: bool = False) -> int:
        """Send every delivery due now (every pending one with ``force``); returns how many."""
        due = self.queue.take_due(self.clock.monotonic(), force=force)
        if due:
            await asyncio.gather(*(self._send(d) for d in due))
        return len(due)

    async def _send(self, delivery: Delivery) -> None:
        client = self._ensure_client()
        status: int | None = None
        error: str | None = None
        async with self._sem:
            try:
                request = self._request(delivery)
                response = await client._transport_for_url(request.url).handle_async_request(
                    request
                )
                try:
                    await response.aread()  # to the end, so the connection is kept alive
                finally:
                    await response.aclose()
                status = response.status_code
            except httpx.TimeoutException as exc:
                error = f"timeout: {type(exc).__name__}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
        self.queue.complete(delivery, status, error, self.clock.monotonic(), self.clock.now())

    async def flush(self, *, include_scheduled: bool = False, within: float = 30.0) -> bool:
        """Deliver until nothing is due (nothing pending with ``include_scheduled``, which
        sends scheduled retries and delayed deliveries at once). True when idle in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            sent = await self.process_due(force=include_scheduled)
            now = None if include_scheduled else self.clock.monotonic()
            if not sent and not self.queue.has_pending(now):
                return True
            if not sent:
                await asyncio.sleep(0.005)  # let in-flight sends finish
        return False
