"""No body can crash the OAuth token endpoint or the webhook registration routes."""

from __future__ import annotations

import asyncio
import json

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from jirabridge.emulator.infra import Infra, InfraOptions
from tests.integration.emulator_infra.conftest import FakeSite, basic

KEYS = [
    "grant_type",
    "client_id",
    "client_secret",
    "code",
    "refresh_token",
    "redirect_uri",
    "name",
    "url",
    "events",
    "filters",
    "excludeBody",
    "enabled",
    "secret",
    "webhooks",
    "jqlFilter",
    "fieldIdsFilter",
    "webhookIds",
    "issue-related-events-section",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(
        ["refresh_token", "authorization_code", "http://x.test/h", "jira:issue_created"]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=10,
)
ROUTES = [
    ("POST", "/oauth/token"),
    ("POST", "/rest/webhooks/1.0/webhook"),
    ("PUT", "/rest/webhooks/1.0/webhook/1"),
    ("POST", "/rest/api/3/webhook"),
    ("DELETE", "/rest/api/3/webhook"),
    ("PUT", "/rest/api/3/webhook/refresh"),
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    route=st.sampled_from(ROUTES),
    body=st.one_of(values, st.dictionaries(st.sampled_from(KEYS), values, max_size=5)),
    form=st.booleans(),
)
@example(
    route=("POST", "/rest/api/3/webhook"),
    body={"url": "http://x.test/h", "webhooks": [1, None]},
    form=False,
)
@example(
    route=("POST", "/oauth/token"),
    body={"grant_type": "refresh_token", "client_id": ["a"]},
    form=True,
)
def test_infra_routes_never_crash(route: tuple[str, str], body: object, form: bool) -> None:
    method, path = route

    async def go() -> httpx.Response:
        infra = Infra(FakeSite(), "cloud", options=InfraOptions(rest_webhooks_need_app=False))
        app = infra.wrap(Starlette(routes=infra.routes()))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.post(
                "/rest/webhooks/1.0/webhook",
                json={"name": "n", "url": "http://x.test/h", "events": ["jira:issue_created"]},
                headers=basic("alice@acme.io", "tok"),
            )
            headers = basic("alice@acme.io", "tok")
            if form and isinstance(body, dict):
                data = {
                    str(k): json.dumps(v) if not isinstance(v, str) else v for k, v in body.items()
                }
                return await client.request(method, path, data=data, headers=headers)
            return await client.request(
                method,
                path,
                content=json.dumps(body).encode(),
                headers={**headers, "content-type": "application/json"},
            )

    r = asyncio.run(go())
    assert r.status_code < 500, (route, body, r.status_code, r.text)
    assert (
        r.status_code == 202
        or r.status_code == 204
        or r.headers["content-type"].startswith("application/json")
    )
