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


async def test_control_client_oauth1_and_legacy_headers(server: Harness) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    public = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    async with ControlClient(client=server.client) as ctl:
        made = await ctl.oauth1_consumer("ck", public, timestamp_window=60)
        assert made["consumerKey"] == "ck" and made["timestampWindow"] == 60
        token, secret = await ctl.oauth1_token("ck", "JIRAUSER10000")
        assert token and secret and token != secret
        assert await ctl.oauth1_revoke(token) is True
        assert await ctl.oauth1_revoke("nope") is False
        with pytest.raises(BadInputError):
            await ctl.oauth1_token("unknown", "JIRAUSER10000")
        with pytest.raises(BadInputError):
            await ctl.oauth1_consumer("bad", "not a key")
        await ctl.rate_limits(capacity=5, header_style="legacy")
        r = await server.client.get("/rest/api/2/myself", headers=ALICE)
        assert r.headers["X-RateLimiting-Remaining"] == "4"
        assert (await ctl.state())["oauth1"] == {
            "consumers": 1,
            "requestTokens": 0,
            "accessTokens": 0,
        }
