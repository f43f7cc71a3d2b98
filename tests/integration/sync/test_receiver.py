from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from jirabridge.sync.config import QueueConfig
from jirabridge.sync.queue import Queue
from jirabridge.sync.store import AuditEntry, Store, WebhookSeen
from jirabridge.sync.webhooks import ReceiverSite, create_receiver

from .conftest import FakeClock

SECRET = "s3cret-value"
SITES = {
    "srv": ReceiverSite("srv", SECRET, frozenset({"jirabridge"})),
    "cld": ReceiverSite("cld", SECRET, frozenset({"5b10ac8d82e05b22cc7d4ef5"})),
    "open": ReceiverSite("open", None, frozenset()),
}


@pytest.fixture
def queue(store: Store, clock: FakeClock) -> Queue:
    return Queue(store, config=QueueConfig(coalesce_seconds=0), clock=clock)


def http(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://receiver",
    )


@pytest.fixture
async def client(queue: Queue, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_receiver(sites=SITES, queue=queue, max_body_bytes=64 * 1024, clock=clock)
    async with http(app) as c:
        yield c


def capture(shared_dir: Path, name: str) -> bytes:
    return (shared_dir / "fixtures" / "webhooks" / name).read_bytes()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature": f"sha256={digest}", "Content-Type": "application/json"}


async def test_every_capture_is_queued(
    client: httpx.AsyncClient, queue: Queue, shared_dir: Path
) -> None:
    files = sorted((shared_dir / "fixtures" / "webhooks").glob("*/*.json"))
    for path in files:
        site = "srv" if path.parent.name == "server" else "cld"
        r = await client.post(f"/webhooks/{site}?secret={SECRET}", content=path.read_bytes())
        assert r.status_code == 202, (path.name, r.text)
    stats = queue.stats()
    assert stats.notices == len(files)


async def test_hmac_signature_is_accepted(
    client: httpx.AsyncClient, queue: Queue, shared_dir: Path
) -> None:
    body = capture(shared_dir, "server/webhook-server-issue-updated-resolved.json")
    r = await client.post("/webhooks/srv", content=body, headers=signed(body))
    assert r.status_code == 202
    assert queue.stats().notices == 1


@pytest.mark.parametrize(
    ("url", "headers", "status"),
    [
        ("/webhooks/srv", {}, 401),
        ("/webhooks/srv?secret=wrong", {}, 403),
        ("/webhooks/srv?token=s3cret-valuf", {}, 403),
        ("/webhooks/srv", {"X-Hub-Signature": "sha256=" + "0" * 64}, 403),
        ("/webhooks/srv", {"X-Hub-Signature": "md5=abc"}, 403),
        ("/webhooks/open?secret=", {}, 403),
        ("/webhooks/nosuch?secret=" + SECRET, {}, 404),
    ],
)
async def test_wrong_or_missing_secret_is_refused_and_nothing_queued(
    client: httpx.AsyncClient,
    queue: Queue,
    shared_dir: Path,
    url: str,
    headers: dict[str, str],
    status: int,
) -> None:
    body = capture(shared_dir, "server/webhook-server-issue-updated-resolved.json")
    r = await client.post(url, content=body, headers=headers)
    assert r.status_code == status
    assert SECRET not in r.text
    assert queue.stats().notices == 0


async def test_signature_of_another_body_is_refused(
    client: httpx.AsyncClient, queue: Queue, shared_dir: Path
) -> None:
    body = capture(shared_dir, "server/webhook-server-issue-updated-resolved.json")
    r = await client.post("/webhooks/srv", content=body + b" ", headers=signed(body))
    assert r.status_code == 403


async def test_oversized_body_is_413(client: httpx.AsyncClient, queue: Queue, store: Store) -> None:
    body = b'{"webhookEvent": "jira:issue_updated", "pad": "' + b"x" * 70_000 + b'"}'
    r = await client.post(f"/webhooks/srv?secret={SECRET}", content=body)
    assert r.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: capped while read
        for _ in range(100):
            yield b"x" * 1024

    r = await client.post(f"/webhooks/srv?secret={SECRET}", content=chunks())
    assert r.status_code == 413
    assert queue.stats().notices == 0
    with store.session() as s:
        kinds = s.scalars(select(AuditEntry.message).where(AuditEntry.kind == "webhook_rejected"))
        assert list(kinds).count("body too large") == 1  # at most one row a minute


async def test_rejections_cannot_flood_the_audit_log(
    client: httpx.AsyncClient, store: Store, clock: FakeClock
) -> None:
    for _ in range(20):
        assert (await client.post("/webhooks/srv?secret=bad", content=b"{}")).status_code == 403
    clock.advance(61)
    assert (await client.post("/webhooks/srv?secret=bad", content=b"{}")).status_code == 403
    with store.session() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.kind == "webhook_rejected")).all()
    assert [r.message for r in rows] == ["wrong secret", "wrong secret"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[1,2]",
        b'{"webhookEvent": "jira:issue_exploded", "issue": {"id": "1"}}',
        b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "x"}}',
        b"[" * 5000 + b"]" * 5000,
    ],
)
async def test_malformed_or_unknown_bodies_are_400(
    client: httpx.AsyncClient, queue: Queue, body: bytes
) -> None:
    r = await client.post(f"/webhooks/srv?secret={SECRET}", content=body)
    assert r.status_code == 400
    assert r.json()["message"]
    assert queue.stats().notices == 0


