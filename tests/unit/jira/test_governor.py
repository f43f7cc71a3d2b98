from __future__ import annotations

import asyncio

import httpx
import pytest

from jirabridge.jira import RateGovernor

from .conftest import FakeClock, VirtualClock


def _server_headers(remaining: int, limit: int = 20, fill: int = 10, interval: int = 1):
    return httpx.Headers(
        {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-FillRate": str(fill),
            "X-RateLimit-Interval-Seconds": str(interval),
        }
    )


class DcBucket:
    """Jira DC's limiter: capacity ``limit``, ``fill`` tokens added every ``interval`` s."""

    def __init__(self, clock: FakeClock, limit: int, fill: int, interval: float) -> None:
        self.clock, self.limit, self.fill, self.interval = clock, limit, fill, interval
        self.tokens = float(limit)
        self.last_refill = clock.now
        self.rejected = 0

    def take(self) -> httpx.Response:
        periods = int((self.clock.now - self.last_refill) // self.interval)
        if periods:
            self.tokens = min(self.limit, self.tokens + periods * self.fill)
            self.last_refill += periods * self.interval
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-FillRate": str(self.fill),
            "X-RateLimit-Interval-Seconds": str(self.interval),
        }
        if self.tokens < 1:
            self.rejected += 1
            wait = self.last_refill + self.interval - self.clock.now
            headers["Retry-After"] = str(max(1, int(wait + 0.999)))
            headers["X-RateLimit-Remaining"] = "0"
            return httpx.Response(429, headers=headers)
        self.tokens -= 1
        headers["X-RateLimit-Remaining"] = str(int(self.tokens))
        return httpx.Response(200, headers=headers)


async def test_governor_sustains_close_to_the_limit_without_429() -> None:
    clock = VirtualClock()
    bucket = DcBucket(clock, limit=20, fill=10, interval=1)
    gov = RateGovernor(clock=clock, sleep=clock.sleep)
    start = clock.now
    sent = 0

    async def worker() -> None:
        nonlocal sent
        for _ in range(60):
            async with gov.slot("u") as slot:
                response = bucket.take()
                slot.observe(response)
                sent += response.status_code == 200
            await asyncio.sleep(0)

    await clock.drive(asyncio.gather(*(worker() for _ in range(8))))
    elapsed = clock.now - start
    assert bucket.rejected == 0
    rate = sent / elapsed
    assert rate >= 0.9 * 10, rate
    assert rate <= 10.0


async def test_first_request_probes_alone() -> None:
    clock = VirtualClock()
    gov = RateGovernor(clock=clock, sleep=clock.sleep)
    in_flight = 0
    peak = 0

    async def one() -> None:
        nonlocal in_flight, peak
        async with gov.slot("b") as slot:
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            in_flight -= 1
            if not gov.bucket("b").known:
                slot.observe(httpx.Response(200, headers=_server_headers(2, limit=3, fill=1)))

    await clock.drive(asyncio.gather(*(one() for _ in range(5))))
    assert gov.bucket("b").known
    assert gov.bucket("b").rate == pytest.approx(0.95)
    # the probe went alone, then the others were paced one by one
    assert peak == 1


async def test_retry_after_blocks_exactly(clock: FakeClock) -> None:
    gov = RateGovernor(clock=clock, sleep=clock.sleep)
    async with gov.slot("POST /x") as slot:
        slot.observe(httpx.Response(429, headers={"Retry-After": "5"}))
    t0 = clock.now
    async with gov.slot("POST /x"):
        pass
    assert clock.now - t0 >= 5.0
    # other endpoints (Cloud buckets are per endpoint) are not blocked
    t1 = clock.now
    async with gov.slot("GET /y"):
        pass
    assert clock.now == t1


async def test_503_retry_after_blocks_the_whole_site(clock: FakeClock) -> None:
    gov = RateGovernor(clock=clock, sleep=clock.sleep)
    async with gov.slot("a") as slot:
        slot.observe(httpx.Response(503, headers={"Retry-After": "3"}))
    assert gov.waiting_time("other") >= 3.0


