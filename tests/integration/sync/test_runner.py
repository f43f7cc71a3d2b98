"""SyncRunner end to end between both emulators: backfill, polling, hot reload, reconcile."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import func, select

from jirabridge.emulator import EmulatorApp, create_app
from jirabridge.jira import IssueInput
from jirabridge.sync.config import ConfigWatcher, ReloadOutcome, SiteConfig
from jirabridge.sync.engine import SiteClient
from jirabridge.sync.runner import SyncRunner, client_for_site
from jirabridge.sync.store import IssuePair, Store

from .test_apply_emulator import BASE_C, BASE_S, client

SECRETS = {"env:SRV_PW": "pw", "env:CLD_TOKEN": "tok"}


def write_config(path: Path, s_bot: str, c_bot: str, summary_direction: str = "both") -> None:
    path.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "sites": {
                    "srv": {
                        "flavour": "server",
                        "url": BASE_S,
                        "auth": "basic",
                        "username": "svc-jirabridge",
                        "credential": "env:SRV_PW",
                        "integration_user": s_bot,
                    },
                    "cld": {
                        "flavour": "cloud",
                        "url": BASE_C,
                        "auth": "api_token",
                        "username": "bot@acme.io",
                        "credential": "env:CLD_TOKEN",
                        "integration_user": c_bot,
                    },
                },
                "queue": {"coalesce_seconds": 0.2, "workers": 2},  # drain waits it out
                "pairs": [
                    {
                        "id": "ops",
                        "server": {"site": "srv", "project": "OPS"},
                        "cloud": {"site": "cld", "project": "OPS"},
                        "fields": [
                            {"name": "summary", "direction": summary_direction},
                            {"name": "priority"},
                        ],
                    }
                ],
            }
        )
    )


async def test_backfill_poll_reload_reconcile(store: Store, tmp_path: Path) -> None:
    server = create_app("server", base_url=BASE_S)
    cloud = create_app("cloud", base_url=BASE_C)
    s_bot = server.site.create_user(
        "Bot", name="svc-jirabridge", password="pw", groups=["jira-administrators"]
    )
    server.site.create_user("Alice", name="alice", password="pw", groups=["jira-users"])
    c_bot = cloud.site.create_user(
        "Bot", email="bot@acme.io", api_token="tok", groups=["site-admins", "jira-admins"]
    )
    cloud.site.create_user("Alice", email="alice@acme.io", api_token="tok", groups=["jira-users"])
    server.site.create_project("OPS", "Ops", server.site.admin_key)
    cloud.site.create_project("OPS", "Ops", cloud.site.admin_key)
    transports = {"srv": httpx.ASGITransport(app=server), "cld": httpx.ASGITransport(app=cloud)}
    made: list[Any] = []

    def factory(name: str, site: SiteConfig) -> SiteClient:
        c = client_for_site(site, SECRETS.__getitem__, transport=transports[name])
        made.append(c)
        return c

    from jirabridge.jira import basic_auth, cloud_api_token_auth

    alice_s = client("server", server, basic_auth("alice", "pw"))
    alice_c = client("cloud", cloud, cloud_api_token_auth("alice@acme.io", "tok"))
    path = tmp_path / "jirabridge.yaml"
    write_config(path, s_bot.key, c_bot.key)
    try:
        for i in range(2):
            await alice_s.create_issue(
                IssueInput(project_key="OPS", issue_type="Task", summary=f"server {i}")
            )
        c_key = await alice_c.create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="cloud 0")
        )
        runner = SyncRunner(ConfigWatcher(path), store, factory=factory)
        async with asyncio.timeout(60):
            first = await runner.backfill()
        assert first.errors == ()
        with store.session() as s:
            rows = s.scalars(select(IssuePair).order_by(IssuePair.id)).all()
        assert len(rows) == 3
        by_cloud = {r.cloud_key: r for r in rows}
        s_key = by_cloud[c_key].server_key
        assert (await alice_s.get_issue(s_key)).summary == "cloud 0"
        # the mirrors the backfill wrote come back in the next poll, but as our own writes
        async with asyncio.timeout(60):
            echo = await runner.poll_round()
        assert sum(p.read for p in echo.polls) >= 3
        assert sum(p.queued for p in echo.polls) == 0

        await alice_c.edit_issue(c_key, IssueInput(summary="cloud edited"))
        async with asyncio.timeout(60):
            await runner.poll_round()
            await runner.drain()
        assert (await alice_s.get_issue(s_key)).summary == "cloud edited"

        # hot reload: summary now flows only Server -> Cloud
        write_config(path, s_bot.key, c_bot.key, summary_direction="server_to_cloud")
        async with asyncio.timeout(60):
            reloaded = await runner.poll_round()
        assert reloaded.reload is ReloadOutcome.RELOADED
        await alice_c.edit_issue(c_key, IssueInput(summary="cloud only"))
        async with asyncio.timeout(60):
            await runner.poll_round()
            await runner.drain()
        assert (await alice_s.get_issue(s_key)).summary == "cloud edited"

        # a bad file keeps the running configuration
        path.write_text(path.read_text().replace("flavour: cloud", "flavour: moon"))
        async with asyncio.timeout(60):
            rejected = await runner.poll_round()
        assert rejected.reload is ReloadOutcome.REJECTED
        assert runner.config.pairs[0].fields[0].direction.value == "server_to_cloud"

        async with asyncio.timeout(60):
            assert await runner.reconcile() == 3
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(IssuePair)) == 3
        assert runner.queue.stats().dead == 0
    finally:
        for c in (*made, alice_s, alice_c):
            await c.aclose()


async def test_lost_store_is_rebuilt_from_the_sites_without_duplicates(
    store: Store, tmp_path: Path
) -> None:
    from jirabridge.sync.store import open_store

    ops = ops_sites(tmp_path)
    made, factory, path, alice_s = ops.made, ops.factory, ops.path, ops.alice
    fresh = open_store(f"sqlite:///{tmp_path / 'restored.db'}")
    try:
        for i in range(3):
            await alice_s.create_issue(
                IssueInput(project_key="OPS", issue_type="Task", summary=f"server {i}")
            )
        runner = SyncRunner(ConfigWatcher(path), store, factory=factory)
        async with asyncio.timeout(60):
            await runner.backfill()
        cloud_count = len([i async for i in runner.clients["cld"].search('project = "OPS"')])
        assert cloud_count == 3

        # the store is lost: a new, empty one
        restored = SyncRunner(ConfigWatcher(path), fresh, factory=factory)
        async with asyncio.timeout(60):
            assert await restored.rebuild_pairs() == 3
            assert await restored.rebuild_pairs() == 0  # idempotent
            await restored.backfill()
        assert len([i async for i in restored.clients["cld"].search('project = "OPS"')]) == 3

        # an ambiguous create is found again (by the marker it carries from its create)
        # instead of being sent twice; an unmarked issue of the same summary is not ours
        from jirabridge.sync.apply import PROPERTY
        from jirabridge.sync.config import Side

        bot_c = restored.clients["cld"]
        marker = {"pair": "ops", "server": "OPS-99", "origin": "server:99999"}
        key = await bot_c.create_issue(
            IssueInput(
                project_key="OPS",
                issue_type="Task",
                summary="maybe created",
                properties={PROPERTY: marker},
            )
        )
        await bot_c.create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="maybe created")
        )
        found = await restored.applier.find_unpaired_mirror(
            bot_c, "ops", Side.CLOUD, "OPS", "server:99999"
        )
        assert found == key
        paired = [i async for i in alice_s.search('project = "OPS" AND summary ~ "server 0"')]
        none = await restored.applier.find_unpaired_mirror(
            bot_c, "ops", Side.CLOUD, "OPS", f"server:{paired[0].id}"
        )
        assert none is None  # exists, but already paired: not ours to reuse
    finally:
        fresh.dispose()
        for c in (*made, alice_s):
            await c.aclose()


@dataclass
class OpsSites:
    """A Server and a Cloud emulator with an OPS project each, the engine's bot on both,
    Alice on Server, a written config, and a client factory that remembers what it made."""

    server: EmulatorApp
    cloud: EmulatorApp
    transports: dict[str, httpx.ASGITransport]
    made: list[Any]
    factory: Callable[[str, SiteConfig], SiteClient]
    alice: Any
    path: Path


def ops_sites(tmp_path: Path) -> OpsSites:
    from jirabridge.jira import basic_auth

    server = create_app("server", base_url=BASE_S)
    cloud = create_app("cloud", base_url=BASE_C)
    s_bot = server.site.create_user(
        "Bot", name="svc-jirabridge", password="pw", groups=["jira-administrators"]
    )
    server.site.create_user("Alice", name="alice", password="pw", groups=["jira-users"])
    c_bot = cloud.site.create_user(
        "Bot", email="bot@acme.io", api_token="tok", groups=["site-admins", "jira-admins"]
    )
    server.site.create_project("OPS", "Ops", server.site.admin_key)
    cloud.site.create_project("OPS", "Ops", cloud.site.admin_key)
    transports = {"srv": httpx.ASGITransport(app=server), "cld": httpx.ASGITransport(app=cloud)}
    made: list[Any] = []

    def factory(name: str, site: SiteConfig) -> SiteClient:
        c = client_for_site(site, SECRETS.__getitem__, transport=transports[name])
        made.append(c)
        return c

    alice = client("server", server, basic_auth("alice", "pw"))
    path = tmp_path / "jirabridge.yaml"
    write_config(path, s_bot.key, c_bot.key)
    return OpsSites(server, cloud, transports, made, factory, alice, path)
