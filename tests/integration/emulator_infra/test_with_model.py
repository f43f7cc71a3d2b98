"""Infra over the real model Site and the real JQL search (no faces: a tiny builder)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jirabridge.emulator.infra import Infra, InfraOptions
from jirabridge.emulator.model import Flavour, Site
from tests.integration.emulator_infra.conftest import Receiver


def builder(event: Any) -> dict[str, Any] | None:
    issue = getattr(event, "issue", None)
    if issue is None:
        return None
    return {"webhookEvent": event.webhook_event, "issue": {"id": str(issue.id), "key": issue.key}}


def auth(login: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{secret}".encode()).decode()}


@pytest.fixture
async def setup() -> AsyncIterator[tuple[Site, Infra, httpx.AsyncClient, Receiver]]:
    site = Site(Flavour.SERVER, seed=3)
    user = site.create_user("Dev", name="dev", email="dev@acme.io", password="s3cret")
    site.create_project("ALPHA", "Alpha", site.admin_key)
    site.create_project("BETA", "Beta", site.admin_key)
    receiver = Receiver()
    infra = Infra(
        site,
        Flavour.SERVER,
        options=InfraOptions(webhook_transport=httpx.ASGITransport(app=receiver.app())),
    )
    infra.set_payload_builder(builder)
    site.subscribe(infra.on_event)

    async def myself(request: Request) -> Response:
        return JSONResponse({"key": request.state.user_key})

    async def create(request: Request) -> Response:
        body = await request.json()
        issue = site.create_issue(request.state.user_key, body["fields"])
        return JSONResponse({"key": issue.key}, status_code=201)

    app = infra.wrap(
        Starlette(
            routes=[
                *infra.routes(),
                Route("/rest/api/2/myself", myself),
                Route("/rest/api/2/issue", create, methods=["POST"]),
            ]
        )
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        try:
            yield site, infra, c, receiver
        finally:
            await infra.stop()
    assert user.key


async def test_site_credentials_and_pats_authenticate(setup) -> None:
    site, infra, client, _ = setup
    dev = site.find_user("dev")
    r = await client.get("/rest/api/2/myself", headers=auth("dev", "s3cret"))
    assert r.json() == {"key": dev.key}
    assert r.headers["X-AUSERNAME"] == "dev"
    assert (await client.get("/_emulator/state")).headers.get("X-AUSERNAME") is None
    pat = site.create_personal_token(dev.key)
    r = await client.get("/rest/api/2/myself", headers={"Authorization": f"Bearer {pat}"})
    assert r.json() == {"key": dev.key}
    site.revoke_personal_token(dev.key, pat)
    r = await client.get("/rest/api/2/myself", headers={"Authorization": f"Bearer {pat}"})
    assert r.status_code == 401
    site.set_user_active(dev.key, False)
    assert (
        await client.get("/rest/api/2/myself", headers=auth("dev", "s3cret"))
    ).status_code == 401


async def test_admin_webhooks_need_a_jira_administrator(setup) -> None:
    site, infra, client, _ = setup
    body = {"name": "n", "url": "http://receiver.test/h", "events": ["jira:issue_created"]}
    r = await client.post("/rest/webhooks/1.0/webhook", json=body, headers=auth("dev", "s3cret"))
    assert r.status_code == 403 and r.json()["errorMessages"]
    assert (
        await client.get("/rest/webhooks/1.0/webhook", headers=auth("dev", "s3cret"))
    ).status_code == 403
    assert infra.webhooks.admin_hooks() == []
    site.add_to_group("jira-administrators", site.find_user("dev").key)
    r = await client.post("/rest/webhooks/1.0/webhook", json=body, headers=auth("dev", "s3cret"))
    assert r.status_code == 201


async def test_jql_filter_uses_the_real_search(setup) -> None:
    site, infra, client, receiver = setup
    site.add_to_group("jira-administrators", site.find_user("dev").key)
    r = await client.post(
        "/rest/webhooks/1.0/webhook",
        json={
            "name": "alpha only",
            "url": "http://receiver.test/alpha",
            "events": ["jira:issue_created"],
            "filters": {"issue-related-events-section": "project = ALPHA"},
        },
        headers=auth("dev", "s3cret"),
    )
    assert r.status_code == 201
    for project in ("ALPHA", "BETA", "ALPHA"):
        r = await client.post(
            "/rest/api/2/issue",
            json={
                "fields": {
                    "project": {"key": project},
                    "summary": "s",
                    "issuetype": {"name": "Task"},
                }
            },
            headers=auth("dev", "s3cret"),
        )
        assert r.status_code == 201, r.text
    await client.post("/_emulator/webhooks/flush", json={})
    keys = [json.loads(s["body"])["issue"]["key"] for s in receiver.seen]
    assert keys == ["ALPHA-1", "ALPHA-2"]


async def test_control_plane_reset_resets_the_site(setup) -> None:
    site, infra, client, _ = setup
    assert (await client.get("/_emulator/state")).json()["site"]["projects"] == 2
    r = await client.post("/_emulator/reset")
    assert r.json()["siteReset"] is True
    assert "ALPHA" not in site.projects_by_key


async def test_seed_through_the_control_plane(setup) -> None:
    site, infra, client, _ = setup
    before = len(site.issues)
    r = await client.post(
        "/_emulator/seed",
        json={"projects": 1, "issues": 12, "comments": 5, "users": 3, "sprints": 1, "seed": 4},
    )
    assert r.status_code == 200, r.text
    assert r.json()["site"]["issues"] == before + 12 == len(site.issues)
    bad = await client.post("/_emulator/seed", json={"issues": -1})
    assert bad.status_code == 400 and len(site.issues) == before + 12
    await client.post("/_emulator/reset")
    demo = await client.post("/_emulator/seed", json={"kind": "demo"})
    assert demo.status_code == 200, demo.text
    assert demo.json()["site"]["issues"] > 0 and demo.json()["site"]["projects"] > 0
