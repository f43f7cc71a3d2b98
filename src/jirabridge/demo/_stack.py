"""Everything the demo runs, started in order and always stopped: two emulators, the
engine's webhook receiver (three uvicorn servers on loopback), the engine itself
(:class:`jirabridge.sync.runner.SyncRunner` on a SQLite store in the work directory), and the
clients the scripted users work through."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jirabridge.demo._config import (
    CLOUD_SITE,
    ENV_CLOUD_HOOK,
    ENV_CLOUD_TOKEN,
    ENV_SERVER_HOOK,
    ENV_SERVER_PASSWORD,
    SERVER_SITE,
    DemoEndpoints,
    write_config,
)
from jirabridge.demo._servers import LoopbackServer
from jirabridge.demo._sites import PROJECT, DemoSites, build_sites
from jirabridge.emulator.app import EmulatorApp, create_app
from jirabridge.emulator.infra import ControlClient
from jirabridge.jira import CloudClient, JiraClient, ServerClient, basic_auth, cloud_api_token_auth

__all__ = ["CONFIG_FILE", "STORE_FILE", "WEBHOOK_EVENTS", "DemoStack", "demo_environment"]

CONFIG_FILE = "jirabridge.yaml"
STORE_FILE = "jirabridge.db"

log = logging.getLogger("jirabridge.demo")

WEBHOOK_EVENTS = (
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
    "issuelink_created",
    "issuelink_deleted",
)


@contextlib.contextmanager
def demo_environment(values: dict[str, str]) -> Iterator[None]:
    """Put the demo's secrets into this process's environment, and take them out again."""
    old = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class DemoStack:
    """Build with :meth:`start` (inside ``async with``); everything stops on exit."""

    workdir: Path
    issues: int
    sites: DemoSites = field(init=False)
    server_app: EmulatorApp = field(init=False)
    cloud_app: EmulatorApp = field(init=False)
    config_path: Path = field(init=False)
    runner: Any = field(init=False)
    users: dict[str, JiraClient] = field(init=False, default_factory=dict)
    control: dict[str, ControlClient] = field(init=False, default_factory=dict)
    _servers: list[LoopbackServer] = field(init=False, default_factory=list)
    _clients: list[JiraClient] = field(init=False, default_factory=list)
    _env: contextlib.ExitStack = field(init=False, default_factory=contextlib.ExitStack)
    _engine_stop: asyncio.Event | None = field(init=False, default=None)
    _engine_task: asyncio.Task[None] | None = field(init=False, default=None)
    _store: Any = field(init=False, default=None)

    async def __aenter__(self) -> DemoStack:
        try:
            await self._start()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def server_url(self) -> str:
        return self._servers[0].url

    @property
    def cloud_url(self) -> str:
        return self._servers[1].url

    @property
    def receiver_url(self) -> str:
        return self._servers[2].url

    async def _start(self) -> None:
        from jirabridge.sync.config import ConfigWatcher
        from jirabridge.sync.runner import SyncRunner, client_for_site
        from jirabridge.sync.secrets import resolve_credential
        from jirabridge.sync.store import open_store

        self.sites = build_sites(self.issues)
        srv, cld, rcv = (LoopbackServer(n) for n in ("server", "cloud", "receiver"))
        self._servers = [srv, cld, rcv]
        self.server_app = create_app("server", self.sites.server, base_url=srv.url)
        self.cloud_app = create_app("cloud", self.sites.cloud, base_url=cld.url)
        await srv.start(self.server_app)
        await cld.start(self.cloud_app)

        hooks = {ENV_SERVER_HOOK: secrets.token_hex(16), ENV_CLOUD_HOOK: secrets.token_hex(16)}
        self._env.enter_context(
            demo_environment(
                {
                    ENV_SERVER_PASSWORD: self.sites.server_bot_password,
                    ENV_CLOUD_TOKEN: self.sites.cloud_bot_token,
                    **hooks,
                }
            )
        )
        store_path = self.workdir / STORE_FILE
        self.config_path = write_config(
            self.workdir / CONFIG_FILE,
            self.sites,
            DemoEndpoints(srv.url, cld.url, rcv.port, store_path),
        )
        resolve: Callable[[str], str] = resolve_credential
        watcher = ConfigWatcher(self.config_path)
        self._store = open_store(watcher.current.store.url)

        def factory(_name: str, site: Any) -> Any:
            client = client_for_site(site, resolve)
            return client

        self.runner = SyncRunner(watcher, self._store, factory=factory)
        await rcv.start(self.runner.receiver_app(resolve), lifespan="off")

        admin_s = self._client(ServerClient(srv.url, auth=basic_auth(*self.sites.admin_login)))
        admin_c = self._client(
            CloudClient(cld.url, auth=cloud_api_token_auth(*self.sites.admin_email))
        )
        for client, site_name, env in (
            (admin_s, SERVER_SITE, ENV_SERVER_HOOK),
            (admin_c, CLOUD_SITE, ENV_CLOUD_HOOK),
        ):
            await client.register_admin_webhook(
                "jirabridge demo",
                f"{rcv.url}/webhooks/{site_name}",
                WEBHOOK_EVENTS,
                jql=f"project = {PROJECT}",
                secret=hooks[env],
            )
        alice = self.sites.person("alice")
        bruno = self.sites.person("bruno")
        self.users = {
            SERVER_SITE: self._client(ServerClient(srv.url, auth=basic_auth(alice.login, "alice"))),
            CLOUD_SITE: self._client(
                CloudClient(cld.url, auth=cloud_api_token_auth(bruno.email, "bruno"))
            ),
        }

        self.control = {
            SERVER_SITE: ControlClient(srv.url, timeout=10),
            CLOUD_SITE: ControlClient(cld.url, timeout=10),
        }

    def _client(self, client: JiraClient) -> JiraClient:
        self._clients.append(client)
        return client

    def start_engine(self) -> None:
        """Live sync: polling and workers in the background (the receiver is already up)."""
        if self._engine_task is not None:
            return
        self._engine_stop = asyncio.Event()
        self._engine_task = asyncio.create_task(self.runner.run(self._engine_stop))

    async def stop_engine(self) -> None:
        stop, task = self._engine_stop, self._engine_task
        self._engine_stop = self._engine_task = None
        if stop is not None:
            stop.set()
        if task is not None:
            try:
                await asyncio.wait_for(task, 10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            except Exception as exc:  # the engine failed; the summary will show what diverged
                log.warning("engine stopped with %s", exc)

    def engine_failure(self) -> str | None:
        """Why the live engine stopped by itself, if it did (None while it runs)."""
        task = self._engine_task
        if task is None or not task.done() or task.cancelled():
            return None
        exc = task.exception()
        return None if exc is None else f"{type(exc).__name__}: {exc}"

    def engine_clients(self) -> dict[str, JiraClient]:
        clients: dict[str, JiraClient] = getattr(self.runner, "clients", {})
        return clients

    async def aclose(self) -> None:
        """Stop the engine, close every client, stop the servers (ports freed)."""
        with contextlib.suppress(Exception):
            await self.stop_engine()
        runner = getattr(self, "runner", None)
        clients = list(self._clients)
        if runner is not None:
            clients += list(runner.clients.values())
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aclose()
        self._clients.clear()
        for control in self.control.values():
            with contextlib.suppress(Exception):
                await control.aclose()
        self.control = {}
        for server in reversed(self._servers):
            await server.stop()
        if self._store is not None:
            with contextlib.suppress(Exception):
                self._store.dispose()
            self._store = None
        self._env.close()
