"""SyncRunner robustness: a reload is taken whole or not at all (and retried), one broken
side never stops a poll round, drain() does not wait for jobs that wait for a person,
replaced clients are closed, nothing keeps running after a failed drain, and the receiver
follows ``webhooks.dedupe_hours`` / ``max_body_bytes`` from the configuration in force."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from jirabridge.cli import app
from jirabridge.errors import FixConfigError, ReauthenticateError
from jirabridge.sync import runner as runner_module
from jirabridge.sync.config import ConfigWatcher, ReloadOutcome, Side, SiteConfig, example_text
from jirabridge.sync.notices import ChangeNotice, EventKind, NoticeSource
from jirabridge.sync.pairs import link_pair
from jirabridge.sync.queue import Job
from jirabridge.sync.runner import SyncRunner
from jirabridge.sync.store import QueueNotice, Store, WebhookSeen, open_store

from .conftest import FakeClock


class FakeClient:
    """Never called by these tests except to be closed."""

    def __init__(self, name: str, url: str) -> None:
        self.name, self.url = name, url
        self.closed = 0

    async def aclose(self) -> None:
        self.closed += 1


class Sites:
    """A client factory whose sites can be made unbuildable (a credential not set yet)."""

    def __init__(self) -> None:
        self.broken: set[str] = set()
        self.made: list[FakeClient] = []

    def __call__(self, name: str, site: SiteConfig) -> Any:
        if name in self.broken:
            raise FixConfigError(f"site {name!r}: environment variable CLOUD2_TOKEN is not set")
        client = FakeClient(name, str(site.url))
        self.made.append(client)
        return client


def write(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data))
    st = path.stat()  # a new mtime even within the file system's timestamp granularity
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def base_config(**queue: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(example_text())
    data["queue"].update(queue)
    return data


def with_second_site(data: dict[str, Any]) -> dict[str, Any]:
    data["sites"]["cloud2"] = {
        "flavour": "cloud",
        "url": "https://other.atlassian.net",
        "auth": "api_token",
        "username": "x@example.com",
        "credential": "env:CLOUD2_TOKEN",
        "integration_user": "5b10ac8d82e05b22cc7d4ef6",
    }
    data["pairs"].insert(
        0,
        {
            "id": "first",
            "server": {"site": "server", "project": "AAA"},
            "cloud": {"site": "cloud2", "project": "BBB"},
            "fields": [{"name": "summary"}],
        },
    )
    return data


def notice(issue_id: str, site: str = "cloud", key: str | None = None) -> ChangeNotice:
    from datetime import UTC, datetime

    return ChangeNotice(
        site=site,
        issue_id=issue_id,
        issue_key=key,
        event=EventKind.ISSUE_UPDATED,
        observed_at=datetime.now(UTC),
        source=NoticeSource.MANUAL,
    )


# ---- 1. reload: all or nothing, retried; poll rounds survive a broken side -----------------


async def test_a_reload_whose_new_client_cannot_be_built_changes_nothing_and_is_retried(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.yaml"
    write(path, base_config())
    sites = Sites()
    runner = SyncRunner(ConfigWatcher(path), store, factory=sites)
    old_config, old_applier, old_clients = runner.config, runner.applier, dict(runner.clients)

    sites.broken.add("cloud2")
    write(path, with_second_site(base_config()))
    assert await runner.reload_async() is ReloadOutcome.REJECTED
    # nothing changed: config, clients and applier are all the old ones
    assert runner.config is old_config
    assert runner.applier is old_applier
    assert runner.applier.config is old_config
    assert runner.clients == old_clients
    assert "CLOUD2_TOKEN is not set" in caplog.text
    # the file is not taken as seen: the next look tries it again (not "unchanged")
    caplog.clear()
    assert await runner.reload_async() is ReloadOutcome.REJECTED
    assert runner.config is old_config
    assert "CLOUD2_TOKEN" not in caplog.text  # the same reason is logged once, not per try

    sites.broken.clear()  # the variable is set now
    assert await runner.reload_async() is ReloadOutcome.RELOADED
    assert [p.id for p in runner.config.pairs] == ["first", "ops"]
    assert runner.applier is not old_applier
    assert runner.applier.config is runner.config
    assert set(runner.clients) == {"server", "cloud", "cloud2"}
    # unchanged sites keep their clients
    assert runner.clients["server"] is old_clients["server"]
    assert runner.clients["cloud"] is old_clients["cloud"]
    assert await runner.reload_async() is ReloadOutcome.UNCHANGED


async def test_a_new_site_without_a_client_factory_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    write(path, base_config())
    clients: Any = {"server": FakeClient("server", ""), "cloud": FakeClient("cloud", "")}
    runner = SyncRunner(ConfigWatcher(path), store, clients=clients)
    write(path, with_second_site(base_config()))
    assert await runner.reload_async() is ReloadOutcome.REJECTED
    assert [p.id for p in runner.config.pairs] == ["ops"]
    assert "cloud2" not in runner.clients


async def test_one_failing_side_does_not_keep_the_other_pairs_unpolled(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    write(path, with_second_site(base_config()))
    runner = SyncRunner(ConfigWatcher(path), store, factory=Sites())
    polled: list[tuple[str, str]] = []

    async def poll_once(*, site: str, side: Any, **_: Any) -> None:
        if site == "cloud2":  # not even a JirabridgeError: a bug, or a client gone wrong
            raise KeyError("cloud2")
        polled.append((side.project, site))

    monkeypatch.setattr(runner_module, "poll_once", poll_once)
    result = await runner.poll_round(reload=False)
    assert polled == [("AAA", "server"), ("OPS", "server"), ("OPS", "cloud")]
    assert len(result.errors) == 1
    assert result.errors[0].startswith("first/cloud2:")


# ---- 2. drain does not wait for jobs that wait for a person --------------------------------


class Failing:
    """An applier whose every job needs a person first."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    async def __call__(self, job: Job) -> bool:
        self.calls += 1
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        FixConfigError("site 'cloud': credential store:cloud-api-token is missing"),
        ReauthenticateError("site 'cloud': the API token was rejected (401)"),
    ],
)
async def test_drain_returns_and_reports_jobs_released_for_a_person(
    store: Store, tmp_path: Path, clock: FakeClock, error: Exception
) -> None:
    path = tmp_path / "c.yaml"
    write(path, base_config(coalesce_seconds=0))
    runner = SyncRunner(ConfigWatcher(path), store, factory=Sites(), clock=clock)
    failing = Failing(error)
    runner.applier = failing  # type: ignore[assignment]
    runner.queue.enqueue(notice("10001", key="OPS-1"), immediate=True)
    async with asyncio.timeout(30):
        waiting = await runner.drain(workers=1)
    assert failing.calls == 1
    assert [(w.subject, w.site, w.reason) for w in waiting] == [("OPS-1", "cloud", str(error))]
    assert runner.waiting_for_you() == list(waiting)
    # kept, not dropped: the queue retries it later
    assert runner.queue.stats().queued == 1

    # a later run (this process knows nothing of it) does not wait for it either
    again = SyncRunner(ConfigWatcher(path), store, factory=Sites(), clock=clock)
    again.applier = failing  # type: ignore[assignment]
    async with asyncio.timeout(30):
        assert await again.drain(workers=1) == ()
    assert failing.calls == 1


