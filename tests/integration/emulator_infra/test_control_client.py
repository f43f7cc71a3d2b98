from __future__ import annotations

import httpx
import pytest

from jirabridge.emulator.infra import ControlClient
from jirabridge.errors import BadInputError, RetryLaterError
from tests.integration.emulator_infra.conftest import Harness, basic

ALICE = basic("alice", "pw")


async def test_control_client_drives_the_emulator(server: Harness) -> None:
    async with ControlClient(client=server.client) as ctl:
        await ctl.rate_limits(capacity=1, fill_rate=1, interval_seconds=30)
        await server.client.get("/rest/api/2/myself", headers=ALICE)
        assert (await server.client.get("/rest/api/2/myself", headers=ALICE)).status_code == 429
        await ctl.disable_rate_limits()
        await ctl.faults(errors=[{"status": 502, "rate": 1.0, "retry_after": 3}], seed=1)
        r = await server.client.get("/rest/api/2/myself", headers=ALICE)
        assert r.status_code == 502 and r.headers["Retry-After"] == "3"
        await ctl.clear_faults()
        counters = await ctl.counters()
        assert counters["rateLimited"] == 1 and counters["total"] == 3
        await ctl.reset_counters()
        assert (await ctl.counters())["total"] == 0
        before = (await ctl.clock())["monotonic"]
        assert (await ctl.advance(12))["monotonic"] == pytest.approx(before + 12)
        client = await ctl.oauth_client("sync", redirect_uri="http://app.test/cb")
        assert client["redirectUri"] == "http://app.test/cb"
        assert (await ctl.oauth_code(client["clientId"], "acct-1")).startswith("code-")
        assert await ctl.flush() is True
        assert (await ctl.state())["flavour"] == "server"


async def test_control_client_errors_are_jirabridge_errors(server: Harness) -> None:
    async with ControlClient(client=server.client) as ctl:
        with pytest.raises(BadInputError) as err:
            await ctl.rate_limits(capacity=0)
        assert "capacity" in str(err.value)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    async with ControlClient("http://nowhere.test", transport=httpx.MockTransport(refuse)) as ctl:
        with pytest.raises(RetryLaterError):
            await ctl.state()
