"""Comments mirrored by id: new ones posted (attributed, with the origin marker in the same
POST), edits and deletes followed; a mirror whose pair row is missing (the attempt died, or
the POST's answer was lost) is found again by its marker and adopted, never posted twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jirabridge.errors import SkipItemError
from jirabridge.jira import AmbiguousWriteError, Comment
from jirabridge.sync.apply._base import _Ctx, log
from jirabridge.sync.apply._users import _UsersMixin
from jirabridge.sync.apply._values import _paragraph
from jirabridge.sync.config import InternalComments, Side
from jirabridge.sync.diff import value_hash
from jirabridge.sync.markers import MARKER, comment_marker, find_marked, origin_of
from jirabridge.sync.pairs import PairRef
from jirabridge.sync.store import CommentPair

AMBIGUOUS_POSTS = 3
"""Comment POSTs whose outcome stayed unknown (and whose marker was not found after each)
before the job gives up and is retried later (its retry adopts by marker too)."""


class _CommentsMixin(_UsersMixin):
    async def _sync_comments(
        self, ctx: _Ctx, ref: PairRef, *, fresh: bool = False, retried: bool = False
    ) -> list[dict[str, Any]]:
        """Mirror comments both ways. ``fresh``: this job's first attempt just created the
        mirror (``ctx.side.other``), which has no comments yet, so it is not read.

        A side's comments are taken from its issue read (the ``comment`` field) when that
        holds them all and none of ours there lacks a pair; otherwise, and for a ``retried``
        job, they are listed with their properties (the markers that adopt orphans)."""
        rules = ctx.pair.comments
        pairs: list[CommentPair] = await self._pair_rows(CommentPair, ref.id)
        comments: dict[Side, list[Comment]] = {}
        for s in (Side.SERVER, Side.CLOUD):
            if fresh and s is ctx.side.other:
                comments[s] = []
                continue
            known = {p.server_comment_id if s is Side.SERVER else p.cloud_comment_id for p in pairs}
            read = None if retried else self._read_comments(ctx, s, known)
            if read is not None:
                comments[s] = read
                continue
            comments[s] = [
                c async for c in ctx.clients[s].comments(ctx.issues[s].key, properties=True)
            ]
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
        # mirrors we posted whose pair row was never written (the attempt died): adopted
        # below by their marker instead of being posted a second time
        orphans: dict[Side, list[Comment]] = {
            s: [
                c
                for c in comments[s]
                if c.id is not None and c.id not in paired[s] and origin_of(c) is not None
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
                if self._is_us(comment.author, ctx.pair, source) or origin_of(comment):
                    continue  # a mirror (ours): never copied back
                if comment.visibility is not None and rules.internal is InternalComments.SKIP:
                    continue
                marker = comment_marker(
                    self._site_of(ctx, source), ctx.issues[source].key, comment.id
                )
                adopted = find_marked(orphans[target], (marker["site"], comment.id))
                if adopted is not None:
                    orphans[target].remove(adopted)
                    links.append(self._link(source, comment, adopted))
                    continue
                body = self._attributed(ctx, source, comment)
                visibility = (
                    comment.visibility if rules.internal is InternalComments.KEEP_INTERNAL else None
                )
                try:
                    made, posted = await self._post_marked(ctx, target, body, visibility, marker)
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
                ctx.writes += posted
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

    def _read_comments(self, ctx: _Ctx, side: Side, paired: set[str]) -> list[Comment] | None:
        """The comments of ``side``'s issue read when they can stand for a listing: all of
        them came with the issue, and every one we wrote is paired (a mirror without a pair
        row is an orphan found only by its marker, which the issue's comments do not carry:
        then None, to list them with their properties)."""
        issue = ctx.issues[side]
        if issue.comments_total is None or len(issue.comments) < issue.comments_total:
            return None
        for c in issue.comments:
            if c.id is None or (c.id not in paired and self._is_us(c.author, ctx.pair, side)):
                return None
        return list(issue.comments)

    async def _post_marked(
        self,
        ctx: _Ctx,
        target: Side,
        body: dict[str, Any],
        visibility: tuple[str, str] | None,
        marker: dict[str, str],
    ) -> tuple[Comment, int]:
        """Post a mirror with its marker; answers the comment and the POSTs sent. When a
        POST's outcome is unknown (:class:`AmbiguousWriteError`), the target's comments are
        read again: the one carrying the marker is adopted, else the POST is sent again."""
        client, key = ctx.clients[target], ctx.issues[target].key
        origin = (marker["site"], marker["comment"])
        posts = 0
        while True:
            posts += 1
            try:
                made = await client.add_comment(
                    key, body, visibility=visibility, properties={MARKER: marker}
                )
                return made, posts
            except AmbiguousWriteError:
                found = find_marked(
                    [c async for c in client.comments(key, properties=True)], origin
                )
                if found is not None:
                    log.info("comment POST on %s had an unknown outcome: found, adopted", key)
                    return found, posts
                if posts >= AMBIGUOUS_POSTS:
                    raise
                log.info("comment POST on %s had an unknown outcome: not there, sent again", key)

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
        """The mirror body: the source body translated to the target side, then the
        attribution line. The line is added after the translation so the source key it names
        stays the source's key (translating it would point it at the mirror itself)."""
        rules = ctx.pair.comments
        original: dict[str, Any] = dict(comment.body) if comment.body else {"type": "doc"}
        original.setdefault("type", "doc")
        original.setdefault("version", 1)
        original["content"] = list(original.get("content") or [])
        body: dict[str, Any] = dict(self.translate_doc(ctx, original, source, source.other))
        content = list(body.get("content") or [])
        if rules.attribution:
            who = comment.author.label() if comment.author else "someone"
            when = comment.created or datetime.now(UTC)
            created = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            line = rules.attribution_template.format(
                author=who,
                created=created,
                site=self._site_of(ctx, source),
                key=ctx.issues[source].key,
            )
            content.insert(0, _paragraph(line))
        body["content"] = content
        return body
