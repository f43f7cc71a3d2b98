"""Helpers for the client unit tests: a fake clock and MockTransport-backed clients."""

from __future__ import annotations

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