@pytest.mark.parametrize(
    ("summary", "extra"),
    [
        ("cut mid-emoji \ud83d", None),  # a lone surrogate escape: JSON, refused by orjson
        ("huge number", "1e400"),  # past a double's range: JSON all the same
    ],
)
async def test_valid_json_the_fast_parser_refuses_is_still_queued(
    client: httpx.AsyncClient, queue: Queue, shared_dir: Path, summary: str, extra: str | None
) -> None:
    # a 4xx is never resent by the site: refusing valid JSON would lose the change
    data = json.loads(capture(shared_dir, "server/webhook-server-issue-updated-resolved.json"))
    data["issue"]["fields"]["summary"] = summary
    text = json.dumps(data)  # ASCII escapes, as Java's writers emit them
    if extra is not None:
        text = text[:-1] + f', "extra": {extra}}}'
    r = await client.post(f"/webhooks/srv?secret={SECRET}", content=text.encode())
    assert r.status_code == 202, r.text
    assert queue.stats().notices == 1


async def test_bad_body_does_not_lose_the_good_ones(
    client: httpx.AsyncClient, queue: Queue, shared_dir: Path
) -> None:
    good = capture(shared_dir, "server/webhook-server-issue-updated-resolved.json")
    assert (await client.post(f"/webhooks/srv?secret={SECRET}", content=good)).status_code == 202
    assert (await client.post(f"/webhooks/srv?secret={SECRET}", content=b"{")).status_code == 400
    assert queue.stats().notices == 1


async def test_cloud_retries_are_deduped_by_identifier(
    client: httpx.AsyncClient, queue: Queue, store: Store, shared_dir: Path
) -> None:
    body = capture(shared_dir, "cloud/webhook-cloud-issue-updated-custom-field.json")
    headers = {"X-Atlassian-Webhook-Identifier": "abc-123", "X-Atlassian-Webhook-Retry": "1"}
    first = await client.post(f"/webhooks/cld?secret={SECRET}", content=body, headers=headers)
    again = await client.post(f"/webhooks/cld?secret={SECRET}", content=body, headers=headers)
    other = await client.post(
        f"/webhooks/cld?secret={SECRET}",
        content=body,
        headers={"X-Atlassian-Webhook-Identifier": "abc-124"},
    )
    assert (first.status_code, again.status_code, other.status_code) == (202, 200, 202)
    assert "duplicate" in again.json()["message"]
    assert queue.stats().notices == 2
    with store.session() as s:
        assert len(s.scalars(select(WebhookSeen)).all()) == 2


