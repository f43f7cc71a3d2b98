"""No body can crash the control plane: every answer is JSON, 2xx or a 4xx with errorMessages."""

from __future__ import annotations

import asyncio
import json

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from jirabridge.emulator.infra import Infra, InfraOptions
from tests.integration.emulator_infra.conftest import FakeSite

POSTS = [
    "/_emulator/clock",
    "/_emulator/latency",
    "/_emulator/faults",
    "/_emulator/downtime",
    "/_emulator/webhooks/faults",
    "/_emulator/ratelimits",
    "/_emulator/webhooks/flush",
    "/_emulator/oauth/clients",
    "/_emulator/oauth/codes",
    "/_emulator/oauth/revoke",
    "/_emulator/oauth/expire",
    "/_emulator/oauth/settings",
    "/_emulator/credentials",
    "/_emulator/credentials/revoke",
    "/_emulator/credentials/expire",
    "/_emulator/credentials/captcha",
]  # seed is left out: a valid body may ask for a million issues
FIELDS = [
    "freeze",
    "advance",
    "unfreeze",
    "ms",
    "jitterMs",
    "pattern",
    "method",
    "errors",
    "timeouts",
    "status",
    "rate",
    "seed",
    "seconds",
    "mode",
    "startsIn",
    "dropRate",
    "delaySeconds",
    "capacity",
    "fillRate",
    "intervalSeconds",
    "burstPerSecond",
    "perIssueWrites",
    "burstOverrides",
    "penaltySeconds",
    "includeScheduled",
    "timeout",
    "clientId",
    "userKey",
    "token",
    "accessTokenTtl",
    "kind",
    "secret",
    "expiresIn",
    "after",
    "clear",
    "issues",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["2026-01-05T09:00:00Z", "2026-01-05", "503", "refuse", "pat", "-1", "1e999"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=5),
    values,
)


def _app() -> tuple[Infra, httpx.AsyncClient]:
    infra = Infra(FakeSite(), "cloud", options=InfraOptions())
    app = infra.wrap(Starlette(routes=infra.routes()))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return infra, httpx.AsyncClient(transport=transport, base_url="http://t")


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(path=st.sampled_from(POSTS), body=bodies)
@example(path="/_emulator/clock", body={"advance": 1e20})
@example(path="/_emulator/clock", body={"freeze": "9999-12-31T23:59:59Z", "advance": 10**6})
@example(path="/_emulator/latency", body={"ms": 1e308})
@example(path="/_emulator/ratelimits", body={"burstOverrides": {"*": 0}})
@example(path="/_emulator/oauth/codes", body={"clientId": "nope", "userKey": "u"})
def test_control_plane_never_crashes(path: str, body: object) -> None:
    async def go() -> tuple[httpx.Response, httpx.Response]:
        infra, client = _app()
        async with client:
            try:
                answer = await client.post(path, content=json.dumps(body).encode())
                # whatever was accepted, the emulator still works afterwards
                return answer, await client.get("/_emulator/state")
            finally:
                await infra.stop()

    r, state = asyncio.run(go())
    assert state.status_code == 200, (path, body, state.text)
    assert r.status_code < 500 or r.status_code == 501, (path, body, r.status_code, r.text)
    data = r.json() if r.content else None
    if r.status_code >= 400:
        assert isinstance(data, dict) and data["errorMessages"], (path, body, r.text)
