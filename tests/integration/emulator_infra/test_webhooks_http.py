from __future__ import annotations

import json

from tests.integration.emulator_infra.conftest import Harness, basic
from tests.support.openapi import assert_matches_spec

ALICE = basic("alice", "pw")
CLOUD_ALICE = basic("alice@acme.io", "tok")


async def _create_issue(h: Harness, key: str, auth: dict[str, str], v: str = "2") -> None:
    r = await h.client.post(f"/rest/api/{v}/issue", json={"key": key}, headers=auth)
    assert r.status_code == 201


async def test_admin_webhook_crud_and_delivery(server: Harness) -> None:
    body = {
        "name": "sync",
        "url": "http://receiver.test/hook/${issue.key}",
        "events": ["jira:issue_created"],
        "filters": {"issue-related-events-section": "project = PRJ"},
        "excludeBody": False,
    }
    assert (await server.client.post("/rest/webhooks/1.0/webhook", json=body)).status_code == 401
    r = await server.client.post("/rest/webhooks/1.0/webhook", json=body, headers=ALICE)
    assert r.status_code == 201
    hook = r.json()
    assert hook["self"] == f"http://jira.test/rest/webhooks/1.0/webhook/{hook['name'] and 1}"
    assert hook["filters"] == {"issue-related-events-section": "project = PRJ"}
    assert hook["enabled"] is True and hook["lastUpdatedUser"] == "JIRAUSER10000"
    listed = (await server.client.get("/rest/webhooks/1.0/webhook", headers=ALICE)).json()
    assert [h["name"] for h in listed] == ["sync"]

    await _create_issue(server, "PRJ-1", ALICE)
    await _create_issue(server, "OTHER-1", ALICE)  # filtered out by JQL
    flushed = (await server.client.post("/_emulator/webhooks/flush", json={})).json()
    assert flushed["idle"] is True
    assert [s["path"] for s in server.receiver.seen] == ["/hook/PRJ-1"]
    sent = server.receiver.seen[0]
    assert json.loads(sent["body"])["webhookEvent"] == "jira:issue_created"
    assert "x-atlassian-webhook-identifier" not in sent["headers"]

    r = await server.client.put(
        f"/rest/webhooks/1.0/webhook/{hook['self'].rsplit('/', 1)[1]}",
        json={"enabled": False},
        headers=ALICE,
    )
    assert r.status_code == 200 and r.json()["enabled"] is False
    await _create_issue(server, "PRJ-2", ALICE)
    await server.client.post("/_emulator/webhooks/flush", json={})
    assert len(server.receiver.seen) == 1

    deliveries = (await server.client.get("/_emulator/webhooks/deliveries")).json()
    assert deliveries["summary"]["delivered"] == 1
    assert deliveries["deliveries"][0]["attempts"][0]["statusCode"] == 200

    assert (
        await server.client.delete("/rest/webhooks/1.0/webhook/1", headers=ALICE)
    ).status_code == 204
    assert (
        await server.client.get("/rest/webhooks/1.0/webhook/1", headers=ALICE)
    ).status_code == 404
    assert (
        await server.client.get("/rest/webhooks/1.0/webhook/abc", headers=ALICE)
    ).status_code == 404


async def test_admin_webhook_bad_input(server: Harness) -> None:
    for bad in ({"url": "http://x.test"}, {"name": "n", "url": "ftp:/nope"}, [1, 2]):
        r = await server.client.post("/rest/webhooks/1.0/webhook", json=bad, headers=ALICE)
        assert r.status_code == 400 and r.json()["errorMessages"], bad
    r = await server.client.post(
        "/rest/webhooks/1.0/webhook",
        content=b"{",
        headers={**ALICE, "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert server.infra.webhooks.admin_hooks() == []


async def test_server_delivers_once_without_retry(server: Harness) -> None:
    server.receiver.answers = [500]
    await server.client.post(
        "/rest/webhooks/1.0/webhook",
        json={
            "name": "n",
            "url": "http://receiver.test/h",
            "events": ["jira:issue_created"],
            "excludeBody": True,
        },
        headers=ALICE,
    )
    await _create_issue(server, "PRJ-1", ALICE)
    await server.client.post("/_emulator/webhooks/flush", json={"includeScheduled": True})
    assert len(server.receiver.seen) == 1 and server.receiver.seen[0]["body"] == b""
    assert (await server.client.get("/_emulator/webhooks/deliveries?status=failed")).json()[
        "deliveries"
    ]


async def _oauth_bearer(h: Harness) -> dict[str, str]:
    client = (await h.client.post("/_emulator/oauth/clients", json={})).json()
    code = (
        await h.client.post(
            "/_emulator/oauth/codes", json={"clientId": client["clientId"], "userKey": "acct-1"}
        )
    ).json()["code"]
    tok = (
        await h.client.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "client_id": client["clientId"],
                "client_secret": client["clientSecret"],
                "code": code,
            },
        )
    ).json()
    return {"Authorization": f"Bearer {tok['access_token']}"}


