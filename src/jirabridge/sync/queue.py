"""The durable queue: change notices in, one job per issue (pair) out, applied in order.

Guarantees, all kept by the database rather than by the process:

* **Coalescing.** A key (one issue pair, or one not-yet-paired issue) has at most one
  *queued* job (unique ``(key, state)``); a notice for a key that already has a queued job is
  added to it, so a burst of edits becomes one job.
* **Order per key.** A key has at most one *leased* job, so a key's jobs never run in
  parallel; notices arriving while a job runs wait in the next (queued) job.
* **Crash safety.** A lease has an expiry, pushed out by a heartbeat while the job runs; a
  job whose worker died (SIGKILL at any point) runs again: when the dead process was on this
  host (the lease names host and pid), at once if a lease call here had seen it holding
  leases, else within a quarter lease; a worker of another host's, when its lease expires.
  Completion deletes the job and its notices in one transaction, so nothing is lost and
  nothing is completed twice. Applying a job twice is harmless because the engine diffs against the
  last synced state.
* **Retries and dead letters.** :class:`~jirabridge.errors.RetryLaterError` (and unexpected
  errors) retry with exponential backoff (``retry_after`` honoured); ``SkipItemError``,
  ``BadInputError`` and jobs that exhausted ``max_attempts`` go to the dead-letter queue with
  the reason and error branch. ``FixConfigError`` / ``ReauthenticateError`` put the job back
  without spending an attempt: a person must act, the item is not at fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import hashlib
import logging
import os
import re
import socket
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    event,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jirabridge.errors import (
    BadInputError,
    FixConfigError,
    JirabridgeError,
    ReauthenticateError,
    RetryLaterError,
    SkipItemError,
    redact,
)
from jirabridge.sync.config import QueueConfig
from jirabridge.sync.notices import ChangeNotice
from jirabridge.sync.store import (
    AuditEntry,
    DeadLetter,
    IssuePair,
    JobState,
    QueueJob,
    QueueNotice,
    Store,
)

__all__ = [
    "Clock",
    "DeadLetterInfo",
    "FailOutcome",
    "Job",
    "LeaseLostError",
    "Queue",
    "QueueStats",
    "SystemClock",
    "Wakeup",
    "cancel_and_wait",
    "heartbeat_seconds",
    "owner_is_gone",
    "run_workers",
]


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FailOutcome(enum.StrEnum):
    RETRY = "retry"  # back in the queue after a backoff
    DEAD = "dead"  # moved to the dead-letter queue
    RELEASED = "released"  # back in the queue, attempt not counted (config / auth problem)
    LOST_LEASE = "lost_lease"  # the lease had expired and was taken over; nothing done


@dataclass(frozen=True)
class Job:
    """A leased job: bring ``issue_id`` on ``site`` (and its mirror) up to date."""

    id: int
    key: str
    site: str
    issue_id: str
    issue_key: str | None
    attempts: int
    owner: str  # worker name plus a per-lease token
    lease_expires_at: datetime
    notices: tuple[ChangeNotice, ...]
    notice_ids: tuple[int, ...]


@dataclass(frozen=True)
class QueueStats:
    queued: int
    leased: int
    notices: int
    dead: int
    oldest_queued: datetime | None


@dataclass(frozen=True)
class DeadLetterInfo:
    id: int
    key: str
    site: str
    issue_id: str
    issue_key: str | None
    reason: str
    error_branch: str
    attempts: int
    failed_at: datetime
    notices: int


log = logging.getLogger("jirabridge.sync.queue")


class Wakeup:
    """Wakes this process's idle workers when a job may have become due.

    :meth:`notify` is safe from any thread: the webhook receiver and the poller enqueue in
    worker threads, so the event of a loop is set through ``call_soon_threadsafe``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def subscribe(self, event: asyncio.Event) -> None:
        """Set ``event`` (on the running loop) on every notification until unsubscribed."""
        loop = asyncio.get_running_loop()
        with self._lock:
            self._events.append((loop, event))

    def unsubscribe(self, event: asyncio.Event) -> None:
        with self._lock:
            self._events = [(lp, ev) for lp, ev in self._events if ev is not event]

    def notify(self) -> None:
        with self._lock:
            events = list(self._events)
        if not events:
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, ev in events:
            if loop is running:
                ev.set()
            elif not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(ev.set)


_WAKE_PENDING = "jirabridge.queue.wake"
_WAKE_LISTENING = "jirabridge.queue.wake-listener"


