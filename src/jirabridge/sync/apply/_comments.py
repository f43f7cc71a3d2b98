"""Comments mirrored by id: new ones posted (attributed), edits and deletes followed,
orphans adopted."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from jirabridge.errors import SkipItemError
from jirabridge.jira import Comment
from jirabridge.sync.apply._base import _Ctx, log
from jirabridge.sync.apply._users import _UsersMixin
from jirabridge.sync.apply._values import _paragraph
from jirabridge.sync.config import InternalComments, Side
from jirabridge.sync.diff import value_hash
from jirabridge.sync.pairs import PairRef
from jirabridge.sync.store import CommentPair


class _CommentsMixin(_UsersMixin):
    async def _sync_comments(self, ctx: _Ctx, ref: PairRef) -> list[dict[str, Any]]:
        rules = ctx.pair.comments
        comments: dict[Side, list[Comment]] = {}
        for s in (Side.SERVER, Side.CLOUD):
            comments[s] = [c async for c in ctx.clients[s].comments(ctx.issues[s].key)]
        pairs = await asyncio.to_thread(self._comment_pairs, ref.id)
        await self.prepare_docs(ctx, {s: [c.body for c in comments[s]] for s in comments})
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
        mapped: dict[str, Any] = self.translate_doc(ctx, body, source, source.other)
        return mapped


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
