"""Webhooks from both emulators (real payloads, signatures, retries, losses) into the receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from jirabridge.emulator import create_app
from jirabridge.emulator.infra import InfraOptions, WebhookFaults
from jirabridge.jira import (
    CloudClient,
    IssueInput,
    PlainCodec,
    RateGovernor,
    RetryPolicy,
    ServerClient,
    basic_auth,
    cloud_api_token_auth,
)
from jirabridge.sync.config import PairSide, PollingConfig, QueueConfig
from jirabridge.sync.engine import poll_once
from jirabridge.sync.queue import Queue
from jirabridge.sync.store import QueueNotice, Store
from jirabridge.sync.webhooks import ReceiverSite, create_receiver

SECRET = "hook-secret"
BASE = "http://jira.test"


class Rig:
    def __init__(
        self, flavour: str, queue: Queue, *, faults: WebhookFaults, echo_user: bool
    ) -> None:
        self.flavour = flavour
        self.queue = queue
        self.sites: dict[str, ReceiverSite] = {}
        receiver = create_receiver(sites=lambda: self.sites, queue=queue)
        options = InfraOptions(
            base_url=BASE,
            webhook_transport=httpx.ASGITransport(app=receiver),
            webhook_faults=faults,
        )
        self.app = create_app(flavour, base_url=BASE, options=options)
        self.site = self.app.site
        self.site.create_project("OPS", "Operations", self.site.admin_key)
        me = {self.site.admin_key, "admin"} if echo_user else {"somebody-else"}
        self.sites["s"] = ReceiverSite("s", SECRET, frozenset(me))
        cloud = flavour == "cloud"
        self.auth = (
            cloud_api_token_auth("admin@jirabridge.test", "admin")
            if cloud
            else basic_auth("admin", "admin")
        )
        self.transport = httpx.ASGITransport(app=self.app)
        self.client: Any = (CloudClient if cloud else ServerClient)(
            BASE,
            auth=self.auth,
            codec=PlainCodec(),
            retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
            governor=RateGovernor(),
            transport=self.transport,
        )

    async def register(self, secret: str = SECRET) -> None:
        async with httpx.AsyncClient(transport=self.transport, base_url=BASE) as c:
            r = await c.post(
                "/rest/webhooks/1.0/webhook",
                auth=self.auth,
                json={
                    "name": "jirabridge",
                    "url": "http://receiver.test/webhooks/s",
                    "events": ["jira:issue_created", "jira:issue_updated", "comment_created"],
                    "filters": {"issue-related-events-section": "project = OPS"},
                    "excludeBody": False,
                    "secret": secret,
                },
            )
        assert r.status_code == 201, r.text

    async def activity(self) -> str:
        key = await self.client.create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="hello")
        )
        await self.client.edit_issue(key, IssueInput(summary="hello again"))
        await self.client.add_comment(
            key,
            {
                "type": "doc",
                "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hi"}]}],
            },
        )
        assert await self.app.infra.flush_webhooks()
        return key

    def notices(self) -> list[dict[str, Any]]:
        with self.queue.store.session() as s:
            return list(s.scalars(select(QueueNotice.notice).order_by(QueueNotice.id)))


@pytest.fixture(params=["server", "cloud"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def rigs(store: Store) -> AsyncIterator[list[Rig]]:
    made: list[Rig] = []
    yield made
    for rig in made:
        await rig.client.aclose()
        await rig.app.infra.stop()


def make(rigs: list[Rig], flavour: str, store: Store, **kw: Any) -> Rig:
    kw.setdefault("faults", WebhookFaults())
    kw.setdefault("echo_user", False)
    rig = Rig(flavour, Queue(store, config=QueueConfig(coalesce_seconds=0)), **kw)
    rigs.append(rig)
    return rig


async def test_signed_deliveries_are_queued(flavour: str, store: Store, rigs: list[Rig]) -> None:
    rig = make(rigs, flavour, store)
    await rig.register()
    key = await rig.activity()
    notices = rig.notices()
    events = [n["event"] for n in notices]
    assert {"issue_created", "comment_created"} <= set(events), events
    assert len(notices) >= 3
    issue_id = (await rig.client.get_issue(key)).id
    assert {n["issue_id"] for n in notices} == {issue_id}
    assert rig.queue.stats().queued == 1  # one issue, one coalesced job


async def test_cloud_duplicate_deliveries_are_deduped(store: Store, rigs: list[Rig]) -> None:
    rig = make(rigs, "cloud", store, faults=WebhookFaults(duplicate_rate=1.0))
    await rig.register()
    await rig.activity()
    notices = rig.notices()
    ids = [n["webhook_id"] for n in notices]
    assert all(ids) and len(ids) == len(set(ids))
    async with httpx.AsyncClient(transport=rig.transport, base_url=BASE) as c:
        sent = (await c.get("/_emulator/webhooks/deliveries")).json()["deliveries"]
    duplicates = [d for d in sent if d["duplicateOf"] is not None]
    assert duplicates, "the emulator should have delivered duplicates"
    assert len(sent) == len(ids) + len(duplicates)


async def test_wrong_secret_is_refused_and_nothing_queued(
    flavour: str, store: Store, rigs: list[Rig]
) -> None:
    rig = make(rigs, flavour, store)
    await rig.register(secret="not-the-secret")
    await rig.activity()
    assert rig.notices() == []


async def test_integration_user_edits_do_not_echo(
    flavour: str, store: Store, rigs: list[Rig]
) -> None:
    rig = make(rigs, flavour, store, echo_user=True)
    await rig.register()
    await rig.activity()
    assert rig.notices() == []


async def test_lost_webhooks_are_caught_by_polling(
    flavour: str, store: Store, rigs: list[Rig]
) -> None:
    rig = make(rigs, flavour, store, faults=WebhookFaults(drop_rate=1.0))
    await rig.register()
    key = await rig.activity()
    assert rig.notices() == []
    outcome = await poll_once(
        client=rig.client,
        site="s",
        side=PairSide(site="s", project="OPS"),
        queue=rig.queue,
        polling=PollingConfig(),
        tz=ZoneInfo("UTC"),
        now=rig.site.clock.now(),
    )
    assert outcome.queued == 1
    [notice] = rig.notices()
    assert notice["issue_key"] == key and notice["source"] == "poll"
