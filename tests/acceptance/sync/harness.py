"""A Server emulator and a Cloud emulator kept in sync by a real SyncRunner, for acceptance tests.

Everything runs in-process: the engine's clients reach the emulators through
``httpx.ASGITransport``, and each emulator delivers its webhooks to the engine's receiver app
through another ASGI transport (the receiver is built after the runner, hence ``_LateApp``).
People: ``alice`` and ``bob`` exist on both sites with the same e-mail (matched by e-mail);
the integration users are ``svc-jirabridge`` (Server) and ``bot@acme.io`` (Cloud).

Custom fields use different ids on each side, so the field id mapping is exercised too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from jirabridge.emulator import create_app
from jirabridge.emulator.infra import ControlClient, InfraOptions
from jirabridge.jira import (
    CloudClient,
    PlainCodec,
    RateGovernor,
    RetryPolicy,
    ServerClient,
    basic_auth,
    cloud_api_token_auth,
)
from jirabridge.sync.config import SyncConfig
from jirabridge.sync.runner import SyncRunner, client_for_site
from jirabridge.sync.store import CommentPair, Conflict, IssuePair, QueueJob, Store

BASE_S = "http://server.test"
BASE_C = "http://cloud.test"
HOOK_SECRET = "hook-secret-123"
SECRETS = {"env:SRV_PW": "pw", "env:CLD_TOKEN": "tok", "env:HOOK": HOOK_SECRET}

# custom fields: (name, type, server id, cloud id, options)
NUMBER = ("Effort", "float", "customfield_10501", "customfield_10601", ())
DAY = ("Go live", "datepicker", "customfield_10502", "customfield_10602", ())
COLOUR = (
    "Colour",
    "select",
    "customfield_10503",
    "customfield_10603",
    ("Red", "Green"),
)
CLOUD_COLOURS = ("Rouge", "Vert")
TEAMS = ("Teams", "multiselect", "customfield_10504", "customfield_10604", ("Core", "Edge"))
CLOUD_TEAMS = ("Noyau", "Bord")
REVIEWER = ("Reviewer", "userpicker", "customfield_10505", "customfield_10605", ())
CUSTOM = (NUMBER, DAY, COLOUR, TEAMS, REVIEWER)


def doc(*paragraphs: list[dict[str, Any]] | str) -> dict[str, Any]:
    content = []
    for p in paragraphs:
        nodes = [{"type": "text", "text": p}] if isinstance(p, str) else p
        content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def adf_text(node: Any) -> str:
    if isinstance(node, dict):
        own = node.get("text") or ""
        if node.get("type") == "mention":
            own = str((node.get("attrs") or {}).get("text") or "")
        return own + "".join(adf_text(c) for c in node.get("content") or [])
    return ""


def adf_nodes(node: Any) -> list[dict[str, Any]]:
    if not isinstance(node, dict):
        return []
    out = [node]
    for c in node.get("content") or []:
        out.extend(adf_nodes(c))
    return out


def all_fields() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {"name": n}
        for n in (
            "summary",
            "description",
            "priority",
            "labels",
            "components",
            "fixVersions",
            "duedate",
            "assignee",
            "reporter",
            "parent",
            "status",
        )
    ]
    for name, _type, s_id, c_id, _opts in CUSTOM:
        rule: dict[str, Any] = {"name": name.lower().replace(" ", "_"), "server": s_id}
        rule["cloud"] = c_id
        if name == "Colour":
            rule["values"] = "colours"
        if name == "Teams":
            rule["values"] = "teams"
        rules.append(rule)
    return rules


def make_config(
    s_bot: str, c_bot: str, pair: Mapping[str, Any] | None = None, **top: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "ops",
        "server": {"site": "srv", "project": "OPS"},
        "cloud": {"site": "cld", "project": "OPS"},
        "fields": all_fields(),
        "translations": {
            "colours": {"map": dict(zip(COLOUR[4], CLOUD_COLOURS, strict=True))},
            "teams": {"map": dict(zip(TEAMS[4], CLOUD_TEAMS, strict=True))},
        },
        "comments": {"attribution_template": "{author} wrote:"},
        "sprints": "both",
    }
    base.update(pair or {})
    config: dict[str, Any] = {
        "version": 1,
        "sites": {
            "srv": {
                "flavour": "server",
                "url": BASE_S,
                "auth": "basic",
                "username": "svc-jirabridge",
                "credential": "env:SRV_PW",
                "integration_user": s_bot,
                "webhook_secret": "env:HOOK",
                "max_requests_per_second": 1000,
            },
            "cld": {
                "flavour": "cloud",
                "url": BASE_C,
                "auth": "api_token",
                "username": "bot@acme.io",
                "credential": "env:CLD_TOKEN",
                "integration_user": c_bot,
                "webhook_secret": "env:HOOK",
                "max_requests_per_second": 1000,
            },
        },
        "polling": {"interval_seconds": 0.2, "clock_skew_seconds": 1},
        "queue": {
            "coalesce_seconds": 0,
            "workers": 4,
            "backoff_base_seconds": 0.05,
            "backoff_max_seconds": 0.5,
            "max_attempts": 30,
        },
        "pairs": [base],
    }
    config.update(top)
    return config


class _LaterClock:
    """This machine's clock, ``seconds`` ahead."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.seconds)


