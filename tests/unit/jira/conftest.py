"""Helpers for the client unit tests: a fake clock and MockTransport-backed clients."""

from __future__ import annotations

import asyncio
import heapq
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from jirabridge.jira import CloudClient, PlainCodec, RateGovernor, RetryPolicy, ServerClient

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Monotonic time that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


class VirtualClock(FakeClock):
    """Virtual time for concurrent tasks: sleepers wake in order of their wake-up time.

    Run the scenario with :meth:`drive`; time jumps to the next wake-up only when every task
    is blocked, so concurrency is modelled faithfully without real waiting.
    """

    def __init__(self) -> None:
        super().__init__()
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        heapq.heappush(self._heap, (self.now + seconds, self._seq, future))
        await future

    async def drive(self, coro: Any) -> Any:
        task = asyncio.ensure_future(coro)
        while not task.done():
            for _ in range(20):
                await asyncio.sleep(0)
                if task.done():
                    break
            if task.done():
                break
            if not self._heap:
                task.cancel()
                raise RuntimeError("deadlock: every task waits and nobody sleeps")
            when, _, future = heapq.heappop(self._heap)
            self.now = max(self.now, when)
            if not future.done():
                future.set_result(None)
        return task.result()


def jira_json(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    h = {"Content-Type": "application/json"} if body is not None else {}
    h.update(headers or {})
    return httpx.Response(status, content=content, headers=h)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Callable[..., Any]:
    made: list[Any] = []

    def make(handler: Handler, *, flavour: str = "server", **kwargs: Any) -> Any:
        governor = kwargs.pop("governor", None) or RateGovernor(clock=clock, sleep=clock.sleep)
        cls = ServerClient if flavour == "server" else CloudClient
        client = cls(
            "https://jira.example.test",
            auth=kwargs.pop("auth", httpx.BasicAuth("bot", "s3cret-pass")),
            transport=httpx.MockTransport(handler),
            governor=governor,
            retry=kwargs.pop("retry", RetryPolicy(max_attempts=5, base_delay=0.1)),
            codec=kwargs.pop("codec", PlainCodec()),
            sleep=clock.sleep,
            **kwargs,
        )
        made.append(client)
        return client

    return make
