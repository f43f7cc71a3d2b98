"""Users and rich text: the other side's user for a user value, and rich text (ADF) translated
for the other side (:meth:`_UsersMixin.translate_doc`, the one seam every document goes through:
mentions, issue keys, links and attachment references, see :mod:`jirabridge.sync.richtext`).

A user lookup that finds nobody is believed for :data:`MISS_TTL_SECONDS` only, so someone
created (or given a matching e-mail address) later is found; a mention that cannot be mapped is
written as ``@Display Name`` text and recorded as an audit entry naming the user and the issue.

Lookups are remembered per pair and per source site (two pairs may map the same username to
different people, and two Server sites may each have a ``jsmith``). What is remembered is what
the pair's ``users.map`` or e-mail matching found; the pair's fallback user is applied after,
so a lookup that ended in the fallback is a miss (asked again after the TTL), not a hit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select

from jirabridge.errors import SkipItemError
from jirabridge.jira import UserRef
from jirabridge.markup import ReportKind
from jirabridge.sync.apply._base import _ApplierBase, _Ctx, log
from jirabridge.sync.apply._values import _plain
from jirabridge.sync.config import PairConfig, Side
from jirabridge.sync.diff import SKIP, Translator, is_user_list, is_user_value
from jirabridge.sync.pairs import find_pair
from jirabridge.sync.richtext import (
    MirroredAttachment,
    RichTextLookups,
    mention_ids,
    reference_keys,
    refers_to_attachments,
    translate_doc,
)
from jirabridge.sync.store import AttachmentPair, AuditEntry, IssuePair

MISS_TTL_SECONDS = 300.0
"""How long a user lookup that found nobody (a mention, an assignee) is believed."""

_AUDITED = frozenset(
    {ReportKind.UNRESOLVED_USER, ReportKind.UNMAPPED_ISSUE, ReportKind.UNMAPPED_ATTACHMENT}
)

_UserKey = tuple[str, str, str, Side]  # pair id, source site, user id, target side


@runtime_checkable
class _AccountLookup(Protocol):
    """A Jira Cloud client: a user by accountId (``GET /user?accountId=``; Cloud's
    ``/user/search?query=`` matches display names and e-mail addresses only)."""

    async def get_user(self, *, account_id: str) -> UserRef: ...


class _UsersMixin(_ApplierBase):
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

    def _cache_key(self, ctx: _Ctx, ident: str, target: Side) -> _UserKey:
        """Where a lookup of ``ident`` (a user of ``target.other``) is remembered."""
        return (ctx.pair.id, self._site_of(ctx, target.other), ident, target)

    async def _map_user(
        self, ctx: _Ctx, user: Mapping[str, Any], target: Side, *, fallback: bool = True
    ) -> UserRef | None:
        """The ``target`` side's user for ``user`` (cached per pair and site). ``fallback``:
        use the pair's fallback user when nobody matches (right for an assignee, wrong for a
        mention); it is applied after the cache, never remembered as the match."""
        key = self._cache_key(ctx, self._user_key(user), target)
        if self._users.get(key) is None and not self._miss_known("user", key):
            found = await self._lookup_user(ctx, user, target)
            self._users[key] = found
            if found is None:
                self._misses[("user", *key)] = self.clock.now()
        found = self._users.get(key)
        if found is None and fallback:
            return self._fallback_user(ctx.pair, target)
        return found

    @staticmethod
    def _fallback_user(pair: PairConfig, target: Side) -> UserRef | None:
        """The pair's user for someone unknown on ``target`` (None: none configured)."""
        if target is Side.CLOUD:
            cloud = pair.users.fallback_cloud_user
            return UserRef(account_id=cloud) if cloud else None
        server = pair.users.fallback_server_user
        return UserRef(name=server) if server else None

    async def _lookup_user(
        self, ctx: _Ctx, user: Mapping[str, Any], target: Side
    ) -> UserRef | None:
        """``user`` on ``target`` by the pair's map, then (when the pair says so) e-mail."""
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
        return found

    def _translator(
        self, ctx: _Ctx, keys: Mapping[tuple[str, Side], str] | None = None
    ) -> Translator:
        def users(value: Any, target: Side) -> Any:
            key = self._cache_key(ctx, self._user_key(value), target)
            if key not in self._users:
                return SKIP  # not looked up (_resolve_users was not given it)
            found = self._users[key] or self._fallback_user(ctx.pair, target)
            return SKIP if found is None else _plain(found)

        known = dict(keys or {})
        return Translator(
            ctx.pair,
            users=users,
            issue_keys=lambda k, t: known.get((k, t)),
            rich=lambda doc, target: self.translate_doc(ctx, doc, target.other, target),
        )

    # ---- rich text: the one seam every document goes through -------------------------------

    async def prepare_docs(self, ctx: _Ctx, docs: Mapping[Side, Sequence[Any]]) -> None:
        """Look up, before anything is written, what :meth:`translate_doc` needs for
        ``docs`` (values per source side; anything that is not ADF is passed over): the other
        side's user of every mention, the paired issue of every issue key, and the issue
        pair's mirrored attachments."""
        await self._resolve_mentions(ctx, docs)
        wanted = {
            side: {k for v in values for k in reference_keys(v)} - ctx.docs.looked_up[side]
            for side, values in docs.items()
        }
        files = not ctx.docs.attachments_loaded and any(
            refers_to_attachments(v) for values in docs.values() for v in values
        )
        if not files and not any(wanted.values()):
            return  # nothing to look up: no store round trip
        keys, attachments = await asyncio.to_thread(self._doc_refs, ctx, wanted, files)
        for side, found in keys.items():
            ctx.docs.issue_keys[side].update(found)
            ctx.docs.looked_up[side].update(wanted[side])
        if attachments is not None:
            self.note_attachments(ctx, attachments)
            ctx.docs.attachments_loaded = True

    def note_attachments(self, ctx: _Ctx, rows: Iterable[Mapping[str, Any] | Any]) -> None:
        """Make mirrored attachments known to this job's translations: ``AttachmentPair``
        rows, or the row dicts a copy made in this job (not stored yet)."""
        known = {(a.server_id, a.cloud_id) for a in ctx.docs.attachments}
        for row in rows:
            values = row if isinstance(row, Mapping) else vars(row)
            att = MirroredAttachment(
                server_id=str(values["server_attachment_id"]),
                cloud_id=str(values["cloud_attachment_id"]),
                filename=str(values["filename"]),
                cloud_media_id=values.get("cloud_media_id") or None,
            )
            if (att.server_id, att.cloud_id) not in known:
                known.add((att.server_id, att.cloud_id))
                ctx.docs.attachments.append(att)

    def _doc_refs(
        self, ctx: _Ctx, wanted: Mapping[Side, set[str]], files: bool
    ) -> tuple[dict[Side, dict[str, str]], list[AttachmentPair] | None]:
        """The paired keys of ``wanted`` (per source side) and, with ``files``, the issue
        pair's attachment rows (None while the pair does not exist), in one store session."""
        keys: dict[Side, dict[str, str]] = {}
        with self.queue.store.session() as session:
            for side, wanted_keys in wanted.items():
                if not wanted_keys:
                    continue
                column = IssuePair.server_key if side is Side.SERVER else IssuePair.cloud_key
                rows = session.scalars(
                    select(IssuePair).where(
                        IssuePair.pair_id == ctx.pair.id, column.in_(sorted(wanted_keys))
                    )
                )
                keys[side] = {
                    (r.server_key if side is Side.SERVER else r.cloud_key): (
                        r.cloud_key if side is Side.SERVER else r.server_key
                    )
                    for r in rows
                }
            issue = ctx.issues.get(ctx.side)
            ref = None
            if files and issue is not None and issue.id is not None:
                ref = find_pair(session, side=ctx.side, issue_id=issue.id, pair_id=ctx.pair.id)
            attachments: list[AttachmentPair] | None = None
            if ref is not None:
                attachments = list(
                    session.scalars(
                        select(AttachmentPair)
                        .where(AttachmentPair.issue_pair_id == ref.id)
                        .order_by(AttachmentPair.id)
                    )
                )
        return keys, attachments

    def translate_doc(self, ctx: _Ctx, doc: Any, source: Side, target: Side) -> Any:
        """``doc`` (ADF read on ``source``) as it is written to ``target``.

        Every rich-text document passes through here: description, environment and textarea
        custom fields (through :meth:`_translator`), comment bodies (``_comments``). It is
        synchronous: what it needs is looked up by :meth:`prepare_docs` first. Mentions point
        at the target's users (someone unknown there becomes ``@Display Name`` text), keys of
        paired issues and links to the source site point at the target, attachment
        references at the mirrored attachments (:func:`jirabridge.sync.richtext.
        translate_doc`). What could not be translated stays as it is and is recorded for
        the job's audit entries (:meth:`doc_audit`)."""
        ends = {Side.SERVER: ctx.pair.server, Side.CLOUD: ctx.pair.cloud}
        source_url = self.config.sites[ends[source].site].url
        target_url = self.config.sites[ends[target].site].url
        mentioned = mention_ids(doc)
        mentions = {
            m: ident
            for m in mentioned
            if (ident := self._mentions.get(self._cache_key(ctx, m, target))) is not None
        }
        lookups = RichTextLookups(
            target=target,
            issue_keys=ctx.docs.issue_keys[source],
            base_urls={source_url: target_url} if source_url != target_url else {},
            attachments=tuple(ctx.docs.attachments),
            mentions=mentions,
            names=ctx.docs.names[source],
            unpaired=frozenset(
                k
                for k in ctx.docs.looked_up[source] - ctx.docs.issue_keys[source].keys()
                if k.rsplit("-", 1)[0] == ends[source].project  # other projects: not ours
            ),
        )
        result = translate_doc(doc, lookups)
        if result.report:
            issue = ctx.issues.get(source)
            ctx.docs.note(result, source, issue.key if issue is not None else "")
        return result.doc

    def doc_audit(self, ctx: _Ctx, site: str, now: datetime) -> list[AuditEntry]:
        """One audit entry per reference this job's translations could not carry over: a
        mention of someone unknown on the other site (``mention_unresolved``), an issue key
        or attachment with no mirror (``reference_unmapped``)."""
        out: list[AuditEntry] = []
        for (kind, detail, source), (key, shown) in ctx.docs.notes.items():
            if kind not in _AUDITED:
                continue
            target = source.other
            details: dict[str, Any] = {
                "pair": ctx.pair.id,
                "source": source.value,
                "target": target.value,
                "issue": key,
                "reference": detail,
            }
            if kind is ReportKind.UNRESOLVED_USER:
                details["user"] = detail
                details["written_as"] = shown
                message = (
                    f"mention of {detail} in {key} ({source.value}): nobody matches on "
                    f"{target.value}, written as text {shown!r}"
                )
                entry_kind = "mention_unresolved"
            else:
                what = "issue" if kind is ReportKind.UNMAPPED_ISSUE else "attachment"
                message = (
                    f"{what} {detail} referenced in {key} ({source.value}) has no mirror on "
                    f"{target.value}: the reference is kept as it is"
                )
                entry_kind = "reference_unmapped"
            log.info("%s", message)
            out.append(
                AuditEntry(
                    at=now,
                    kind=entry_kind,
                    site=site,
                    subject=key,
                    message=message,
                    details=details,
                )
            )
        return out

    def _miss_known(self, cache: str, key: _UserKey) -> bool:
        """Whether a lookup that found nobody is recent enough to be believed (someone may
        be created, or get an e-mail address, later)."""
        at = self._misses.get((cache, *key))
        return at is not None and (self.clock.now() - at).total_seconds() < MISS_TTL_SECONDS

    async def _resolve_mentions(self, ctx: _Ctx, docs: Mapping[Side, Sequence[Any]]) -> None:
        """Find the other side's user for every mention in ``docs`` (ADF per source side).
        A user found is remembered; one not found is asked again after
        :data:`MISS_TTL_SECONDS`."""
        for side, values in docs.items():
            ids: set[str] = set()
            for value in values:
                ids |= mention_ids(value)
            for mention_id in sorted(ids):
                cached = self._cache_key(ctx, mention_id, side.other)
                if self._mentions.get(cached) is not None or self._miss_known("mention", cached):
                    continue
                user: dict[str, Any] = (
                    {"name": mention_id} if side is Side.SERVER else {"accountId": mention_id}
                )
                if ctx.pair.users.by_email:
                    # the mention names the user on its own site; their e-mail (when it is
                    # visible) finds them on the other one
                    match = await self._mentioned_user(ctx, side, mention_id)
                    if match is not None and match.email:
                        user["email"] = match.email
                    if match is not None and match.display_name:
                        ctx.docs.names[side][mention_id] = match.display_name
                target = await self._map_user(ctx, user, side.other, fallback=False)
                ident = None
                if target is not None:
                    ident = target.account_id if side.other is Side.CLOUD else target.name
                self._mentions[cached] = ident
                if ident is None:
                    self._misses[("mention", *cached)] = self.clock.now()

    async def _mentioned_user(self, ctx: _Ctx, side: Side, mention_id: str) -> UserRef | None:
        """The user a mention on ``side`` names (None: not found, or not ours to read).
        Cloud: by accountId; Server: by username (``/user/search?username=``)."""
        client = ctx.clients[side]
        try:
            if side is Side.CLOUD:
                if not isinstance(client, _AccountLookup):
                    return None
                return await client.get_user(account_id=mention_id)
            found = await client.find_users(mention_id)
        except SkipItemError:
            return None
        return next((u for u in found if mention_id in (u.name, u.key)), None)

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