class _LateApp:
    """An ASGI app whose target is set later (the receiver needs the runner first)."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is None:  # not ready yet: like a receiver that is down
            from starlette.responses import PlainTextResponse

            await PlainTextResponse("not ready", status_code=503)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def human(flavour: str, app: Any, auth: httpx.Auth) -> Any:
    cls = CloudClient if flavour == "cloud" else ServerClient
    return cls(
        app.base_url,
        auth=auth,
        codec=PlainCodec(),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
        governor=RateGovernor(),
        transport=httpx.ASGITransport(app=app),
    )


@dataclass
class Bridge:
    apps: dict[str, Any]
    runner: SyncRunner
    store: Store
    alice: dict[str, Any]
    bob: dict[str, Any]
    users: dict[str, dict[str, Any]]
    control: dict[str, ControlClient]
    receiver: _LateApp
    closers: list[Any] = field(default_factory=list)

    @property
    def bot(self) -> dict[str, Any]:
        return self.runner.clients

    async def restart(self, *, later: float = 0) -> None:
        """A new engine process on the same store: fresh clients (nothing remembered, e.g. a
        Retry-After), a new runner, the receiver pointed at its queue. ``later``: the process
        starts that many seconds later, on the engine's clock (a job the queue put off for a
        Retry-After is due by then) and on the sites' (their emulators' clocks, as
        advanced or not by the test)."""
        old = dict(self.runner.clients)
        config = self.runner.config
        clients = {
            n: client_for_site(
                s, SECRETS.__getitem__, transport=httpx.ASGITransport(app=self.apps[n]), name=n
            )
            for n, s in config.sites.items()
        }
        self.runner = SyncRunner(
            config,
            self.store,
            clients=clients,
            clock=_LaterClock(later),
            site_now=lambda site: self.apps[site].site.now(),
        )
        self.receiver.app = self.runner.receiver_app(SECRETS.__getitem__)
        for c in old.values():
            await c.aclose()

    async def register_webhooks(self) -> None:
        """Admin webhooks on both sites to the engine's receiver (signed with the secret)."""
        for name, app in self.apps.items():
            auth = (
                cloud_api_token_auth("bot@acme.io", "tok")
                if name == "cld"
                else basic_auth("svc-jirabridge", "pw")
            )
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=app.base_url
            ) as c:
                r = await c.post(
                    "/rest/webhooks/1.0/webhook",
                    auth=auth,
                    json={
                        "name": "jirabridge",
                        "url": f"http://receiver.test/webhooks/{name}",
                        "events": [
                            "jira:issue_created",
                            "jira:issue_updated",
                            "jira:issue_deleted",
                            "comment_created",
                            "comment_updated",
                            "comment_deleted",
                        ],
                        "filters": {"issue-related-events-section": "project = OPS"},
                        "excludeBody": False,
                        "secret": HOOK_SECRET,
                    },
                )
            assert r.status_code == 201, r.text

    async def flush_webhooks(self) -> None:
        for app in self.apps.values():
            await app.infra.flush_webhooks()

    def queued(self) -> int:
        stats = self.runner.queue.stats()
        return int(stats.queued + stats.leased)

    async def drain(self, within: float = 60) -> None:
        async with asyncio.timeout(within):
            await self.runner.drain()

    async def settle(self, *, rounds: int = 8, within: float = 120) -> int:
        """Poll both sides and apply until a poll round finds nothing new and the queue is
        empty; returns the number of rounds it took. Fails when it does not settle."""
        found: list[int] = []
        async with asyncio.timeout(within):
            for n in range(1, rounds + 1):
                result = await self.runner.poll_round()
                assert result.errors == (), result.errors
                await self.runner.drain()
                found.append(sum(p.queued for p in result.polls))
                if found[-1] == 0 and self.queued() == 0:
                    return n
        with self.store.session() as s:
            jobs = [
                (j.key, j.state, j.attempts, j.available_at, j.last_error)
                for j in s.scalars(select(QueueJob))
            ]
        raise AssertionError(
            f"the pair did not settle in {rounds} poll rounds: changes found per round "
            f"{found}, queue now {self.runner.queue.stats()}, jobs {jobs}"
        )

    def pairs(self) -> dict[str, IssuePair]:
        with self.store.session() as s:
            return {r.server_key: r for r in s.scalars(select(IssuePair))}

    def mirror_of(self, side: str, key: str) -> str:
        """The key of the mirror of ``side``'s issue ``key`` (keys repeat across sites)."""
        with self.store.session() as s:
            for r in s.scalars(select(IssuePair)):
                if side == "srv" and r.server_key == key:
                    return str(r.cloud_key)
                if side == "cld" and r.cloud_key == key:
                    return str(r.server_key)
        raise AssertionError(f"{side} {key} has no mirror")

    def conflicts(self) -> list[Conflict]:
        with self.store.session() as s:
            return list(s.scalars(select(Conflict)))

    def comment_pairs(self) -> int:
        with self.store.session() as s:
            return int(s.scalar(select(func.count()).select_from(CommentPair)) or 0)

    def model_issue(self, side: str, key: str) -> Any:
        return self.apps[side].site.get_issue(key)

    async def counters(self, side: str) -> dict[str, Any]:
        return await self.control[side].counters()


