"""The receiver's plain ASGI path for ``POST /webhooks/{site}``: the same answers as the
Starlette route it stands in front of, bodies in chunks, a client that goes away, an
unexpected error, and everything else still served by Starlette."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from jirabridge.sync.config import QueueConfig
from jirabridge.sync.queue import Queue
from jirabridge.sync.store import Store
from jirabridge.sync.webhooks import ReceiverSite, create_receiver

from .conftest import FakeClock

SECRET = "s3cret-value"
BODY = json.dumps(
    {
        "webhookEvent": "jira:issue_updated",
        "timestamp": 1,
        "user": {"name": "alice"},
        "issue": {"id": "10001", "key": "OPS-1"},
        "changelog": {"id": "5", "items": [{"field": "summary"}]},
    }
).encode()


def signature(body: bytes) -> bytes:
    return b"sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest().encode()


@pytest.fixture
def queue(store: Store, clock: FakeClock) -> Queue:
    return Queue(store, config=QueueConfig(coalesce_seconds=0), clock=clock)


def receiver(queue: Queue, **kw: Any) -> Any:
    sites = kw.pop("sites", {"srv": ReceiverSite("srv", SECRET, frozenset({"bot"}))})
    return create_receiver(sites=sites, queue=queue, max_body_bytes=4096, **kw)


async def call(
    app: Any,
    messages: list[dict[str, Any]],
    *,
    path: str = "/webhooks/srv",
    method: str = "POST",
    root_path: str = "",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[int | None, bytes]:
    """One request straight into the ASGI app: (status or None when nothing was sent, body)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": root_path,
        "query_string": b"",
        "headers": headers if headers is not None else [(b"x-hub-signature", signature(BODY))],
        "client": ("127.0.0.1", 1),
        "server": ("receiver", 80),
    }
    pending = list(messages)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = sent[0]["status"] if sent else None
    return status, b"".join(m.get("body", b"") for m in sent[1:])


def whole(body: bytes) -> list[dict[str, Any]]:
    return [{"type": "http.request", "body": body, "more_body": False}]


async def test_a_body_in_chunks_is_checked_and_queued_whole(queue: Queue) -> None:
    parts = [BODY[:10], b"", BODY[10:50], BODY[50:]]
    messages = [{"type": "http.request", "body": p, "more_body": True} for p in parts]
    messages.append({"type": "http.request", "body": b"", "more_body": False})

    status, body = await call(receiver(queue), messages)

    assert status == 202
    assert json.loads(body) == {"status": 202, "message": "queued", "notices": 1}
    assert queue.stats().notices == 1


async def test_streamed_chunks_past_the_cap_are_413_without_a_content_length(
    queue: Queue,
) -> None:
    messages = [{"type": "http.request", "body": b"x" * 1000, "more_body": True}] * 5
    status, _ = await call(receiver(queue), messages)
    assert status == 413
    assert queue.stats().notices == 0


async def test_a_client_gone_mid_body_gets_no_answer_and_nothing_is_queued(queue: Queue) -> None:
    messages = [{"type": "http.request", "body": BODY[:20], "more_body": True}]  # then gone
    status, _ = await call(receiver(queue), messages)
    assert status is None
    assert queue.stats().notices == 0


async def test_the_root_path_is_left_out_as_starlette_does(queue: Queue) -> None:
    status, _ = await call(
        receiver(queue), whole(BODY), path="/hooks/webhooks/srv", root_path="/hooks"
    )
    assert status == 202


async def test_an_unexpected_error_is_a_plain_500_and_goes_on_to_the_server(queue: Queue) -> None:
    def broken() -> dict[str, ReceiverSite]:
        raise RuntimeError("boom")

    app = receiver(queue, sites=broken)
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def receive() -> dict[str, Any]:
        return whole(BODY)[0]

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/webhooks/srv",
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }
    with pytest.raises(RuntimeError, match="boom"):
        await app(scope, receive, send)
    assert statuses == [500]


async def test_other_methods_paths_and_routes_are_starlettes(queue: Queue) -> None:
    app = receiver(queue)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://receiver"
    ) as client:
        assert (await client.get("/webhooks/srv")).status_code == 405
        assert (await client.post("/webhooks/")).status_code == 404
        assert (await client.post("/webhooks/srv/x", content=BODY)).status_code == 404
        health = await client.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        r = await client.post(
            "/webhooks/srv", content=BODY, headers={"X-Hub-Signature": signature(BODY).decode()}
        )
        assert r.status_code == 202
        assert r.headers["content-type"] == "application/json"
        assert int(r.headers["content-length"]) == len(r.content)
    assert queue.stats().notices == 1
