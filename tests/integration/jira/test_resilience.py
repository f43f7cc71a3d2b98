"""Auth modes, faults and rate limits of the emulators' control plane, seen by the clients."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from jirabridge.errors import ReauthenticateError, RetryLaterError
from jirabridge.jira import (
    AmbiguousWriteError,
    BearerAuth,
    IssueInput,
    RateGovernor,
    RetryPolicy,
    basic_auth,
    cloud_api_token_auth,
)

from .conftest import oauth_setup

# -- authentication ---------------------------------------------------------------------------


async def test_server_basic_and_personal_access_token(server_emu) -> None:
    site = server_emu.site
    token = site.create_personal_token(site.admin_key)
    me = await server_emu.client(auth=BearerAuth(token)).myself()
    assert me.name == "admin"
    with pytest.raises(ReauthenticateError):
        await server_emu.client(auth=basic_auth("admin", "wrong")).myself()
    with pytest.raises(ReauthenticateError):
        await server_emu.client(auth=BearerAuth("not-a-token")).myself()


async def test_cloud_api_token_expired_or_revoked(cloud_emu) -> None:
    admin = cloud_emu.site.admin_key
    await cloud_emu.control(
        "/credentials",
        {
            "kind": "api_token",
            "secret": "tok-1",
            "userKey": admin,
            "login": "admin@jirabridge.test",
        },
    )
    client = cloud_emu.client(auth=cloud_api_token_auth("admin@jirabridge.test", "tok-1"))
    assert (await client.myself()).account_id == admin
    await cloud_emu.control("/credentials/expire", {"secret": "tok-1"})
    with pytest.raises(ReauthenticateError) as info:
        await client.myself()
    assert "tok-1" not in str(info.value)


async def test_cloud_oauth2_expired_access_token_rotates_refresh_token(cloud_emu, tmp_path) -> None:
    store, auth, _ = await oauth_setup(cloud_emu, tmp_path)
    before = store.load("cloud")
    await cloud_emu.control("/oauth/expire", {})
    workers = [cloud_emu.client(auth=auth()) for _ in range(3)]
    users = await asyncio.gather(*(w.myself() for w in workers for _ in range(4)))
    assert {u.account_id for u in users} == {cloud_emu.site.admin_key}
    after = store.load("cloud")
    assert after.refresh_token != before.refresh_token  # rotated, persisted
    # the old refresh token is burnt: using it now is refused by the emulator
    async with httpx.AsyncClient(
        transport=cloud_emu.transport, base_url=cloud_emu.app.base_url
    ) as c:
        r = await c.post(
            "/oauth/token",
            json={"grant_type": "refresh_token", "refresh_token": before.refresh_token},
        )
    assert r.status_code >= 400


async def test_cloud_oauth2_revoked_grant_asks_to_reauthenticate(cloud_emu, tmp_path) -> None:
    store, auth, _ = await oauth_setup(cloud_emu, tmp_path)
    await cloud_emu.control("/oauth/revoke", {"userKey": cloud_emu.site.admin_key})
    with pytest.raises(ReauthenticateError):
        await cloud_emu.client(auth=auth()).myself()


# -- faults -----------------------------------------------------------------------------------


async def test_5xx_burst_is_survived(emu) -> None:
    await emu.control(
        "/faults",
        {"errors": [{"status": 503, "rate": 0.5}, {"status": 502, "rate": 0.2}], "seed": 7},
    )
    client = emu.client(retry=RetryPolicy(max_attempts=12, base_delay=0.001, max_delay=0.01))
    for _ in range(10):
        await client.myself()
    counters = await emu.counters()
    assert client.stats.count(status=200) == 10
    assert client.stats.retries > 0
    assert counters  # the emulator counted too


async def test_5xx_forever_is_retry_later(emu) -> None:
    await emu.control("/faults", {"errors": [{"status": 500, "rate": 1.0}]})
    client = emu.client(retry=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01))
    with pytest.raises(RetryLaterError):
        await client.myself()
    assert client.stats.total == 3


async def test_timeouts_retry_reads_but_not_creates(emu) -> None:
    await emu.control(
        "/faults", {"timeouts": [{"rate": 1.0, "hangSeconds": 0.0, "pattern": "/rest/api/*/issue"}]}
    )
    client = emu.client()
    with pytest.raises(AmbiguousWriteError):
        await client.create_issue(IssueInput(project_key="PRJ", issue_type="Task", summary="x"))
    assert client.stats.count(endpoint=f"{client.api}/issue", status=0) == 1
    await emu.control("/faults", {"clear": True})
    checked = []

    async def check() -> str | None:
        checked.append(1)
        return None

    await emu.control(
        "/faults",
        {
            "timeouts": [{"rate": 0.5, "hangSeconds": 0.0, "pattern": "/rest/api/*/issue"}],
            "seed": 3,
        },
    )
    key = await client.create_issue(
        IssueInput(project_key="PRJ", issue_type="Task", summary="y"), check=check
    )
    assert key.startswith("PRJ-")


async def test_downtime_503_with_retry_after(emu) -> None:
    await emu.control("/downtime", {"seconds": 1.0})
    client = emu.client()
    loop = asyncio.get_running_loop()
    start = loop.time()
    await client.myself()
    assert loop.time() - start >= 0.9
    assert client.stats.count(status=503) >= 1


async def test_refused_connections(emu) -> None:
    await emu.control("/downtime", {"seconds": 0.3, "mode": "refuse"})
    client = emu.client(retry=RetryPolicy(max_attempts=20, base_delay=0.05, max_delay=0.1))
    await client.myself()
    assert client.stats.count(status=0) >= 1


# -- rate limits ------------------------------------------------------------------------------


async def test_server_rate_limit_is_respected(server_emu) -> None:
    await server_emu.control(
        "/ratelimits", {"capacity": 10, "fillRate": 10, "intervalSeconds": 0.5}
    )
    client = server_emu.client(governor=RateGovernor())

    async def worker() -> None:
        for _ in range(10):
            await client.myself()

    await asyncio.gather(*(worker() for _ in range(4)))
    assert client.stats.count(status=200) == 40
    assert client.stats.rate_limited <= 1


async def test_cloud_burst_limit_429_storm(cloud_emu) -> None:
    await cloud_emu.control("/ratelimits", {"burstPerSecond": 15, "penaltySeconds": 1})
    client = cloud_emu.client(governor=RateGovernor())

    async def worker() -> None:
        for _ in range(8):
            await client.myself()

    await asyncio.gather(*(worker() for _ in range(4)))
    assert client.stats.count(status=200) == 32
    assert client.stats.rate_limited <= 1


async def test_cloud_per_issue_write_limit(cloud_emu) -> None:
    await cloud_emu.control(
        "/ratelimits", {"burstPerSecond": 100, "perIssueWrites": [[3, 1.0]], "penaltySeconds": 1}
    )
    client = cloud_emu.client()
    keys = [
        await client.create_issue(IssueInput(project_key="PRJ", issue_type="Task", summary=f"w{n}"))
        for n in range(2)
    ]

    async def edits(key: str) -> None:
        for n in range(5):
            await client.edit_issue(key, IssueInput(summary=f"{key} {n}"))

    await asyncio.gather(*(edits(k) for k in keys))
    for key in keys:
        assert (await client.get_issue(key)).summary == f"{key} 4"
    # each issue may be refused once; the refusal is waited out, never retried early
    assert client.stats.rate_limited <= 2


async def test_cloud_oauth2_through_the_api_gateway(cloud_emu, tmp_path) -> None:
    from jirabridge.jira import CloudClient, PlainCodec

    _store, auth, created = await oauth_setup(cloud_emu, tmp_path)
    base = f"{cloud_emu.app.base_url}/ex/jira/{created['cloudId']}"
    client = CloudClient(base, auth=auth(), transport=cloud_emu.transport, codec=PlainCodec())
    try:
        assert (await client.myself()).account_id == cloud_emu.site.admin_key
        key = await client.create_issue(
            IssueInput(project_key="PRJ", issue_type="Task", summary="via gateway")
        )
        assert (await client.get_issue(key)).summary == "via gateway"
        [att] = await client.add_attachment(key, "a.txt", b"hello")
        assert await client.download_attachment(att) == b"hello"
    finally:
        await client.aclose()
