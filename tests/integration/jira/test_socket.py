"""The clients over a real socket: the emulator served by uvicorn on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jirabridge.emulator import create_app
from jirabridge.errors import RetryLaterError
from jirabridge.jira import (
    IssueInput,
    PlainCodec,
    RetryPolicy,
    ServerClient,
    basic_auth,
)
from tests.support.served import base_url_of, bound_socket, serve_on


@pytest.fixture
def live_server() -> Iterator[tuple[Any, str]]:
    sock = bound_socket()
    base = base_url_of(sock)
    app = create_app("server", base_url=base)
    app.site.create_project("PRJ", "Project", app.site.admin_key)
    with serve_on(app, sock):
        yield app, base


async def test_over_a_socket_with_real_timeouts(live_server) -> None:
    app, base = live_server
    client = ServerClient(
        base,
        auth=basic_auth("admin", "admin"),
        codec=PlainCodec(),
        timeout=0.25,
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02),
    )
    try:
        key = await client.create_issue(
            IssueInput(project_key="PRJ", issue_type="Task", summary="over tcp")
        )
        assert (await client.get_issue(key)).summary == "over tcp"
        async with httpx.AsyncClient(base_url=base) as control:
            r = await control.post(
                "/_emulator/faults", json={"timeouts": [{"rate": 1.0, "hangSeconds": 1.0}]}
            )
            assert r.status_code == 200
        before = client.stats.retries
        with pytest.raises(RetryLaterError) as info:
            await client.get_issue(key)
        assert "did not answer in time" in str(info.value)
        # two attempts (max_attempts=2), each cut off by the client's timeout: no answer came
        assert client.stats.count(status=0) == 2
        assert client.stats.retries - before == 1
        assert client.stats.count(endpoint="/rest/api/2/issue/{id}", method="GET", status=200) == 1
    finally:
        await client.aclose()
        async with httpx.AsyncClient(base_url=base) as control:
            await control.post("/_emulator/faults", json={"clear": True})
