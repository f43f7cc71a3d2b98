from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from jirabridge.emulator.infra import (
    CloudRateLimitConfig,
    ErrorRule,
    ServerRateLimitConfig,
    WebhookFaults,
)
from tests.integration.emulator_infra.conftest import CLOUD_ID, Harness, _harness, basic

ALICE = basic("alice", "pw")


@pytest.fixture
async def limited_server() -> AsyncIterator[Harness]:
    async for h in _harness(
        "server",
        server_rate_limit=ServerRateLimitConfig(capacity=1, fill_rate=1, interval_seconds=60),
        errors=(ErrorRule(500, 1.0, pattern="/rest/api/2/serverInfo"),),
        webhook_faults=WebhookFaults(drop_rate=1.0),
    ):
        yield h


async def test_constructor_options_set_the_initial_state_and_reset_restores_it(
    limited_server: Harness,
) -> None:
    h = limited_server
    assert (await h.client.get("/rest/api/2/myself", headers=ALICE)).status_code == 200
    assert (await h.client.get("/rest/api/2/myself", headers=ALICE)).status_code == 429
    assert (await h.client.get("/rest/api/2/serverInfo")).status_code == 500
    assert h.infra.deliveries.faults.drop_rate == 1.0
    await h.client.post("/_emulator/ratelimits", json={"enabled": False})
    await h.client.post("/_emulator/faults", json={"clear": True})
    assert (await h.client.get("/rest/api/2/serverInfo")).status_code == 200
    await h.client.post("/_emulator/reset")
    assert (await h.client.get("/rest/api/2/serverInfo")).status_code == 500
    assert (await h.client.get("/rest/api/2/myself", headers=ALICE)).status_code == 200
    assert (await h.client.get("/rest/api/2/myself", headers=ALICE)).status_code == 429


@pytest.fixture
async def strict_cloud() -> AsyncIterator[Harness]:
    async for h in _harness(
        "cloud",
        oauth_requires_gateway=True,
        cloud_rate_limit=CloudRateLimitConfig(burst_per_second=50),
    ):
        yield h


async def test_oauth_tokens_only_through_the_gateway_when_strict(strict_cloud: Harness) -> None:
    h = strict_cloud
    client = (await h.client.post("/_emulator/oauth/clients", json={})).json()
    code = (
        await h.client.post(
            "/_emulator/oauth/codes", json={"clientId": client["clientId"], "userKey": "acct-1"}
        )
    ).json()["code"]
    tok = (
        await h.client.post(
            "/oauth/token",
            json={
                "grant_type": "authorization_code",
                "client_id": client["clientId"],
                "client_secret": client["clientSecret"],
                "code": code,
            },
        )
    ).json()
    bearer = {"Authorization": f"Bearer {tok['access_token']}"}
    assert (await h.client.get("/rest/api/3/myself", headers=bearer)).status_code == 401
    ok = await h.client.get(f"/ex/jira/{CLOUD_ID}/rest/api/3/myself", headers=bearer)
    assert ok.status_code == 200 and ok.headers["X-RateLimit-Limit"] == "50"
