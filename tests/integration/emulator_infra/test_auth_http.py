from __future__ import annotations

import httpx
import pytest

from tests.integration.emulator_infra.conftest import CLOUD_ID, Harness, basic

NOT_AUTH = {
    "errorMessages": [
        "You are not authenticated. Authentication required to perform this operation."
    ],
    "errors": {},
}


async def test_server_anonymous_gets_jiras_401_but_public_paths_answer(server: Harness) -> None:
    r = await server.client.get("/rest/api/2/myself")
    assert r.status_code == 401 and r.json() == NOT_AUTH
    r = await server.client.get("/rest/api/2/serverInfo")
    assert r.status_code == 200 and r.json()["user"] is None


async def test_server_basic_and_pat(server: Harness) -> None:
    r = await server.client.get("/rest/api/2/myself", headers=basic("alice", "pw"))
    assert r.json() == {"key": "JIRAUSER10000", "authKind": "basic", "viaGateway": False}
    r = await server.client.get("/rest/api/2/myself", headers={"Authorization": "Bearer pat-123"})
    assert r.json()["authKind"] == "pat"
    # a PAT is not a basic password; wrong credentials fail even on public paths
    assert (
        await server.client.get("/rest/api/2/myself", headers=basic("alice", "pat-123"))
    ).status_code == 401
    assert (
        await server.client.get("/rest/api/2/serverInfo", headers=basic("alice", "x"))
    ).status_code == 401


async def test_cloud_api_token_basic(cloud: Harness) -> None:
    r = await cloud.client.get("/rest/api/3/myself", headers=basic("alice@acme.io", "tok"))
    assert r.json()["key"] == "acct-1" and r.json()["authKind"] == "api_token"
    assert (
        await cloud.client.get("/rest/api/3/myself", headers=basic("alice@acme.io", "pw"))
    ).status_code == 401


async def _oauth_tokens(h: Harness) -> tuple[dict, dict]:
    client = (await h.client.post("/_emulator/oauth/clients", json={"name": "sync"})).json()
    code = (
        await h.client.post(
            "/_emulator/oauth/codes", json={"clientId": client["clientId"], "userKey": "acct-1"}
        )
    ).json()["code"]
    r = await h.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": client["clientId"],
            "client_secret": client["clientSecret"],
            "code": code,
            "redirect_uri": client["redirectUri"],
        },
    )
    assert r.status_code == 200, r.text
    return client, r.json()


async def test_oauth_flow_gateway_rotation_and_expiry(cloud: Harness) -> None:
    client, tokens = await _oauth_tokens(cloud)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

    res = await cloud.client.get("/oauth/token/accessible-resources", headers=bearer)
    assert res.json()[0]["id"] == CLOUD_ID and res.json()[0]["url"] == "http://jira.test"

    r = await cloud.client.get(f"/ex/jira/{CLOUD_ID}/rest/api/3/myself", headers=bearer)
    assert r.json() == {"key": "acct-1", "authKind": "oauth", "viaGateway": True}
    assert (
        await cloud.client.get("/ex/jira/not-my-site/rest/api/3/myself", headers=bearer)
    ).status_code == 404

    # refresh with a JSON body rotates the refresh token
    refresh = {
        "grant_type": "refresh_token",
        "client_id": client["clientId"],
        "client_secret": client["clientSecret"],
        "refresh_token": tokens["refresh_token"],
    }
    r2 = await cloud.client.post("/oauth/token", json=refresh)
    assert r2.status_code == 200 and r2.json()["refresh_token"] != tokens["refresh_token"]
    reuse = await cloud.client.post("/oauth/token", json=refresh)
    assert reuse.status_code == 403 and reuse.json()["error"] == "invalid_grant"

    # access tokens expire on the emulator clock
    await cloud.client.post("/_emulator/clock", json={"advance": 3600})
    expired = await cloud.client.get(f"/ex/jira/{CLOUD_ID}/rest/api/3/myself", headers=bearer)
    assert expired.status_code == 401 and expired.json() == {"code": 401, "message": "Unauthorized"}
    fresh = {"Authorization": f"Bearer {r2.json()['access_token']}"}
    assert (
        await cloud.client.get(f"/ex/jira/{CLOUD_ID}/rest/api/3/myself", headers=fresh)
    ).status_code == 401


