"""The infra over a real socket (uvicorn on 127.0.0.1, port chosen by the OS)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from jirabridge.emulator.infra import Infra, InfraOptions
from tests.integration.emulator_infra.conftest import FakeSite, basic, face_routes

ALICE = basic("alice", "pw")


@contextlib.asynccontextmanager
async def serve(app: object) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(2000):
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


@pytest.fixture
async def live() -> AsyncIterator[tuple[Infra, httpx.AsyncClient]]:
    infra = Infra(FakeSite(), "server", options=InfraOptions())
    app = infra.wrap(Starlette(routes=[*infra.routes(), *face_routes(lambda: infra)]))
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=5) as client:
        yield infra, client


async def test_real_socket_auth_limits_and_drops(live) -> None:
    infra, client = live
    assert (await client.get("/rest/api/2/myself")).status_code == 401
    assert (await client.get("/rest/api/2/myself", headers=ALICE)).json()["key"] == "JIRAUSER10000"

    await client.post(
        "/_emulator/ratelimits", json={"capacity": 1, "fillRate": 1, "intervalSeconds": 60}
    )
    await client.get("/rest/api/2/myself", headers=ALICE)
    limited = await client.get("/rest/api/2/myself", headers=ALICE)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "60"
    await client.post("/_emulator/ratelimits", json={"enabled": False})

    # a dropped connection is a transport error for the client, not an HTTP answer
    await client.post("/_emulator/faults", json={"timeouts": [{"rate": 1, "hangSeconds": 0}]})
    with pytest.raises(httpx.TransportError):
        await client.get("/rest/api/2/myself", headers=ALICE)
    await client.post("/_emulator/faults", json={"clear": True})

    # a hang longer than the client's timeout is a timeout
    await client.post("/_emulator/faults", json={"timeouts": [{"rate": 1, "hangSeconds": 1}]})
    with pytest.raises(httpx.TimeoutException):
        await client.get("/rest/api/2/myself", headers=ALICE, timeout=0.2)
    await client.post("/_emulator/faults", json={"clear": True})
    assert (await client.get("/rest/api/2/myself", headers=ALICE)).status_code == 200