async def test_ceiling(clock: FakeClock) -> None:
    gov = RateGovernor(max_rate=5, clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(26):
        async with gov.slot() as slot:
            slot.observe(httpx.Response(200))
    # 5 burst + 21 more at 5/s
    assert clock.now - start == pytest.approx(21 / 5, rel=0.05)


async def test_cloud_near_limit_paces(clock: FakeClock) -> None:
    gov = RateGovernor(clock=clock, sleep=clock.sleep)
    async with gov.slot("GET /s") as slot:
        slot.observe(
            httpx.Response(
                200,
                headers={
                    "X-RateLimit-Limit": "100",
                    "X-RateLimit-Remaining": "10",
                    "X-RateLimit-NearLimit": "true",
                },
            )
        )
    state = gov.bucket("GET /s")
    assert state.rate is not None and gov.available("GET /s") <= 10


def test_bad_settings() -> None:
    with pytest.raises(ValueError):
        RateGovernor(max_rate=0)
    with pytest.raises(ValueError):
        RateGovernor(safety=1.5)


class CloudBurst:
    """Cloud's burst limit: ``limit`` calls per fixed one-second window (phase unknown)."""

    def __init__(self, clock: FakeClock, limit: int, phase: float) -> None:
        self.clock, self.limit, self.phase = clock, limit, phase
        self.window, self.used, self.rejected = None, 0, 0

    def take(self) -> httpx.Response:
        window = int(self.clock.now + self.phase)
        if window != self.window:
            self.window, self.used = window, 0
        if self.used >= self.limit:
            self.rejected += 1
            return httpx.Response(
                429, headers={"Retry-After": "1", "RateLimit-Reason": "jira-burst-based"}
            )
        self.used += 1
        remaining = self.limit - self.used
        headers = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(remaining)}
        if remaining < self.limit * 0.2:
            headers["X-RateLimit-NearLimit"] = "true"
        return httpx.Response(200, headers=headers)


@pytest.mark.parametrize("phase", [0.0, 0.37, 0.93])
async def test_governor_under_cloud_burst_windows(phase: float) -> None:
    clock = VirtualClock()
    burst = CloudBurst(clock, limit=40, phase=phase)
    gov = RateGovernor(clock=clock, sleep=clock.sleep)
    ok = 0

    async def worker() -> None:
        nonlocal ok
        for _ in range(50):
            async with gov.slot("GET /rest/api/3/issue/{id}") as slot:
                response = burst.take()
                slot.observe(response)
                ok += response.status_code == 200
            await asyncio.sleep(0)

    start = clock.now
    await clock.drive(asyncio.gather(*(worker() for _ in range(6))))
    rate = ok / (clock.now - start)
    assert burst.rejected <= 1  # at most the first probe's window
    assert rate >= 0.9 * 40, rate


@pytest.mark.parametrize("stall", [0.0, 0.3])
async def test_dc_bucket_with_capacity_equal_to_fill_and_event_loop_stalls(stall) -> None:
    """The hard case: no spare capacity, and late wake-ups that would bunch reservations."""
    clock = VirtualClock()
    bucket = DcBucket(clock, limit=20, fill=20, interval=1)
    gov = RateGovernor(clock=clock, sleep=clock.sleep)
    ok = 0

    async def worker() -> None:
        nonlocal ok
        for _ in range(40):
            async with gov.slot("u") as slot:
                response = bucket.take()
                slot.observe(response)
                ok += response.status_code == 200
                if stall and ok % 37 == 0:
                    clock.now += stall  # the event loop was busy: every sleeper wakes late
            await asyncio.sleep(0)

    start = clock.now
    await clock.drive(asyncio.gather(*(worker() for _ in range(8))))
    assert bucket.rejected == 0
    assert ok / (clock.now - start) >= 0.85 * 20


def _legacy_headers(remaining: int, limit: int = 20, fill: int = 10, interval: int = 1):
    return httpx.Headers(
        {
            "X-RateLimiting-Limit": str(limit),
            "X-RateLimiting-Remaining": str(remaining),
            "X-RateLimiting-FillRate": str(fill),
            "X-RateLimiting-Interval-Seconds": str(interval),
        }
    )


@pytest.mark.parametrize("make", [_server_headers, _legacy_headers], ids=["modern", "legacy"])
async def test_dc_headers_of_both_namings_tune_the_bucket(clock: FakeClock, make) -> None:
    gov = RateGovernor(clock=clock, sleep=clock.sleep)
    async with gov.slot("u") as slot:
        slot.observe(httpx.Response(200, headers=make(15, limit=20, fill=4, interval=2)))
    state = gov.bucket("u")
    assert state.known
    assert state.rate == pytest.approx(4 / 2 * 0.95)
    # Remaining caps what we hold: at most 3 left after it says 3
    async with gov.slot("u") as slot:
        slot.observe(httpx.Response(200, headers=make(3, limit=20, fill=4, interval=2)))
    assert gov.available("u") <= 3.0


async def test_modern_names_win_over_legacy_ones(clock: FakeClock) -> None:
    gov = RateGovernor(clock=clock, sleep=clock.sleep)
    headers = httpx.Headers(
        {"X-RateLimit-FillRate": "8", "X-RateLimiting-FillRate": "2", "X-RateLimit-Limit": "8"}
    )
    async with gov.slot("u") as slot:
        slot.observe(httpx.Response(200, headers=headers))
    assert gov.bucket("u").rate == pytest.approx(8 * 0.95)