async def test_concurrent_refreshes_one_wins(cloud: Harness) -> None:
    import asyncio

    client, tokens = await _oauth_tokens(cloud)
    body = {
        "grant_type": "refresh_token",
        "client_id": client["clientId"],
        "client_secret": client["clientSecret"],
        "refresh_token": tokens["refresh_token"],
    }
    answers = await asyncio.gather(
        *(cloud.client.post("/oauth/token", data=body) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [200, 403, 403, 403]


async def test_token_endpoint_bad_requests(cloud: Harness) -> None:
    r = await cloud.client.post("/oauth/token", data={"grant_type": "password"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = await cloud.client.post(
        "/oauth/token", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = await cloud.client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "client_id": "nope"}
    )
    assert r.status_code == 401 and r.json()["error"] == "access_denied"
    assert (await cloud.client.get("/oauth/token/accessible-resources")).status_code == 401


async def test_authorize_redirects_with_a_code(cloud: Harness) -> None:
    client = (
        await cloud.client.post(
            "/_emulator/oauth/clients", json={"redirectUri": "http://app.test/cb"}
        )
    ).json()
    r = await cloud.client.get(
        "/authorize", params={"client_id": client["clientId"], "user": "acct-1", "state": "xyz"}
    )
    assert r.status_code == 302
    loc = httpx.URL(r.headers["location"])
    assert loc.host == "app.test" and loc.params["state"] == "xyz"
    tok = await cloud.client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": client["clientId"],
            "client_secret": client["clientSecret"],
            "code": loc.params["code"],
        },
    )
    assert tok.status_code == 200


async def test_control_plane_revokes_and_adds_credentials(cloud: Harness) -> None:
    _, tokens = await _oauth_tokens(cloud)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (
        await cloud.client.post("/_emulator/oauth/revoke", json={"token": tokens["access_token"]})
    ).json() == {"revoked": 1}
    assert (await cloud.client.get("/rest/api/3/myself", headers=bearer)).status_code == 401

    r = await cloud.client.post(
        "/_emulator/credentials",
        json={
            "kind": "api_token",
            "secret": "new-tok",
            "userKey": "acct-2",
            "login": "bob@acme.io",
            "expiresIn": 60,
        },
    )
    assert r.status_code == 201
    assert (
        await cloud.client.get("/rest/api/3/myself", headers=basic("bob@acme.io", "new-tok"))
    ).json()["key"] == "acct-2"
    await cloud.client.post("/_emulator/clock", json={"advance": 60})
    assert (
        await cloud.client.get("/rest/api/3/myself", headers=basic("bob@acme.io", "new-tok"))
    ).status_code == 401
    await cloud.client.post("/_emulator/credentials/revoke", json={"secret": "tok"})
    assert (
        await cloud.client.get("/rest/api/3/myself", headers=basic("alice@acme.io", "tok"))
    ).status_code == 401


@pytest.mark.parametrize("ttl", [120])
async def test_access_token_ttl_is_configurable(cloud: Harness, ttl: int) -> None:
    await cloud.client.post("/_emulator/oauth/settings", json={"accessTokenTtl": ttl})
    _, tokens = await _oauth_tokens(cloud)
    assert tokens["expires_in"] == ttl


async def test_server_failed_login_headers_and_captcha(server: Harness) -> None:
    bad = await server.client.get("/rest/api/2/myself", headers=basic("alice", "nope"))
    assert bad.status_code == 401 and bad.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    await server.client.post("/_emulator/credentials/captcha", json={"after": 2})
    await server.client.get("/rest/api/2/myself", headers=basic("alice", "nope"))
    locked = await server.client.get("/rest/api/2/myself", headers=basic("alice", "pw"))
    assert locked.status_code == 403
    assert locked.headers["X-Seraph-LoginReason"] == "AUTHENTICATION_DENIED"
    assert locked.headers["X-Authentication-Denied-Reason"].startswith("CAPTCHA_CHALLENGE")
    await server.client.post("/_emulator/credentials/captcha", json={"clear": True})
    assert (
        await server.client.get("/rest/api/2/myself", headers=basic("alice", "pw"))
    ).status_code == 200


async def test_oauth_scopes_are_enforced(cloud: Harness) -> None:
    client = (await cloud.client.post("/_emulator/oauth/clients", json={})).json()
    code = (
        await cloud.client.post(
            "/_emulator/oauth/codes",
            json={"clientId": client["clientId"], "userKey": "acct-1", "scope": "read:jira-work"},
        )
    ).json()["code"]
    tok = (
        await cloud.client.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "client_id": client["clientId"],
                "client_secret": client["clientSecret"],
                "code": code,
            },
        )
    ).json()
    assert "refresh_token" not in tok  # no offline_access asked
    bearer = {"Authorization": f"Bearer {tok['access_token']}"}
    gw = f"/ex/jira/{CLOUD_ID}"
    assert (
        await cloud.client.get(f"{gw}/rest/api/3/issue/PRJ-1", headers=bearer)
    ).status_code == 200
    denied = await cloud.client.put(f"{gw}/rest/api/3/issue/PRJ-1", headers=bearer, json={})
    assert denied.status_code == 401
    assert denied.json() == {"code": 401, "message": "Unauthorized; scope does not match"}
    hooks = await cloud.client.get(f"{gw}/rest/api/3/webhook", headers=bearer)
    assert hooks.status_code == 401