async def test_a_job_that_succeeds_later_no_longer_waits_for_you(
    store: Store, tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "c.yaml"
    write(path, base_config(coalesce_seconds=0))
    runner = SyncRunner(ConfigWatcher(path), store, factory=Sites(), clock=clock)
    runner.applier = Failing(FixConfigError("no credential"))  # type: ignore[assignment]
    runner.queue.enqueue(notice("10001", key="OPS-1"), immediate=True)
    async with asyncio.timeout(30):
        assert len(await runner.drain(workers=1)) == 1
    done: list[str] = []

    async def works(job: Job) -> bool:
        done.append(job.issue_id)
        return False

    runner.applier = works  # type: ignore[assignment]
    clock.advance(3600)  # past its backoff
    async with asyncio.timeout(30):
        assert await runner.drain(workers=1) == ()
    assert done == ["10001"]
    assert runner.waiting_for_you() == []


async def test_drain_still_waits_for_jobs_in_their_coalescing_delay(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "c.yaml"
    write(path, base_config(coalesce_seconds=0.2))
    runner = SyncRunner(ConfigWatcher(path), store, factory=Sites())
    done: list[str] = []

    async def works(job: Job) -> bool:
        done.append(job.issue_id)
        return False

    runner.applier = works  # type: ignore[assignment]
    runner.queue.enqueue(notice("10001"))  # not immediate: it coalesces first
    async with asyncio.timeout(30):
        assert await runner.drain(workers=1) == ()
    assert done == ["10001"]


@pytest.mark.timeout(120)
def test_reconcile_says_what_waits_for_you_and_exits_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    path = tmp_path / "c.yaml"
    write(path, base_config(coalesce_seconds=0))
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = open_store(url)
    with store.session() as session:
        for n in (1, 2):
            link_pair(
                session,
                pair_id="ops",
                server=(f"1000{n}", f"OPS-{n}"),
                cloud=(f"2000{n}", f"CL-{n}"),
                origin=Side.SERVER,
                now=datetime.now(UTC),
            )

    class NeedsAPerson:
        def __init__(self, config: Any, clients: Any, queue: Any, **_: Any) -> None:
            self.config = config

        async def __call__(self, job: Job) -> bool:
            raise FixConfigError("site 'cloud': secret 'cloud-api-token' is not in the store")

    monkeypatch.setattr(runner_module, "Applier", NeedsAPerson)
    monkeypatch.setattr(
        runner_module,
        "client_for_site",
        lambda site, resolve, name=None: FakeClient(name or "", str(site.url)),
    )
    result = CliRunner().invoke(app, ["reconcile", "--config", str(path), "--store", url])
    assert result.exit_code == 1, result.output
    assert "compared 2 issue pair(s)" in result.output
    assert (
        "2 item(s) wait for you: site 'cloud': secret 'cloud-api-token' is not in the store "
        "(OPS-1, OPS-2)"
    ) in result.output


# ---- 4. no leaks: replaced clients are closed, a failed drain leaves nothing running -------


async def test_a_reload_closes_replaced_clients_once_their_jobs_end(
    store: Store, tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "c.yaml"
    data = base_config(coalesce_seconds=0)
    write(path, data)
    sites = Sites()
    runner = SyncRunner(ConfigWatcher(path), store, factory=sites, clock=clock)
    old_server, old_cloud = runner.clients["server"], runner.clients["cloud"]
    release = asyncio.Event()
    started = asyncio.Event()
    seen: list[Any] = []

    async def slow(job: Job) -> bool:
        seen.append(runner.clients["cloud"])
        started.set()
        await release.wait()
        return False

    runner.applier = slow  # type: ignore[assignment]
    runner.queue.enqueue(notice("10001"), immediate=True)
    [job] = runner.queue.lease("w")
    running = asyncio.create_task(runner._apply(job))
    await started.wait()

    data["sites"]["cloud"]["url"] = "https://moved.atlassian.net"
    write(path, data)
    assert await runner.reload_async() is ReloadOutcome.RELOADED
    assert runner.clients["server"] is old_server  # unchanged site: same client
    assert runner.clients["cloud"] is not old_cloud
    await asyncio.sleep(0.05)
    assert old_cloud.closed == 0  # a job still uses it

    release.set()
    assert await running is False
    async with asyncio.timeout(10):
        while not old_cloud.closed:  # noqa: ASYNC110 (closed by a task of the runner)
            await asyncio.sleep(0.01)
    assert old_cloud.closed == 1
    assert old_server.closed == 0
    assert runner.clients["cloud"].closed == 0  # type: ignore[attr-defined]

    await runner.aclose()
    assert old_server.closed == 1
    assert runner.clients["cloud"].closed == 1  # type: ignore[attr-defined]


async def test_clients_built_for_a_refused_reload_are_closed(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    data = base_config()
    write(path, data)
    sites = Sites()
    runner = SyncRunner(ConfigWatcher(path), store, factory=sites)
    changed = with_second_site(base_config())
    changed["sites"]["cloud"]["url"] = "https://moved.atlassian.net"  # built before cloud2
    sites.broken.add("cloud2")
    write(path, changed)
    assert await runner.reload_async() is ReloadOutcome.REJECTED
    [built] = [c for c in sites.made if c.url.startswith("https://moved")]
    async with asyncio.timeout(10):
        while not built.closed:  # noqa: ASYNC110 (closed by a task of the runner)
            await asyncio.sleep(0.01)
    assert runner.clients["cloud"] is not built


async def test_a_failing_drain_leaves_no_task_running(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    write(path, base_config())
    runner = SyncRunner(ConfigWatcher(path), store, factory=Sites())
    calls: list[int] = []

    def store_down(*_: Any) -> bool:
        calls.append(1)
        raise RuntimeError("state store unreachable")

    runner._due_or_running = store_down  # type: ignore[method-assign]
    async with asyncio.timeout(30):
        with pytest.raises(RuntimeError, match="unreachable"):
            await runner.drain(workers=1)
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert others == []  # the workers were stopped, not left running


# ---- 3. the receiver follows the configuration in force ------------------------------------


async def test_the_receiver_uses_dedupe_hours_and_the_current_max_body(
    store: Store, tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "c.yaml"
    data = base_config()
    data["webhooks"].update(dedupe_hours=5, max_body_bytes=2048)
    write(path, data)
    runner = SyncRunner(ConfigWatcher(path), store, factory=Sites(), clock=clock)
    secrets = {"env:JIRA_SERVER_WEBHOOK_SECRET": "k", "env:JIRA_CLOUD_WEBHOOK_SECRET": "c"}
    receiver = runner.receiver_app(secrets.__getitem__)
    body = {
        "webhookEvent": "jira:issue_updated",
        "issue": {"id": "10001", "key": "OPS-1"},
        "padding": "x" * 3000,
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=receiver), base_url="http://receiver"
    ) as client:

        async def post(ident: str) -> int:
            answer = await client.post(
                "/webhooks/server?secret=k",
                json=body,
                headers={"X-Atlassian-Webhook-Identifier": ident},
            )
            return answer.status_code

        assert await post("a") == 413  # over 2048 bytes
        data["webhooks"]["max_body_bytes"] = 8192
        write(path, data)
        assert await runner.reload_async() is ReloadOutcome.RELOADED
        assert await post("a") == 202  # the new limit, without a restart
        with store.session() as session:
            seen = session.scalars(select(WebhookSeen)).one()
            assert seen.expires_at == clock.now() + timedelta(hours=5)
        assert await post("a") == 200  # a retry of the same delivery: deduplicated
        clock.advance(5 * 3600 + 1)
        assert await post("a") == 202  # five hours on, the identifier is forgotten
        with store.session() as session:
            assert len(session.scalars(select(QueueNotice)).all()) == 2


async def test_the_worker_pool_follows_queue_workers_on_reload(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    data = base_config(coalesce_seconds=0, workers=1)
    data["polling"]["interval_seconds"] = 3600
    write(path, data)
    runner = SyncRunner(ConfigWatcher(path), store, factory=Sites(), reload_seconds=0.05)

    async def no_poll(**_: Any) -> None:
        return None

    monkeypatch.setattr(runner_module, "poll_once", no_poll)
    running: set[str] = set()
    most: list[int] = [0]
    go = asyncio.Event()

    async def blocking(job: Job) -> bool:
        running.add(job.issue_id)
        most[0] = max(most[0], len(running))
        try:
            await go.wait()
        finally:
            running.discard(job.issue_id)
        return False

    async def until(check: Any) -> None:
        async with asyncio.timeout(20):
            while not check():  # noqa: ASYNC110 (watches the runner from outside)
                await asyncio.sleep(0.01)

    monkeypatch.setattr(runner_module, "Applier", lambda *_a, **_k: blocking)  # also on reload
    runner.applier = blocking  # type: ignore[assignment]
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        for i in range(3):
            runner.queue.enqueue(notice(f"1000{i}"), immediate=True)
        await until(lambda: len(running) == 1)
        data["queue"]["workers"] = 3
        write(path, data)
        await until(lambda: len(running) == 3)  # grown without a restart
        assert runner.config.queue.workers == 3

        data["queue"]["workers"] = 1
        write(path, data)
        await until(lambda: runner.config.queue.workers == 1)
        assert len(running) == 3  # shrinking interrupts no running job
        go.set()
        await until(lambda: runner.queue.stats().queued + runner.queue.stats().leased == 0)
        go.clear()
        most[0] = 0
        for i in range(3):
            runner.queue.enqueue(notice(f"2000{i}"), immediate=True)
        await until(lambda: len(running) == 1)
        go.set()
        await until(lambda: runner.queue.stats().queued + runner.queue.stats().leased == 0)
        assert most[0] == 1  # one at a time again
    finally:
        stop.set()
        async with asyncio.timeout(30):
            await task


async def test_an_applier_that_cannot_be_built_leaves_the_old_configuration(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    data = base_config()
    write(path, data)
    sites = Sites()
    runner = SyncRunner(ConfigWatcher(path), store, factory=sites)
    old_config, old_applier, old_cloud = runner.config, runner.applier, runner.clients["cloud"]

    def refuse(*_: Any, **__: Any) -> Any:
        raise FixConfigError("pair 'ops': translation table 'severity' is empty")

    monkeypatch.setattr(runner_module, "Applier", refuse)
    data["sites"]["cloud"]["url"] = "https://moved.atlassian.net"
    write(path, data)
    assert await runner.reload_async() is ReloadOutcome.REJECTED
    assert (runner.config, runner.applier) == (old_config, old_applier)
    assert runner.clients["cloud"] is old_cloud
    [built] = [c for c in sites.made if c.url.startswith("https://moved")]
    async with asyncio.timeout(10):
        while not built.closed:  # noqa: ASYNC110 (closed by a task of the runner)
            await asyncio.sleep(0.01)
    assert old_cloud.closed == 0  # type: ignore[attr-defined]
