"""The apply step between the Server and Cloud emulators through the real clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from jirabridge.emulator import create_app
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
from jirabridge.sync.apply import PROPERTY, Applier
from jirabridge.sync.config import SyncConfig
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.queue import Queue
from jirabridge.sync.store import Conflict, IssuePair, Store

BASE_S = "http://server.test"
BASE_C = "http://cloud.test"


def doc(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def text_of(adf: Any) -> str:
    if isinstance(adf, dict):
        return (adf.get("text") or "") + "".join(text_of(c) for c in adf.get("content") or [])
    return ""


def client(flavour: str, app: Any, auth: httpx.Auth, *, markup: bool = False) -> Any:
    """A client of ``app``; ``markup``: real wiki markup <-> ADF (else plain text)."""
    cls = CloudClient if flavour == "cloud" else ServerClient
    return cls(
        app.base_url,
        auth=auth,
        codec=None if markup else PlainCodec(),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
        governor=RateGovernor(),
        transport=httpx.ASGITransport(app=app),
    )


@dataclass
class World:
    config: SyncConfig
    queue: Queue
    applier: Applier
    bot: dict[str, Any]
    alice: dict[str, Any]
    apps: dict[str, Any]

    async def apply(self, site: str, issue_id: str) -> Any:
        self.queue.enqueue(
            ChangeNotice(
                site=site,
                issue_id=issue_id,
                event=EventKind.ISSUE_UPDATED,
                observed_at=datetime.now(UTC),
            ),
            immediate=True,
        )
        [job] = self.queue.lease("test")
        result = await self.applier.apply(job)
        assert self.queue.stats().leased == 0  # the job was completed
        return result


def make_config(s_bot: str, c_bot: str, pair: dict[str, Any] | None = None) -> SyncConfig:
    base_pair: dict[str, Any] = {
        "id": "ops",
        "server": {"site": "srv", "project": "OPS"},
        "cloud": {"site": "cld", "project": "OPS"},
        "fields": [
            {"name": "summary"},
            {"name": "description"},
            {"name": "priority"},
            {"name": "labels"},
            {"name": "status"},
        ],
        "comments": {"attribution_template": "{author} wrote:"},
    }
    base_pair.update(pair or {})
    return SyncConfig.model_validate(
        {
            "sites": {
                "srv": {
                    "flavour": "server",
                    "url": BASE_S,
                    "auth": "basic",
                    "username": "svc-jirabridge",
                    "credential": "env:X",
                    "integration_user": s_bot,
                },
                "cld": {
                    "flavour": "cloud",
                    "url": BASE_C,
                    "auth": "api_token",
                    "username": "bot@acme.io",
                    "credential": "env:Y",
                    "integration_user": c_bot,
                },
            },
            "pairs": [base_pair],
        }
    )


@asynccontextmanager
async def build_world(
    store: Store, pair: dict[str, Any] | None = None, *, markup: bool = False
) -> AsyncIterator[World]:
    server = create_app("server", base_url=BASE_S)
    cloud = create_app("cloud", base_url=BASE_C)
    s_bot = server.site.create_user(
        "Sync Bot", name="svc-jirabridge", password="pw", groups=["jira-administrators"]
    )
    server.site.create_user(
        "Alice", name="alice", password="pw", email="alice@acme.io", groups=["jira-users"]
    )
    c_bot = cloud.site.create_user(
        "Sync Bot", email="bot@acme.io", api_token="tok", groups=["site-admins", "jira-admins"]
    )
    cloud.site.create_user("Alice", email="alice@acme.io", api_token="tok", groups=["jira-users"])
    server.site.create_project("OPS", "Ops", server.site.admin_key)
    cloud.site.create_project("OPS", "Ops", cloud.site.admin_key)
    cloud.site.create_custom_field("Server key", "textfield", field_id="customfield_10090")
    config = make_config(s_bot.key, c_bot.key, pair)
    bot = {
        "srv": client("server", server, basic_auth("svc-jirabridge", "pw"), markup=markup),
        "cld": client("cloud", cloud, cloud_api_token_auth("bot@acme.io", "tok"), markup=markup),
    }
    alice = {
        "srv": client("server", server, basic_auth("alice", "pw"), markup=markup),
        "cld": client("cloud", cloud, cloud_api_token_auth("alice@acme.io", "tok"), markup=markup),
    }
    queue = Queue(store, site_sides={"srv": "server", "cld": "cloud"})
    applier = Applier(config, bot, queue)
    try:
        yield World(config, queue, applier, bot, alice, {"srv": server, "cld": cloud})
    finally:
        for c in (*bot.values(), *alice.values()):
            await c.aclose()


@pytest.fixture
async def world(store: Store) -> AsyncIterator[World]:
    async with build_world(store) as w:
        yield w


async def test_cloud_issue_gets_a_server_mirror_and_edits_flow_without_echo(
    world: World, store: Store
) -> None:
    key = await world.alice["cld"].create_issue(
        IssueInput(
            project_key="OPS",
            issue_type="Task",
            summary="Printer on fire",
            description=doc("smoke"),
            labels=("hw",),
        )
    )
    cloud_issue = await world.alice["cld"].get_issue(key)
    created = await world.apply("cld", cloud_issue.id)
    assert created.action == "created"
    with store.session() as s:
        pair = s.scalars(select(IssuePair)).one()
    mirror = await world.bot["srv"].get_issue(pair.server_key)
    assert mirror.summary == "Printer on fire"
    assert mirror.labels == ("hw",)
    assert text_of(mirror.description) == "smoke"
    prop = await world.bot["srv"].get_property(mirror.key, PROPERTY)
    assert prop["cloud"] == key and prop["pair"] == "ops"
    assert await world.bot["cld"].get_property(key, PROPERTY) == prop

    # the engine's own writes never come back as changes (no echo)
    again = await world.apply("srv", mirror.id)
    assert (again.action, again.writes) == ("synced", 0)

    # a human edit on Server flows to Cloud
    await world.alice["srv"].edit_issue(
        mirror.key, IssueInput(summary="Printer still on fire", priority="High")
    )
    edited = await world.apply("srv", mirror.id)
    assert edited.writes >= 1
    cloud_now = await world.bot["cld"].get_issue(key)
    assert cloud_now.summary == "Printer still on fire"
    assert cloud_now.priority == "High"
    assert (await world.apply("cld", cloud_issue.id)).writes == 0

    # a comment on Cloud is mirrored once, with attribution
    await world.alice["cld"].add_comment(key, doc("I called the fire brigade"))
    await world.apply("cld", cloud_issue.id)
    comments = [c async for c in world.bot["srv"].comments(mirror.key)]
    assert len(comments) == 1
    assert text_of(comments[0].body).startswith("Alice wrote:")
    assert "fire brigade" in text_of(comments[0].body)
    assert (await world.apply("srv", mirror.id)).writes == 0
    assert len([c async for c in world.bot["cld"].comments(key)]) == 1

    # a status change on Server reaches Cloud through a transition
    transitions = await world.alice["srv"].transitions(mirror.key)
    target = next(t for t in transitions if t.to_status != mirror.status)
    await world.alice["srv"].transition(mirror.key, target.id)
    await world.apply("srv", mirror.id)
    assert (await world.bot["cld"].get_issue(key)).status == target.to_status
    assert (await world.apply("cld", cloud_issue.id)).writes == 0
    with store.session() as s:
        assert s.scalars(select(Conflict)).all() == []
