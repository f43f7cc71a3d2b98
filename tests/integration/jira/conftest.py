"""The emulators in-process (httpx.ASGITransport) for the client integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from jirabridge.emulator import create_app
from jirabridge.jira import (
    CloudClient,
    FileCredentialStore,
    OAuth2Auth,
    OAuth2Token,
    PlainCodec,
    RateGovernor,
    RetryPolicy,
    ServerClient,
    basic_auth,
    cloud_api_token_auth,
)

ADMIN_EMAIL = "admin@jirabridge.test"


class Emu:
    """One emulated site with helpers to steer it and to build clients for it."""

    def __init__(self, flavour: str) -> None:
        self.flavour = flavour
        self.app = create_app(flavour)
        self.site = self.app.site
        self.site.create_project("PRJ", "Project", self.site.admin_key)
        self.transport = httpx.ASGITransport(app=self.app)
        self._clients: list[Any] = []

    @property
    def cloud(self) -> bool:
        return self.flavour == "cloud"

    async def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        async with httpx.AsyncClient(transport=self.transport, base_url=self.app.base_url) as c:
            r = await c.post(f"/_emulator{path}", json=body or {})
        assert r.status_code < 300, r.text
        return r.json() if r.content else None

    async def counters(self) -> Any:
        async with httpx.AsyncClient(transport=self.transport, base_url=self.app.base_url) as c:
            return (await c.get("/_emulator/counters")).json()

    def admin_auth(self) -> httpx.Auth:
        if self.cloud:
            return cloud_api_token_auth(ADMIN_EMAIL, "admin")
        return basic_auth("admin", "admin")

    def client(self, **kwargs: Any) -> Any:
        cls = CloudClient if self.cloud else ServerClient
        kwargs.setdefault("auth", self.admin_auth())
        kwargs.setdefault("codec", PlainCodec())
        kwargs.setdefault("retry", RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.1))
        kwargs.setdefault("governor", RateGovernor())
        kwargs.setdefault("transport", self.transport)
        client = cls(self.app.base_url, **kwargs)
        self._clients.append(client)
        return client

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


@pytest.fixture(params=["server", "cloud"])
async def emu(request: pytest.FixtureRequest) -> AsyncIterator[Emu]:
    e = Emu(request.param)
    yield e
    await e.aclose()


@pytest.fixture
async def server_emu() -> AsyncIterator[Emu]:
    e = Emu("server")
    yield e
    await e.aclose()


@pytest.fixture
async def cloud_emu() -> AsyncIterator[Emu]:
    e = Emu("cloud")
    yield e
    await e.aclose()


async def oauth_setup(emu, tmp_path, ttl: float | None = None):
    created = await emu.control("/oauth/clients", {"name": "jb"})
    code = (
        await emu.control(
            "/oauth/codes", {"clientId": created["clientId"], "userKey": emu.site.admin_key}
        )
    )["code"]
    async with httpx.AsyncClient(transport=emu.transport, base_url=emu.app.base_url) as c:
        r = await c.post(
            "/oauth/token",
            json={
                "grant_type": "authorization_code",
                "client_id": created["clientId"],
                "client_secret": created["clientSecret"],
                "code": code,
                "redirect_uri": "http://127.0.0.1/callback",
            },
        )
    assert r.status_code == 200, r.text
    pair = r.json()
    store = FileCredentialStore(tmp_path)
    store.save(
        "cloud",
        OAuth2Token(
            pair["access_token"],
            pair["refresh_token"],
            datetime.now(UTC) + timedelta(seconds=pair["expires_in"]),
        ),
    )

    def auth() -> OAuth2Auth:
        return OAuth2Auth(
            "cloud",
            store,
            client_id=created["clientId"],
            client_secret=created["clientSecret"],
            token_url=f"{emu.app.base_url}/oauth/token",
            transport=emu.transport,
        )

    return store, auth, created
