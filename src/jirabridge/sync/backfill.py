"""Backfill: every issue of every pair once, the missing mirrors created in bulk.

``jirabridge backfill`` (:meth:`jirabridge.sync.runner.SyncRunner.backfill`) runs this:

1. A poll round with fresh cursors reads every side and queues every issue (and saves the
   cursors, so ``run`` goes on from there).
2. For each pair side allowed to create, the queued issues with no pair are *held*
   (``jirabridge.sync.apply._mirror.FreshMirrors``): their jobs wait. The workers start at
   once; while they run, a creator task works through the held issues in queue order, 50 at
   a time: one search reads the sources, :meth:`Applier.mirror_input` shapes each mirror
   (with the ``jirabridge`` marker property in its create), one ``POST /issue/bulk``
   creates them, one search reads them back, the source side gets its cross-references
   (marker, remote link, key written back: calls on the source site), the pairs are
   recorded, and each job is handed its mirror as read. The job then syncs comments and the
   rest without reading the new mirror, listing its comments, or re-reading it afterwards.
3. A settle pass reads the new mirrors again, 100 per search, and records their ``updated``
   where nothing but our own writes can have moved it (see :func:`_settled`), so the next
   poll does not take our writes for changes.

Crash safety: a mirror exists only with its marker (it rides in the create), and every
create is written ahead in the store (a create intent per source, committed before the bulk
POST, dropped with the pair's record). Before the first create, when the pair side has
intents left by a run that died, the creator lists the target project's issues made by the
integration user that are in no pair and reads their marker (:meth:`Applier.orphans`): those
a dead run created are adopted, never created again (with no intent left, no scan). The
intents also make a ``jirabridge run`` after a dead backfill look before it creates. A
batch whose outcome is unknown is looked up the same way; what is not found goes back to its
job, which checks again before creating (its intent stays).
A source the creator cannot mirror (a validation error, a sub-task whose parent has no
mirror) goes back to its job, which creates it one by one or dead-letters it with the
reason. On the emulator's 50 requests/s Cloud limit this spends 1/50 of a call per issue on
creates and 1/25 on reads: see ``bench/sync_backfill.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session

from jirabridge.errors import (
    BadInputError,
    FixConfigError,
    JirabridgeError,
    RetryLaterError,
    SkipItemError,
)
from jirabridge.jira import BulkCreateResult, Issue, IssueInput
from jirabridge.sync.apply import Applier, canonical_values
from jirabridge.sync.apply._base import STATUS_KEY, _Ctx
from jirabridge.sync.apply._mirror import (
    forget_intents,
    pending_intents,
    record_pair,
    write_intents,
)
from jirabridge.sync.config import Direction, PairConfig, Side
from jirabridge.sync.diff import value_hash
from jirabridge.sync.engine import SiteClient, base_jql
from jirabridge.sync.pairs import PairRef
from jirabridge.sync.store import (
    AttachmentPair,
    CommentPair,
    IssuePair,
    JobState,
    LinkPair,
    QueueJob,
    Snapshot,
)

__all__ = ["BULK", "SETTLE_PAGE", "BulkCreator", "backfill"]

log = logging.getLogger("jirabridge.sync.backfill")

BULK = 50  # Jira's bulk-create limit
FIRST_BATCH = 10
SETTLE_PAGE = 100  # issues per settle search
SETTLE_TASKS = 4  # settle searches in flight at once
CROSS_REFERENCE_TASKS = 8  # source-side cross-reference writes in flight at once
# a create intent this old with no mirror found and no job for its source is dropped (the
# margin: a mirror created just before the scan may not be in the search index yet)
STALE_INTENT = timedelta(minutes=10)

if TYPE_CHECKING:  # the runner imports this module when it backfills
    from jirabridge.sync.runner import RoundResult, SyncRunner


@runtime_checkable
class BulkCreator(Protocol):
    """A site client that creates issues in bulk (the real clients do; a dry run's
    recording client does not, and its backfill creates one by one in the jobs)."""

    async def bulk_create(self, items: Sequence[IssueInput]) -> list[BulkCreateResult]: ...


@dataclass
class _Work:
    """The held source issues of one pair side, in queue order."""

    pair: PairConfig
    side: Side
    site: str
    issue_ids: list[str]
    done: set[str] = field(default_factory=set)  # source ids handed on (paired or not)
    made: list[PairRef] = field(default_factory=list)  # mirrors created (to settle)

    def give_back(self, applier: Applier, issue_id: str, *, check: bool = False) -> None:
        """Done with this source issue: its job may go (once per work)."""
        if issue_id not in self.done:
            self.done.add(issue_id)
            applier.fresh.release(self.site, issue_id, check=check)


async def backfill(
    runner: SyncRunner, *, progress: Callable[[int, int], None] | None = None
) -> RoundResult:
    """Read every issue of every pair once, create the missing mirrors in bulk, apply.

    ``progress(done, total)`` is called while applying: jobs (issues) finished out of the
    jobs the read queued; the last call is ``(total - waiting, total)``."""
    result = await runner.poll_round()
    applier = runner.applier
    works = await asyncio.to_thread(_held, runner)
    for work in works:
        applier.fresh.hold(work.site, work.issue_ids)
    creator = asyncio.create_task(_create_all(applier, works))
    draining = asyncio.create_task(_drain(runner, progress))
    try:
        await asyncio.wait({creator, draining}, return_when=asyncio.FIRST_COMPLETED)
        if creator.done() and not creator.cancelled():
            failure = creator.exception()
            if failure is not None and not isinstance(failure, Exception):
                raise failure  # the process is going down (a kill, an exit): stop here
            if failure is not None:  # its held jobs were given back: they create alone
                log.warning("bulk creation stopped; the jobs go on one by one: %s", failure)
        await draining
    finally:
        for task in (creator, draining):
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        applier.fresh.clear()
    for work in works:
        await _settle(applier, work)
    return result


async def _drain(runner: SyncRunner, progress: Callable[[int, int], None] | None) -> None:
    if progress is None:
        await runner.drain()
        return

    def remaining() -> int:
        stats = runner.queue.stats()
        return stats.queued + stats.leased

    total = await asyncio.to_thread(remaining)
    progress(0, total)
    draining = asyncio.create_task(runner.drain())
    while not draining.done():
        await asyncio.wait({draining}, timeout=0.2)
        left = await asyncio.to_thread(remaining)
        progress(max(0, total - left), total)
    await draining


def _held(runner: SyncRunner) -> list[_Work]:
    """Per pair side that may create: its queued issues that have no pair, in queue order.
    Jobs a dead process had leased are put back in the queue first, so they are held too."""
    runner.queue.reclaim_expired()
    works: list[_Work] = []
    with runner.store.session() as session:
        for pair in runner.config.pairs:
            if not pair.enabled:
                continue
            for side in (Side.SERVER, Side.CLOUD):
                if not pair.creates_from(side):
                    continue
                target = pair.cloud if side is Side.SERVER else pair.server
                if not isinstance(runner.clients.get(target.site), BulkCreator):
                    continue
                site = (pair.server if side is Side.SERVER else pair.cloud).site
                column = (
                    IssuePair.server_issue_id if side is Side.SERVER else IssuePair.cloud_issue_id
                )
                paired = select(column).where(IssuePair.pair_id == pair.id)
                ids = session.scalars(
                    select(QueueJob.issue_id)
                    .where(
                        QueueJob.site == site,
                        QueueJob.state == JobState.QUEUED,
                        QueueJob.issue_id.not_in(paired),
                    )
                    .order_by(QueueJob.available_at, QueueJob.id)
                ).all()
                if ids:
                    works.append(_Work(pair, side, site, list(dict.fromkeys(ids))))
    return works


async def _create_all(applier: Applier, works: Sequence[_Work]) -> None:
    for work in works:
        try:
            await _create(applier, work)
        finally:
            # whatever is still held goes to its job, which looks for an orphan first
            for issue_id in work.issue_ids:
                work.give_back(applier, issue_id, check=True)


async def _create(applier: Applier, work: _Work) -> None:
    pair, side = work.pair, work.side
    target = side.other
    clients = {
        Side.SERVER: applier.clients[pair.server.site],
        Side.CLOUD: applier.clients[pair.cloud.site],
    }
    project = (pair.cloud if target is Side.CLOUD else pair.server).project
    adopted: dict[str, tuple[str, str]] = {}
    intents = await asyncio.to_thread(_pending, applier, pair, side)
    if intents:  # creates whose pair was never recorded: their mirrors may exist
        stale = applier.clock.now() - STALE_INTENT
        adopted = await applier.orphans(clients[target], pair.id, target, project, wanted=intents)
        missing = [tag.partition(":")[2] for tag in intents - set(adopted)]
        if missing:  # no mirror: an old one whose source has no job is of no use
            await asyncio.to_thread(_forget, applier, pair, side, missing, stale)
    if adopted:
        log.warning("adopting %d mirror(s) a backfill that died had created", len(adopted))
    waiting: list[str] = []  # sub-tasks whose parent had no mirror yet: with the next batch
    # a small first batch, so the workers start on comments while the next ones are made
    bounds = [0, *range(FIRST_BATCH, len(work.issue_ids), BULK), len(work.issue_ids)]
    for start, stop in itertools.pairwise(bounds):
        chunk = waiting + work.issue_ids[start:stop]
        waiting = await _batch(applier, work, clients, chunk, adopted, last=False)
    while waiting:
        before = len(waiting)
        waiting = await _batch(applier, work, clients, waiting, adopted, last=False)
        if len(waiting) == before:
            await _batch(applier, work, clients, waiting, adopted, last=True)
            break


async def _batch(
    applier: Applier,
    work: _Work,
    clients: dict[Side, SiteClient],
    ids: Sequence[str],
    adopted: dict[str, tuple[str, str]],
    *,
    last: bool,
) -> list[str]:
    """Mirror the source issues ``ids``; returns the ones to try again with a later batch."""
    pair, side, site = work.pair, work.side, work.site
    target = side.other
    fresh = applier.fresh
    end = pair.server if side is Side.SERVER else pair.cloud
    # the site's queue holds every pair's issues: only this pair side's (project, JQL,
    # issue types) are read; the others go to their jobs
    scope = base_jql(end)
    shared = [
        p
        for p in applier.config.pairs
        if p.enabled
        and (p.server if side is Side.SERVER else p.cloud).site == site
        and (p.server if side is Side.SERVER else p.cloud).project == end.project
    ]
    sources: dict[str, Issue] = {}
    for start in range(0, len(ids), BULK):
        for issue in await _search_in(clients[side], "id", ids[start : start + BULK], scope):
            if issue.id is None:
                continue
            if len(shared) > 1 and await applier._pair_for(site, side, issue) is not pair:
                continue  # another pair takes this issue (the first that matches, as jobs do)
            sources[issue.id] = issue
    todo: list[tuple[Issue, IssueInput]] = []
    found: dict[str, tuple[str, str]] = {}  # source id -> mirror (key, id), adopted
    later: list[str] = []
    for issue_id in ids:
        source = sources.get(issue_id)
        if source is None or applier._made_by_us(pair, side, source):
            # gone, moved or hidden, or a mirror we made (its pair row is being written
            # or was lost): its job sees why, never a mirror of a mirror
            work.give_back(applier, issue_id)
            continue
        hit = adopted.pop(f"{side.value}:{issue_id}", None)
        if hit is not None:
            found[issue_id] = hit
            continue
        try:
            data = await applier.mirror_input(_context(applier, pair, side), source)
        except JirabridgeError as exc:
            if not last and isinstance(exc, RetryLaterError):  # its parent is not mirrored
                later.append(issue_id)
            else:  # its job creates it one by one, or dead-letters it with the reason
                work.give_back(applier, issue_id)
            continue
        todo.append((source, data))
    creator = clients[target]
    assert isinstance(creator, BulkCreator)  # checked when the work was planned
    if todo:  # written ahead: a run that dies after the create leaves these behind
        await asyncio.to_thread(_intend, applier, work, [source for source, _ in todo])
    results = await creator.bulk_create([data for _, data in todo]) if todo else []
    unknown: dict[str, Issue] = {}
    created: dict[str, tuple[str, str]] = {}
    refused: list[str] = []
    for (source, _), outcome in zip(todo, results, strict=True):
        assert source.id is not None
        if outcome.ok and outcome.key and outcome.id:
            created[source.id] = (outcome.key, outcome.id)
        elif isinstance(outcome.error, SkipItemError) and outcome.error.jira is not None:
            log.warning("%s not created in bulk: %s", source.key, outcome.error)
            refused.append(source.id)  # nothing was created: its intent goes
        else:
            unknown[f"{side.value}:{source.id}"] = source  # may or may not exist
    if refused:
        await asyncio.to_thread(applier._drop_intents, pair.id, side, refused)
        for source_id in refused:
            work.give_back(applier, source_id)  # its job tries alone, with the reason
    if unknown:
        end = pair.cloud if target is Side.CLOUD else pair.server
        again = await applier.orphans(
            clients[target], pair.id, target, end.project, wanted=set(unknown)
        )
        for origin, source in unknown.items():
            assert source.id is not None
            if origin in again:
                found[source.id] = again[origin]
            else:
                work.give_back(applier, source.id, check=True)
    mirrors = await _read(clients[target], [k for k, _ in (*created.values(), *found.values())])
    pairs: list[tuple[Issue, Issue, bool]] = []
    for source_id, (key, _) in (*created.items(), *found.items()):
        mirror = mirrors.get(key)
        if mirror is None:  # deleted already: its job decides
            work.give_back(applier, source_id, check=True)
            continue
        pairs.append((sources[source_id], mirror, source_id in created))
    await _cross_reference(applier, pair, side, pairs)
    refs = await asyncio.to_thread(_record, applier, pair, side, pairs)
    for (source, mirror, new), ref in zip(pairs, refs, strict=True):
        assert source.id is not None
        if ref is not None and new:
            fresh.put(pair.id, target, mirror)
            work.made.append(ref)
        work.give_back(applier, source.id)
    return later


def _context(applier: Applier, pair: PairConfig, side: Side) -> _Ctx:
    return _Ctx(
        pair=pair,
        side=side,
        clients={
            Side.SERVER: applier.clients[pair.server.site],
            Side.CLOUD: applier.clients[pair.cloud.site],
        },
    )


async def _read(client: SiteClient, keys: Sequence[str]) -> dict[str, Issue]:
    out: dict[str, Issue] = {}
    for start in range(0, len(keys), BULK):
        for issue in await _search_in(client, "key", keys[start : start + BULK], None):
            out[issue.key] = issue
    return out


async def _search_in(
    client: SiteClient,
    field_name: str,
    values: Sequence[str],
    scope: str | None,
    *,
    fields: Sequence[str] | None = None,
) -> list[Issue]:
    """The issues whose ``field_name`` (``id`` or ``key``) is one of ``values``, within
    ``scope`` (JQL) if given. Jira refuses the whole query when one of them no longer
    exists (deleted meanwhile), so then the list is halved until the missing ones are
    left out; other failures (the site down) go up."""
    if not values:
        return []
    jql = f"{field_name} in ({', '.join(values)})" + (f" AND {scope}" if scope else "")
    try:
        return [i async for i in client.search(jql, fields=fields, page_size=len(values))]
    except (FixConfigError, BadInputError, SkipItemError):
        if len(values) == 1:
            return []
    half = len(values) // 2
    return [
        *await _search_in(client, field_name, values[:half], scope, fields=fields),
        *await _search_in(client, field_name, values[half:], scope, fields=fields),
    ]


async def _cross_reference(
    applier: Applier, pair: PairConfig, side: Side, pairs: Sequence[tuple[Issue, Issue, bool]]
) -> None:
    """The source side's marker, the configured remote links and the key written back, a
    few at a time. Done before the pairs are recorded: a run that dies here leaves orphans
    the next run adopts (and writes these again: they are PUTs and upserts)."""
    slots = asyncio.Semaphore(CROSS_REFERENCE_TASKS)

    async def one(source: Issue, mirror: Issue) -> None:
        async with slots:
            await applier.cross_reference(
                _context(applier, pair, side), source, mirror, mirror_marker=False
            )

    await asyncio.gather(*(one(source, mirror) for source, mirror, _ in pairs))


def _pending(applier: Applier, pair: PairConfig, side: Side) -> set[str]:
    with applier.queue.store.session() as session:
        return pending_intents(session, pair.id, side)


def _forget(
    applier: Applier, pair: PairConfig, side: Side, issue_ids: Sequence[str], before: datetime
) -> None:
    with applier.queue.store.session() as session:
        gone = forget_intents(session, pair.id, side, issue_ids, before=before)
    if gone:
        log.info("%s: %d create intent(s) with no mirror and no job dropped", pair.id, gone)


def _intend(applier: Applier, work: _Work, sources: Sequence[Issue]) -> None:
    with applier.queue.store.session() as session:
        now = applier.clock.now()
        write_intents(session, work.pair.id, work.side, work.site, sources, now=now)


def _record(
    applier: Applier, pair: PairConfig, side: Side, pairs: Sequence[tuple[Issue, Issue, bool]]
) -> list[PairRef | None]:
    now = applier.clock.now()
    out: list[PairRef | None] = []
    with applier.queue.store.session() as session:
        for source, mirror, _ in pairs:
            try:  # refuses before writing anything
                ref = record_pair(session, pair.id, side, source, mirror, now=now)
            except SkipItemError as exc:
                log.warning("not paired: %s", exc)
                out.append(None)
                continue
            out.append(ref)
    return out


# ---- settle -------------------------------------------------------------------------------


async def _settle(applier: Applier, work: _Work) -> int:
    """Record the ``updated`` of the mirrors this run created whose jobs left it unknown
    (they did not re-read them), where the mirror shows nothing but what we synced."""
    target = work.side.other
    client = applier.clients[(work.pair.cloud if target is Side.CLOUD else work.pair.server).site]
    fields = sorted(
        {r.server_id if target is Side.SERVER else r.cloud_id for r in work.pair.fields}
        | {"status", "updated", "comment", "attachment", "issuelinks"}
    )
    slots = asyncio.Semaphore(SETTLE_TASKS)

    async def page(refs: Sequence[PairRef]) -> int:
        async with slots:
            known = await asyncio.to_thread(_known, applier, refs, target)
            if not known:
                return 0
            try:
                issues = await _search_in(client, "id", list(known), None, fields=fields)
            except JirabridgeError as exc:
                log.warning("mirrors not settled (the next poll syncs them again): %s", exc)
                return 0
            stamps: dict[str | None, datetime | None] = {
                issue.id: issue.updated
                for issue in issues
                if issue.id in known and _settled(issue, known[issue.id], work.pair, target)
            }
            return await asyncio.to_thread(_stamp, applier, refs, target, stamps)

    pages = [work.made[i : i + SETTLE_PAGE] for i in range(0, len(work.made), SETTLE_PAGE)]
    return sum(await asyncio.gather(*(page(refs) for refs in pages)))


@dataclass(frozen=True)
class _Known:
    """What the store says one mirror should show."""

    fields: dict[str, object]
    hashes: dict[str, object]
    comments: frozenset[str]
    attachments: frozenset[str]
    links: frozenset[str]


def _known(applier: Applier, refs: Sequence[PairRef], side: Side) -> dict[str, _Known]:
    """Mirror issue id -> its snapshot and child rows, for the refs whose snapshot on
    ``side`` has no ``updated`` yet."""
    by_pair = {r.id: r.issue_id(side) for r in refs}
    cloud = side is Side.CLOUD
    children: dict[int, tuple[set[str], set[str], set[str]]] = {
        r.id: (set(), set(), set()) for r in refs
    }
    tables = (
        (
            CommentPair.issue_pair_id,
            CommentPair.cloud_comment_id if cloud else CommentPair.server_comment_id,
        ),
        (
            AttachmentPair.issue_pair_id,
            AttachmentPair.cloud_attachment_id if cloud else AttachmentPair.server_attachment_id,
        ),
        (LinkPair.issue_pair_id, LinkPair.cloud_link_id if cloud else LinkPair.server_link_id),
    )
    out: dict[str, _Known] = {}
    with applier.queue.store.session() as session:
        snaps = _unsettled(session, list(by_pair), side)
        owners = [snap.issue_pair_id for snap in snaps]
        for n, (owner_column, column) in enumerate(tables):
            rows = session.execute(
                select(owner_column, column).where(owner_column.in_(owners))
            ).all()
            for owner, child in rows:
                children[owner][n].add(str(child))
        for snap in snaps:
            comments, attachments, links = children[snap.issue_pair_id]
            out[by_pair[snap.issue_pair_id]] = _Known(
                dict(snap.fields),
                dict(snap.field_hashes),
                frozenset(comments),
                frozenset(attachments),
                frozenset(links),
            )
    return out


def _settled(issue: Issue, known: _Known, pair: PairConfig, side: Side) -> bool:
    """Whether ``issue`` shows only what was synced: the snapshot's values and status, and
    no comment, attachment or link the store does not know. Anything else (someone edited
    the mirror meanwhile) leaves ``updated`` unknown, so the next poll syncs it."""
    if issue.updated is None or pair.sprints is not Direction.NONE:
        return False  # sprint membership is not in a search's answer: let the poll look
    values = canonical_values(issue, pair.fields, side)
    if any(value_hash(v) != known.hashes.get(name) for name, v in values.items()):
        return False
    if known.fields.get(STATUS_KEY) != issue.status:
        return False
    if any(c.id not in known.comments for c in issue.comments):
        return False
    if any(a.id not in known.attachments for a in issue.attachments):
        return False
    return all(link.id in known.links for link in issue.links)


def _stamp(
    applier: Applier,
    refs: Sequence[PairRef],
    side: Side,
    stamps: dict[str | None, datetime | None],
) -> int:
    by_pair = {r.id: r.issue_id(side) for r in refs}
    count = 0
    with applier.queue.store.session() as session:
        for row in _unsettled(session, list(by_pair), side):
            updated = stamps.get(by_pair[row.issue_pair_id])
            if updated is not None:
                row.issue_updated = updated
                count += 1
    return count


def _unsettled(session: Session, issue_pair_ids: Sequence[int], side: Side) -> Sequence[Snapshot]:
    """The snapshots on ``side`` of these issue pairs that have no ``updated`` yet."""
    return session.scalars(
        select(Snapshot).where(
            Snapshot.issue_pair_id.in_(issue_pair_ids),
            Snapshot.side == side.value,
            Snapshot.issue_updated.is_(None),
        )
    ).all()
