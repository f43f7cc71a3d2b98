"""Infra inside the real emulator app (EMU-HTTP's create_app): auth, gateway, webhooks."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from jirabridge.emulator import app as app_module
from jirabridge.emulator.infra import InfraOptions
from jirabridge.emulator.model import Flavour, Site
from tests.integration.emulator_infra.conftest import Receiver

CLOUD_ID = "aaaaaaaa-0000-4000-8000-000000000001"


def basic(login: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{secret}".encode()).decode()}


@pytest.fixture
async def cloud_app() -> AsyncIterator[tuple[Site, Any, httpx.AsyncClient, Receiver]]:
    site = Site(Flavour.CLOUD, seed=2)
    site.create_user("Dev", email="dev@acme.io", api_token="tok", key="acct-dev")
    site.create_project("ALPHA", "Alpha", site.admin_key)
    receiver = Receiver()
    options = InfraOptions(
        base_url="http://jira.test",
        cloud_id=CLOUD_ID,
        webhook_transport=httpx.ASGITransport(app=receiver.app()),
    )
    app = app_module.create_app("cloud", site, base_url="http://jira.test", options=options)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jira.test") as client:
        try:
            yield site, app, client, receiver
        finally:
            await app.infra.stop()


async def test_oauth_app_registers_a_field_filtered_webhook_and_gets_updates(cloud_app) -> None:
    site, app, client, receiver = cloud_app
    oauth = (await client.post("/_emulator/oauth/clients", json={"name": "sync"})).json()
    code = (
        await client.post(
            "/_emulator/oauth/codes", json={"clientId": oauth["clientId"], "userKey": "acct-dev"}
        )
    ).json()["code"]
    tok = (
        await client.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "client_id": oauth["clientId"],
                "client_secret": oauth["clientSecret"],
                "code": code,
            },
        )
    ).json()
    gw = f"/ex/jira/{CLOUD_ID}"
    bearer = {"Authorization": f"Bearer {tok['access_token']}"}
    me = await client.get(f"{gw}/rest/api/3/myself", headers=bearer)
    assert me.status_code == 200 and me.json()["accountId"] == "acct-dev"

    reg = await client.post(
        f"{gw}/rest/api/3/webhook",
        headers=bearer,
        json={
            "url": "http://receiver.test/app",
            "webhooks": [
                {
                    "events": ["jira:issue_updated"],
                    "jqlFilter": "project = ALPHA",
                    "fieldIdsFilter": ["summary"],
                }
            ],
        },
    )
    assert "createdWebhookId" in reg.json()["webhookRegistrationResult"][0], reg.text

    created = await client.post(
        f"{gw}/rest/api/3/issue",
        headers=bearer,
        json={
            "fields": {"project": {"key": "ALPHA"}, "summary": "one", "issuetype": {"name": "Task"}}
        },
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    r = await client.put(
        f"{gw}/rest/api/3/issue/{key}", headers=bearer, json={"fields": {"labels": ["x"]}}
    )
    assert r.status_code == 204, r.text
    r = await client.put(
        f"{gw}/rest/api/3/issue/{key}", headers=bearer, json={"fields": {"summary": "two"}}
    )
    assert r.status_code == 204, r.text
    assert await app.infra.flush_webhooks()
    bodies = [json.loads(s["body"]) for s in receiver.seen]
    # only the summary change passes the field filter; creation is not subscribed
    assert [b["webhookEvent"] for b in bodies] == ["jira:issue_updated"]
    assert bodies[0]["issue"]["key"] == key
    assert any(i.get("fieldId") == "summary" for i in bodies[0]["changelog"]["items"])
    assert receiver.seen[0]["headers"]["x-atlassian-webhook-identifier"]


async def test_api_token_basic_through_the_real_faces(cloud_app) -> None:
    _, _, client, _ = cloud_app
    assert (await client.get("/rest/api/3/myself")).status_code == 401
    r = await client.get("/rest/api/3/myself", headers=basic("dev@acme.io", "tok"))
    assert r.status_code == 200 and r.json()["accountId"] == "acct-dev"