@asynccontextmanager
async def bridge(
    store: Store,
    pair: Mapping[str, Any] | None = None,
    *,
    with_webhooks: bool = False,
    **top: Any,
) -> AsyncIterator[Bridge]:
    receiver = _LateApp()
    apps: dict[str, Any] = {}
    for name, flavour, base in (("srv", "server", BASE_S), ("cld", "cloud", BASE_C)):
        options = InfraOptions(base_url=base, webhook_transport=httpx.ASGITransport(app=receiver))
        apps[name] = create_app(flavour, base_url=base, options=options)
    srv, cld = apps["srv"].site, apps["cld"].site
    s_bot = srv.create_user(
        "Sync Bot", name="svc-jirabridge", password="pw", groups=["jira-administrators"]
    )
    c_bot = cld.create_user(
        "Sync Bot", email="bot@acme.io", api_token="tok", groups=["site-admins", "jira-admins"]
    )
    users: dict[str, dict[str, Any]] = {"srv": {}, "cld": {}}
    for login, display in (("alice", "Alice Adams"), ("bob", "Bob Brown")):
        email = f"{login}@acme.io"
        users["srv"][login] = srv.create_user(
            display, name=login, password="pw", email=email, groups=["jira-users"]
        )
        users["cld"][login] = cld.create_user(
            display, email=email, api_token="tok", groups=["jira-users"]
        )
    for site in (srv, cld):
        site.create_project("OPS", "Ops", site.admin_key)
        for comp in ("Backend", "Frontend"):
            site.create_component("OPS", comp)
        for version in ("1.0", "2.0"):
            site.create_version("OPS", version)
    for name, type_key, s_id, c_id, options in CUSTOM:
        srv.create_custom_field(name, type_key, field_id=s_id, options=options)
        c_options = {"Colour": CLOUD_COLOURS, "Teams": CLOUD_TEAMS}.get(name, options)
        cld.create_custom_field(name, type_key, field_id=c_id, options=c_options)
    config = SyncConfig.model_validate(make_config(s_bot.key, c_bot.key, pair, **top))
    transports = {n: httpx.ASGITransport(app=a) for n, a in apps.items()}
    clients = {
        n: client_for_site(s, SECRETS.__getitem__, transport=transports[n], name=n)
        for n, s in config.sites.items()
    }
    runner = SyncRunner(config, store, clients=clients)
    receiver.app = runner.receiver_app(SECRETS.__getitem__)
    alice = {
        "srv": human("server", apps["srv"], basic_auth("alice", "pw")),
        "cld": human("cloud", apps["cld"], cloud_api_token_auth("alice@acme.io", "tok")),
    }
    bob = {
        "srv": human("server", apps["srv"], basic_auth("bob", "pw")),
        "cld": human("cloud", apps["cld"], cloud_api_token_auth("bob@acme.io", "tok")),
    }
    control = {n: ControlClient(a.base_url, transport=transports[n]) for n, a in apps.items()}
    b = Bridge(apps, runner, store, alice, bob, users, control, receiver)
    try:
        if with_webhooks:
            await b.register_webhooks()
        yield b
    finally:
        for c in (*b.runner.clients.values(), *alice.values(), *bob.values(), *control.values()):
            with contextlib.suppress(Exception):
                await c.aclose()
        for app in apps.values():
            with contextlib.suppress(Exception):
                await app.infra.stop()
