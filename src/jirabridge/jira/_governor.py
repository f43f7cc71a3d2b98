"""A rate governor per site, shared by every task that talks to that site.

It keeps one token bucket per rate-limit bucket of the site (Server: one per user, so one per
client; Cloud: one per endpoint and method) plus an optional ceiling for the whole site, and
tunes each bucket from the headers Jira sends:

- Data Center: ``X-RateLimit-Limit`` (capacity), ``X-RateLimit-FillRate`` tokens every
  ``X-RateLimit-Interval-Seconds``, ``X-RateLimit-Remaining``;
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


@dataclass
class BucketState:
    """What the governor believes about one of Jira's buckets."""

    rate: float | None = None  # tokens per second we allow ourselves; None = unknown
    capacity: float = 1.0
    tokens: float = 1.0
    updated_at: float = 0.0
    blocked_until: float = 0.0
    known: bool = False
    probing: bool = False
    in_flight: int = 0
    probe_done: asyncio.Event = field(default_factory=asyncio.Event)


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
            self._ceiling = BucketState(
                rate=max_rate, capacity=max(1.0, max_rate), tokens=max(1.0, max_rate), known=True
            )
            self._ceiling.updated_at = clock()

    # -- public ---------------------------------------------------------------------------
    def bucket(self, name: str) -> BucketState:
        state = self._buckets.get(name)
        if state is None:
            state = BucketState(updated_at=self._clock())
            self._buckets[name] = state
        return state

    @asynccontextmanager
    async def slot(self, bucket: str = "", *, gate: str | None = None) -> AsyncIterator[Slot]:
        """Wait for permission to send one request in ``bucket``; yields a :class:`Slot`.

        ``gate`` names a narrower limit without headers of its own (Cloud's writes to one
        issue): a 429 that names it (``RateLimit-Reason: jira-per-issue-on-write``) closes the
        gate, not the whole bucket.
        """
        while gate is not None and self._gates.get(gate, 0.0) > self._clock():
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
            state.tokens = min(state.tokens, 0.0)

    def waiting_time(self, bucket: str = "") -> float:
        """Seconds until ``bucket`` may send again because of a Retry-After block."""
        now = self._clock()
        return max(0.0, self._site_blocked_until - now, self.bucket(bucket).blocked_until - now)

    # -- internals ------------------------------------------------------------------------
    def _refill(self, state: BucketState, now: float) -> None:
        if state.rate is not None and now > state.updated_at:
            state.tokens = min(state.capacity, state.tokens + (now - state.updated_at) * state.rate)
        state.updated_at = max(state.updated_at, now)

    async def _acquire(self, bucket: str) -> bool:
        state = self.bucket(bucket)
        while True:
            now = self._clock()
            blocked = max(self._site_blocked_until, state.blocked_until)
            if blocked > now:
                await self._sleep(blocked - now)
                continue
            if not state.known:
                if state.probing:
                    state.probe_done.clear()
                    await state.probe_done.wait()
                    continue
                state.probing = True
                if self._ceiling is not None:
                    await self._take(self._ceiling, now)
                return True
            delay = 0.0
            if state.rate is not None:
                self._refill(state, now)
                state.tokens -= 1.0
                if state.tokens < 0:
                    delay = -state.tokens / state.rate
            if self._ceiling is not None:
                self._refill(self._ceiling, now)
                self._ceiling.tokens -= 1.0
                if self._ceiling.tokens < 0 and self._ceiling.rate:
                    delay = max(delay, -self._ceiling.tokens / self._ceiling.rate)
            if delay > 0:
                await self._sleep(delay)
                after = self._clock()
                if max(self._site_blocked_until, state.blocked_until) > after:
                    state.tokens += 1.0  # give the reservation back and wait for the block
                    continue
            return False

    async def _take(self, state: BucketState, now: float) -> None:
        self._refill(state, now)
        state.tokens -= 1.0
        if state.tokens < 0 and state.rate:
            await self._sleep(-state.tokens / state.rate)

    def _observe(
        self, bucket: str, status: int, headers: httpx.Headers, *, gate: str | None = None
    ) -> None:
        state = self.bucket(bucket)
        now = self._clock()
        self._refill(state, now)
        if status == 429 or (status == 503 and "Retry-After" in headers):
            wait = retry_after_seconds(headers)
            if wait is None:
                wait = 1.0 if state.rate is None else max(1.0 / state.rate, 0.0)
            if gate is not None and headers.get("RateLimit-Reason") == PER_ISSUE:
                until = self._clock() + wait + _EPSILON
                self._gates[gate] = max(self._gates.get(gate, 0.0), until)
                return
            self.block(bucket if status == 429 else None, wait)
        limit = _float(headers.get("X-RateLimit-Limit"))
        remaining = _float(headers.get("X-RateLimit-Remaining"))
        fill = _float(headers.get("X-RateLimit-FillRate"))
        interval = _float(headers.get("X-RateLimit-Interval-Seconds"))
        if status == 429:
            limit = None  # a refusal's Limit may name another rule (per-issue writes)
        if fill is not None and fill > 0:
            # Data Center: ``fill`` tokens every ``interval`` s, refilled in one batch at a
            # phase we cannot see. Pacing at ``safety`` of that rate with (almost) no burst of
            # our own never drains Jira's bucket, whatever the phase: it only ever grows.
            interval = interval if interval and interval > 0 else 1.0
            state.rate = fill / interval * self.safety
            state.capacity = max(1.0, fill * (1.0 - self.safety))
        elif limit is not None and limit > 0:
            # Cloud burst limit: ``limit`` calls per fixed window of unknown phase. Same idea:
            # pace at ``safety`` of it and keep our own burst within the slack.
            state.rate = limit / self.cloud_window * self.safety
            state.capacity = max(1.0, limit * (1.0 - self.safety))
        if remaining is not None and status != 429:
            # Jira knows better (other clients of the same user): never hold more than it has.
            others = max(0, state.in_flight - 1)
            state.tokens = min(state.tokens, remaining - others)
        state.tokens = min(state.tokens, state.capacity)
        if not state.known and state.rate is None:
            state.tokens = state.capacity


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