async def test_dedupe_ids_expire(queue: Queue, clock: FakeClock, shared_dir: Path) -> None:
    from datetime import timedelta

    app = create_receiver(sites=SITES, queue=queue, clock=clock, dedupe_ttl=timedelta(hours=1))
    body = capture(shared_dir, "cloud/webhook-cloud-issue-updated-custom-field.json")
    headers = {"X-Atlassian-Webhook-Identifier": "abc"}
    async with http(app) as c:
        assert (
            await c.post(f"/webhooks/cld?secret={SECRET}", content=body, headers=headers)
        ).status_code == 202
        clock.advance(3601)
        assert (
            await c.post(f"/webhooks/cld?secret={SECRET}", content=body, headers=headers)
        ).status_code == 202


async def test_integration_users_own_events_are_dropped(
    client: httpx.AsyncClient, queue: Queue
) -> None:
    body = json.dumps(
        {
            "webhookEvent": "jira:issue_updated",
            "user": {"name": "jirabridge", "key": "jirabridge"},
            "issue": {"id": "10", "key": "OPS-1"},
            "changelog": {"id": "5", "items": [{"field": "priority"}]},
        }
    ).encode()
    r = await client.post(f"/webhooks/srv?secret={SECRET}", content=body)
    assert r.status_code == 200
    assert "echo" in r.json()["message"]
    assert queue.stats().notices == 0


async def test_ignored_event_is_200_and_not_queued(client: httpx.AsyncClient, queue: Queue) -> None:
    r = await client.post(
        f"/webhooks/srv?secret={SECRET}", content=b'{"webhookEvent": "board_created"}'
    )
    assert r.status_code == 200
    assert queue.stats().notices == 0


async def test_sites_can_change_without_restart(queue: Queue, clock: FakeClock) -> None:
    current = {"a": ReceiverSite("a", "one", frozenset())}
    app = create_receiver(sites=lambda: current, queue=queue, clock=clock)
    body = b'{"webhookEvent": "board_created"}'
    async with http(app) as c:
        assert (await c.post("/webhooks/a?secret=one", content=body)).status_code == 200
        current["a"] = ReceiverSite("a", "two", frozenset())
        assert (await c.post("/webhooks/a?secret=one", content=body)).status_code == 403


def test_secret_not_in_repr() -> None:
    assert SECRET not in repr(SITES["srv"])


async def test_immediate_fields_skip_the_coalescing_delay(store: Store, clock: FakeClock) -> None:
    from jirabridge.sync.config import load_config
    from jirabridge.sync.webhooks import immediate_fields

    config = load_config(Path(__file__).parents[3] / "examples/priority-propagation.yaml").config
    queue = Queue(store, config=QueueConfig(coalesce_seconds=60, lease_seconds=600), clock=clock)
    sites = {"dc": ReceiverSite("dc", SECRET, frozenset({"svc-jirabridge"}))}
    app = create_receiver(sites=sites, queue=queue, clock=clock, immediate=immediate_fields(config))

    def body(issue: str, field: str) -> bytes:
        return json.dumps(
            {
                "webhookEvent": "jira:issue_updated",
                "user": {"name": "alice"},
                "issue": {"id": issue, "key": f"INC-{issue}"},
                "changelog": {"id": "1", "items": [{"field": field}]},
            }
        ).encode()

    async with http(app) as c:
        assert (
            await c.post(f"/webhooks/dc?secret={SECRET}", content=body("1", "priority"))
        ).status_code == 202
        assert (
            await c.post(f"/webhooks/dc?secret={SECRET}", content=body("2", "summary"))
        ).status_code == 202
    assert [j.issue_id for j in queue.lease("w", limit=5)] == ["1"]
    clock.advance(60)
    assert [j.issue_id for j in queue.lease("w", limit=5)] == ["2"]
