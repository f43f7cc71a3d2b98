"""Users and mentions: the other side's user for a user value, and rich text (ADF) translated
for the other side (:meth:`_UsersMixin.translate_doc`, the one seam every document goes through)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from jirabridge.errors import SkipItemError
from jirabridge.jira import UserRef
from jirabridge.sync.apply._base import _ApplierBase, _Ctx
from jirabridge.sync.apply._values import _plain
from jirabridge.sync.config import PairConfig, Side
from jirabridge.sync.diff import SKIP, Translator, is_user_list, is_user_value


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
        self, ctx: _Ctx, keys: Mapping[tuple[str, Side], str] | None = None
    ) -> Translator:
        def users(value: Any, target: Side) -> Any:
            found = self._users.get((self._user_key(value), target))
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
        ``docs`` (values per source side; anything that is not ADF is passed over).
        Today: the other side's user of every mention."""
        await self._resolve_mentions(ctx, docs)

    def translate_doc(self, ctx: _Ctx, doc: Any, source: Side, target: Side) -> Any:
        """``doc`` (ADF read on ``source``) as it is written to ``target``.

        Every rich-text document passes through here: description, environment and textarea
        custom fields (through :meth:`_translator`), comment bodies (``_comments``). It is
        synchronous: what it needs is looked up by :meth:`prepare_docs` first. Today it
        points mentions at the target's users (:meth:`_map_mentions`)."""
        del ctx, source  # not needed by the mention mapping
        return self._map_mentions(doc, target)

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
