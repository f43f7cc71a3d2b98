"""A rate governor per site, shared by every task that talks to that site.

It keeps one token bucket per rate-limit bucket of the site (Server: one per user, so one per
client; Cloud: one per endpoint and method) plus an optional ceiling for the whole site, and
tunes each bucket from the headers Jira sends:

- Data Center: ``X-RateLimit-Limit`` (capacity), ``X-RateLimit-FillRate`` tokens every
  ``X-RateLimit-Interval-Seconds``, ``X-RateLimit-Remaining`` (sites before 8.x send the same
  four as ``X-RateLimiting-*``; both spellings are read, the newer winning);
- Cloud: ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` (ISO time),
  ``X-RateLimit-NearLimit``;
- ``Retry-After`` on 429 (and 503) blocks the bucket (or the site) for exactly that long; the
  governor never lets a request out before it (Cloud punishes early retries).

Until the first answer of a bucket has told its limit, only one request (the probe) is let out,
so a burst of tasks starting together cannot overrun an unknown limit. Then requests are paced
at ``safety`` (95%) of the announced rate with almost no burst of our own: Jira refills in
batches (DC) or fixed windows (Cloud) at a phase the client cannot see, and a steady pace just
under the rate never drains Jira's bucket whatever that phase is, so 429s do not happen at
all instead of being retried. The local bucket never holds more than Jira's ``remaining``
minus the requests still in flight (other clients of the same user also spend it).

Hand-written because no maintained asyncio library tunes itself from these headers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from jirabridge.jira._errors import retry_after_seconds

__all__ = ["BucketState", "RateGovernor", "Slot"]

PER_ISSUE = "jira-per-issue-on-write"
_EPSILON = 0.02  # margin added to Retry-After so clock rounding never makes us early
_TINY = 1e-6  # shorter waits are rounding noise: sleeping them could spin forever


@dataclass
class BucketState:
    """What the governor believes about one of Jira's buckets.

    Kept as GCRA (a token bucket written as a "theoretical arrival time" ``tat``): with
    ``T = 1/rate``, the bucket holds ``capacity - (tat - now)/T`` tokens. Unlike a bucket of
    reservations, late wake-ups (a busy event loop) cannot bunch requests together: each send
    moves ``tat`` from ``max(tat, now)``, so after a stall at most ``capacity`` go at once.
    """

    rate: float | None = None  # tokens per second we allow ourselves; None = unknown
    capacity: float = 1.0
    tat: float = 0.0
    blocked_until: float = 0.0
    known: bool = False
    probing: bool = False
    in_flight: int = 0
    probe_done: asyncio.Event = field(default_factory=asyncio.Event)

    def tokens(self, now: float) -> float:
        if self.rate is None:
            return self.capacity
        return self.capacity - max(0.0, self.tat - now) * self.rate

    def delay(self, now: float) -> float:
        """Seconds until one token is there (0: now)."""
        if self.rate is None:
            return 0.0
        return max(0.0, self.tat - now - (self.capacity - 1.0) / self.rate)

    def take(self, now: float) -> None:
        if self.rate is not None:
            self.tat = max(self.tat, now) + 1.0 / self.rate

    def limit_to(self, now: float, tokens: float) -> None:
        """Hold no more than ``tokens`` (may be negative: then wait longer)."""
        if self.rate is not None and self.tokens(now) > tokens:
            self.tat = now + (self.capacity - tokens) / self.rate


class Slot:
    """Permission for one request; call :meth:`observe` with the answer."""

    def __init__(
        self, governor: RateGovernor, bucket: str, probe: bool, gate: str | None = None
    ) -> None:
        self._governor = governor
        self._bucket = bucket
        self._probe = probe
        self._gate = gate
        self.observed = False

    def observe(self, response: httpx.Response) -> None:
        self._governor._observe(
            self._bucket, response.status_code, response.headers, gate=self._gate
        )
        self.observed = True


class RateGovernor:
    """Paces requests to one site. Safe to share between tasks of one event loop.

    ``max_rate`` is a ceiling in requests per second for the whole site (``None``: none);
    ``safety`` is the share of the announced rate we allow ourselves; ``cloud_window`` the
    length in seconds of Cloud's burst window (documented as per second).
    """

    def __init__(
        self,
        *,
        max_rate: float | None = None,
        safety: float = 0.95,
        cloud_window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_rate is not None and max_rate <= 0:
            raise ValueError("max_rate must be positive")
        if not 0 < safety <= 1:
            raise ValueError("safety must be in (0, 1]")
        self.safety = safety
        self.cloud_window = cloud_window
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, BucketState] = {}
        self._site_blocked_until = 0.0
        self._gates: dict[str, float] = {}
        self._ceiling: BucketState | None = None
        if max_rate is not None:
            self._ceiling = BucketState(rate=max_rate, capacity=max(1.0, max_rate), known=True)

    # -- public ---------------------------------------------------------------------------
    def bucket(self, name: str) -> BucketState:
        state = self._buckets.get(name)
        if state is None:
            state = BucketState()
            self._buckets[name] = state
        return state

    @asynccontextmanager
    async def slot(self, bucket: str = "", *, gate: str | None = None) -> AsyncIterator[Slot]:
        """Wait for permission to send one request in ``bucket``; yields a :class:`Slot`.

        ``gate`` names a narrower limit without headers of its own (Cloud's writes to one
        issue): a 429 that names it (``RateLimit-Reason: jira-per-issue-on-write``) closes the
        gate, not the whole bucket.
        """
        while gate is not None and self._gates.get(gate, 0.0) - self._clock() > _TINY:
            await self._sleep(self._gates[gate] - self._clock())
        probe = await self._acquire(bucket)
        state = self.bucket(bucket)
        state.in_flight += 1
        slot = Slot(self, bucket, probe, gate)
        try:
            yield slot
        finally:
            state.in_flight -= 1
            if probe:
                state.probing = False
                if slot.observed:
                    state.known = True
                state.probe_done.set()

    def block(self, bucket: str | None, seconds: float) -> None:
        """Let nothing out of ``bucket`` (``None``: the whole site) for ``seconds``."""
        until = self._clock() + seconds + _EPSILON
        if bucket is None:
            self._site_blocked_until = max(self._site_blocked_until, until)
        else:
            state = self.bucket(bucket)
            state.blocked_until = max(state.blocked_until, until)
            state.limit_to(until, 0.0)

    def waiting_time(self, bucket: str = "") -> float:
        """Seconds until ``bucket`` may send again because of a Retry-After block."""
        now = self._clock()
        return max(0.0, self._site_blocked_until - now, self.bucket(bucket).blocked_until - now)

    def available(self, bucket: str = "") -> float:
        """Tokens the governor would let out of ``bucket`` right now."""
        return self.bucket(bucket).tokens(self._clock())

    # -- internals ------------------------------------------------------------------------
    async def _acquire(self, bucket: str) -> bool:
        state = self.bucket(bucket)
        while True:
            now = self._clock()
            blocked = max(self._site_blocked_until, state.blocked_until)
            if blocked - now > _TINY:
                await self._sleep(blocked - now)
                continue
            if not state.known:
                if state.probing:
                    state.probe_done.clear()
                    await state.probe_done.wait()
                    continue
                delay = self._ceiling.delay(now) if self._ceiling else 0.0
                if delay > _TINY:
                    await self._sleep(delay)
                    continue
                if self._ceiling is not None:
                    self._ceiling.take(now)
                state.probing = True
                return True
            delay = state.delay(now)
            if self._ceiling is not None:
                delay = max(delay, self._ceiling.delay(now))
            if delay > _TINY:
                await self._sleep(delay)
                continue  # look again: a 429 or another task may have changed things
            state.take(now)
            if self._ceiling is not None:
                self._ceiling.take(now)
            return False

    def _slack(self, per_interval: float) -> float:
        """Our own burst: what 95% pacing leaves unused of one interval, less a margin.

        In any window of Jira's (one interval), GCRA lets out at most ``rate + capacity``
        requests; this keeps that under ``per_interval`` while absorbing ~45 ms of late
        wake-ups without losing pace.
        """
        return 1.0 + 0.9 * per_interval * (1.0 - self.safety)

    def _observe(
        self, bucket: str, status: int, headers: httpx.Headers, *, gate: str | None = None
    ) -> None:
        state = self.bucket(bucket)
        now = self._clock()
        rate_was_unknown = state.rate is None
        if status == 429 or (status == 503 and "Retry-After" in headers):
            wait = retry_after_seconds(headers)
            if wait is None:
                wait = 1.0 if state.rate is None else max(1.0 / state.rate, 0.0)
            if gate is not None and headers.get("RateLimit-Reason") == PER_ISSUE:
                until = self._clock() + wait + _EPSILON
                self._gates[gate] = max(self._gates.get(gate, 0.0), until)
                return
            self.block(bucket if status == 429 else None, wait)
        limit = _float(_rate_header(headers, "Limit"))
        remaining = _float(_rate_header(headers, "Remaining"))
        fill = _float(_rate_header(headers, "FillRate"))
        interval = _float(_rate_header(headers, "Interval-Seconds"))
        if status == 429:
            limit = None  # a refusal's Limit may name another rule (per-issue writes)
        if fill is not None and fill > 0:
            # Data Center: ``fill`` tokens every ``interval`` s, refilled in one batch at a
            # phase we cannot see. Pacing at ``safety`` of that rate with (almost) no burst of
            # our own never drains Jira's bucket, whatever the phase: it only ever grows.
            interval = interval if interval and interval > 0 else 1.0
            state.rate = fill / interval * self.safety
            state.capacity = self._slack(fill)
        elif limit is not None and limit > 0:
            # Cloud burst limit: ``limit`` calls per fixed window of unknown phase. Same idea:
            # pace at ``safety`` of it and keep our own burst within the slack.
            state.rate = limit / self.cloud_window * self.safety
            state.capacity = self._slack(limit)
        if rate_was_unknown and state.rate is not None:
            state.tat = now
            state.take(now)  # the request just answered used the first slot of the schedule
        if remaining is not None and status != 429:
            # Jira knows better (other clients of the same user): never hold more than it has.
            others = max(0, state.in_flight - 1)
            state.limit_to(now, remaining - others)


def _rate_header(headers: httpx.Headers, name: str) -> str | None:
    """``X-RateLimit-<name>``, else the pre-8.x Data Center spelling ``X-RateLimiting-<name>``."""
    value: str | None = headers.get(f"X-RateLimit-{name}")
    if value is None:
        value = headers.get(f"X-RateLimiting-{name}")
    return value


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
