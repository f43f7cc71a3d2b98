"""The apply step: bring one leased job's issue and its mirror up to date.

:class:`Applier` is the handler :func:`jirabridge.sync.queue.run_workers` calls. For a job it
reads the changed issue, finds (or creates) its mirror through the state store, diffs both
against the last synced snapshots (:mod:`jirabridge.sync.diff`), writes one edit per side,
walks the status with a transition (with the resolution when the screen has one), mirrors
comments by id, runs the pair's declarative rules, re-reads both issues and stores the new
snapshots, conflicts and the job's completion in one transaction.

Attachments are copied once each (``AttachmentPair``); issue links between paired issues are
added on the other side and never removed (merge, ``LinkPair``).

A status is reached by a shortest path over the workflow as it is learnt while walking (at
most :data:`MAX_WORKFLOW_STEPS` moves); a failed walk walks the mirror back to where it was
and dead-letters the item with the statuses it explored.

Custom field values are shaped by the target site's field schema (``GET /field``) into
typed :class:`~jirabridge.jira.CustomFieldValue` (options, users, versions, dates, numbers,
cascading selects, textareas); users of every user-typed field go through the pair's user
mapping. A deleted issue follows the pair's ``deletes`` rule (``mirror`` | ``log`` |
``none``). When a parent gets its mirror, its children are queued again (woken from any
backoff). A retried job adopts the mirror issue or mirror comment an attempt that died had
already created (found by creator, summary and age; comments by their text) instead of
writing it twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete as sa_delete

from jirabridge.errors import FixConfigError, JirabridgeError, RetryLaterError, SkipItemError
from jirabridge.jira import (
    Comment,
    CustomFieldValue,
    FieldInfo,
    Issue,
    IssueInput,
    LinkDirection,
    RemoteLink,
    Sprint,
    SprintState,
    Transition,
    UserRef,
)
from jirabridge.sync.config import (
    AddComment,
    CreateMirror,
    CreateRule,
    DeleteRule,
    Direction,
    FieldRule,
    InternalComments,
    PairConfig,
    Side,
    SyncConfig,
    TransitionMirror,
    TriggerEvent,
)
from jirabridge.sync.diff import (
    SKIP,
    FieldPlan,
    Translator,
    is_user_list,
    is_user_value,
    plan_fields,
    value_hash,
)
from jirabridge.sync.engine import SiteClient
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.pairs import (
    PairRef,
    SnapshotData,
    find_pair,
    find_pair_by_key,
    find_pairs,
    link_comments,
    link_pair,
    load_snapshot,
    record_conflict,
    save_snapshot,
)
from jirabridge.sync.queue import Clock, Job, Queue, SystemClock
from jirabridge.sync.store import (
    AttachmentPair,
    AuditEntry,
    CommentPair,
    IssuePair,
    LinkPair,
)

__all__ = ["PROPERTY", "Applier", "ApplyResult", "canonical_values"]

log = logging.getLogger("jirabridge.sync.apply")

PROPERTY = "jirabridge"
"""Entity property on both issues of a pair: ``{"pair": id, "server": key, "cloud": key}``,
so the pairs can be rebuilt from the sites if the store is lost."""

_STANDARD: dict[str, str] = {
    "summary": "summary",
    "description": "description",
    "environment": "environment",
    "priority": "priority",
    "status": "status",
    "resolution": "resolution",
    "labels": "labels",
    "components": "components",
    "fixVersions": "fix_versions",
    "versions": "affects_versions",
    "duedate": "due",
    "assignee": "assignee",
    "reporter": "reporter",
    "issuetype": "issue_type",
    "parent": "parent_key",
    "key": "key",
}
MAX_WORKFLOW_STEPS = 12
STATUS_KEY = "_status"  # kept in every snapshot, synced field or not
SPRINTS_KEY = "_sprints"  # names of the open sprints the issue is in, when sprints sync
SPRINT_FIELD = "com.pyxis.greenhopper.jira:gh-sprint"
SPRINT_CACHE_SECONDS = 60.0
EPIC_NAME = "com.pyxis.greenhopper.jira:gh-epic-label"
EPIC_LINK = "com.pyxis.greenhopper.jira:gh-epic-link"
_NOT_EDITABLE = frozenset({"status", "resolution", "key", "issuetype"})


def _plain(value: Any) -> Any:
    if isinstance(value, UserRef):
        return {
            k: v
            for k, v in (
                ("accountId", value.account_id),
                ("name", value.name),
                ("key", value.key),
                ("email", value.email),
            )
            if v
        }
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def canonical_values(issue: Issue, rules: Sequence[FieldRule], side: Side) -> dict[str, Any]:
    """The synced fields of ``issue`` as JSON-ready values keyed by rule name."""
    out: dict[str, Any] = {}
    for rule in rules:
        field_id = rule.server_id if side is Side.SERVER else rule.cloud_id
        if field_id in _STANDARD:
            value = getattr(issue, _STANDARD[field_id])
        else:
            custom = issue.custom_fields.get(field_id)
            value = None if custom is None else custom.value
        value = _plain(value)
        if field_id in ("labels", "components", "fixVersions", "versions") and value:
            value = sorted(value)
        out[rule.name] = value
    return out


@dataclass(frozen=True)
class ApplyResult:
    action: str  # "synced", "created", "ignored", "waiting"
    detail: str = ""
    writes: int = 0


@dataclass
class _Ctx:
    """Everything one job needs, gathered before writing."""

    pair: PairConfig
    side: Side
    clients: dict[Side, SiteClient]
    issues: dict[Side, Issue] = field(default_factory=dict)
    writes: int = 0
    # rule names written to each side in this job (their re-read value becomes the snapshot)
    written: dict[Side, set[str]] = field(
        default_factory=lambda: {Side.SERVER: set(), Side.CLOUD: set()}
    )


class Applier:
    """Applies queue jobs to the two sites of each pair."""

    def __init__(
        self,
        config: SyncConfig,
        clients: Mapping[str, SiteClient],
        queue: Queue,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.clients = dict(clients)
        self.queue = queue
        self.clock: Clock = clock or SystemClock()
        self._users: dict[tuple[str, Side], UserRef | None] = {}
        self._exact_users: dict[tuple[str, Side], UserRef | None] = {}
        self._sprint_cache: dict[
            tuple[str, str], tuple[datetime, dict[int, Sprint], str | None]
        ] = {}
        self._mentions: dict[tuple[str, Side], str | None] = {}
        # workflow learnt while walking: (site, project, issue type) -> status -> transitions
        self._workflows: dict[tuple[str, str, str], dict[str, tuple[Transition, ...]]] = {}

    # ---- entry points ---------------------------------------------------------------------

    async def __call__(self, job: Job) -> bool:
        """Handler for :func:`run_workers`: apply and complete the job (returns True)."""
        await self.apply(job)
        return True

    async def apply(self, job: Job) -> ApplyResult:
        site_cfg = self.config.sites.get(job.site)
        if site_cfg is None:
            return await self._finish(job, ApplyResult("ignored", f"unknown site {job.site}"))
        side = Side(site_cfg.flavour.value)
        client = self._client(job.site)
        try:
            issue = await client.get_issue(job.issue_id, expand=["changelog"])
        except SkipItemError:
            if any(n.event is EventKind.ISSUE_DELETED for n in job.notices):
                return await self._deleted(job, side)
            raise
        pair = await self._pair_for(job.site, side, issue)
        if pair is None:
            return await self._finish(job, ApplyResult("ignored", "issue is in no pair"))
        ctx = _Ctx(
            pair=pair,
            side=side,
            clients={
                Side.SERVER: self._client(pair.server.site),
                Side.CLOUD: self._client(pair.cloud.site),
            },
        )
        ctx.issues[side] = issue
        ref = await asyncio.to_thread(self._find, pair.id, side, issue)
        created = False
        if ref is None:
            if self._made_by_us(pair, side, issue):
                # a mirror we created whose pair row is being written: try again shortly
                raise RetryLaterError("mirror pairing in progress", retry_after=2)
            if not self._may_create(pair, side):
                return await self._finish(job, ApplyResult("ignored", "no mirror, none wanted"))
            ref = await self._create_mirror(ctx, issue, retried=job.attempts > 1)
            created = True
        else:
            other = side.other
            ctx.issues[other] = await ctx.clients[other].get_issue(
                ref.issue_id(other), expand=["changelog"]
            )
        result = await self._sync(job, ctx, ref, created)
        if created:
            await self._requeue_children(ctx, job.site, issue)
        return result

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

    # ---- deletions ------------------------------------------------------------------------

    async def _deleted(self, job: Job, side: Side) -> ApplyResult:
        """The job's issue was deleted: per pair's ``deletes`` rule delete the mirror too
        (and forget the pair), only record it (the default), or ignore it."""
        refs = await asyncio.to_thread(self._pairs_of_issue, side, job.issue_id)
        pairs = {p.id: p for p in self.config.pairs}
        key = job.issue_key or job.issue_id
        deleted: list[tuple[PairRef, str]] = []
        logged: list[tuple[PairRef, str]] = []
        for ref in refs:
            pair = pairs.get(ref.pair_id)
            if pair is None or pair.deletes is DeleteRule.NONE:
                continue
            other = side.other
            mirror = ref.key(other)
            if pair.deletes is DeleteRule.LOG:
                logged.append((ref, f"{key} deleted; mirror {mirror} kept (deletes: log)"))
                continue
            site = pair.cloud.site if other is Side.CLOUD else pair.server.site
            try:
                await self._client(site).delete_issue(mirror, delete_subtasks=True)
                why = f"{key} deleted; mirror {mirror} deleted on {site}"
            except SkipItemError as exc:  # already gone (or never there): the pair goes
                why = f"{key} deleted; mirror {mirror} was already gone on {site} ({exc})"
            deleted.append((ref, why))
        if not deleted and not logged:
            return await self._finish(job, ApplyResult("ignored", "issue was deleted"))
        now = self.clock.now()

        def commit() -> bool:
            with self.queue.store.session() as session:
                for ref, _why in deleted:
                    session.execute(sa_delete(IssuePair).where(IssuePair.id == ref.id))
                for kind, rows in (("mirror_deleted", deleted), ("issue_deleted", logged)):
                    for ref, why in rows:
                        session.add(
                            AuditEntry(
                                at=now,
                                kind=kind,
                                site=job.site,
                                subject=key,
                                message=why,
                                details={
                                    "pair": ref.pair_id,
                                    "server": ref.server_key,
                                    "cloud": ref.cloud_key,
                                },
                            )
                        )
                return self.queue.complete(job, session=session, message=f"deleted {key}")

        await asyncio.to_thread(commit)
        action = "deleted" if deleted else "ignored"
        detail = "; ".join(why for _, why in (*deleted, *logged))
        return ApplyResult(action, detail, len(deleted))

    def _pairs_of_issue(self, side: Side, issue_id: str) -> list[PairRef]:
        with self.queue.store.session() as session:
            return find_pairs(session, side=side, issue_id=issue_id)

    # ---- lookup ---------------------------------------------------------------------------

    def _client(self, site: str) -> SiteClient:
        try:
            return self.clients[site]
        except KeyError as exc:
            raise FixConfigError(f"no client for site {site!r}") from exc

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

    def _find(self, pair_id: str, side: Side, issue: Issue) -> PairRef | None:
        assert issue.id is not None
        with self.queue.store.session() as session:
            return find_pair(session, side=side, issue_id=issue.id, pair_id=pair_id)

    def _integration_ids(self, pair: PairConfig, side: Side) -> frozenset[str]:
        site = pair.server.site if side is Side.SERVER else pair.cloud.site
        return frozenset({self.config.sites[site].integration_user})

    def _is_us(self, user: UserRef | None, pair: PairConfig, side: Side) -> bool:
        if user is None:
            return False
        ids = self._integration_ids(pair, side)
        return bool({user.account_id, user.name, user.key} & ids)

    def _made_by_us(self, pair: PairConfig, side: Side, issue: Issue) -> bool:
        return self._is_us(issue.creator or issue.reporter, pair, side)

    @staticmethod
    def _may_create(pair: PairConfig, side: Side) -> bool:
        allowed = {
            Side.SERVER: (CreateRule.BOTH, CreateRule.SERVER_TO_CLOUD),
            Side.CLOUD: (CreateRule.BOTH, CreateRule.CLOUD_TO_SERVER),
        }[side]
        return pair.create in allowed

    # ---- users ----------------------------------------------------------------------------

    async def _resolve_users(self, ctx: _Ctx, values: Mapping[Side, Mapping[str, Any]]) -> None:
        for side, fields in values.items():
            for name, value in fields.items():
                named = name in Translator.USER_FIELDS and isinstance(value, dict)
                if named or is_user_value(value):
                    await self._map_user(ctx, value, side.other)
                elif is_user_list(value):
                    for user in value:
                        await self._map_user(ctx, user, side.other)

    def _user_key(self, user: Mapping[str, Any]) -> str:
        return str(user.get("accountId") or user.get("name") or user.get("key"))

    async def _map_user(
        self, ctx: _Ctx, user: Mapping[str, Any], target: Side, *, fallback: bool = True
    ) -> UserRef | None:
        """The ``target`` side's user for ``user`` (cached). ``fallback``: use the pair's
        fallback user when nobody matches (right for an assignee, wrong for a mention)."""
        cache_key = (self._user_key(user), target)
        cache = self._users if fallback else self._exact_users
        if cache_key in cache:
            return cache[cache_key]
        mapping = ctx.pair.users
        found: UserRef | None = None
        if target is Side.CLOUD:
            for ident in (user.get("name"), user.get("key")):
                if ident and ident in mapping.map:
                    found = UserRef(account_id=mapping.map[ident])
        else:
            back = {v: k for k, v in mapping.map.items()}
            if user.get("accountId") in back:
                found = UserRef(name=back[str(user["accountId"])])
        if found is None and mapping.by_email and user.get("email"):
            candidates = await ctx.clients[target].find_users(str(user["email"]))
            email = str(user["email"]).lower()
            found = next((c for c in candidates if (c.email or "").lower() == email), None)
        if found is None and fallback:
            default = (
                mapping.fallback_cloud_user
                if target is Side.CLOUD
                else mapping.fallback_server_user
            )
            if default:
                found = (
                    UserRef(account_id=default) if target is Side.CLOUD else UserRef(name=default)
                )
        cache[cache_key] = found
        return found

    def _translator(
        self, pair: PairConfig, keys: Mapping[tuple[str, Side], str] | None = None
    ) -> Translator:
        def users(value: Any, target: Side) -> Any:
            found = self._users.get((self._user_key(value), target))
            return SKIP if found is None else _plain(found)

        known = dict(keys or {})
        return Translator(
            pair,
            users=users,
            issue_keys=lambda k, t: known.get((k, t)),
            rich=self._map_mentions,
        )

    # ---- mentions in rich text ------------------------------------------------------------

    async def _resolve_mentions(self, ctx: _Ctx, docs: Mapping[Side, Sequence[Any]]) -> None:
        """Find the other side's user for every mention in ``docs`` (ADF per source side)."""
        for side, values in docs.items():
            ids: set[str] = set()
            for value in values:
                _mention_ids(value, ids)
            for mention_id in sorted(ids):
                if (mention_id, side.other) in self._mentions:
                    continue
                user: dict[str, Any] = (
                    {"name": mention_id} if side is Side.SERVER else {"accountId": mention_id}
                )
                if ctx.pair.users.by_email:
                    # the mention names the user on its own site; their e-mail (when it is
                    # visible) finds them on the other one
                    try:
                        found = await ctx.clients[side].find_users(mention_id)
                    except SkipItemError:
                        found = []
                    match = next(
                        (u for u in found if mention_id in (u.name, u.key, u.account_id)), None
                    )
                    if match is not None and match.email:
                        user["email"] = match.email
                target = await self._map_user(ctx, user, side.other, fallback=False)
                ident = None
                if target is not None:
                    ident = target.account_id if side.other is Side.CLOUD else target.name
                self._mentions[(mention_id, side.other)] = ident

    def _map_mentions(self, doc: Any, target: Side) -> Any:
        """``doc`` with each mention pointing at the target site's user; a mention of
        someone unknown there becomes plain text (never someone else)."""
        if isinstance(doc, list):
            return [self._map_mentions(v, target) for v in doc]
        if not isinstance(doc, dict):
            return doc
        if doc.get("type") == "mention":
            attrs = dict(doc.get("attrs") or {})
            ident = self._mentions.get((str(attrs.get("id")), target))
            if ident is None:
                text = str(attrs.get("text") or f"@{attrs.get('id', '?')}")
                return {"type": "text", "text": text}
            attrs["id"] = ident
            return {**doc, "attrs": attrs}
        return {k: self._map_mentions(v, target) for k, v in doc.items()}

    async def _issue_keys(
        self, pair: PairConfig, values: Mapping[Side, Mapping[str, Any]]
    ) -> dict[tuple[str, Side], str]:
        """Mirror keys for issue-key fields (parent / epic): (key, target side) -> key."""
        out: dict[tuple[str, Side], str] = {}
        for side, fields in values.items():
            for name in Translator.ISSUE_FIELDS:
                key = fields.get(name)
                if isinstance(key, str) and key:
                    ref = await asyncio.to_thread(self._pair_by_key, pair.id, side, key)
                    if ref is not None:
                        out[(key, side.other)] = ref.key(side.other)
        return out

    # ---- create ---------------------------------------------------------------------------

    async def _create_mirror(self, ctx: _Ctx, source: Issue, *, retried: bool = False) -> PairRef:
        """Create ``source``'s mirror and record the pair. ``retried``: an earlier attempt
        of this job may have created the mirror and died before recording it (a crash, a
        lost lease), so look for that unpaired mirror first and adopt it."""
        pair, side = ctx.pair, ctx.side
        target = side.other
        rule = next(
            (
                action
                for r in pair.rules
                if r.when.side is side and r.when.event is TriggerEvent.CREATED
                for action in r.then
                if isinstance(action, CreateMirror)
            ),
            None,
        )
        values = canonical_values(source, pair.fields, side)
        await self._resolve_users(ctx, {side: values})
        await self._resolve_mentions(ctx, {side: list(values.values())})
        keys = await self._issue_keys(pair, {side: values})
        plan = plan_fields(
            pair.fields,
            self._translator(pair, keys),
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
        data = IssueInput(
            **{
                **_input_kwargs(data),
                "project_key": end.project,
                "issue_type": issue_type,
                "summary": data.summary if data.summary is not None else source.summary,
            }
        )
        origin_tag = f"{side.value}:{source.id}"
        if target is Side.SERVER and (issue_type or "").lower() == "epic":
            data = await self._with_epic_name(client, data)

        async def check() -> str | None:
            return await self.find_unpaired_mirror(client, pair.id, target, end.project, data)

        key = await check() if retried else None
        if key is not None:
            log.warning("adopting %s: created for %s by an attempt that died", key, source.key)
        else:
            key = await client.create_issue(data, check=check)
        ctx.writes += 1
        mirror = await client.get_issue(key, expand=["changelog"])
        ctx.issues[target] = mirror
        assert source.id is not None and mirror.id is not None
        server, cloud = (source, mirror) if side is Side.SERVER else (mirror, source)
        assert server.id is not None and cloud.id is not None
        now = self.clock.now()

        def record() -> PairRef:
            with self.queue.store.session() as session:
                return link_pair(
                    session,
                    pair_id=pair.id,
                    server=(server.id or "", server.key),
                    cloud=(cloud.id or "", cloud.key),
                    origin=side,
                    now=now,
                )

        ref = await asyncio.to_thread(record)
        marker = {
            "pair": pair.id,
            "server": server.key,
            "cloud": cloud.key,
            "origin": origin_tag,
        }
        for s, issue in ((Side.SERVER, server), (Side.CLOUD, cloud)):
            await ctx.clients[s].set_property(issue.key, PROPERTY, marker)
            other = cloud if s is Side.SERVER else server
            other_site = pair.cloud.site if s is Side.SERVER else pair.server.site
            await ctx.clients[s].put_remote_link(
                issue.key,
                RemoteLink(
                    url=other.url or f"{self.config.sites[other_site].url}/browse/{other.key}",
                    title=f"{other.key} (mirror on {other_site})",
                    global_id=f"jirabridge:{pair.id}:{other.key}",
                    relationship="synced with",
                ),
            )
            ctx.writes += 2
        if rule is not None and rule.write_back_field:
            await ctx.clients[side].edit_issue(
                source.key, IssueInput(extra_fields={rule.write_back_field: mirror.key})
            )
            ctx.writes += 1
        return ref

    async def find_unpaired_mirror(
        self, client: SiteClient, pair_id: str, side: Side, project: str, data: IssueInput
    ) -> str | None:
        """After an ambiguous create (timeout, 5xx): the issue we may have created anyway.

        Entity properties cannot be searched without an app, so look for an issue created
        by the integration user in the last 15 minutes with the same summary that is in no
        pair yet; None means the create did not happen and may be sent again."""
        jql = (
            f'project = "{project}" AND creator = currentUser() AND created >= -15m '
            "ORDER BY created DESC"
        )
        async for found in client.search(jql, fields=["summary", "created"]):
            if found.summary != data.summary or found.id is None:
                continue
            paired = await asyncio.to_thread(self._find_by_id, pair_id, side, found.id)
            if paired is None:
                return found.key
        return None

    def _find_by_id(self, pair_id: str, side: Side, issue_id: str) -> PairRef | None:
        with self.queue.store.session() as session:
            return find_pair(session, side=side, issue_id=issue_id, pair_id=pair_id)

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

    # ---- sync -----------------------------------------------------------------------------

    async def _sync(self, job: Job, ctx: _Ctx, ref: PairRef, created: bool) -> ApplyResult:
        pair = ctx.pair
        snaps = await asyncio.to_thread(self._snapshots, ref.id)
        snap_s, snap_c = snaps[Side.SERVER], snaps[Side.CLOUD]
        values = {
            s: canonical_values(ctx.issues[s], pair.fields, s) for s in (Side.SERVER, Side.CLOUD)
        }
        await self._resolve_users(ctx, values)
        await self._resolve_mentions(ctx, {s: list(values[s].values()) for s in values})
        keys = await self._issue_keys(pair, values)
        plan = plan_fields(
            pair.fields,
            self._translator(pair, keys),
            server_now=values[Side.SERVER],
            cloud_now=values[Side.CLOUD],
            server_hashes=None if snap_s is None else snap_s.hashes,
            cloud_hashes=None if snap_c is None else snap_c.hashes,
            server_changed_at=self._changed_at(ctx, Side.SERVER),
            cloud_changed_at=self._changed_at(ctx, Side.CLOUD),
            origin=ref.origin if snap_s is None else None,
        )
        before_status = {s: ctx.issues[s].status for s in (Side.SERVER, Side.CLOUD)}
        await self._write_fields(ctx, plan)
        await self._run_rules(ctx, snaps)
        comment_links = await self._sync_comments(ctx, ref)
        attachment_links = await self._sync_attachments(ctx, ref)
        link_links = await self._sync_links(ctx, ref)
        sprint_names = await self._sync_sprints(ctx, snaps)
        # the new "last synced" state: what we wrote, as the sites now show it, and for every
        # other field what we read at the start. A change someone made while this job ran
        # is then still a change next time (and its issue is not taken for our own echo).
        for s in (Side.SERVER, Side.CLOUD):
            ctx.issues[s] = await ctx.clients[s].get_issue(ctx.issues[s].key)
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
            updated[s] = None if moved_meanwhile else ctx.issues[s].updated
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
        now = self.clock.now()

        def commit() -> bool:
            with self.queue.store.session() as session:
                for s in (Side.SERVER, Side.CLOUD):
                    save_snapshot(session, ref.id, s, after[s], issue_updated=updated[s], now=now)
                for conflict in plan.conflicts:
                    record_conflict(session, ref.id, conflict, now=now)
                for link in comment_links:
                    link_comments(session, ref.id, now=now, **link)
                for row in attachment_links:
                    session.add(AttachmentPair(issue_pair_id=ref.id, synced_at=now, **row))
                for row in link_links:
                    session.add(LinkPair(issue_pair_id=ref.id, synced_at=now, **row))
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

        await asyncio.to_thread(commit)
        return result

    def _snapshots(self, issue_pair_id: int) -> dict[Side, SnapshotData | None]:
        with self.queue.store.session() as session:
            return {s: load_snapshot(session, issue_pair_id, s) for s in (Side.SERVER, Side.CLOUD)}

    def _changed_at(self, ctx: _Ctx, side: Side) -> dict[str, datetime]:
        """When each synced field last changed on ``side`` by someone other than us."""
        issue = ctx.issues[side]
        ids = {
            (r.server_id if side is Side.SERVER else r.cloud_id).lower(): r.name
            for r in ctx.pair.fields
        }
        out: dict[str, datetime] = {}
        for entry in issue.changelog:
            if self._is_us(entry.author, ctx.pair, side):
                continue
            for item in entry.items:
                name = ids.get((item.field_id or item.field).lower())
                if name is not None and (name not in out or entry.created > out[name]):
                    out[name] = entry.created
        return out

    async def _write_fields(self, ctx: _Ctx, plan: FieldPlan) -> None:
        for target, side_plan in ((Side.SERVER, plan.to_server), (Side.CLOUD, plan.to_cloud)):
            fields = dict(side_plan.fields)
            if not fields:
                continue
            status = fields.pop("status", None)
            resolution = fields.pop("resolution", None)
            fields.pop("key", None)
            fields.pop("issuetype", None)
            key = ctx.issues[target].key
            client = ctx.clients[target]
            ctx.written[target].update(
                r.name
                for r in ctx.pair.fields
                if (r.server_id if target is Side.SERVER else r.cloud_id) in side_plan.fields
            )
            data = _input(fields, skip=frozenset(), info=await client.fields())
            if _input_kwargs(data):
                await client.edit_issue(key, data)
                ctx.writes += 1
            if status is not None and status != ctx.issues[target].status:
                await self._transition(ctx, target, str(status), resolution, None)

    async def _transition(
        self,
        ctx: _Ctx,
        target: Side,
        status: str,
        resolution: Any,
        comment: str | None,
    ) -> None:
        client = ctx.clients[target]
        key = ctx.issues[target].key
        chosen = await self._walk_to(ctx, target, status)
        extra: dict[str, Any] = {}
        if "resolution" in chosen.fields:
            name = resolution if isinstance(resolution, str) else None
            if name is None:
                allowed = chosen.fields["resolution"].get("allowedValues") or []
                name = next((a.get("name") for a in allowed if a.get("name")), "Done")
            extra["resolution"] = {"name": name}
        body = None if comment is None else _adf_text(comment)
        await client.transition(
            key,
            chosen.id,
            fields=IssueInput(extra_fields=extra) if extra else None,
            comment=body,
        )
        ctx.writes += 1
        ctx.written[target].update({"status", "resolution"})

    async def _walk_to(self, ctx: _Ctx, target: Side, status: str) -> Transition:
        """Move the issue along the workflow until ``status`` is one transition away.

        The REST API shows only the transitions out of the current status, so the workflow
        is learnt as it is walked (and remembered per site, project and issue type): each
        step reads the transitions of the status it reached. The route is a shortest path
        (breadth-first) over what is known; while the target is not yet known to be
        reachable, the walk goes to the nearest status whose transitions are not known yet.
        At most :data:`MAX_WORKFLOW_STEPS` moves; intermediate steps never take a transition
        with a screen. Each step is a real transition by the integration user, so it never
        echoes. When no path is found the issue is walked back to where it was (over the
        known transitions) and the item is dead-lettered with the statuses tried."""
        client = ctx.clients[target]
        issue = ctx.issues[target]
        key = issue.key
        graph = self._workflows.setdefault(
            (self._site_of(ctx, target), issue.project_key, issue.issue_type), {}
        )
        start = issue.status
        current = start
        path: list[str] = []
        wanted = status.lower()
        while True:
            options = tuple(await client.transitions(key))
            graph[current.lower()] = options
            chosen = _pick(options, status)
            if chosen is not None:
                return chosen
            route = _route(graph, current, lambda s: s == wanted)
            if route is None:  # not known to be reachable: explore the nearest unknown status
                route = _route(graph, current, lambda s: s not in graph)
            if route is None or len(path) >= MAX_WORKFLOW_STEPS:
                break
            step = route[0]
            await client.transition(key, step.id)
            ctx.writes += 1
            current = step.to_status
            path.append(step.to_status)
        names = ", ".join(sorted({t.to_status for t in options})) or "none"
        tried = ", ".join(sorted({s for s in graph if s != start.lower()})) or "none"
        where = await self._walk_back(ctx, target, current, start, graph) if path else start
        via = f"; walked {' -> '.join([start, *path])}" if path else ""
        back = (
            f", then back to {start!r}"
            if path and where.lower() == start.lower()
            else (f", left in {where!r} (no way back found)" if path else "")
        )
        raise SkipItemError(
            f"{key}: no workflow path to {status!r} from {start!r} within "
            f"{MAX_WORKFLOW_STEPS} steps{via}{back} (statuses explored: {tried}; available "
            f"from {current!r}: {names})"
        )

    async def _walk_back(
        self,
        ctx: _Ctx,
        target: Side,
        current: str,
        start: str,
        graph: Mapping[str, Sequence[Transition]],
    ) -> str:
        """Return the issue to ``start`` over the known transitions; the status it ends in."""
        client = ctx.clients[target]
        key = ctx.issues[target].key
        home = start.lower()
        for _ in range(MAX_WORKFLOW_STEPS):
            if current.lower() == home:
                break
            options = tuple(await client.transitions(key))
            direct = _pick(options, start)
            if direct is not None and not direct.fields:
                await client.transition(key, direct.id)
                ctx.writes += 1
                return start
            route = _route({**graph, current.lower(): options}, current, lambda s: s == home)
            if route is None:
                break
            await client.transition(key, route[0].id)
            ctx.writes += 1
            current = route[0].to_status
        return current

    async def _run_rules(self, ctx: _Ctx, snaps: Mapping[Side, SnapshotData | None]) -> None:
        for rule in ctx.pair.rules:
            when = rule.when
            if when.event is not TriggerEvent.TRANSITIONED:
                continue
            source = ctx.issues[when.side]
            snap = snaps[when.side]
            if snap is None:
                continue  # first sync of the pair: nothing was observed transitioning
            if snap.values.get(STATUS_KEY) == source.status:
                continue  # no transition since the last sync
            if when.status and when.status != source.status:
                continue
            if when.status_category and when.status_category != (source.status_category or ""):
                continue
            target = when.side.other
            for action in rule.then:
                if isinstance(action, TransitionMirror):
                    mirror = ctx.issues[target]
                    text = (action.comment or "").format(
                        key=source.key, status=source.status, site=self._site_of(ctx, when.side)
                    )
                    if mirror.status != action.to_status:
                        await self._transition(
                            ctx, target, action.to_status, action.resolution, text or None
                        )
                        ctx.issues[target] = await ctx.clients[target].get_issue(mirror.key)
                    elif text:
                        await ctx.clients[target].add_comment(mirror.key, _adf_text(text))
                        ctx.writes += 1
                elif isinstance(action, AddComment):
                    await ctx.clients[action.target].add_comment(
                        ctx.issues[action.target].key,
                        _adf_text(
                            action.body.format(key=source.key, status=source.status, site="")
                        ),
                    )
                    ctx.writes += 1

    def _site_of(self, ctx: _Ctx, side: Side) -> str:
        return ctx.pair.server.site if side is Side.SERVER else ctx.pair.cloud.site

    # ---- comments -------------------------------------------------------------------------

    async def _sync_comments(self, ctx: _Ctx, ref: PairRef) -> list[dict[str, Any]]:
        rules = ctx.pair.comments
        comments: dict[Side, list[Comment]] = {}
        for s in (Side.SERVER, Side.CLOUD):
            comments[s] = [c async for c in ctx.clients[s].comments(ctx.issues[s].key)]
        pairs = await asyncio.to_thread(self._comment_pairs, ref.id)
        await self._resolve_mentions(ctx, {s: [c.body for c in comments[s]] for s in comments})
        by_id = {
            Side.SERVER: {c.id: c for c in comments[Side.SERVER]},
            Side.CLOUD: {c.id: c for c in comments[Side.CLOUD]},
        }
        paired = {
            Side.SERVER: {p.server_comment_id: p for p in pairs},
            Side.CLOUD: {p.cloud_comment_id: p for p in pairs},
        }
        links: list[dict[str, Any]] = []
        # comments we posted whose pair row was never written (the attempt died): adopted
        # below by their text instead of being posted a second time
        orphans: dict[Side, list[Comment]] = {
            s: [
                c
                for c in comments[s]
                if c.id is not None and c.id not in paired[s] and self._is_us(c.author, ctx.pair, s)
            ]
            for s in (Side.SERVER, Side.CLOUD)
        }
        for source in (Side.SERVER, Side.CLOUD):
            target = source.other
            if not rules.direction.flows_to(target):
                continue
            for comment in comments[source]:
                if comment.id is None or comment.id in paired[source]:
                    continue
                if self._is_us(comment.author, ctx.pair, source):
                    continue
                if comment.visibility is not None and rules.internal is InternalComments.SKIP:
                    continue
                body = self._attributed(ctx, source, comment)
                visibility = (
                    comment.visibility if rules.internal is InternalComments.KEEP_INTERNAL else None
                )
                wanted = _text(body)
                adopted = next((c for c in orphans[target] if _text(c.body) == wanted), None)
                if adopted is not None:
                    orphans[target].remove(adopted)
                    links.append(self._link(source, comment, adopted))
                    continue
                try:
                    made = await ctx.clients[target].add_comment(
                        ctx.issues[target].key, body, visibility=visibility
                    )
                except SkipItemError as exc:
                    if visibility is None:
                        raise
                    # the group / role does not exist there: never publish it instead
                    log.warning(
                        "restricted comment %s of %s not mirrored: %s",
                        comment.id,
                        ctx.issues[source].key,
                        exc,
                    )
                    continue
                ctx.writes += 1
                links.append(self._link(source, comment, made))
        for p in pairs:
            server_c = by_id[Side.SERVER].get(p.server_comment_id)
            cloud_c = by_id[Side.CLOUD].get(p.cloud_comment_id)
            origin = Side(p.origin)
            source_c = server_c if origin is Side.SERVER else cloud_c
            mirror_c = cloud_c if origin is Side.SERVER else server_c
            target = origin.other
            if source_c is None:
                if rules.deletes and mirror_c is not None and mirror_c.id is not None:
                    await ctx.clients[target].delete_comment(ctx.issues[target].key, mirror_c.id)
                    ctx.writes += 1
                continue
            source_hash = p.server_hash if origin is Side.SERVER else p.cloud_hash
            if rules.edits and mirror_c is not None and value_hash(source_c.body) != source_hash:
                assert mirror_c.id is not None
                made = await ctx.clients[target].update_comment(
                    ctx.issues[target].key, mirror_c.id, self._attributed(ctx, origin, source_c)
                )
                ctx.writes += 1
                links.append(self._link(origin, source_c, made))
        return links

    def _comment_pairs(self, issue_pair_id: int) -> list[CommentPair]:
        from sqlalchemy import select

        with self.queue.store.session() as session:
            return list(
                session.scalars(
                    select(CommentPair).where(CommentPair.issue_pair_id == issue_pair_id)
                )
            )

    @staticmethod
    def _link(source: Side, comment: Comment, made: Comment) -> dict[str, Any]:
        server_c, cloud_c = (comment, made) if source is Side.SERVER else (made, comment)
        return {
            "server_comment_id": server_c.id or "",
            "cloud_comment_id": cloud_c.id or "",
            "origin": source,
            "server_body": server_c.body,
            "cloud_body": cloud_c.body,
        }

    def _attributed(self, ctx: _Ctx, source: Side, comment: Comment) -> dict[str, Any]:
        rules = ctx.pair.comments
        body: dict[str, Any] = dict(comment.body) if comment.body else {"type": "doc"}
        content = list(body.get("content") or [])
        if rules.attribution:
            who = comment.author.label() if comment.author else "someone"
            created = (comment.created or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
            line = rules.attribution_template.format(
                author=who,
                created=created,
                site=self._site_of(ctx, source),
                key=ctx.issues[source].key,
            )
            content.insert(0, _paragraph(line))
        body["content"] = content
        body.setdefault("type", "doc")
        body.setdefault("version", 1)
        mapped: dict[str, Any] = self._map_mentions(body, source.other)
        return mapped

    # ---- attachments and links ------------------------------------------------------------

    async def _sync_attachments(self, ctx: _Ctx, ref: PairRef) -> list[dict[str, Any]]:
        """Copy each attachment once (by id, recorded with its sha256)."""
        direction = ctx.pair.attachments
        rows = await asyncio.to_thread(self._rows, AttachmentPair, ref.id)
        known = {
            Side.SERVER: {r.server_attachment_id for r in rows},
            Side.CLOUD: {r.cloud_attachment_id for r in rows},
        }
        out: list[dict[str, Any]] = []
        for source in (Side.SERVER, Side.CLOUD):
            target = source.other
            if not direction.flows_to(target):
                continue
            for att in ctx.issues[source].attachments:
                if att.id is None or att.id in known[source]:
                    continue
                if self._is_us(att.author, ctx.pair, source):
                    continue  # one we uploaded whose pair row is missing: never copy back
                if att.size > ctx.pair.max_attachment_bytes:
                    log.warning("attachment %s of %s too large", att.filename, ref.key(source))
                    continue
                content = await ctx.clients[source].download_attachment(att)
                made = await ctx.clients[target].add_attachment(
                    ctx.issues[target].key,
                    att.filename,
                    content,
                    att.mime_type or "application/octet-stream",
                )
                ctx.writes += 1
                if not made or made[0].id is None:
                    raise RetryLaterError(f"attachment {att.filename} upload gave no id")
                ids = {source: att.id, target: made[0].id}
                known[target].add(made[0].id)
                out.append(
                    {
                        "server_attachment_id": ids[Side.SERVER],
                        "cloud_attachment_id": ids[Side.CLOUD],
                        "filename": att.filename[:500],
                        "sha256": hashlib.sha256(content).hexdigest(),
                    }
                )
        return out

    async def _sync_links(self, ctx: _Ctx, ref: PairRef) -> list[dict[str, Any]]:
        """Add on the other side every link between paired issues (never remove one)."""
        direction = ctx.pair.links
        rows = await asyncio.to_thread(self._rows, LinkPair, ref.id)
        known = {
            Side.SERVER: {r.server_link_id for r in rows},
            Side.CLOUD: {r.cloud_link_id for r in rows},
        }
        out: list[dict[str, Any]] = []
        for source in (Side.SERVER, Side.CLOUD):
            target = source.other
            if not direction.flows_to(target):
                continue
            target_issue = ctx.issues[target]
            present = {(x.type_name, x.direction, x.other_key) for x in target_issue.links}
            for link in ctx.issues[source].links:
                if link.id is None or link.id in known[source]:
                    continue
                other = await asyncio.to_thread(
                    self._pair_by_key, ctx.pair.id, source, link.other_key
                )
                if other is None:
                    continue  # the linked issue has no mirror: nothing to link to
                other_key = other.key(target)
                wanted = (link.type_name, link.direction, other_key)
                if wanted not in present:
                    if link.direction is LinkDirection.OUTWARD:
                        await ctx.clients[target].create_link(
                            link.type_name, target_issue.key, other_key
                        )
                    else:
                        await ctx.clients[target].create_link(
                            link.type_name, other_key, target_issue.key
                        )
                    ctx.writes += 1
                    present.add(wanted)
                fresh = await ctx.clients[target].get_issue(target_issue.key, fields=["issuelinks"])
                made = next(
                    (
                        x
                        for x in fresh.links
                        if (x.type_name, x.direction, x.other_key) == wanted and x.id
                    ),
                    None,
                )
                if made is None or made.id in known[target]:
                    continue
                ids = {source: link.id, target: made.id}
                known[target].add(made.id or "")
                known[source].add(link.id)
                out.append(
                    {
                        "server_link_id": ids[Side.SERVER],
                        "cloud_link_id": ids[Side.CLOUD],
                        "link_type": link.type_name[:100],
                    }
                )
        return out

    async def _open_sprints(self, ctx: _Ctx, side: Side) -> tuple[dict[int, Sprint], str | None]:
        """The project's sprints by id (over all its boards) and the sprint field id,
        cached for :data:`SPRINT_CACHE_SECONDS` (boards and sprints change rarely)."""
        end = ctx.pair.server if side is Side.SERVER else ctx.pair.cloud
        now = self.clock.now()
        cached = self._sprint_cache.get((end.site, end.project))
        if cached is not None and (now - cached[0]).total_seconds() < SPRINT_CACHE_SECONDS:
            return cached[1], cached[2]
        sprints, field_id = await self._read_open_sprints(ctx, side)
        self._sprint_cache[(end.site, end.project)] = (now, sprints, field_id)
        return sprints, field_id

    async def _read_open_sprints(
        self, ctx: _Ctx, side: Side
    ) -> tuple[dict[int, Sprint], str | None]:
        client = ctx.clients[side]
        project = (ctx.pair.server if side is Side.SERVER else ctx.pair.cloud).project
        fields = await client.fields()
        field_id = next((f.id for f in fields.values() if f.custom_key == SPRINT_FIELD), None)
        sprints: dict[int, Sprint] = {}
        async for board in client.boards(project_key=project):
            if board.type != "scrum":
                continue
            async for sprint in client.sprints(board.id):
                sprints[sprint.id] = sprint  # closed ones too: issues keep them in the field
        return sprints, field_id

    async def _sync_sprints(
        self, ctx: _Ctx, snaps: Mapping[Side, SnapshotData | None]
    ) -> dict[Side, list[str]] | None:
        """Put the mirror into the sprint (matched by name) its source moved into, or into
        the backlog. Returns each side's open sprint names for the snapshot."""
        direction = ctx.pair.sprints
        if direction is Direction.NONE:
            return None
        open_: dict[Side, dict[int, Sprint]] = {}
        names: dict[Side, list[str]] = {}
        for s in (Side.SERVER, Side.CLOUD):
            sprints, field_id = await self._open_sprints(ctx, s)
            value = ctx.issues[s].custom_fields.get(field_id or "")
            ids = value.value if value is not None else ()
            if any(i not in sprints for i in ids):  # a sprint newer than the cache
                end = ctx.pair.server if s is Side.SERVER else ctx.pair.cloud
                self._sprint_cache.pop((end.site, end.project), None)
                sprints, field_id = await self._open_sprints(ctx, s)
            open_[s] = {i: sp for i, sp in sprints.items() if sp.state is not SprintState.CLOSED}
            names[s] = sorted(open_[s][i].name for i in ids if i in open_[s])
        for source in (Side.SERVER, Side.CLOUD):
            target = source.other
            snap = snaps[source]
            before = None if snap is None else snap.values.get(SPRINTS_KEY)
            if not direction.flows_to(target) or before == names[source]:
                continue  # not this way, or the source did not move since the last sync
            if set(names[source]) == set(names[target]):
                continue
            key = ctx.issues[target].key
            if not names[source]:
                await ctx.clients[target].move_to_backlog([key])
            else:
                wanted = names[source][0]
                match = next((sp for sp in open_[target].values() if sp.name == wanted), None)
                if match is None:  # perhaps created since the cache was filled: look again
                    t_end = ctx.pair.server if target is Side.SERVER else ctx.pair.cloud
                    self._sprint_cache.pop((t_end.site, t_end.project), None)
                    fresh, _ = await self._open_sprints(ctx, target)
                    open_[target] = {
                        i: sp for i, sp in fresh.items() if sp.state is not SprintState.CLOSED
                    }
                    match = next((sp for sp in open_[target].values() if sp.name == wanted), None)
                if match is None:
                    log.warning("no open sprint %r on the %s side", wanted, target.value)
                    # keep it a change, so a later job tries again
                    names[source] = before if isinstance(before, list) else []
                    continue
                await ctx.clients[target].move_to_sprint(match.id, [key])
            ctx.writes += 1
            names[target] = list(names[source])
            break  # one move per job: the other side is now equal
        return names

    def _rows(self, table: Any, issue_pair_id: int) -> list[Any]:
        from sqlalchemy import select

        with self.queue.store.session() as session:
            return list(session.scalars(select(table).where(table.issue_pair_id == issue_pair_id)))

    def _pair_by_key(self, pair_id: str, side: Side, key: str) -> PairRef | None:
        with self.queue.store.session() as session:
            return find_pair_by_key(session, side=side, key=key, pair_id=pair_id)

    # ---- finish ---------------------------------------------------------------------------

    async def _finish(self, job: Job, result: ApplyResult) -> ApplyResult:
        await asyncio.to_thread(
            lambda: self.queue.complete(job, message=f"{result.action}: {result.detail}")
        )
        return result


def _mention_ids(value: Any, out: set[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _mention_ids(item, out)
    elif isinstance(value, dict):
        if value.get("type") == "mention":
            ident = (value.get("attrs") or {}).get("id")
            if ident:
                out.add(str(ident))
        for item in value.values():
            if isinstance(item, list | dict):
                _mention_ids(item, out)


def _route(
    graph: Mapping[str, Sequence[Transition]],
    start: str,
    goal: Callable[[str], bool],
) -> list[Transition] | None:
    """The shortest list of transitions (breadth-first over ``graph``: status name in lower
    case -> its transitions) from ``start`` to the first status where ``goal(status)`` holds;
    only the last step may have a screen. None when there is none."""
    origin = start.lower()
    seen = {origin}
    frontier: list[tuple[str, list[Transition]]] = [(origin, [])]
    while frontier:
        nxt: list[tuple[str, list[Transition]]] = []
        for status, route in frontier:
            for t in graph.get(status, ()):
                to = t.to_status.lower()
                if to in seen:
                    continue
                if goal(to):
                    return [*route, t]
                if t.fields:
                    continue  # a screen: never an intermediate step
                seen.add(to)
                nxt.append((to, [*route, t]))
        frontier = nxt
    return None


def _pick(options: Sequence[Transition], status: str) -> Transition | None:
    wanted = status.lower()
    return next((t for t in options if t.to_status.lower() == wanted), None)


def _text(doc: Any) -> str:
    """The words of an ADF document, whitespace folded (to recognise a comment we posted
    after its round trip through the other site's format)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, Mapping):
            if node.get("type") == "text":
                out.append(str(node.get("text") or ""))
            elif node.get("type") == "mention":
                out.append(str((node.get("attrs") or {}).get("text") or ""))
            walk(node.get("content"))
            out.append(" ")

    walk(doc)
    return " ".join("".join(out).split())


def _paragraph(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "content": [{"type": "text", "text": text}]}


def _adf_text(text: str) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": [_paragraph(text)]}


def _user(value: Any) -> UserRef | None:
    if not isinstance(value, Mapping):
        return None
    ref = {
        "account_id": value.get("accountId"),
        "name": value.get("name"),
        "key": value.get("key"),
    }
    if not any(ref.values()):
        return None
    return UserRef(**ref)


def _input(
    fields: Mapping[str, Any],
    *,
    skip: frozenset[str],
    info: Mapping[str, FieldInfo] | None = None,
) -> IssueInput:
    """An :class:`IssueInput` from field ids and canonical values.

    A custom field the target site describes (``info``, its ``GET /field``) becomes a typed
    :class:`CustomFieldValue`, which the client shapes as Jira wants it (``{"value": ...}``
    for options, user objects, ``{"name": ...}`` for versions, ADF or wiki for a textarea);
    an unknown one, or a cleared one (``None``), is passed through as raw JSON."""
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    custom: dict[str, CustomFieldValue] = {}
    for field_id, value in fields.items():
        if field_id in skip:
            continue
        attr = _STANDARD.get(field_id)
        if attr in ("summary", "priority", "parent_key"):
            kwargs[attr] = value
        elif attr in ("description", "environment"):
            kwargs[attr] = value if value is not None else _adf_text("")
        elif attr in ("labels", "components", "fix_versions", "affects_versions"):
            kwargs[attr] = tuple(value or ())
        elif attr == "due":
            kwargs[attr] = None if value is None else date.fromisoformat(str(value)[:10])
        elif attr in ("assignee", "reporter"):
            kwargs[attr] = _user(value)
        elif attr is None:
            described = None if info is None else info.get(field_id)
            typed = None if described is None else _custom(described, value)
            if typed is None:
                extra[field_id] = value
            else:
                custom[field_id] = typed
    if extra:
        kwargs["extra_fields"] = extra
    if custom:
        kwargs["custom_fields"] = custom
    return IssueInput(**kwargs)


def _custom(info: FieldInfo, value: Any) -> CustomFieldValue | None:
    """``value`` (canonical) as a typed value of the target's field ``info``; None: send the
    raw value (a cleared field, or a schema we do not know)."""
    schema = info.schema_type
    if value is None or schema is None:
        return None
    try:
        if schema == "array":
            items = info.items
            values = value if isinstance(value, list | tuple) else [value]
            return CustomFieldValue(
                info.id,
                "array",
                tuple(_scalar(items, v) for v in values),
                items=items,
                custom=info.custom_key,
            )
        if schema == "option-with-child":
            parts = list(value) if isinstance(value, list | tuple) else [value]
            parent, child = [*parts, None, None][:2]
            return CustomFieldValue(info.id, schema, (parent, child), custom=info.custom_key)
        return CustomFieldValue(info.id, schema, _scalar(schema, value), custom=info.custom_key)
    except (TypeError, ValueError) as exc:
        raise SkipItemError(
            f"value of {info.name or info.id} does not fit its type {schema}: {exc}"
        ) from exc


def _scalar(schema: str | None, value: Any) -> Any:
    if schema == "user":
        user = _user(value)
        if user is None:
            raise ValueError("not a user")
        return user
    if schema == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if schema == "datetime":
        if isinstance(value, datetime):
            return value
        parsed = datetime.fromisoformat(str(value))
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    if schema == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"not a number: {value!r}")
        number = float(value)
        return int(number) if isinstance(value, int) else number
    return value


def _input_kwargs(data: IssueInput) -> dict[str, Any]:
    """The fields of ``data`` that are set."""
    out: dict[str, Any] = {}
    for name in IssueInput.__dataclass_fields__:
        value = getattr(data, name)
        if value is None or (name in ("custom_fields", "extra_fields") and not value):
            continue
        out[name] = value
    return out
