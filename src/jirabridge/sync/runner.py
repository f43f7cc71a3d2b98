"""Run the engine: clients from the config, polling, workers, hot reload, backfill, reconcile.

:class:`SyncRunner` is what ``jirabridge run|backfill|reconcile`` and ``jirabridge demo`` use::

    runner = SyncRunner(watcher_or_config, store, clients=clients_from_config(config, resolve))
    await runner.backfill()             # read every issue of every pair once, then apply
    await runner.run(stop)              # poll on the interval, apply with N workers, reload
    app = runner.receiver_app(resolve)  # the webhook receiver, on the same queue

A changed configuration file is picked up within about a second while :meth:`SyncRunner.run`
runs (its own task watches the file, whatever the poll interval), and at the start of every
poll round otherwise; a bad one is reported and the old configuration keeps running. Sites
whose URL, auth or credential changed get new clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from jirabridge.errors import FixConfigError, JirabridgeError, redact
from jirabridge.jira import Issue
from jirabridge.sync.apply import Applier
from jirabridge.sync.config import (
    AuthKind,
    ConfigWatcher,
    Flavour,
    PairConfig,
    ReloadOutcome,
    ReloadResult,
    SiteConfig,
    SyncConfig,
)
from jirabridge.sync.engine import PollOutcome, SiteClient, poll_once
from jirabridge.sync.notices import ChangeNotice, EventKind, NoticeSource
from jirabridge.sync.queue import Clock, Job, Queue, SystemClock, cancel_and_wait, run_workers
from jirabridge.sync.store import IssuePair, Store
from jirabridge.sync.webhooks import (
    ReceiverSite,
    create_receiver,
    immediate_fields,
    sites_from_config,
)

__all__ = [
    "ClientFactory",
    "RoundResult",
    "SyncRunner",
    "client_for_site",
    "clients_from_config",
    "oauth2_auth",
    "serve_app",
]

log = logging.getLogger("jirabridge.sync.runner")

Resolver = Callable[[str], str]
ClientFactory = Callable[[str, SiteConfig], SiteClient]


def oauth2_auth(
    name: str,
    site: SiteConfig,
    client_secret: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.Auth:
    """OAuth 2.0 for a Cloud site: token pairs in ``oauth.token_dir`` under the site name,
    refreshed (and rotated) by :class:`jirabridge.jira.OAuth2Auth`."""
    from jirabridge.jira import FileCredentialStore, OAuth2Auth

    if site.oauth is None:
        raise FixConfigError(f"site {name!r}: auth 'oauth2' needs an `oauth` section")
    return OAuth2Auth(
        name,
        FileCredentialStore(site.oauth.token_dir),
        client_id=site.oauth.client_id,
        client_secret=client_secret,
        token_url=site.oauth.token_url,
        transport=transport,
    )


def client_for_site(
    site: SiteConfig,
    resolve: Resolver,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    name: str | None = None,
) -> SiteClient:
    """A real client for one configured site (credentials resolved now, never logged).
    ``name`` (the site's name in the config) keys its OAuth 2.0 token pair."""
    from jirabridge.jira import (
        BearerAuth,
        CloudClient,
        RateGovernor,
        ServerClient,
        basic_auth,
        cloud_api_token_auth,
    )

    secret = resolve(site.credential)
    auth: httpx.Auth
    if site.auth is AuthKind.BASIC:
        auth = basic_auth(site.username or "", secret)
    elif site.auth is AuthKind.PAT:
        auth = BearerAuth(secret)
    elif site.auth is AuthKind.API_TOKEN:
        auth = cloud_api_token_auth(site.username or "", secret)
    else:
        auth = oauth2_auth(name or "cloud", site, secret, transport=transport)
    cls = CloudClient if site.flavour is Flavour.CLOUD else ServerClient
    # the configured ceiling: the governor never goes faster, and slows further when the
    # site's rate-limit headers announce a lower limit
    governor = RateGovernor(max_rate=site.max_requests_per_second)
    client: SiteClient = cls(site.url, auth=auth, transport=transport, governor=governor)
    return client


def clients_from_config(config: SyncConfig, factory: ClientFactory) -> dict[str, SiteClient]:
    return {name: factory(name, site) for name, site in config.sites.items()}


@dataclass(frozen=True)
class RoundResult:
    polls: tuple[PollOutcome, ...]
    errors: tuple[str, ...]
    reload: ReloadOutcome


class SyncRunner:
    """Polling, workers and hot reload around one store and one set of clients."""

    def __init__(
        self,
        source: ConfigWatcher | SyncConfig,
        store: Store,
        *,
        clients: Mapping[str, SiteClient] | None = None,
        factory: ClientFactory | None = None,
        clock: Clock | None = None,
        site_now: Callable[[str], datetime] | None = None,
        reload_seconds: float = 1.0,
    ) -> None:
        """``factory`` builds a client for a site (needed for hot reload of sites);
        ``site_now`` gives a site's current time (default: this machine's clock);
        ``reload_seconds``: how often :meth:`run` looks at the configuration file."""
        self.watcher = source if isinstance(source, ConfigWatcher) else None
        self.reload_seconds = reload_seconds
        self._queue: Queue | None = None
        self._config = source.current if isinstance(source, ConfigWatcher) else source
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.factory = factory
        if clients is None:
            if factory is None:
                raise FixConfigError("SyncRunner needs clients or a client factory")
            clients = clients_from_config(self._config, factory)
        self.clients: dict[str, SiteClient] = dict(clients)
        self.site_now = site_now or (lambda _site: self.clock.now())
        self._build()

    @property
    def config(self) -> SyncConfig:
        return self._config

    @property
    def queue(self) -> Queue:
        """The queue; one object for the runner's life (a reload updates its settings), so
        the receiver, the workers and the applier never hold a stale one."""
        assert self._queue is not None
        return self._queue

    def _build(self) -> None:
        sides = {name: site.flavour.value for name, site in self._config.sites.items()}
        if self._queue is None:
            self._queue = Queue(
                self.store, config=self._config.queue, clock=self.clock, site_sides=sides
            )
        else:
            self._queue.config = self._config.queue
            self._queue.site_sides = sides
        self.applier = Applier(self._config, self.clients, self.queue, clock=self.clock)

    def reload(self) -> ReloadOutcome:
        """Pick up a changed configuration file (a bad one is reported and ignored)."""
        if self.watcher is None:
            return ReloadOutcome.UNCHANGED
        return self._take(self.watcher.poll())

    async def reload_async(self) -> ReloadOutcome:
        """:meth:`reload` with the file read in a thread (the event loop keeps running)."""
        if self.watcher is None:
            return ReloadOutcome.UNCHANGED
        return self._take(await asyncio.to_thread(self.watcher.poll))

    def _take(self, result: ReloadResult) -> ReloadOutcome:
        assert self.watcher is not None
        if result.outcome is ReloadOutcome.REJECTED:
            for problem in result.problems:
                log.error("configuration not reloaded: %s", problem)
            return result.outcome
        if result.outcome is ReloadOutcome.RELOADED:
            old = self._config
            self._config = self.watcher.current
            for name, site in self._config.sites.items():
                if old.sites.get(name) != site or name not in self.clients:
                    if self.factory is None:
                        log.error("site %s changed but no client factory: keeping it", name)
                        continue
                    self.clients[name] = self.factory(name, site)
            self._build()
            log.info("configuration reloaded")
        return result.outcome

    # ---- polling --------------------------------------------------------------------------

    async def poll_round(
        self, *, initial: datetime | None = None, reload: bool = True
    ) -> RoundResult:
        """Reload the config if it changed (unless ``reload`` is False), then poll every side
        of every enabled pair."""
        outcome = await self.reload_async() if reload else ReloadOutcome.UNCHANGED
        polls: list[PollOutcome] = []
        errors: list[str] = []
        for pair in self._config.pairs:
            if not pair.enabled:
                continue
            for side in (pair.server, pair.cloud):
                site = self._config.sites[side.site]
                try:
                    polls.append(
                        await poll_once(
                            client=self.clients[side.site],
                            site=side.site,
                            side=side,
                            queue=self.queue,
                            polling=self._config.polling,
                            tz=ZoneInfo(site.timezone),
                            now=self.site_now(side.site),
                            initial=initial,
                            flavour_side=site.flavour.value,
                        )
                    )
                except JirabridgeError as exc:
                    errors.append(f"{pair.id}/{side.site}: {exc}")
                    log.warning("poll of %s/%s failed: %s", pair.id, side.site, exc)
        return RoundResult(tuple(polls), tuple(errors), outcome)

    # ---- applying -------------------------------------------------------------------------

    async def drain(self, *, workers: int | None = None) -> None:
        """Apply until the queue holds only jobs waiting out a failure backoff (those are
        left for later; jobs in their coalescing delay are waited for). Bound it with
        ``asyncio.timeout`` where needed."""
        stop = asyncio.Event()

        async def watch() -> None:
            while True:
                due = await asyncio.to_thread(self._due_or_running)
                if not due:
                    stop.set()
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.05)

        await asyncio.gather(
            run_workers(
                self.queue,
                self._apply,
                workers=workers or self._config.queue.workers,
                stop=stop,
                idle_seconds=0.05,
            ),
            watch(),
        )

    def _due_or_running(self) -> bool:
        from sqlalchemy import func, or_

        from jirabridge.sync.store import JobState, QueueJob

        now = self.clock.now()
        with self.store.session() as session:
            count = session.scalar(
                select(func.count())
                .select_from(QueueJob)
                .where(
                    or_(
                        QueueJob.state == JobState.LEASED,
                        QueueJob.available_at <= now,
                        QueueJob.attempts == 0,  # still coalescing: it will be due soon
                    )
                )
            )
        return bool(count)

    async def backfill(self, *, progress: Callable[[int, int], None] | None = None) -> RoundResult:
        """Read every issue of every pair (a fresh cursor reads all), create the missing
        mirrors in bulk, then apply (:func:`jirabridge.sync.backfill.backfill`).

        ``progress(done, total)`` is called while applying: jobs (issues) finished out of
        the jobs the read queued; the last call is ``(total - waiting, total)``."""
        from jirabridge.sync.backfill import backfill

        return await backfill(self, progress=progress)

    async def reconcile(self) -> int:
        """Queue every known issue pair for a field-by-field comparison and repair."""
        now = self.clock.now()
        with self.store.session() as session:
            rows = list(session.scalars(select(IssuePair)))
        enabled = {p.id: p for p in self._config.pairs if p.enabled}
        count = 0
        for row in rows:
            pair = enabled.get(row.pair_id)
            if pair is None:
                continue
            self.queue.enqueue(
                ChangeNotice(
                    site=pair.server.site,
                    issue_id=row.server_issue_id,
                    issue_key=row.server_key,
                    event=EventKind.ISSUE_UPDATED,
                    observed_at=now,
                    source=NoticeSource.MANUAL,
                ),
                immediate=True,
            )
            count += 1
        await self.drain()
        return count

    async def rebuild_pairs(self) -> int:
        """Rebuild lost issue-pair rows from the sites' ``jirabridge`` entity properties,
        with their comment, attachment and link pairs; returns the issue pairs rebuilt.

        Reads every issue of every pair's projects carrying the property (a full scan: this
        is disaster recovery), and records the pairs it names whose both issues still exist.
        Then each rebuilt pair's mirrored comments, attachments and links are matched again
        (:mod:`jirabridge.sync.rebuild`) so the next sync does not copy them a second time.
        Snapshots are not rebuilt: the next sync of a rebuilt pair treats both sides as
        changed and settles them by the conflict rules."""
        from jirabridge.errors import SkipItemError
        from jirabridge.sync.apply import PROPERTY
        from jirabridge.sync.config import Side
        from jirabridge.sync.pairs import PairRef, find_pair, link_pair
        from jirabridge.sync.rebuild import rebuild_children

        count = 0
        now = self.clock.now()
        rebuilt: list[tuple[PairConfig, PairRef]] = []
        for pair in self._config.pairs:
            for side, end in ((Side.SERVER, pair.server), (Side.CLOUD, pair.cloud)):
                client = self.clients[end.site]
                other = self.clients[(pair.cloud if side is Side.SERVER else pair.server).site]
                async for issue in client.search(f'project = "{end.project}"', fields=["summary"]):
                    try:
                        marker = await client.get_property(issue.key, PROPERTY)
                    except SkipItemError:
                        continue
                    if not isinstance(marker, dict) or marker.get("pair") != pair.id:
                        continue
                    mirror_key = marker.get("cloud" if side is Side.SERVER else "server")
                    if not isinstance(mirror_key, str):
                        continue
                    try:
                        mirror = await other.get_issue(mirror_key, fields=["summary"])
                    except SkipItemError:
                        continue
                    server, cloud = (issue, mirror) if side is Side.SERVER else (mirror, issue)
                    origin = str(marker.get("origin", "server")).partition(":")[0]

                    def record(
                        s_i: Issue = server, c_i: Issue = cloud, o: str = origin, p: str = pair.id
                    ) -> PairRef | None:
                        with self.store.session() as session:
                            known = find_pair(
                                session, side=Side.SERVER, issue_id=s_i.id or "", pair_id=p
                            )
                            if known is not None:
                                return None
                            return link_pair(
                                session,
                                pair_id=p,
                                server=(s_i.id or "", s_i.key),
                                cloud=(c_i.id or "", c_i.key),
                                origin=Side(o if o in ("server", "cloud") else "server"),
                                now=now,
                            )

                    try:
                        created = await asyncio.to_thread(record)
                    except SkipItemError as exc:
                        log.warning("not rebuilt: %s", exc)
                        continue
                    if created is not None:
                        rebuilt.append((pair, created))
                        count += 1
        # after every issue pair is back, so links can find both ends
        for pair, ref in rebuilt:
            clients = {
                Side.SERVER: self.clients[pair.server.site],
                Side.CLOUD: self.clients[pair.cloud.site],
            }
            try:
                children = await rebuild_children(
                    store=self.store,
                    config=self._config,
                    pair=pair,
                    clients=clients,
                    ref=ref,
                    now=now,
                )
            except SkipItemError as exc:
                log.warning("comments/attachments/links of %s not rebuilt: %s", ref.server_key, exc)
                continue
            log.info(
                "rebuilt %s <-> %s: %d comment(s), %d attachment(s), %d link(s)",
                ref.server_key,
                ref.cloud_key,
                children.comments,
                children.attachments,
                children.links,
            )
        return count

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set: poll every ``polling.interval_seconds``, apply with the
        configured workers, and reload the configuration file when it changes (checked
        every ``reload_seconds``, independently of polling).

        Cancellation propagates: running jobs are given back, and the task ends cancelled."""

        async def poller() -> None:
            while not stop.is_set():
                # a poll stuck in retries (site down) must not hold up a shutdown
                try:
                    await self._until_stopped(self.poll_round(reload=False), stop)
                except Exception as exc:  # one bad round must not end the run
                    log.error("poll round failed: %s", redact(str(exc) or type(exc).__name__))
                await _sleep_unless(stop, self._config.polling.interval_seconds)

        async def reloader() -> None:
            while not stop.is_set():
                try:
                    await self.reload_async()
                except Exception as exc:  # e.g. a client factory failed: keep the old config
                    log.error(
                        "configuration not reloaded: %s", redact(str(exc) or type(exc).__name__)
                    )
                await _sleep_unless(stop, self.reload_seconds)

        await asyncio.gather(
            poller(),
            reloader(),
            run_workers(self.queue, self._apply, workers=self._config.queue.workers, stop=stop),
        )

    @staticmethod
    async def _until_stopped(work: Awaitable[object], stop: asyncio.Event) -> None:
        """Await ``work`` until it ends or ``stop`` is set (then it is cancelled)."""
        task = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not task.done() and await cancel_and_wait(task):
                raise asyncio.CancelledError
        if not task.cancelled():
            task.result()

    async def _apply(self, job: Job) -> bool:
        # the applier of the configuration in force now (it changes on reload)
        return await self.applier(job)

    # ---- webhooks -------------------------------------------------------------------------

    def receiver_app(self, resolve: Resolver) -> Starlette:
        """The webhook receiver on this runner's queue; follows config reloads."""
        cache: list[tuple[SyncConfig, Mapping[str, ReceiverSite]]] = []

        def sites() -> Mapping[str, ReceiverSite]:
            # secrets are resolved once per configuration, not on every delivery
            if not cache or cache[0][0] is not self._config:
                cache[:] = [(self._config, sites_from_config(self._config, resolve))]
            return cache[0][1]

        return create_receiver(
            sites=sites,
            queue=self.queue,
            max_body_bytes=self._config.webhooks.max_body_bytes,
            clock=self.clock,
            immediate=lambda notice: immediate_fields(self._config)(notice),
        )


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less when ``stop`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def serve_app(
    app: Starlette,
    *,
    host: str,
    port: int,
    stop: asyncio.Event,
    started: Callable[[str, int], None] | None = None,
    log_level: str = "warning",
) -> None:
    """Serve ``app`` with uvicorn until ``stop`` is set, without an access log.

    Signals stay with the caller (uvicorn's ``serve()`` would take SIGINT/SIGTERM over and
    re-raise them afterwards), so this drives uvicorn's startup / main loop / shutdown
    itself. ``started(host, port)`` is called once listening (port 0 picks a free port)."""
    import uvicorn

    # No access log: Server/Data Center webhooks carry ``?secret=`` in the URL, and an access
    # line would write it out. ``log_config=None`` leaves the host application's logging as
    # it is (uvicorn's default would replace the handlers of its loggers).
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
    )
    server.config.load()
    server.lifespan = server.config.lifespan_class(server.config)
    await server.startup()
    if server.should_exit:
        raise FixConfigError(f"cannot listen on {host}:{port}")
    if started is not None:
        bound = server.servers[0].sockets[0].getsockname()
        started(str(bound[0]), int(bound[1]))

    async def stopper() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(stopper())
    try:
        await server.main_loop()
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await server.shutdown()
