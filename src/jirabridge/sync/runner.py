"""Run the engine: clients from the config, polling, workers, hot reload, backfill, reconcile.

:class:`SyncRunner` is what ``jirabridge run|backfill|reconcile`` and ``jirabridge demo`` use::

    runner = SyncRunner(watcher_or_config, store, clients=clients_from_config(config, resolve))
    await runner.backfill()             # read every issue of every pair once, then apply
    await runner.run(stop)              # poll on the interval, apply with N workers, reload
    app = runner.receiver_app(resolve)  # the webhook receiver, on the same queue

A changed configuration file is picked up within about a second while :meth:`SyncRunner.run`
runs (its own task watches the file, whatever the poll interval), and at the start of every
poll round otherwise; a bad one is reported and the old configuration keeps running. Sites
whose URL, auth or credential changed get new clients; the others keep theirs. A reload is
taken whole or not at all: when a new client cannot be built (say its credential's
environment variable is not set yet) the old configuration keeps running, the error is
logged, and the reload is tried again until it works. Replaced clients are closed once the
jobs and poll rounds that use them have finished. The worker pool of :meth:`SyncRunner.run`
follows ``queue.workers`` (when it shrinks, running jobs finish first).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from jirabridge.errors import FixConfigError, ReauthenticateError, redact
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
    "WaitingItem",
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


@dataclass(frozen=True)
class WaitingItem:
    """A job given back because a person must act (fix the configuration, sign in again):
    it is retried later, but waiting for it would wait for that person."""

    job_id: int
    subject: str  # the issue key (or id) on the site the change came from
    site: str
    reason: str  # redacted


@dataclass(eq=False)
class _ClientSet:
    """The clients of one configuration, with the jobs and poll rounds using them; once a
    reload replaced them, ``retired`` holds those to close when the last user is done."""

    clients: dict[str, SiteClient]
    users: int = 0
    retired: list[SiteClient] = field(default_factory=list)


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
        self._in_use = _ClientSet(self.clients)
        self._closing: set[asyncio.Task[None]] = set()
        self._unclosed: list[SiteClient] = []  # retired with no event loop running
        self._refused: str | None = None  # why the pending reload was not taken (logged once)
        self._needs_you: dict[int, WaitingItem] = {}
        self._draining: list[set[int]] = []  # per running drain(): jobs it gave back for you
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

    def _build(self, applier: Applier | None = None) -> None:
        sides = {name: site.flavour.value for name, site in self._config.sites.items()}
        if self._queue is None:
            self._queue = Queue(
                self.store, config=self._config.queue, clock=self.clock, site_sides=sides
            )
        else:
            self._queue.config = self._config.queue
            self._queue.site_sides = sides
        self.applier = applier or Applier(self._config, self.clients, self.queue, clock=self.clock)

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
        new = self.watcher.current
        if new is self._config:
            return ReloadOutcome.UNCHANGED
        if result.outcome is ReloadOutcome.RELOADED:
            self._refused = None  # a new file: its refusal is worth a line of its own
        # a new file (RELOADED), or one this runner could not take before: tried again
        old = self._config
        try:
            clients = self._clients_for(new)
            try:
                applier = Applier(new, clients, self.queue, clock=self.clock)
            except BaseException:
                self._close_later([c for c in clients.values() if c not in self.clients.values()])
                raise
        except Exception as exc:  # e.g. a credential that cannot be resolved yet
            why = redact(str(exc) or type(exc).__name__)
            if why != self._refused:
                log.error(
                    "configuration not reloaded, the previous one keeps running (tried again "
                    "until it works): %s",
                    why,
                )
            self._refused = why
            return ReloadOutcome.REJECTED
        self._refused = None
        kept = {id(c) for c in clients.values()}
        retiring = self._in_use
        retiring.retired = [c for c in self.clients.values() if id(c) not in kept]
        self._config = new
        self.clients = clients
        self._in_use = _ClientSet(clients)
        self._build(applier)
        self._release(retiring)
        if new.queue.workers != old.queue.workers:
            # the pool of run() follows (fewer: running jobs finish first); wake it to grow
            log.info(
                "configuration reloaded; workers: %d -> %d", old.queue.workers, new.queue.workers
            )
            self.queue.wakeup.notify()
        else:
            log.info("configuration reloaded")
        return ReloadOutcome.RELOADED

    def _clients_for(self, config: SyncConfig) -> dict[str, SiteClient]:
        """Clients for ``config``: the current one of each unchanged site, new ones for the
        others. All or nothing: when one cannot be built, those built are closed again."""
        clients: dict[str, SiteClient] = {}
        built: list[SiteClient] = []
        try:
            for name, site in config.sites.items():
                current = self.clients.get(name)
                if current is not None and (
                    self._config.sites.get(name) == site or self.factory is None
                ):
                    if self.factory is None and self._config.sites.get(name) != site:
                        log.error("site %s changed but no client factory: keeping its client", name)
                    clients[name] = current
                    continue
                if self.factory is None:
                    raise FixConfigError(
                        f"site {name!r} is new, but this runner has no client factory to "
                        "build its client"
                    )
                client = self.factory(name, site)
                built.append(client)
                clients[name] = client
        except BaseException:
            self._close_later(built)
            raise
        return clients

    def _release(self, used: _ClientSet) -> None:
        """Close the retired clients of ``used`` once nothing uses them any more."""
        if used.users == 0 and used.retired:
            retired, used.retired = used.retired, []
            self._close_later(retired)

    def _close_later(self, clients: list[SiteClient]) -> None:
        if not clients:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a reload outside an event loop: closed by aclose()
            self._unclosed.extend(clients)
            return
        task = loop.create_task(_close_all(clients))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        """Close every client this runner holds or retired (call it when done with it)."""
        unclosed, self._unclosed = self._unclosed, []
        self._in_use.retired = []
        await _close_all([*unclosed, *self.clients.values()])
        if self._closing:
            await asyncio.wait(set(self._closing))

    # ---- polling --------------------------------------------------------------------------

    async def poll_round(
        self, *, initial: datetime | None = None, reload: bool = True
    ) -> RoundResult:
        """Reload the config if it changed (unless ``reload`` is False), then poll every side
        of every enabled pair."""
        outcome = await self.reload_async() if reload else ReloadOutcome.UNCHANGED
        polls: list[PollOutcome] = []
        errors: list[str] = []
        # one configuration and its clients for the whole round, even when a reload comes
        config, used = self._config, self._in_use
        used.users += 1
        try:
            for pair in config.pairs:
                if not pair.enabled:
                    continue
                for side in (pair.server, pair.cloud):
                    # one side failing (even unexpectedly) never keeps the others unpolled
                    try:
                        site = config.sites[side.site]
                        polls.append(
                            await poll_once(
                                client=used.clients[side.site],
                                site=side.site,
                                side=side,
                                queue=self.queue,
                                polling=config.polling,
                                tz=ZoneInfo(site.timezone),
                                now=self.site_now(side.site),
                                initial=initial,
                                flavour_side=site.flavour.value,
                            )
                        )
                    except Exception as exc:
                        why = redact(str(exc) or type(exc).__name__)
                        errors.append(f"{pair.id}/{side.site}: {why}")
                        log.warning("poll of %s/%s failed: %s", pair.id, side.site, why)
        finally:
            used.users -= 1
            self._release(used)
        return RoundResult(tuple(polls), tuple(errors), outcome)

    # ---- applying -------------------------------------------------------------------------

    async def drain(self, *, workers: int | None = None) -> tuple[WaitingItem, ...]:
        """Apply until the queue holds only jobs waiting out a failure backoff (those are
        left for later; jobs in their coalescing delay are waited for) or waiting for a
        person to act (a FixConfigError / ReauthenticateError gave them back; they are
        returned, see :meth:`waiting_for_you`). Bound it with ``asyncio.timeout`` where
        needed."""
        stop = asyncio.Event()
        given_back: set[int] = set()  # not run again by this drain, even once due again

        async def watch() -> None:
            while True:
                due = await asyncio.to_thread(self._due_or_running, set(given_back))
                if not due:
                    stop.set()
                    return
                await _sleep_unless(stop, 0.05)

        self._draining.append(given_back)
        try:
            await _together(
                run_workers(
                    self.queue,
                    self._apply,
                    workers=workers or self._config.queue.workers,
                    stop=stop,
                    idle_seconds=0.05,
                ),
                watch(),
            )
        finally:
            self._draining.remove(given_back)
        return tuple(await asyncio.to_thread(self.waiting_for_you))

    def _due_or_running(self, waiting: Collection[int] = ()) -> bool:
        """A job runs, is due, or is still in its coalescing delay (never tried, no error:
        a job given back for a person to act also has no attempt counted, but an error).
        ``waiting``: jobs known to wait for a person, not waited for."""
        from sqlalchemy import and_, func, or_

        from jirabridge.sync.store import JobState, QueueJob

        now = self.clock.now()
        pending = or_(
            QueueJob.available_at <= now,
            and_(QueueJob.attempts == 0, QueueJob.last_error.is_(None)),
        )
        if waiting:
            pending = and_(pending, QueueJob.id.not_in(list(waiting)))
        with self.store.session() as session:
            count = session.scalar(
                select(func.count())
                .select_from(QueueJob)
                .where(or_(QueueJob.state == JobState.LEASED, pending))
            )
        return bool(count)

    def waiting_for_you(self) -> list[WaitingItem]:
        """The queued jobs this runner gave back because a person must act (fix the
        configuration, sign in again), oldest first; retried later by the queue."""
        from jirabridge.sync.store import JobState, QueueJob

        if not self._needs_you:
            return []
        with self.store.session() as session:
            queued = set(
                session.scalars(
                    select(QueueJob.id).where(
                        QueueJob.id.in_(list(self._needs_you)),
                        QueueJob.state == JobState.QUEUED,
                    )
                )
            )
        return [item for job_id, item in self._needs_you.items() if job_id in queued]

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
        await self.drain()  # what waits for a person: waiting_for_you()
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

        await _together(
            poller(),
            reloader(),
            # the pool follows `queue.workers` of the configuration in force
            run_workers(
                self.queue, self._apply, workers=lambda: self._config.queue.workers, stop=stop
            ),
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
        # the applier of the configuration in force now (it changes on reload); the job
        # keeps it, and its clients stay open, until it ends
        applier, used = self.applier, self._in_use
        used.users += 1
        try:
            done = await applier(job)
        except (FixConfigError, ReauthenticateError) as exc:
            self._needs_you[job.id] = WaitingItem(
                job_id=job.id,
                subject=job.issue_key or job.issue_id,
                site=job.site,
                reason=redact(str(exc) or type(exc).__name__),
            )
            for given_back in self._draining:
                given_back.add(job.id)
            raise
        finally:
            used.users -= 1
            self._release(used)
        self._needs_you.pop(job.id, None)
        return done

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
            max_body_bytes=lambda: self._config.webhooks.max_body_bytes,
            dedupe_ttl=lambda: timedelta(hours=self._config.webhooks.dedupe_hours),
            clock=self.clock,
            immediate=lambda notice: immediate_fields(self._config)(notice),
        )


async def _close_all(clients: list[SiteClient]) -> None:
    for client in clients:
        close = getattr(client, "aclose", None)
        if close is None:
            continue
        try:
            await close()
        except Exception as exc:  # closing is best effort: the connections go anyway
            log.warning("a replaced client did not close cleanly: %s", redact(str(exc)))


async def _together(*work: Awaitable[None]) -> None:
    """Run ``work`` concurrently until all of it has ended; the first to fail cancels the
    others (awaited: nothing keeps running behind the caller's back), then its error is
    raised. Cancelled from outside: all of it is cancelled and awaited first."""
    tasks = [asyncio.ensure_future(w) for w in work]
    try:
        pending: set[asyncio.Future[None]] = set(tasks)
        while pending:
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
            failed = [t for t in tasks if t.done() and not t.cancelled() and t.exception()]
            if failed:
                error = failed[0].exception()
                assert error is not None
                raise error
            if any(t.cancelled() for t in tasks):
                raise asyncio.CancelledError
    finally:
        cancelled = False
        for task in tasks:
            if not task.done():
                cancelled = await cancel_and_wait(task) or cancelled
        for task in tasks:  # retrieved: the one raised is the one reported
            if task.done() and not task.cancelled():
                task.exception()
        if cancelled:
            raise asyncio.CancelledError


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