async def test_cloud_rest_webhooks_need_an_app(cloud: Harness) -> None:
    r = await cloud.client.get("/rest/api/3/webhook", headers=CLOUD_ALICE)
    assert r.status_code == 403
    assert_matches_spec("GET", "/rest/api/3/webhook", 403, r.json())


async def test_cloud_rest_webhooks_register_list_refresh_delete(cloud: Harness) -> None:
    app = await _oauth_bearer(cloud)
    reg = {
        "url": "http://receiver.test/app",
        "webhooks": [
            {"events": ["jira:issue_created"], "jqlFilter": "project = PRJ"},
            {"events": ["jira:issue_updated"], "jqlFilter": "nonsense"},
        ],
    }
    r = await cloud.client.post("/rest/api/3/webhook", json=reg, headers=app)
    assert r.status_code == 200
    assert_matches_spec("POST", "/rest/api/3/webhook", 200, r.json())
    results = r.json()["webhookRegistrationResult"]
    assert "createdWebhookId" in results[0] and results[1]["errors"]

    page = await cloud.client.get("/rest/api/3/webhook", headers=app)
    assert_matches_spec("GET", "/rest/api/3/webhook", 200, page.json())
    [hook] = page.json()["values"]
    # 30 days after 2026-01-05T09:00Z, in ms
    assert hook["expirationDate"] == 1767603600000 + 30 * 86400 * 1000

    await cloud.client.post("/_emulator/clock", json={"advance": 1800})  # token still live
    ref = await cloud.client.put(
        "/rest/api/3/webhook/refresh", json={"webhookIds": [hook["id"]]}, headers=app
    )
    assert_matches_spec("PUT", "/rest/api/3/webhook/refresh", 200, ref.json())
    assert ref.json()["expirationDate"] == hook["expirationDate"] + 1800 * 1000

    bad = await cloud.client.delete("/rest/api/3/webhook", headers=app)
    assert bad.status_code == 400
    req = cloud.client.build_request(
        "DELETE", "/rest/api/3/webhook", json={"webhookIds": [hook["id"]]}, headers=app
    )
    assert (await cloud.client.send(req)).status_code == 202
    assert (await cloud.client.get("/rest/api/3/webhook", headers=app)).json()["total"] == 0


