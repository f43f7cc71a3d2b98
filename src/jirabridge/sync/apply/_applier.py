"""The applier: one leased job from its issue to the stored snapshots."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy.orm import Session

from jirabridge.errors import RetryLaterError, SkipItemError
from jirabridge.jira import Issue
from jirabridge.sync.apply._attachments import _AttachmentsMixin
from jirabridge.sync.apply._base import SPRINTS_KEY, STATUS_KEY, ApplyResult, _Ctx, tracked
from jirabridge.sync.apply._comments import _CommentsMixin
from jirabridge.sync.apply._deletes import _DeletesMixin
from jirabridge.sync.apply._fields import _FieldsMixin
from jirabridge.sync.apply._links import _LinksMixin
from jirabridge.sync.apply._mirror import _MirrorMixin
from jirabridge.sync.apply._overwrites import _OverwritesMixin, item_field, rules_by_item
from jirabridge.sync.apply._sprints import _SprintsMixin
from jirabridge.sync.apply._values import canonical_values
from jirabridge.sync.config import FieldRule, PairConfig, Side
from jirabridge.sync.diff import plan_fields, value_hash
from jirabridge.sync.notices import EventKind
from jirabridge.sync.pairs import (
    PairRef,
    SnapshotData,
    find_pair,
    link_comments,
    load_snapshots,
    pair_rows,
    record_conflict,
    save_snapshots,
)
from jirabridge.sync.queue import Job
from jirabridge.sync.store import AttachmentPair, AuditEntry, LinkPair


@dataclass
class _JobReads:
    """What a job reads from the store about its issue pair, in ONE session (one thread hop,
    one turn on the store) instead of one per part: the snapshots, and the comment,
    attachment and link pairs each part takes (once) instead of reading them itself."""

    ref: PairRef | None
    snapshots: dict[Side, SnapshotData | None] = field(default_factory=dict)
    rows: dict[type, list[Any]] = field(default_factory=dict)
    claimed: bool = False  # the job holds the pair (Queue.claim_pair), claimed in the same go

    def take(self, table: type, issue_pair_id: int) -> list[Any] | None:
        if self.ref is None or self.ref.id != issue_pair_id:
            return None
        return self.rows.pop(table, None)


# the current job's reads (a context variable: concurrent jobs each see their own)
_reads: contextvars.ContextVar[_JobReads | None] = contextvars.ContextVar(
    "jirabridge_job_reads", default=None
)


class Applier(
    _MirrorMixin,
    _FieldsMixin,
    _CommentsMixin,
    _AttachmentsMixin,
    _LinksMixin,
    _SprintsMixin,
    _DeletesMixin,
    _OverwritesMixin,
):
    """Applies queue jobs to the two sites of each pair."""

    async def __call__(self, job: Job) -> bool:
        """Handler for :func:`run_workers`: apply and complete the job (returns True)."""
        await self.apply(job)
        return True

    async def apply(self, job: Job) -> ApplyResult:
        token = _reads.set(None)  # the reads of this job only, whatever the caller's context
        try:
            return await self._apply_job(job)
        finally:
            _reads.reset(token)

    async def _claim(self, job: Job, ref: PairRef) -> None:
        """Run on only if no other job of this pair is running (see Queue.claim_pair): two
        jobs queued before the pair existed, one per issue, may both be leased."""
        if not await asyncio.to_thread(self.queue.claim_pair, job, ref.id):
            _claim_lost()

    async def _apply_job(self, job: Job) -> ApplyResult:
        site_cfg = self.config.sites.get(job.site)
        if site_cfg is None:
            return await self._finish(job, ApplyResult("ignored", f"unknown site {job.site}"))
        side = Side(site_cfg.flavour.value)
        client = self._client(job.site)
        await self.fresh.wait(job.site, job.issue_id)  # a backfill creating its mirror
        try:
            issue = await client.get_issue(job.issue_id, expand=["changelog"])
        except SkipItemError:
            if any(n.event is EventKind.ISSUE_DELETED for n in job.notices):
                return await self._deleted(job, side)
            raise
        pair = await self._pair_for(job.site, side, issue)
        if pair is None:
            return await self._finish(job, ApplyResult("ignored", "issue is in no pair"))
        ctx = _Ctx(pair=pair, side=side, clients={})
        sites = {Side.SERVER: pair.server.site, Side.CLOUD: pair.cloud.site}
        ctx.clients = tracked({s: self._client(site) for s, site in sites.items()}, ctx.touched)
        ctx.issues[side] = issue
        reads = await self.queue.store.write(
            functools.partial(self._read_pair, job=job, pair_id=pair.id, side=side, issue=issue),
            savepoint=False,  # reads (and a claim in a savepoint of its own): hardly fails
        )
        _reads.set(reads)
        ref = reads.ref
        created = False
        if ref is None:
            if self._made_by_us(pair, side, issue):
                # a mirror we created whose pair row is being written: try again shortly
                raise RetryLaterError("mirror pairing in progress", retry_after=2)
            if not pair.creates_from(side):
                return await self._finish(job, ApplyResult("ignored", "no mirror, none wanted"))
            retried = job.attempts > 1 or self.fresh.must_check(job.site, job.issue_id)
            ref = await self._create_mirror(ctx, issue, retried=retried)
            created = True
            await self._claim(job, ref)
        else:
            if not reads.claimed:
                _claim_lost()
            other = side.other
            mirror = self.fresh.take(pair.id, other, ref.issue_id(other))
            if mirror is not None:  # created in bulk by the backfill, read right after
                ctx.issues[other] = mirror
                ctx.fresh.add(other)
                ctx.settle_later.add(other)
            else:
                ctx.issues[other] = await ctx.clients[other].get_issue(
                    ref.issue_id(other), expand=["changelog"]
                )
        result = await self._sync(job, ctx, ref, created)
        if created:
            await self._requeue_children(ctx, job.site, issue)
        return result

    async def _pair_for(self, site: str, side: Side, issue: Issue) -> PairConfig | None:
        """The enabled pair whose side (site, project, issue types, JQL) holds ``issue``."""
        for pair in self.config.pairs:
            end = pair.server if side is Side.SERVER else pair.cloud
            if pair.enabled and end.site == site and end.project == issue.project_key:
                if end.issue_types and issue.issue_type not in end.issue_types:
                    continue
                if end.jql:
                    jql = f"issuekey = {issue.key} AND ({end.jql})"
                    found = [i async for i in self._client(site).search(jql, fields=["summary"])]
                    if not found:
                        continue
                return pair
        return None

    async def _sync(self, job: Job, ctx: _Ctx, ref: PairRef, created: bool) -> ApplyResult:
        pair = ctx.pair
        reads = _reads.get()
        if not created and reads is not None and reads.ref is not None and reads.ref.id == ref.id:
            snaps = reads.snapshots
        else:
            snaps = await asyncio.to_thread(self._snapshots, ref.id)
        snap_s, snap_c = snaps[Side.SERVER], snaps[Side.CLOUD]
        values = {
            s: canonical_values(ctx.issues[s], pair.fields, s) for s in (Side.SERVER, Side.CLOUD)
        }
        await self._resolve_users(ctx, values)
        # attachments first: the documents written below may show the ones copied now
        attachment_links = await self._sync_attachments(ctx, ref)
        self.note_attachments(ctx, attachment_links)
        await self.prepare_docs(ctx, {s: list(values[s].values()) for s in values})
        keys = await self._issue_keys(pair, values)
        by_item = {s: await rules_by_item(ctx, s) for s in (Side.SERVER, Side.CLOUD)}
        changed_at = {s: self._changed_at(ctx, s, by_item[s]) for s in (Side.SERVER, Side.CLOUD)}
        plan = plan_fields(
            pair.fields,
            self._translator(ctx, keys),
            server_now=values[Side.SERVER],
            cloud_now=values[Side.CLOUD],
            server_hashes=None if snap_s is None else snap_s.hashes,
            cloud_hashes=None if snap_c is None else snap_c.hashes,
            server_changed_at=changed_at[Side.SERVER],
            cloud_changed_at=changed_at[Side.CLOUD],
            origin=ref.origin if snap_s is None else None,
        )
        before_status = {s: ctx.issues[s].status for s in (Side.SERVER, Side.CLOUD)}
        watch = self._watch(ctx, plan, by_item, changed_at, values)
        await self._write_fields(ctx, plan)
        await self._run_rules(ctx, snaps)
        comment_links = await self._sync_comments(
            ctx, ref, fresh=ctx.side.other in ctx.fresh, retried=job.attempts > 1
        )
        link_links = await self._sync_links(ctx, ref)
        sprint_names = await self._sync_sprints(ctx, snaps)
        # the new "last synced" state: what we wrote, as the sites now show it, and for every
        # other field what we read at the start. A change someone made while this job ran
        # is then still a change next time (and its issue is not taken for our own echo);
        # an edit of a written field shows in the changelog (_overwrites). A side this job
        # wrote nothing to is not read again: its start read is what we last saw of it (and
        # its ``updated`` the right stamp; anything later is someone else's change).
        unread: set[Side] = set()
        for s in (Side.SERVER, Side.CLOUD):
            if s in ctx.settle_later and not ctx.written[s] and not pair.rules:
                # a mirror the backfill just created that got no field write since
                # (comments at most): its fields are as read after the create; its
                # ``updated`` moved with our comments: left unknown, the backfill settles it
                unread.add(s)
                continue
            if s not in ctx.touched and not ctx.written[s]:
                continue
            expand = ["changelog"] if ctx.written[s] else None
            ctx.issues[s] = await ctx.clients[s].get_issue(ctx.issues[s].key, expand=expand)
        now = self.clock.now()
        overwrites = await self._overwrites(ctx, watch, now)
        after = {
            s: canonical_values(ctx.issues[s], pair.fields, s) for s in (Side.SERVER, Side.CLOUD)
        }
        updated: dict[Side, datetime | None] = {}
        for s in (Side.SERVER, Side.CLOUD):
            moved_meanwhile = False
            for name in list(after[s]):
                if name in ctx.written[s]:
                    continue
                if value_hash(after[s][name]) != value_hash(values[s].get(name)):
                    moved_meanwhile = True
                    after[s][name] = values[s].get(name)
            status_now = ctx.issues[s].status
            if "status" not in ctx.written[s] and status_now != before_status[s]:
                moved_meanwhile = True
                status_now = before_status[s]
            after[s][STATUS_KEY] = status_now  # for the rules' "transitioned"
            after[s].update(overwrites.keep[s])  # a person's edit to carry over next time
            moved_meanwhile = moved_meanwhile or bool(overwrites.keep[s])
            updated[s] = None if moved_meanwhile or s in unread else ctx.issues[s].updated
        for s in (Side.SERVER, Side.CLOUD):
            if sprint_names is not None:
                after[s][SPRINTS_KEY] = sprint_names[s]
        for name, source in plan.pending:
            # not written (e.g. the parent has no mirror yet): keep it a change for next time
            old = snaps[source]
            if old is not None and name in old.values:
                after[source][name] = old.values[name]
            else:
                after[source].pop(name, None)
        result = ApplyResult(
            "created" if created else "synced",
            f"{ref.server_key} <-> {ref.cloud_key}",
            ctx.writes,
        )

        def commit(session: Session) -> bool:
            # run by the store's group writer, in a transaction shared with other jobs'
            # commits; it may run a second time, alone: every row is made anew here
            save_snapshots(session, ref.id, after, issue_updated=updated, now=now)
            for conflict in (*plan.conflicts, *overwrites.conflicts):
                record_conflict(session, ref.id, conflict, now=now)
            session.add_all(_fresh(entry) for entry in overwrites.audit)
            for link in comment_links:
                link_comments(session, ref.id, now=now, **link)
            for row in attachment_links:
                session.add(AttachmentPair(issue_pair_id=ref.id, synced_at=now, **row))
            for row in link_links:
                session.add(LinkPair(issue_pair_id=ref.id, synced_at=now, **row))
            session.add_all(self.doc_audit(ctx, job.site, now))
            for name, why in plan.skipped:
                session.add(
                    AuditEntry(
                        at=now,
                        kind="field_skipped",
                        site=job.site,
                        subject=job.issue_key or job.issue_id,
                        message=f"{name}: {why}",
                        details={"pair": pair.id},
                    )
                )
            return self.queue.complete(
                job, session=session, message=f"{result.action} {result.detail}"
            )

        # no savepoint: a commit fails only when the lease was lost (or the store fails), and
        # its group is then written again, each job's commit alone
        await self.queue.store.write(commit, savepoint=False)
        return result

    def _read_pair(
        self, session: Session, *, job: Job, pair_id: str, side: Side, issue: Issue
    ) -> _JobReads:
        """The pair row of ``issue`` and, when it has one, everything :class:`_JobReads`
        keeps, and the job's claim of the pair: one store call for all the job reads (run
        by the store's group writer, with other jobs' reads and writes, without a savepoint:
        nothing here writes but the claim, which is made in a savepoint of its own)."""
        assert issue.id is not None
        ref = find_pair(session, side=side, issue_id=issue.id, pair_id=pair_id)
        reads = _JobReads(ref)
        if ref is not None:
            reads.snapshots = load_snapshots(session, ref.id)
            # plain rows: the parts read their columns only
            reads.rows = pair_rows(session, ref.id)
            reads.claimed = self.queue.claim_pair(job, ref.id, session=session)
        return reads

    async def _pair_rows(self, table: Any, issue_pair_id: int) -> list[Any]:
        reads = _reads.get()
        taken = None if reads is None else reads.take(table, issue_pair_id)
        return await super()._pair_rows(table, issue_pair_id) if taken is None else taken

    def _snapshots(self, issue_pair_id: int) -> dict[Side, SnapshotData | None]:
        with self.queue.store.session() as session:
            return load_snapshots(session, issue_pair_id)

    def _changed_at(
        self, ctx: _Ctx, side: Side, rules: Mapping[str, FieldRule]
    ) -> dict[str, datetime]:
        """When each synced field last changed on ``side`` by someone other than us
        (``rules``: :func:`rules_by_item`)."""
        issue = ctx.issues[side]
        out: dict[str, datetime] = {}
        for entry in issue.changelog:
            if self._is_us(entry.author, ctx.pair, side):
                continue
            for item in entry.items:
                rule = rules.get(item_field(item))
                if rule is not None and (rule.name not in out or entry.created > out[rule.name]):
                    out[rule.name] = entry.created
        return out


def _claim_lost() -> NoReturn:
    raise RetryLaterError("another job of this issue pair is running", retry_after=1)


def _fresh(entry: AuditEntry) -> AuditEntry:
    """A new row with ``entry``'s values: an object once flushed keeps its id even when its
    transaction is rolled back, and the commit may run again (alone after a failed group)."""
    columns = AuditEntry.__table__.columns
    return AuditEntry(**{c.key: getattr(entry, c.key) for c in columns if c.key != "id"})
