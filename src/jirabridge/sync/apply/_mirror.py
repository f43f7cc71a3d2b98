"""Creating a mirror (or adopting one an attempt that died created, found by its marker),
the cross-references, the hand-over of bulk-created mirrors, and waking its children."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Container, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jirabridge.errors import JirabridgeError, RetryLaterError, SkipItemError
from jirabridge.jira import Issue, IssueInput, RemoteLink
from jirabridge.sync.apply._base import PROPERTY, _Ctx, log
from jirabridge.sync.apply._users import _UsersMixin
from jirabridge.sync.apply._values import _NOT_EDITABLE, _input, _input_kwargs, canonical_values
from jirabridge.sync.config import CreateMirror, PairConfig, Side, TriggerEvent
from jirabridge.sync.diff import plan_fields
from jirabridge.sync.engine import SiteClient
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.pairs import PairRef, link_pair
from jirabridge.sync.store import CreateIntent, IssuePair, QueueJob

EPIC_NAME = "com.pyxis.greenhopper.jira:gh-epic-label"
ORPHANS_SEEN_SECONDS = 60.0  # how long a scan's other orphans are trusted for their jobs
EPIC_LINK = "com.pyxis.greenhopper.jira:gh-epic-link"


class FreshMirrors:
    """Mirrors a backfill creates in bulk, handed over to the jobs of their source issues.

    The backfill :meth:`hold` s every source issue it is about to mirror before the workers
    start; a job for a held issue waits (:meth:`wait`) until the backfill has recorded the
    pair (or given the issue back to the job's own create path), then :meth:`take` s the
    mirror as read right after its create: that job neither reads the mirror again nor
    lists its comments (it has none). In memory only: after a restart every job reads as
    usual, and the backfill adopts what a dead run created (:meth:`_MirrorMixin.orphans`)."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, str], asyncio.Event] = {}
        self._holds: dict[tuple[str, str], int] = {}  # several pairs may hold one issue
        self._issues: dict[tuple[str, Side, str], Issue] = {}
        self._check: set[tuple[str, str]] = set()

    def hold(self, site: str, issue_ids: Iterable[str]) -> None:
        for issue_id in issue_ids:
            key = (site, issue_id)
            self._held.setdefault(key, asyncio.Event())
            self._holds[key] = self._holds.get(key, 0) + 1

    def release(self, site: str, issue_id: str, *, check: bool = False) -> None:
        """The backfill is done with this source issue (mirrored, or left to its job).
        ``check``: a bulk create for it may have happened (its outcome is unknown), so
        its job must look for the mirror by its marker before creating one."""
        key = (site, issue_id)
        if key not in self._held:
            return
        if check:
            self._check.add(key)
        self._holds[key] -= 1
        if self._holds[key] <= 0:  # the last holder: the job may go
            del self._holds[key]
            self._held.pop(key).set()

    def must_check(self, site: str, issue_id: str) -> bool:
        return (site, issue_id) in self._check

    def put(self, pair_id: str, side: Side, mirror: Issue) -> None:
        if mirror.id is not None:
            self._issues[(pair_id, side, mirror.id)] = mirror

    async def wait(self, site: str, issue_id: str) -> None:
        event = self._held.get((site, issue_id))
        if event is not None:
            await event.wait()

    def take(self, pair_id: str, side: Side, issue_id: str) -> Issue | None:
        return self._issues.pop((pair_id, side, issue_id), None)

    def clear(self) -> None:
        for event in self._held.values():
            event.set()
        self._held.clear()
        self._holds.clear()
        self._issues.clear()
        self._check.clear()


def marker_of(
    pair_id: str, origin: Side, source: Issue, mirror_key: str | None = None
) -> dict[str, Any]:
    """The :data:`PROPERTY` value: the pair, the keys known, and ``origin`` naming the source
    issue by side and id (a mirror carries it from its create, so it can be found again)."""
    marker: dict[str, Any] = {"pair": pair_id, origin.value: source.key}
    if mirror_key is not None:
        marker[origin.other.value] = mirror_key
    marker["origin"] = f"{origin.value}:{source.id}"
    return marker


def record_pair(
    session: Session, pair_id: str, origin: Side, source: Issue, mirror: Issue, *, now: datetime
) -> PairRef:
    """Record ``source`` (on side ``origin``) and its ``mirror`` as a pair (idempotent), and
    drop the create intent of ``source`` in the same transaction."""
    server, cloud = (source, mirror) if origin is Side.SERVER else (mirror, source)
    ref = link_pair(
        session,
        pair_id=pair_id,
        server=(server.id or "", server.key),
        cloud=(cloud.id or "", cloud.key),
        origin=origin,
        now=now,
    )
    drop_intents(session, pair_id, origin, [source.id or ""])
    return ref


# ---- create intents -----------------------------------------------------------------------
# Every mirror create is written ahead (:class:`CreateIntent`) in its own committed
# transaction before its POST, and dropped with the pair's record (or once Jira refused the
# create). A process that dies in between leaves the intent: whoever mirrors that source next
# (a job, whatever its attempts, or a backfill) looks for the mirror by its marker first.


def write_intents(
    session: Session,
    pair_id: str,
    origin: Side,
    site: str,
    sources: Sequence[Issue],
    *,
    now: datetime,
) -> set[str]:
    """Record that mirrors of ``sources`` (on side ``origin`` of site ``site``) are about to
    be created. Returns the source ids that already had an intent (an earlier create of
    theirs may have happened: look for its mirror before creating again)."""
    ids = [s.id for s in sources if s.id is not None]
    existing = {
        row.source_issue_id: row
        for start in range(0, len(ids), 500)
        for row in session.scalars(
            select(CreateIntent).where(
                CreateIntent.pair_id == pair_id,
                CreateIntent.source_side == origin.value,
                CreateIntent.source_issue_id.in_(ids[start : start + 500]),
            )
        )
    }
    had = set(existing)
    for source in sources:
        if source.id is None:
            continue
        row = existing.get(source.id)
        if row is not None:
            row.at, row.source_key = now, source.key
            continue
        try:
            with session.begin_nested():
                session.add(
                    CreateIntent(
                        pair_id=pair_id,
                        source_side=origin.value,
                        source_site=site,
                        source_issue_id=source.id,
                        source_key=source.key,
                        at=now,
                    )
                )
        except IntegrityError:  # another process wrote it meanwhile: it may have created
            had.add(source.id)
    return had


def drop_intents(session: Session, pair_id: str, origin: Side, issue_ids: Sequence[str]) -> None:
    """The creates of these sources are settled (paired, or refused for sure)."""
    for start in range(0, len(issue_ids), 500):
        session.execute(
            delete(CreateIntent).where(
                CreateIntent.pair_id == pair_id,
                CreateIntent.source_side == origin.value,
                CreateIntent.source_issue_id.in_(issue_ids[start : start + 500]),
            )
        )


def pending_intents(session: Session, pair_id: str, origin: Side) -> set[str]:
    """The origin tags ("<side>:<source issue id>") of this pair side's creates whose
    outcome was never recorded."""
    ids = session.scalars(
        select(CreateIntent.source_issue_id).where(
            CreateIntent.pair_id == pair_id, CreateIntent.source_side == origin.value
        )
    )
    return {f"{origin.value}:{issue_id}" for issue_id in ids}


def forget_intents(
    session: Session, pair_id: str, origin: Side, issue_ids: Sequence[str], *, before: datetime
) -> int:
    """Drop the intents of these sources (a scan found no mirror for them) written before
    ``before`` whose source has no job in the queue: nobody is about to create their mirror
    (a job writes its intent again before its create), e.g. the source was deleted. Returns
    how many went."""
    job = select(QueueJob.id).where(
        QueueJob.site == CreateIntent.source_site,
        QueueJob.issue_id == CreateIntent.source_issue_id,
    )
    gone = 0
    for start in range(0, len(issue_ids), 500):
        result = session.execute(
            delete(CreateIntent)
            .where(
                CreateIntent.pair_id == pair_id,
                CreateIntent.source_side == origin.value,
                CreateIntent.source_issue_id.in_(issue_ids[start : start + 500]),
                CreateIntent.at < before,
                ~job.exists(),
            )
            .execution_options(synchronize_session=False)
        )
        gone += int(getattr(result, "rowcount", 0) or 0)
    return gone


def refused(exc: BaseException) -> bool:
    """Jira answered the create with a refusal (nothing was created): not a timeout, a 5xx,
    a rate limit or a lost connection, whose create may have happened."""
    return (
        isinstance(exc, JirabridgeError)
        and not isinstance(exc, RetryLaterError)
        and exc.jira is not None
    )


class _MirrorMixin(_UsersMixin):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fresh = FreshMirrors()
        # orphans a scan found for other sources than the one it was for: (pair, side,
        # origin) -> (key, id, when seen); jobs looking at once share one scan per pair side
        self._orphans_seen: dict[tuple[str, Side, str], tuple[str, str, float]] = {}
        self._scans: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[tuple[str, Side], asyncio.Lock]
        ] = weakref.WeakKeyDictionary()  # per loop: a lock is bound to the loop it ran in

    def _create_rule(self, pair: PairConfig, side: Side) -> CreateMirror | None:
        return next(
            (
                action
                for r in pair.rules
                if r.when.side is side and r.when.event is TriggerEvent.CREATED
                for action in r.then
                if isinstance(action, CreateMirror)
            ),
            None,
        )

    async def mirror_input(self, ctx: _Ctx, source: Issue) -> IssueInput:
        """What creating ``source``'s mirror sends: the synced fields translated, the issue
        type, the marker property (and an epic's Epic Name, a URL field if configured).
        A sub-task whose parent has no mirror yet is a :class:`RetryLaterError`."""
        pair, side = ctx.pair, ctx.side
        target = side.other
        rule = self._create_rule(pair, side)
        values = canonical_values(source, pair.fields, side)
        await self._resolve_users(ctx, {side: values})
        await self.prepare_docs(ctx, {side: list(values.values())})
        keys = await self._issue_keys(pair, {side: values})
        plan = plan_fields(
            pair.fields,
            self._translator(ctx, keys),
            server_now=values if side is Side.SERVER else {},
            cloud_now=values if side is Side.CLOUD else {},
            server_hashes=None,
            cloud_hashes=None,
            origin=side,
        )
        fields = dict((plan.to_cloud if target is Side.CLOUD else plan.to_server).fields)
        end = pair.cloud if target is Side.CLOUD else pair.server
        issue_type = (rule.issue_type if rule else None) or self._translated_type(
            pair, source.issue_type, target
        )
        if source.parent_key and "sub" in issue_type.lower() and "parent" not in fields:
            # a sub-task cannot exist without its parent: wait until the parent is mirrored
            raise RetryLaterError(
                f"{source.key}: parent {source.parent_key} has no mirror yet", retry_after=5
            )
        client = ctx.clients[target]
        data = _input(fields, skip=_NOT_EDITABLE, info=await client.fields())
        extra = dict(data.extra_fields)
        url_field = pair.cross_reference.url_fields.get(target)
        if url_field:
            extra[url_field] = self._url_of(ctx, side, source)
        data = IssueInput(
            **{
                **_input_kwargs(data),
                "project_key": end.project,
                "issue_type": issue_type,
                "summary": data.summary if data.summary is not None else source.summary,
                "extra_fields": extra,
                "properties": {PROPERTY: marker_of(pair.id, side, source)},
            }
        )
        if target is Side.SERVER and (issue_type or "").lower() == "epic":
            data = await self._with_epic_name(client, data)
        return data

    def _url_of(self, ctx: _Ctx, side: Side, issue: Issue) -> str:
        """The address a person opens (``Issue.url`` is the REST resource, not a page)."""
        site = self._site_of(ctx, side)
        return f"{str(self.config.sites[site].url).rstrip('/')}/browse/{issue.key}"

    async def _create_mirror(self, ctx: _Ctx, source: Issue, *, retried: bool = False) -> PairRef:
        """Create ``source``'s mirror and record the pair. The create is written ahead (a
        :class:`CreateIntent`); when an intent was already there, an earlier create (this
        job's, another job's, a backfill's bulk create) may have made the mirror and died
        before recording it, so look for that unpaired mirror by its marker first and adopt
        it. ``retried`` (an earlier attempt of this job ran) looks too."""
        pair, side = ctx.pair, ctx.side
        target = side.other
        data = await self.mirror_input(ctx, source)
        end = pair.cloud if target is Side.CLOUD else pair.server
        client = ctx.clients[target]
        origin_tag = f"{side.value}:{source.id}"
        site = self._site_of(ctx, side)

        async def check() -> str | None:
            return await self.find_unpaired_mirror(client, pair.id, target, end.project, origin_tag)

        def intend() -> bool:
            with self.queue.store.session() as session:
                now = self.clock.now()
                return bool(write_intents(session, pair.id, side, site, [source], now=now))

        key = await check() if await asyncio.to_thread(intend) or retried else None
        if key is not None:
            log.warning("adopting %s: created for %s by an attempt that died", key, source.key)
        else:
            try:
                key = await client.create_issue(data, check=check)
            except Exception as exc:
                if refused(exc):  # nothing was created: no intent left behind
                    await asyncio.to_thread(self._drop_intents, pair.id, side, [source.id or ""])
                raise
            ctx.fresh.add(target)  # new: nothing to list on it (an adopted one may have)
        ctx.writes += 1
        mirror = await client.get_issue(key, expand=["changelog"])
        ctx.issues[target] = mirror
        assert source.id is not None and mirror.id is not None
        now = self.clock.now()

        def record() -> PairRef:
            with self.queue.store.session() as session:
                return record_pair(session, pair.id, side, source, mirror, now=now)

        ref = await asyncio.to_thread(record)
        ctx.writes += await self.cross_reference(ctx, source, mirror, mirror_marker=True)
        return ref

    async def cross_reference(
        self, ctx: _Ctx, source: Issue, mirror: Issue, *, mirror_marker: bool
    ) -> int:
        """Point ``source`` (on ``ctx.side``) and its new ``mirror`` at each other: the
        marker property (on the mirror too when ``mirror_marker``; a bulk create already
        set it there), remote links on the configured sides, the key written back.
        Every write is a PUT or an upsert, safe to repeat. Returns the writes made."""
        pair, side = ctx.pair, ctx.side
        target = side.other
        marker = marker_of(pair.id, side, source, mirror.key)
        writes = 0
        for s, issue, other in ((side, source, mirror), (target, mirror, source)):
            if s is side or mirror_marker:
                await ctx.clients[s].set_property(issue.key, PROPERTY, marker)
                writes += 1
            if s not in pair.cross_reference.remote_links:
                continue
            other_site = self._site_of(ctx, s.other)
            await ctx.clients[s].put_remote_link(
                issue.key,
                RemoteLink(
                    url=self._url_of(ctx, s.other, other),
                    title=f"{other.key} (mirror on {other_site})",
                    global_id=f"jirabridge:{pair.id}:{other.key}",
                    relationship="synced with",
                ),
            )
            writes += 1
        rule = self._create_rule(pair, side)
        if rule is not None and rule.write_back_field:
            await ctx.clients[side].edit_issue(
                source.key, IssueInput(extra_fields={rule.write_back_field: mirror.key})
            )
            writes += 1
        return writes

    async def find_unpaired_mirror(
        self, client: SiteClient, pair_id: str, side: Side, project: str, origin: str
    ) -> str | None:
        """After an ambiguous create (timeout, 5xx) or a create that died: the mirror we
        may have created anyway, recognised by the marker it carries from its create
        (``origin`` = "<side>:<source issue id>"); None means it was not created and may
        be sent again. Never a guess by summary: an issue without our marker is not ours.

        Many jobs may look at once (a run after a backfill that died after a bulk create):
        they take turns per pair side, and the other orphans one scan finds are kept a short
        while (:data:`ORPHANS_SEEN_SECONDS`) for their own sources' jobs, so N orphans cost
        one scan, not N. Only a hit is ever taken from that memory (and only while the
        store knows it unpaired); not being there means scanning again."""
        locks = self._scans.setdefault(asyncio.get_running_loop(), {})
        async with locks.setdefault((pair_id, side), asyncio.Lock()):
            seen = self._take_seen(pair_id, side, origin)
            if seen is not None:
                paired = await asyncio.to_thread(self._paired_ids, pair_id, side, [seen[1]])
                if not paired:
                    return seen[0]
            found = await self.orphans(client, pair_id, side, project)
            hit = found.pop(origin, None)
            seen_at = time.monotonic()
            for other, (other_key, other_id) in found.items():
                self._orphans_seen[(pair_id, side, other)] = (other_key, other_id, seen_at)
        return None if hit is None else hit[0]

    def _take_seen(self, pair_id: str, side: Side, origin: str) -> tuple[str, str] | None:
        """A recent scan's orphan for ``origin`` (taken: used once); drops the stale ones."""
        now = time.monotonic()
        seen = self._orphans_seen
        for stale in [k for k, v in seen.items() if now - v[2] > ORPHANS_SEEN_SECONDS]:
            del seen[stale]
        hit = seen.pop((pair_id, side, origin), None)
        return None if hit is None else (hit[0], hit[1])

    async def orphans(
        self,
        client: SiteClient,
        pair_id: str,
        side: Side,
        project: str,
        *,
        wanted: Container[str] | None = None,
    ) -> dict[str, tuple[str, str]]:
        """Issues of ``project`` (on ``side``) we created that are in no pair: origin tag ->
        (key, id), read from their marker property. Entity properties cannot be searched
        without an app, so this lists the integration user's issues (one search) and reads
        the marker of only those the store does not know. ``wanted``: the origins sought."""
        jql = f'project = "{project}" AND creator = currentUser() ORDER BY created DESC'
        unknown: list[Issue] = []
        async for issue in client.search(jql, fields=["created"]):
            if issue.id is not None:
                unknown.append(issue)
        ids = [i.id or "" for i in unknown]
        paired = await asyncio.to_thread(self._paired_ids, pair_id, side, ids)
        out: dict[str, tuple[str, str]] = {}
        for issue in unknown:
            if issue.id in paired:
                continue
            try:
                marker = await client.get_property(issue.key, PROPERTY)
            except SkipItemError:
                continue  # deleted meanwhile
            if not isinstance(marker, dict) or marker.get("pair") != pair_id:
                continue
            origin = marker.get("origin")
            if not isinstance(origin, str) or (wanted is not None and origin not in wanted):
                continue
            out.setdefault(origin, (issue.key, issue.id or ""))
        return out

    def _paired_ids(self, pair_id: str, side: Side, issue_ids: Sequence[str]) -> set[str]:
        column = IssuePair.server_issue_id if side is Side.SERVER else IssuePair.cloud_issue_id
        out: set[str] = set()
        with self.queue.store.session() as session:
            for start in range(0, len(issue_ids), 500):
                chunk = issue_ids[start : start + 500]
                out.update(
                    session.scalars(
                        select(column).where(IssuePair.pair_id == pair_id, column.in_(chunk))
                    )
                )
        return out

    def _drop_intents(self, pair_id: str, side: Side, issue_ids: Sequence[str]) -> None:
        with self.queue.store.session() as session:
            drop_intents(session, pair_id, side, issue_ids)

    @staticmethod
    async def _with_epic_name(client: SiteClient, data: IssueInput) -> IssueInput:
        """Server epics need an "Epic Name" (Cloud has none): use the summary."""
        fields = await client.fields()
        epic_name = next((f.id for f in fields.values() if f.custom_key == EPIC_NAME), None)
        if epic_name is None or epic_name in data.extra_fields:
            return data
        extra = {**data.extra_fields, epic_name: data.summary}
        return IssueInput(**{**_input_kwargs(data), "extra_fields": extra})

    def _translated_type(self, pair: PairConfig, issue_type: str, target: Side) -> str:
        table = pair.translations.get("issuetype")
        if table is None:
            return issue_type
        result = table.to_cloud(issue_type) if target is Side.CLOUD else table.to_server(issue_type)
        return result or issue_type

    async def _requeue_children(self, ctx: _Ctx, site: str, parent: Issue) -> int:
        """``parent`` just got its mirror: queue its sub-tasks and epic children again, so
        the ones waiting for it (a sub-task's create, a pending ``parent`` field) go on now.
        Only when the pair syncs ``parent``; a failed search is logged, never fatal."""
        if not any("parent" in (r.server_id, r.cloud_id) for r in ctx.pair.fields):
            return 0
        if "sub" in parent.issue_type.lower():
            return 0  # sub-tasks have no children
        client = ctx.clients[ctx.side]
        clauses = [f'parent = "{parent.key}"']
        if ctx.side is Side.SERVER:
            fields = await client.fields()
            epic_link = next((f for f in fields.values() if f.custom_key == EPIC_LINK), None)
            if epic_link is not None:
                clauses.append(f'"{epic_link.name}" = "{parent.key}"')
        jql = " OR ".join(clauses)
        now = self.clock.now()
        notices: list[ChangeNotice] = []
        try:
            async for child in client.search(jql, fields=["summary"]):
                if child.id is not None:
                    notices.append(
                        ChangeNotice(
                            site=site,
                            issue_id=child.id,
                            issue_key=child.key,
                            event=EventKind.ISSUE_UPDATED,
                            observed_at=now,
                        )
                    )
        except JirabridgeError as exc:
            log.warning("children of %s not re-queued: %s", parent.key, exc)
            return 0

        def enqueue() -> None:
            for notice in notices:
                self.queue.enqueue(notice, wake=True)

        await asyncio.to_thread(enqueue)
        return len(notices)
