"""Three processes share one OAuth 2.0 credential file: one refresh, nobody burns a token."""

from __future__ import annotations

import asyncio
import multiprocessing
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from jirabridge.emulator import create_app
from jirabridge.jira import (
    CloudClient,
    FileCredentialStore,
    OAuth2Auth,
    OAuth2Token,
    PlainCodec,
)
from tests.support.served import base_url_of, bound_socket, serve_on


def _worker(
    base: str,
    directory: str,
    client_id: str,
    secret: str,
    out: multiprocessing.Queue,
    start: multiprocessing.Event,
) -> None:  # type: ignore[type-arg]
    async def run() -> tuple[int, str]:
        auth = OAuth2Auth(
            "site",
            FileCredentialStore(directory),
            client_id=client_id,
            client_secret=secret,
            token_url=f"{base}/oauth/token",
        )
        client = CloudClient(base, auth=auth, codec=PlainCodec())
        try:
            start.wait(10)
            me = await client.myself()
            return auth.refreshes, str(me.account_id)
        finally:
            await client.aclose()

    try:
        out.put(asyncio.run(run()))
    except Exception as exc:  # reported to the parent, which fails the test
        out.put((-1, repr(exc)))


@pytest.mark.slow
def test_processes_refresh_one_credential_once(tmp_path) -> None:
    sock = bound_socket()
    base = base_url_of(sock)
    app = create_app("cloud", base_url=base)
    with serve_on(app, sock), httpx.Client(base_url=base) as c:
        created = c.post("/_emulator/oauth/clients", json={"name": "jb"}).json()
        code = c.post(
            "/_emulator/oauth/codes",
            json={"clientId": created["clientId"], "userKey": app.site.admin_key},
        ).json()["code"]
        pair = c.post(
            "/oauth/token",
            json={
                "grant_type": "authorization_code",
                "client_id": created["clientId"],
                "client_secret": created["clientSecret"],
                "code": code,
                "redirect_uri": "http://127.0.0.1/callback",
            },
        ).json()
        store = FileCredentialStore(tmp_path)
        # already expired: every process wants to refresh at once
        store.save(
            "site",
            OAuth2Token(
                pair["access_token"],
                pair["refresh_token"],
                datetime.now(UTC) - timedelta(seconds=1),
            ),
        )
        ctx = multiprocessing.get_context("spawn")
        out = ctx.Queue()
        start = ctx.Event()
        procs = [
            ctx.Process(
                target=_worker,
                args=(
                    base,
                    str(tmp_path),
                    created["clientId"],
                    created["clientSecret"],
                    out,
                    start,
                ),
            )
            for _ in range(3)
        ]
        for p in procs:
            p.start()
        start.set()
        try:
            results = [out.get(timeout=60) for _ in procs]
        finally:
            for p in procs:
                p.join(timeout=30)
                if p.is_alive():
                    p.kill()  # never leave a process behind
        assert all(r[1] == app.site.admin_key for r in results), results
        assert sum(r[0] for r in results) == 1, results  # one refresh among three processes
        assert store.load("site").refresh_token != pair["refresh_token"]