async def test_cloud_delivery_retries_then_lists_failures(cloud: Harness) -> None:
    app = await _oauth_bearer(cloud)
    await cloud.client.post(
        "/rest/api/3/webhook",
        json={
            "url": "http://receiver.test/app",
            "webhooks": [{"events": ["jira:issue_created"], "jqlFilter": "project = PRJ"}],
        },
        headers=app,
    )
    cloud.receiver.answers = [503] * 6  # first try + 5 retries all fail
    await _create_issue(cloud, "PRJ-7", CLOUD_ALICE, v="3")
    await cloud.client.post("/_emulator/webhooks/flush", json={})
    assert len(cloud.receiver.seen) == 1
    await cloud.client.post("/_emulator/clock", json={"advance": 29})
    await cloud.client.post("/_emulator/webhooks/flush", json={})
    assert len(cloud.receiver.seen) == 1  # the first retry waits 30 s
    await cloud.client.post("/_emulator/clock", json={"advance": 1})
    await cloud.client.post("/_emulator/webhooks/flush", json={})
    assert len(cloud.receiver.seen) == 2
    await cloud.client.post("/_emulator/webhooks/flush", json={"includeScheduled": True})
    seen = cloud.receiver.seen
    assert len(seen) == 6
    ids = {s["headers"]["x-atlassian-webhook-identifier"] for s in seen}
    assert len(ids) == 1
    assert [s["headers"].get("x-atlassian-webhook-retry") for s in seen] == [
        None,
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    assert json.loads(seen[0]["body"])["matchedWebhookIds"] == [1]
    assert {s["headers"]["x-atlassian-webhook-flow"] for s in seen} == {"Primary"}

    failed = await cloud.client.get("/rest/api/3/webhook/failed", headers=app)
    assert failed.status_code == 200
    assert_matches_spec("GET", "/rest/api/3/webhook/failed", 200, failed.json())
    [f] = failed.json()["values"]
    assert f["id"] == ids.pop() and f["url"] == "http://receiver.test/app"
    after = await cloud.client.get(
        f"/rest/api/3/webhook/failed?after={f['failureTime']}", headers=app
    )
    assert after.json()["values"] == []


async def test_cloud_injected_duplicates_share_the_identifier(cloud: Harness) -> None:
    await cloud.client.post(
        "/rest/webhooks/1.0/webhook",
        json={"name": "n", "url": "http://receiver.test/admin", "events": ["jira:issue_created"]},
        headers=CLOUD_ALICE,
    )
    await cloud.client.post("/_emulator/webhooks/faults", json={"duplicateRate": 1})
    await _create_issue(cloud, "PRJ-1", CLOUD_ALICE, v="3")
    await cloud.client.post("/_emulator/webhooks/flush", json={})
    a, b = cloud.receiver.seen
    assert (
        a["headers"]["x-atlassian-webhook-identifier"]
        == b["headers"]["x-atlassian-webhook-identifier"]
    )
    await cloud.client.post("/_emulator/webhooks/faults", json={"dropRate": 1})
    await _create_issue(cloud, "PRJ-2", CLOUD_ALICE, v="3")
    await cloud.client.post("/_emulator/webhooks/flush", json={})
    assert len(cloud.receiver.seen) == 2
    summary = (await cloud.client.get("/_emulator/webhooks/deliveries")).json()["summary"]
    assert summary["dropped"] == 1 and summary["delivered"] == 2


async def test_events_without_payload_or_hooks_queue_nothing(server: Harness) -> None:
    server.infra.on_event({"event": "jira:issue_created", "key": "PRJ-1"})  # no hooks yet
    await server.client.post(
        "/rest/webhooks/1.0/webhook",
        json={"name": "n", "url": "http://receiver.test/h", "events": ["jira:issue_created"]},
        headers=ALICE,
    )
    server.infra.on_event({"skip": True})
    assert server.infra.deliveries.deliveries() == []


async def test_worker_runs_in_background_after_start(server: Harness) -> None:
    import asyncio

    await server.infra.start()
    await server.client.post(
        "/rest/webhooks/1.0/webhook",
        json={"name": "n", "url": "http://receiver.test/h", "events": ["jira:issue_created"]},
        headers=ALICE,
    )
    await _create_issue(server, "PRJ-1", ALICE)
    for _ in range(300):
        if server.infra.deliveries.summary()["delivered"]:
            break
        await asyncio.sleep(0.01)
    assert len(server.receiver.seen) == 1


async def test_state_and_reset(server: Harness) -> None:
    await server.client.post(
        "/rest/webhooks/1.0/webhook",
        json={"name": "n", "url": "http://receiver.test/h", "events": ["jira:issue_created"]},
        headers=ALICE,
    )
    await server.client.post("/_emulator/ratelimits", json={"capacity": 5})
    state = (await server.client.get("/_emulator/state")).json()
    assert state["webhooks"]["adminWebhooks"] == 1 and state["rateLimits"]["server"] is True
    assert state["site"]["users"] == 2
    r = await server.client.post("/_emulator/reset")
    assert r.json() == {"reset": True, "siteReset": False}
    state = (await server.client.get("/_emulator/state")).json()
    assert state["webhooks"]["adminWebhooks"] == 0 and state["rateLimits"]["server"] is False


async def test_events_from_other_threads_wake_the_worker(server: Harness) -> None:
    import asyncio
    import threading

    await server.infra.start()
    await server.client.post(
        "/rest/webhooks/1.0/webhook",
        json={"name": "n", "url": "http://receiver.test/h", "events": ["jira:issue_created"]},
        headers=ALICE,
    )
    thread = threading.Thread(
        target=server.infra.on_event, args=({"event": "jira:issue_created", "key": "PRJ-5"},)
    )
    thread.start()
    thread.join()
    for _ in range(300):
        if server.infra.deliveries.summary()["delivered"]:
            break
        await asyncio.sleep(0.01)
    assert [s["path"] for s in server.receiver.seen] == ["/h"]


async def test_admin_webhook_secret_signs_the_body(server: Harness) -> None:
    import hashlib
    import hmac

    r = await server.client.post(
        "/rest/webhooks/1.0/webhook",
        json={
            "name": "signed",
            "url": "http://receiver.test/h",
            "events": ["jira:issue_created"],
            "secret": "It's a Secret to Everybody",
        },
        headers=ALICE,
    )
    assert r.status_code == 201 and "secret" not in r.json()
    await _create_issue(server, "PRJ-1", ALICE)
    await server.client.post("/_emulator/webhooks/flush", json={})
    [sent] = server.receiver.seen
    expected = hmac.new(b"It's a Secret to Everybody", sent["body"], hashlib.sha256).hexdigest()
    assert sent["headers"]["x-hub-signature"] == f"sha256={expected}"
    listing = (await server.client.get("/_emulator/webhooks/deliveries")).text
    assert "Secret to Everybody" not in listing