@functools.cache
def _boot_id() -> str | None:
    """This boot of this machine (Linux: a random id drawn at every boot); None elsewhere.
    Read once: it cannot change while this process runs."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip() or None
    except (OSError, ValueError):
        return None


def _host_id() -> str:
    """This host, as lease owners name it: a readable start of the host name, then a digest
    of the full host name, the boot id and the pid namespace. Two machines never share a
    boot id (pods may share a name, and the root pid namespace's inode is the same on every
    Linux machine); two containers of one machine never share a pid namespace."""
    name = socket.gethostname()
    parts = [name, _boot_id() or ""]
    with contextlib.suppress(OSError):
        parts.append(f"{os.stat('/proc/self/ns/pid').st_ino:x}")
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    readable = re.sub(r"[^A-Za-z0-9.-]", "-", name)[:20] or "host"
    return f"{readable}~{digest}"


_HOST = _host_id()
# leases of this host's dead processes are judged here only when the host id is surely
# this machine's (a boot id exists); otherwise every lease waits for its expiry
_LOCAL_JUDGE = _boot_id() is not None
_INCARNATION = uuid.uuid4().hex[:6]  # tells this process from an earlier one with its pid
_OWNER = re.compile(r"@(?P<host>[^@:/]+):(?P<pid>\d+):(?P<inc>[0-9a-f]+)/[0-9a-f]+$")


def _lease_owner(worker: str) -> str:
    """``worker@host:pid:incarnation/token``: a fresh token per lease, so a stale worker can
    never finish someone else's lease, and the process, so a dead one's leases are known."""
    return f"{worker[:30]}@{_HOST}:{os.getpid()}:{_INCARNATION}/{uuid.uuid4().hex[:12]}"


def _local_process(owner: str) -> tuple[int, str] | None:
    """``(pid, incarnation)`` when ``owner`` names a process of this host that may be judged
    here; None for owners whose host id is not exactly ours (or of an unknown form), and
    everywhere when no boot id vouches for the host id: their leases expire instead (a
    running job's heartbeat keeps its lease)."""
    m = _OWNER.search(owner)
    if m is None or m["host"] != _HOST or not _LOCAL_JUDGE or os.name != "posix":
        return None
    return int(m["pid"]), m["inc"]


def _pid_is_gone(pid: int) -> bool:
    """True when no process ``pid`` runs on this host (or it is a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. another user's process: it runs
        return False
    try:  # killed but not yet reaped by its parent: as dead as it gets
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()[:1] == [b"Z"]
    except OSError:
        return False


def _process_is_gone(pid: int, incarnation: str, pid_is_gone: Callable[[int], bool]) -> bool:
    if pid == os.getpid():
        return incarnation != _INCARNATION  # an earlier process that had our pid
    return pid_is_gone(pid)


def owner_is_gone(owner: str) -> bool:
    """True when ``owner`` names a process of this host that no longer runs. Owners whose
    host id is not exactly ours (or of an unknown form) are never judged: their leases
    expire (a running job's heartbeat keeps its lease)."""
    local = _local_process(owner)
    return local is not None and _process_is_gone(*local, _pid_is_gone)


def _local_owners() -> ColumnElement[bool] | None:
    """SQL for "the lease owner may name a process of this host" (a superset of what
    :func:`_local_process` accepts), or None when no owner is judged here."""
    if not _LOCAL_JUDGE or os.name != "posix":
        return None
    host = re.sub(r"([\\%_])", r"\\\1", _HOST)
    return QueueJob.lease_owner.like(f"%@{host}:%", escape="\\")


def heartbeat_seconds(lease_seconds: float) -> float:
    """How often a running job's lease is extended: a third of the lease, so two beats may
    be missed (a slow store) before it expires."""
    return max(lease_seconds / 3, 0.01)


class LeaseLostError(RetryLaterError):
    """The job's lease expired and another worker took the job over: whatever this worker
    was about to commit with the completion must not be (its transaction rolls back)."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"job {job.id} lost its lease (it was taken over); nothing recorded")


class Queue:
    """The durable per-issue queue on top of the state store."""

    def __init__(
        self,
        store: Store,
        *,
        config: QueueConfig | None = None,
        clock: Clock | None = None,
        site_sides: Mapping[str, str] | None = None,
        wakeup: Wakeup | None = None,
    ) -> None:
        """``site_sides`` maps site names to ``"server"``/``"cloud"`` so notices of paired
        issues share the pair's key (both sides of a pair are then applied in one order).
        ``wakeup`` is notified after every committed enqueue (share one between queues on
        the same store so their workers wake too)."""
        self.store = store
        self.config = config or QueueConfig()
        self.clock: Clock = clock or SystemClock()
        self.site_sides = dict(site_sides or {})
        self.wakeup = wakeup or Wakeup()
        self.next_due: datetime | None = None
        self.due_left = True
        """After :meth:`lease`: whether due queued jobs were left (their key was running, or
        the limit was reached); True when unknown."""
        """After :meth:`lease` found fewer jobs than asked for: when the earliest queued job
        not yet due becomes due (None: none, or not looked up)."""
        self._reclaimed_at: datetime | None = None
        # other processes of this host that held leases at the last reclaim: (pid, incarnation)
        self._watched: frozenset[tuple[int, str]] = frozenset()

    # ---- keys -----------------------------------------------------------------------------

    def _key(self, session: Session, site: str, issue_id: str) -> str:
        side = self.site_sides.get(site)
        if side in ("server", "cloud"):
            column = IssuePair.server_issue_id if side == "server" else IssuePair.cloud_issue_id
            pair_id = session.scalars(
                select(IssuePair.id).where(column == issue_id).limit(1)
            ).first()
            if pair_id is not None:
                return f"pair:{pair_id}"
        return f"{site}:{issue_id}"

    # ---- enqueue --------------------------------------------------------------------------

    def enqueue(
        self,
        notice: ChangeNotice,
        *,
        immediate: bool = False,
        session: Session | None = None,
        wake: bool = False,
    ) -> int:
        """Record a notice durably; returns the id of the job that now holds it.

        Pass ``session`` to enqueue inside a caller's transaction (the webhook receiver
        records the dedupe id in the same one). ``wake``: due now even when the key's job
        is backing off (what it waited for has happened, e.g. its parent got a mirror)."""
        if session is not None:
            self.notify_after_commit(session)
            return self._enqueue_in(session, notice, immediate, wake)
        with self.store.session() as own:
            job_id = self._enqueue_in(own, notice, immediate, wake)
        self.wakeup.notify()
        return job_id

    def notify_after_commit(self, session: Session) -> None:
        """Wake the workers once ``session`` commits (not before: they would not see the
        job yet; not on a rollback: there is nothing to see)."""
        session.info[_WAKE_PENDING] = True
        if session.info.get(_WAKE_LISTENING):
            return
        session.info[_WAKE_LISTENING] = True

        def committed(s: Session) -> None:
            if s.get_nested_transaction() is not None:
                return  # a savepoint was released: the transaction still runs
            if s.info.pop(_WAKE_PENDING, False):
                self.wakeup.notify()

        event.listen(session, "after_commit", committed)

    def _enqueue_in(
        self, session: Session, notice: ChangeNotice, immediate: bool, wake: bool = False
    ) -> int:
        """Two statements: an upsert of the key's queued job (its key found by the same
        statement: the issue's pair if it has one) returning its id, and the notice's
        insert. The unique (key, state) makes the upsert safe against a concurrent one."""
        now = self.clock.now()
        immediate = immediate or wake
        side = self.site_sides.get(notice.site)
        mode = "wake" if wake else "immediate" if immediate else "plain"
        stmt = _upsert_job(self.store.dialect, side if side in ("server", "cloud") else None, mode)
        available = now if immediate else now + timedelta(seconds=self.config.coalesce_seconds)
        job_id: int = session.execute(
            stmt,
            {
                "p_key": f"{notice.site}:{notice.issue_id}",
                "p_site": notice.site,
                "p_issue": notice.issue_id,
                "p_issue_key": notice.issue_key,
                "p_new_issue_key": notice.issue_key or None,  # keep the known one
                "p_now": now,
                "p_available": available,
            },
        ).scalar_one()
        session.execute(
            _ADD_NOTICE,
            {"job_id": job_id, "notice": notice.to_json(), "observed_at": notice.observed_at},
        )
        return job_id

    # ---- lease ----------------------------------------------------------------------------

    def lease(self, owner: str, *, limit: int = 1) -> list[Job]:
        """Lease up to ``limit`` due jobs whose key has no job running, in one transaction.

        Set-based, so its cost hardly grows with ``limit``: one query of due candidates
        (locked with SKIP LOCKED on PostgreSQL, so concurrent leasers take disjoint rows),
        for paired issues one of their pair rows (locked: two leasers of one pair take
        turns) and one of the running jobs of the same pairs, then one guarded UPDATE of
        the chosen rows and one SELECT of their notices. The jobs of one call share a lease
        owner (one token per call: the id and the owner still name one lease).

        Leases of dead workers are reclaimed first, but only when something may have died
        (see :meth:`_reclaim_due`). Sets :attr:`next_due` when fewer than ``limit`` were
        found, else None (the caller asks again at once anyway)."""
        now = self.clock.now()
        lease_owner = _lease_owner(owner)
        chosen: list[_Candidate] = []
        taken: set[str] = set()  # the keys of the chosen jobs' pairs
        page = max(limit * 4, 16)
        with self.store.session() as session:
            if self._reclaim_due(now) and self._reclaim(session, now):
                session.flush()  # the requeued rows, before the table statements read
            # table statements on the connection: Session.execute's ORM handling of them
            # was most of a lease's cost
            conn = session.connection()
            after: tuple[datetime, int] | None = None
            while len(chosen) < limit:
                if after is None:
                    found = conn.execute(_candidates_page(False, page), {"now": now}).all()
                else:
                    found = conn.execute(
                        _candidates_page(True, page),
                        {"now": now, "after_at": after[0], "after_id": after[1]},
                    ).all()
                rows = [_Candidate(*r) for r in found]
                if rows:
                    after = (rows[-1].available_at, rows[-1].id)
                for row in self._free_of_running_pairs(session, rows, taken):
                    chosen.append(row)
                    if len(chosen) >= limit:
                        break
                if len(rows) < page:
                    break  # every due job was looked at
            jobs = self._mark_leased(session, chosen, lease_owner, now) if chosen else []
            self.next_due, self.due_left = None, True
            if len(jobs) < limit:
                self.next_due, self.due_left = conn.execute(_NEXT_DUE, {"now": now}).one()
        return jobs

    def _reclaim_due(self, now: datetime) -> bool:
        """Whether a lease call should reclaim first: on the first call, then at most every
        quarter lease (a lease that expired meanwhile waits at most that much longer), and
        at once when a process of this host seen holding leases at the last reclaim has
        gone (a restarted engine picks up its predecessor's jobs without delay; a local
        process that started leasing since is seen at the next reclaim)."""
        last = self._reclaimed_at
        every = timedelta(seconds=self.config.lease_seconds / 4)
        if last is None or now < last or now - last >= every:
            return True
        return any(_process_is_gone(pid, inc, _pid_is_gone) for pid, inc in self._watched)

    def _free_of_running_pairs(
        self, session: Session, rows: list[_Candidate], taken: set[str]
    ) -> list[_Candidate]:
        """The candidates whose issue pair has no other job running, nor one chosen already
        (``taken``, updated). A job queued before its pair existed carries its issue's key
        (``site:id``), so a pair's jobs may carry three keys; the candidates query only
        ruled out a running job under the candidate's own key. When every candidate is
        keyed by its pair and no job keyed by an issue is running, that was all there is to
        check (on PostgreSQL a leaser of a pre-pair job may then lease alongside: the pair
        is claimed before it is written, see :meth:`claim_pair`)."""
        if not self.site_sides or (
            rows and not rows[0].loose_running and all(r.key.startswith("pair:") for r in rows)
        ):  # each key stands alone
            alone = [r for r in rows if r.key not in taken]
            taken.update(r.key for r in alone)
            return alone
        pair_ids: set[int] = set()
        issues: dict[str, set[str]] = {"server": set(), "cloud": set()}
        for row in rows:
            head, _, rest = row.key.partition(":")
            if head == "pair" and rest.isdigit():
                pair_ids.add(int(rest))
            elif (side := self.site_sides.get(head)) in issues:
                issues[side].add(rest)
        found: Iterable[Any] = ()
        if issues["server"] or issues["cloud"]:
            params = {
                "ids": sorted(pair_ids),
                "server": sorted(issues["server"]),
                "cloud": sorted(issues["cloud"]),
            }
            found = session.execute(_PAIRS_OF_ISSUES, params)
        elif pair_ids:
            found = session.execute(_PAIRS_BY_ID, {"ids": sorted(pair_ids)})
        pairs = [(pair_id, server, cloud) for pair_id, server, cloud in found]
        keys_of = {row.id: self._pair_keys(row.key, pairs) for row in rows}
        every = set().union(*keys_of.values()) if keys_of else set()
        running = set(session.scalars(_RUNNING_KEYS, {"keys": sorted(every)})) if every else set()
        free: list[_Candidate] = []
        for row in rows:
            keys = keys_of[row.id]
            if keys & running or keys & taken:
                continue
            taken.update(keys)
            free.append(row)
        return free

    def _pair_keys(self, key: str, pairs: Sequence[tuple[int, str, str]]) -> set[str]:
        """Every key a job for the same issue pair as ``key`` may carry (``pairs``: the
        ``(id, server issue, cloud issue)`` rows that may be its pair)."""
        head, _, rest = key.partition(":")
        side = self.site_sides.get(head)
        keys = {key}
        for pair_id, server_issue, cloud_issue in pairs:
            if head == "pair":
                mine = rest == str(pair_id)
            elif side == "server":
                mine = rest == server_issue
            elif side == "cloud":
                mine = rest == cloud_issue
            else:
                mine = False
            if mine:
                keys.add(f"pair:{pair_id}")
                for site, site_side in self.site_sides.items():
                    keys.add(f"{site}:{server_issue if site_side == 'server' else cloud_issue}")
        return keys

    def _mark_leased(
        self, session: Session, chosen: list[_Candidate], owner: str, now: datetime
    ) -> list[Job]:
        """One guarded UPDATE of the chosen rows (still queued: on PostgreSQL a row another
        leaser took meanwhile is left out), then one SELECT of their notices."""
        expires = now + timedelta(seconds=self.config.lease_seconds)
        params = {"ids": [c.id for c in chosen], "owner": owner, "expires": expires}
        if self.store.dialect == "sqlite":  # one writer at a time: no one can interfere
            leased = dict(session.connection().execute(_MARK_LEASED, params).tuples().all())
        else:
            leased = self._mark_leased_racing(session, params)
        if not leased:
            return []
        notices: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        notices_of = session.connection().execute(_NOTICES_OF, {"ids": list(leased)})
        for job_id, notice_id, raw in notices_of:
            notices.setdefault(job_id, []).append((notice_id, raw))
        jobs: list[Job] = []
        for c in chosen:
            if c.id not in leased:
                continue
            mine = notices.get(c.id, [])
            jobs.append(
                Job(
                    id=c.id,
                    key=c.key,
                    site=c.site,
                    issue_id=c.issue_id,
                    issue_key=c.issue_key,
                    attempts=leased[c.id],
                    owner=owner,
                    lease_expires_at=expires,
                    notices=tuple(ChangeNotice.from_json(n) for _, n in mine),
                    notice_ids=tuple(i for i, _ in mine),
                )
            )
        return jobs

    def _mark_leased_racing(self, session: Session, params: dict[str, Any]) -> dict[int, int]:
        """:data:`_MARK_LEASED` where another transaction may have given a chosen row's key
        a running job meanwhile (e.g. :meth:`claim_pair`): the unique (key, state) then
        refuses the whole UPDATE, and the rows are leased one by one, skipping that one."""
        try:
            with session.begin_nested():
                return dict(session.execute(_MARK_LEASED, params).tuples().all())
        except IntegrityError:
            pass
        leased: dict[int, int] = {}
        for job_id in params["ids"]:
            try:
                with session.begin_nested():
                    one = {**params, "ids": [job_id]}
                    leased.update(session.execute(_MARK_LEASED, one).tuples().all())
            except IntegrityError:
                continue  # its key got a running job meanwhile
        return leased

    def extend(self, job: Job) -> bool:
        """Push the lease's expiry out again (a heartbeat for long jobs)."""
        expires = self.clock.now() + timedelta(seconds=self.config.lease_seconds)
        with self.store.session() as session:
            done = session.execute(
                update(QueueJob)
                .where(_owned(job))
                .values(lease_expires_at=expires)
                .returning(QueueJob.id)
            ).first()
        return done is not None

    def claim_pair(self, job: Job, pair_id: int, *, session: Session | None = None) -> bool:
        """Make ``job`` the one running job of issue pair ``pair_id``: its leased row takes
        the pair's key. A job queued before its issue was paired carries the issue's key, so
        the lease-time check cannot see that the pair's other issue has a job running too
        (both were leased before the pair existed). The unique (key, state) constraint
        allows one leased row per key: False when another job of the pair holds it (the
        caller retries later), True otherwise (a lease lost meanwhile is found out when the
        job completes). With ``session`` the claim is made in the caller's transaction, in
        a savepoint (a lost race leaves the rest of that transaction as it was)."""
        key = f"pair:{pair_id}"
        if job.key == key:
            return True
        if session is not None:
            try:
                with session.begin_nested():
                    session.execute(update(QueueJob).where(_owned(job)).values(key=key))
            except IntegrityError:
                return False
            return True
        try:
            with self.store.session() as session:
                session.execute(update(QueueJob).where(_owned(job)).values(key=key))
        except (IntegrityError, RetryLaterError):  # the store maps a lost race to a retry
            return False
        return True

    def reclaim_expired(self) -> int:
        """Put jobs whose worker died back in the queue: leases that expired, and leases of
        processes of this host that are gone (no need to wait those out)."""
        with self.store.session() as session:
            return self._reclaim(session, self.clock.now())

    def _after_commit(
        self, session: Session, now: datetime, watched: frozenset[tuple[int, str]]
    ) -> None:
        """Note the reclaim done once ``session`` commits: a transaction that fails later
        rolls the reclaim back, and the next lease must then reclaim again, not skip it for
        a quarter lease."""

        def committed(s: Session) -> None:
            if s.get_nested_transaction() is not None:
                return  # a savepoint was released: the transaction still runs
            self._reclaimed_at = now
            self._watched = watched

        event.listen(session, "after_commit", committed)

    def _reclaim(self, session: Session, now: datetime) -> int:
        # only leases that expired or may name a process of this host: the others (live
        # leases of other hosts) are left alone without being read
        candidates = [QueueJob.lease_expires_at.is_(None), QueueJob.lease_expires_at < now]
        local = _local_owners()
        if local is not None:
            candidates.append(local)
        leased = session.execute(
            select(QueueJob.id, QueueJob.lease_owner, QueueJob.lease_expires_at).where(
                QueueJob.state == JobState.LEASED, or_(*candidates)
            )
        ).all()
        # one probe per process however many jobs it holds
        probe = functools.cache(_pid_is_gone)
        reasons: dict[int, str] = {}
        watched: set[tuple[int, str]] = set()
        for job_id, owner, expires in leased:
            if expires is None or expires < now:
                reasons[job_id] = "lease expired"
            elif process := _local_process(owner or ""):
                if _process_is_gone(*process, probe):
                    reasons[job_id] = "its worker process is gone"
                elif process[0] != os.getpid():
                    watched.add(process)
        self._after_commit(session, now, frozenset(watched))
        if not reasons:
            return 0
        count = 0
        rows = session.scalars(
            select(QueueJob)
            .where(QueueJob.id.in_(list(reasons)), QueueJob.state == JobState.LEASED)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            count += 1
            if row.attempts >= self.config.max_attempts:
                self._to_dead(
                    session,
                    row,
                    f"{reasons[row.id]} {row.attempts} times (worker crashed or hung)",
                    "LeaseExpired",
                )
                continue
            self._requeue(session, row, available_at=now, error=reasons[row.id])
        return count

    # ---- finish ---------------------------------------------------------------------------

    def complete(
        self, job: Job, *, session: Session | None = None, message: str | None = None
    ) -> bool:
        """Delete a finished job and its notices; False when the lease was lost meanwhile.

        Pass ``session`` so the engine's own state writes commit with the completion: a
        lost lease then raises :class:`LeaseLostError` instead, so the caller's transaction
        rolls back (its writes are for a job another worker owns now)."""
        if session is not None:
            self._complete_in(session, job, message)
            return True
        try:
            with self.store.session() as own:
                self._complete_in(own, job, message)
        except LeaseLostError:
            return False
        return True

    def _complete_in(self, session: Session, job: Job, message: str | None) -> None:
        """Delete the job if still owned (DELETE .. RETURNING: nothing is touched when it
        is not), its notices (the foreign key cascades; said again for a store without
        it) and audit it. Core statements, after a flush of the caller's pending rows, so
        the audit rows keep the order they were made in."""
        session.flush()
        # on the session's connection: table statements need none of Session.execute's
        # ORM handling (it was most of a job's completion)
        conn = session.connection()
        if conn.execute(_DROP_OWNED, {"job": job.id, "owner": job.owner}).first() is None:
            raise LeaseLostError(job)
        conn.execute(_DROP_NOTICES, {"job": job.id})
        conn.execute(
            _ADD_AUDIT,
            {
                "at": self.clock.now(),
                "kind": "job_done",
                "site": job.site,
                "subject": job.issue_key or job.issue_id,
                "message": message or f"applied {len(job.notice_ids)} notice(s)",
                "details": {"job": job.id, "key": job.key, "notice_ids": list(job.notice_ids)},
            },
        )

    def release(self, job: Job, *, reason: str = "interrupted by shutdown") -> bool:
        """Give an unfinished job back to the queue as it was (due now, the attempt not
        counted): a stop interrupted it, it did not fail. False when the lease was lost."""
        with self.store.session() as session:
            row = session.scalars(select(QueueJob).where(_owned(job)).with_for_update()).first()
            if row is None:
                return False
            row.attempts = max(0, row.attempts - 1)
            self._requeue(session, row, available_at=self.clock.now(), error=redact(reason))
            return True

    def fail(self, job: Job, error: BaseException) -> FailOutcome:
        """Record a failed attempt and decide: retry later, release, or dead-letter."""
        if isinstance(error, LeaseLostError):  # the job is someone else's now: leave it be
            log.warning("%s", error)
            return FailOutcome.LOST_LEASE
        now = self.clock.now()
        reason = redact(str(error) or type(error).__name__)
        with self.store.session() as session:
            row = session.scalars(select(QueueJob).where(_owned(job)).with_for_update()).first()
            if row is None:
                return FailOutcome.LOST_LEASE
            if isinstance(error, ReauthenticateError | FixConfigError):
                row.attempts = max(0, row.attempts - 1)
                self._requeue(
                    session,
                    row,
                    available_at=now + timedelta(seconds=self.config.backoff_max_seconds),
                    error=reason,
                )
                return FailOutcome.RELEASED
            branch = _branch(error)
            if isinstance(error, SkipItemError | BadInputError):
                self._to_dead(session, row, reason, branch)
                return FailOutcome.DEAD
            if row.attempts >= self.config.max_attempts:
                self._to_dead(
                    session, row, f"gave up after {row.attempts} attempts: {reason}", branch
                )
                return FailOutcome.DEAD
            delay = min(
                self.config.backoff_max_seconds,
                self.config.backoff_base_seconds * 2 ** max(0, row.attempts - 1),
            )
            if isinstance(error, RetryLaterError) and error.retry_after is not None:
                delay = max(delay, error.retry_after)
            self._requeue(session, row, available_at=now + timedelta(seconds=delay), error=reason)
            return FailOutcome.RETRY

    def _requeue(
        self, session: Session, row: QueueJob, *, available_at: datetime, error: str
    ) -> None:
        """Leased -> queued, folding in the key's queued job (its notices are newer)."""
        newer = session.scalars(
            select(QueueJob)
            .where(QueueJob.key == row.key, QueueJob.state == JobState.QUEUED)
            .with_for_update()
        ).first()
        if newer is not None:
            session.execute(
                update(QueueNotice).where(QueueNotice.job_id == newer.id).values(job_id=row.id)
            )
            session.delete(newer)
            session.flush()
        row.state = JobState.QUEUED
        row.lease_owner = None
        row.lease_expires_at = None
        row.available_at = available_at
        row.last_error = error
        session.flush()

    def _to_dead(self, session: Session, row: QueueJob, reason: str, branch: str) -> None:
        notices = session.scalars(
            select(QueueNotice.notice)
            .where(QueueNotice.job_id == row.id)
            .order_by(QueueNotice.observed_at, QueueNotice.id)
        ).all()
        session.add(
            DeadLetter(
                key=row.key,
                site=row.site,
                issue_id=row.issue_id,
                issue_key=row.issue_key,
                reason=reason,
                error_branch=branch,
                attempts=row.attempts,
                payload={"notices": list(notices)},
                failed_at=self.clock.now(),
            )
        )
        session.execute(delete(QueueNotice).where(QueueNotice.job_id == row.id))
        session.delete(row)
        session.add(
            AuditEntry(
                at=self.clock.now(),
                kind="dead_letter",
                site=row.site,
                subject=row.issue_key or row.issue_id,
                message=reason,
                details={"key": row.key, "branch": branch},
            )
        )
        session.flush()

    # ---- dead letters ---------------------------------------------------------------------

    def dead_letters(
        self, *, ids: Sequence[int] = (), reason: str | None = None, limit: int = 1000
    ) -> list[DeadLetterInfo]:
        with self.store.session() as session:
            rows = session.scalars(
                _dead_filter(select(DeadLetter), ids, reason).order_by(DeadLetter.id).limit(limit)
            ).all()
            return [
                DeadLetterInfo(
                    id=r.id,
                    key=r.key,
                    site=r.site,
                    issue_id=r.issue_id,
                    issue_key=r.issue_key,
                    reason=r.reason,
                    error_branch=r.error_branch,
                    attempts=r.attempts,
                    failed_at=r.failed_at,
                    notices=len(r.payload.get("notices", [])),
                )
                for r in rows
            ]

    def retry_dead(
        self, *, ids: Sequence[int] = (), reason: str | None = None, everything: bool = False
    ) -> int:
        """Put dead letters back in the queue (by id, by reason text or branch, or all)."""
        _require_selector(ids, reason, everything)
        moved = 0
        with self.store.session() as session:
            rows = session.scalars(
                _dead_filter(select(DeadLetter), ids, reason).with_for_update()
            ).all()
            self.notify_after_commit(session)
            for row in rows:
                for raw in row.payload.get("notices", []):
                    self._enqueue_in(session, ChangeNotice.from_json(raw), True)
                if not row.payload.get("notices"):
                    continue
                session.delete(row)
                moved += 1
        return moved

    def drop_dead(
        self, *, ids: Sequence[int] = (), reason: str | None = None, everything: bool = False
    ) -> int:
        """Delete dead letters for good."""
        _require_selector(ids, reason, everything)
        with self.store.session() as session:
            rows = session.scalars(_dead_filter(select(DeadLetter), ids, reason)).all()
            for row in rows:
                session.delete(row)
            return len(rows)

    # ---- status ---------------------------------------------------------------------------

    def stats(self) -> QueueStats:
        with self.store.session() as session:
            counts = dict(
                session.execute(select(QueueJob.state, func.count()).group_by(QueueJob.state)).all()
            )
            oldest = session.scalar(
                select(func.min(QueueJob.enqueued_at)).where(QueueJob.state == JobState.QUEUED)
            )
            notices = session.scalar(select(func.count()).select_from(QueueNotice)) or 0
            dead = session.scalar(select(func.count()).select_from(DeadLetter)) or 0
        return QueueStats(
            queued=int(counts.get(JobState.QUEUED, 0)),
            leased=int(counts.get(JobState.LEASED, 0)),
            notices=int(notices),
            dead=int(dead),
            oldest_queued=oldest,
        )


_JOBS = cast(Table, QueueJob.__table__)
_NOTICES = cast(Table, QueueNotice.__table__)
_PAIRS = cast(Table, IssuePair.__table__)


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A due queued job, as the candidates query returns it."""

    id: int
    key: str
    site: str
    issue_id: str
    issue_key: str | None
    available_at: datetime
    loose_running: bool  # some job keyed by its issue (not a pair) is running


def _candidates(after: bool) -> Select[Any]:
    """Due queued jobs, oldest first (``after``: past ``:after_at``/``:after_id``, the last
    one looked at), leaving out those whose own key has a job running: they cannot be
    leased, and a page full of them would hide a due job of a free key behind it. Locked
    with SKIP LOCKED (PostgreSQL): what another leaser is looking at is not ours to take.
    Each row also says whether any running job is keyed by its issue rather than a pair
    (an uncorrelated subquery: the database works it out once)."""
    running = _JOBS.alias("running")
    loose = _JOBS.alias("loose")
    stmt = select(
        _JOBS.c.id,
        _JOBS.c.key,
        _JOBS.c.site,
        _JOBS.c.issue_id,
        _JOBS.c.issue_key,
        _JOBS.c.available_at,
        exists()
        .where(loose.c.state == JobState.LEASED, loose.c.key.not_like("pair:%"))
        .label("loose_running"),
    ).where(
        _JOBS.c.state == JobState.QUEUED,
        _JOBS.c.available_at <= bindparam("now"),
        ~exists().where(running.c.key == _JOBS.c.key, running.c.state == JobState.LEASED),
    )
    if after:
        at = bindparam("after_at", type_=_JOBS.c.available_at.type)
        stmt = stmt.where(
            or_(
                _JOBS.c.available_at > at,
                and_(_JOBS.c.available_at == at, _JOBS.c.id > bindparam("after_id")),
            )
        )
    return stmt.order_by(_JOBS.c.available_at, _JOBS.c.id).with_for_update(skip_locked=True)


# built once: the lease path runs them many times a second
_CANDIDATES = _candidates(after=False)
_CANDIDATES_AFTER = _candidates(after=True)


@functools.cache
def _candidates_page(after: bool, page: int) -> Select[Any]:
    """The candidates query with its page size, built once per size (``limit`` makes a new
    statement, and a new statement costs its cache key again on every run)."""
    return (_CANDIDATES_AFTER if after else _CANDIDATES).limit(page)


# a pair's row locked: two leasers of one pair take turns (see Queue._free_of_running_pairs)
_PAIR_ROWS = select(_PAIRS.c.id, _PAIRS.c.server_issue_id, _PAIRS.c.cloud_issue_id)
_PAIRS_BY_ID = (
    _PAIR_ROWS.where(_PAIRS.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_PAIRS.c.id)
    .with_for_update()
)
_PAIRS_OF_ISSUES = (
    _PAIR_ROWS.where(
        or_(
            _PAIRS.c.id.in_(bindparam("ids", expanding=True)),
            _PAIRS.c.server_issue_id.in_(bindparam("server", expanding=True)),
            _PAIRS.c.cloud_issue_id.in_(bindparam("cloud", expanding=True)),
        )
    )
    .order_by(_PAIRS.c.id)
    .with_for_update()
)
_RUNNING_KEYS = select(_JOBS.c.key).where(
    _JOBS.c.key.in_(bindparam("keys", expanding=True)), _JOBS.c.state == JobState.LEASED
)
_MARK_LEASED = (
    update(_JOBS)
    .where(_JOBS.c.id.in_(bindparam("ids", expanding=True)), _JOBS.c.state == JobState.QUEUED)
    .values(
        state=JobState.LEASED,
        lease_owner=bindparam("owner", type_=_JOBS.c.lease_owner.type),
        lease_expires_at=bindparam("expires", type_=_JOBS.c.lease_expires_at.type),
        attempts=_JOBS.c.attempts + 1,
    )
    .returning(_JOBS.c.id, _JOBS.c.attempts)
)
_NOTICES_OF = (
    select(_NOTICES.c.job_id, _NOTICES.c.id, _NOTICES.c.notice)
    .where(_NOTICES.c.job_id.in_(bindparam("ids", expanding=True)))
    .order_by(_NOTICES.c.observed_at, _NOTICES.c.id)
)
_ADD_NOTICE = insert(_NOTICES)


@functools.cache
def _upsert_job(dialect: str, side: str | None, mode: str) -> Insert:
    """The upsert of a key's queued job (built once per dialect, site side and mode).

    The key is the issue's pair (``pair:N``) when ``side`` is known and a pair holds the
    issue, else ``:p_key`` (site and issue). A key with a queued job already gets the
    notice's issue key (when it has one) and, by ``mode``: ``wake``, due now; ``immediate``,
    due now unless it is backing off after a failure (retrying a 429 early only earns a
    longer wait); ``plain``, its due time as it was (the coalescing delay runs on)."""
    make = sqlite_insert if dialect == "sqlite" else postgresql_insert
    key: ColumnElement[str] = bindparam("p_key", type_=String)
    if side is not None:
        column = _PAIRS.c.server_issue_id if side == "server" else _PAIRS.c.cloud_issue_id
        pair_key = (
            select(literal("pair:", String) + sql_cast(_PAIRS.c.id, String))
            .where(column == bindparam("p_issue", type_=String))
            .order_by(_PAIRS.c.id)
            .limit(1)
            .scalar_subquery()
        )
        key = func.coalesce(pair_key, key)
    stmt = make(_JOBS).values(
        key=key,
        state=JobState.QUEUED,
        site=bindparam("p_site", type_=String),
        issue_id=bindparam("p_issue", type_=String),
        issue_key=bindparam("p_issue_key", type_=String),
        enqueued_at=bindparam("p_now", type_=_JOBS.c.enqueued_at.type),
        available_at=bindparam("p_available", type_=_JOBS.c.available_at.type),
        attempts=0,
    )
    now = bindparam("p_now", type_=_JOBS.c.available_at.type)
    changes: dict[str, Any] = {
        "issue_key": func.coalesce(bindparam("p_new_issue_key", type_=String), _JOBS.c.issue_key)
    }
    if mode == "wake":
        changes["available_at"] = now
    elif mode == "immediate":
        changes["available_at"] = case((_JOBS.c.attempts == 0, now), else_=_JOBS.c.available_at)
    return stmt.on_conflict_do_update(
        index_elements=[_JOBS.c.key, _JOBS.c.state], set_=changes
    ).returning(_JOBS.c.id)


_DROP_NOTICES = delete(_NOTICES).where(_NOTICES.c.job_id == bindparam("job"))
_DROP_OWNED = (
    delete(_JOBS)
    .where(
        _JOBS.c.id == bindparam("job"),
        _JOBS.c.state == JobState.LEASED,
        _JOBS.c.lease_owner == bindparam("owner"),
    )
    .returning(_JOBS.c.id)
)
_ADD_AUDIT = insert(cast(Table, AuditEntry.__table__))
# when the next queued job becomes due, and whether a due one is left (both read off the
# (state, available_at) index)
_NEXT_DUE = select(
    select(func.min(_JOBS.c.available_at))
    .where(_JOBS.c.state == JobState.QUEUED, _JOBS.c.available_at > bindparam("now"))
    .scalar_subquery(),
    exists()
    .where(_JOBS.c.state == JobState.QUEUED, _JOBS.c.available_at <= bindparam("now"))
    .label("due_left"),
)


def _owned(job: Job) -> ColumnElement[bool]:
    return and_(
        QueueJob.id == job.id,
        QueueJob.state == JobState.LEASED,
        QueueJob.lease_owner == job.owner,
    )


def _branch(error: BaseException) -> str:
    for cls in (
        RetryLaterError,
        ReauthenticateError,
        FixConfigError,
        SkipItemError,
        BadInputError,
        JirabridgeError,
    ):
        if isinstance(error, cls):
            return cls.__name__
    return type(error).__name__


def _dead_filter(
    stmt: Select[DeadLetter], ids: Sequence[int], reason: str | None
) -> Select[DeadLetter]:
    if ids:
        stmt = stmt.where(DeadLetter.id.in_(list(ids)))
    if reason:
        pattern = f"%{reason.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(DeadLetter.reason).like(pattern),
                func.lower(DeadLetter.error_branch) == reason.lower(),
            )
        )
    return stmt


def _require_selector(ids: Sequence[int], reason: str | None, everything: bool) -> None:
    if not ids and not reason and not everything:
        raise BadInputError("say which dead letters: ids, a reason, or all")


Handler = Callable[[Job], Awaitable[bool | None]]
"""A job handler; it returns True when it completed the job itself (in its own transaction,
with its state writes), else the worker completes it after it returns."""


async def run_workers(
    queue: Queue,
    handler: Handler,
    *,
    workers: int | Callable[[], int],
    stop: asyncio.Event,
    owner_prefix: str = "worker",
    idle_seconds: float = 0.5,
) -> None:
    """Hand due jobs to up to ``workers`` concurrent ``handler`` calls until ``stop`` is set
    (a callable is asked each time: the pool follows it; fewer lets running jobs finish).

    One dispatcher leases as many due jobs as there are free workers (one transaction)
    whenever one may have become due: a notice was enqueued in this process (the queue's
    :class:`Wakeup`), a job finished (its key may have a job waiting), or the earliest
    coalescing delay or backoff ran out; at the latest every ``idle_seconds`` (notices from
    other processes). A running job's lease is kept alive by a heartbeat. Different keys run
    in parallel; one key never does. Database calls run in threads so the event loop stays
    free for the handlers' HTTP calls.

    A stop interrupts running handlers and gives their jobs back (due now, the attempt not
    counted). So does cancellation, which always propagates: the task ends cancelled, also
    when it is cancelled again while a handler is still handling its own cancellation."""
    loop = asyncio.get_running_loop()
    kick = asyncio.Event()  # something may be due now, or a worker became free
    stopped: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    stopped.add_done_callback(lambda _f: kick.set())
    running: set[asyncio.Task[bool]] = set()

    async def pause() -> None:
        # the state store failed: wait a little (or until stopped) before the next try
        await asyncio.wait({stopped}, timeout=max(idle_seconds, 0.05) * 4)

    def give_back(jobs: Sequence[Job]) -> None:
        # leased by a lease call whose caller was cancelled meanwhile
        for job in jobs:
            with contextlib.suppress(RuntimeError):  # the executor is shut down: it expires
                loop.run_in_executor(None, functools.partial(_release_quietly, queue, job))

    async def lease(limit: int) -> list[Job]:
        call = loop.run_in_executor(None, functools.partial(queue.lease, owner_prefix, limit=limit))
        try:
            return await asyncio.shield(call)
        except asyncio.CancelledError:
            call.add_done_callback(
                lambda f: None if f.cancelled() or f.exception() else give_back(f.result())
            )
            raise

    async def heartbeat(job: Job, work: asyncio.Future[Any]) -> None:
        interval = heartbeat_seconds(queue.config.lease_seconds)
        while not work.done():
            await asyncio.sleep(interval)
            try:
                held = await asyncio.to_thread(queue.extend, job)
            except Exception as exc:  # the store failed: try again on the next beat
                log.warning("lease of job %s not extended: %s", job.id, _why(exc))
                continue
            if not held and not work.done():
                log.warning("job %s lost its lease (it was taken over): stopped", job.id)
                work.cancel()
                return

    async def finish(job: Job, work: asyncio.Future[bool | None]) -> bool:
        """Record the job's end; True when it completed (nothing of it is queued again)."""
        try:
            try:
                completed = work.result()
            except Exception as exc:  # every failure is classified by Queue.fail
                await asyncio.to_thread(queue.fail, job, exc)
                return False
            else:
                if not completed:
                    await asyncio.to_thread(queue.complete, job)
                return True
        except Exception as exc:  # the store itself failed: the lease expires, the job returns
            log.warning(
                "job %s not recorded as finished (the state store failed; its lease will "
                "expire and it runs again): %s",
                job.id,
                _why(exc),
            )
            await pause()
            return False

    async def run_job(job: Job) -> bool:
        """Run ``job`` to its end; True when it completed."""
        work: asyncio.Future[bool | None] = asyncio.ensure_future(handler(job))
        beat = asyncio.ensure_future(heartbeat(job, work))
        cancelled = False
        try:
            await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            cancelled = True
        interrupted = not work.done()
        if interrupted:  # stopped or cancelled: the handler ends first, then the job goes back
            cancelled = await cancel_and_wait(work) or cancelled
        beat.cancel()
        cancelled = await _wait_out(beat) or cancelled
        completed = False
        if interrupted or work.cancelled():
            back = asyncio.ensure_future(asyncio.to_thread(_release_quietly, queue, job))
            cancelled = await _wait_out(back) or cancelled
        else:
            completed = await finish(job, work)
        if cancelled:
            raise asyncio.CancelledError
        return completed

    fatal: list[BaseException] = []
    # whether due jobs may be waiting that the last lease did not take (it filled every
    # free worker, or left due jobs behind, e.g. of a key that was running, or notices came
    # while every worker was busy): only then does a worker that frees up call for a lease.
    # A job that completed frees its key, but a notice for that key during the job woke the
    # dispatcher already. At 200 changes/s half the lease calls were for nothing, each
    # taking the store's write lock from the receiver and the jobs' commits
    due_maybe = [True]

    def ended(task: asyncio.Task[bool]) -> None:
        running.discard(task)
        completed = not task.cancelled() and task.exception() is None and task.result()
        if due_maybe[0] or not completed:  # a failed job may be due again (its backoff)
            kick.set()
        error = None if task.cancelled() else task.exception()
        if isinstance(error, Exception):
            log.error("a worker failed: %s", _why(error))
        elif error is not None:  # e.g. SystemExit: it ends the run, the job stays as it is
            fatal.append(error)

    cancelled = False
    queue.wakeup.subscribe(kick)
    try:
        while not stop.is_set():
            if fatal:
                raise fatal[0]
            free = (workers() if callable(workers) else workers) - len(running)
            kick.clear()
            if free <= 0:
                await kick.wait()
                due_maybe[0] = True  # a notice may have come meanwhile (or a worker ended)
                continue
            try:
                jobs = await lease(free)
            except Exception as exc:  # the state store failed: back off, try again
                log.warning("could not lease a job (the state store failed): %s", _why(exc))
                await pause()
                continue
            if stop.is_set():  # stopped while leasing: do not start them
                for job in jobs:
                    await asyncio.to_thread(_release_quietly, queue, job)
                break
            due_maybe[0] = len(jobs) >= free or queue.due_left
            for job in jobs:
                task = asyncio.create_task(run_job(job))
                running.add(task)
                task.add_done_callback(ended)
            if len(jobs) >= free or kick.is_set():
                continue
            delay = idle_seconds
            if queue.next_due is not None:
                due_in = (queue.next_due - queue.clock.now()).total_seconds()
                delay = min(delay, max(due_in, 0.001))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(kick.wait(), delay)
        if fatal:
            raise fatal[0]
    finally:
        queue.wakeup.unsubscribe(kick)
        stopped.cancel()  # running jobs see it: they interrupt their handlers and give back
        while running:
            try:
                await asyncio.wait(set(running))
            except asyncio.CancelledError:
                cancelled = True
                for task in running:
                    task.cancel()
    if cancelled:
        raise asyncio.CancelledError


async def cancel_and_wait(work: asyncio.Future[Any]) -> bool:
    """Cancel ``work`` and wait until it has ended (cancelling it again whenever we are
    cancelled meanwhile); True when we were."""
    cancelled = False
    work.cancel()
    while not work.done():
        try:
            await asyncio.wait({work})
        except asyncio.CancelledError:
            cancelled = True
            work.cancel()
    return cancelled


async def _wait_out(fut: asyncio.Future[Any]) -> bool:
    """Wait until ``fut`` is done even when cancelled meanwhile; True when we were."""
    cancelled = False
    while not fut.done():
        try:
            await asyncio.wait({fut})
        except asyncio.CancelledError:
            cancelled = True
    if not fut.cancelled():
        fut.exception()  # retrieved: it was logged where it happened
    return cancelled


def _release_quietly(queue: Queue, job: Job) -> None:
    # never dead-lettered, never lost: the job is due again for the next run
    try:
        queue.release(job)
    except Exception as exc:  # the lease then expires (or dies with this process)
        log.warning("job %s not released on stop (its lease will expire): %s", job.id, _why(exc))


def _why(exc: BaseException | None) -> str:
    return redact(str(exc) or type(exc).__name__)
