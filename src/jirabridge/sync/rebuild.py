"""Rebuild the comment, attachment and link pairs of an issue pair from the two sites.

After a lost state store, :meth:`jirabridge.sync.runner.SyncRunner.rebuild_pairs` finds the
issue pairs again from the issues' ``jirabridge`` entity property. Without their comment,
attachment and link pairs the next sync would copy every comment and attachment a second
time, so this module matches them again from what the sites hold:

* **comments**: by marker only (:mod:`jirabridge.sync.markers`): a comment on one side whose
  ``jirabridge.origin`` property names this pair's other site and a comment id that is on the
  other issue is that comment's mirror. Text is never compared: equal words are no proof (two
  people can write "+1"), and comments without a marker (written before markers existed, or
  by hand) are left unpaired rather than guessed. Each comment is matched at most once.
* **attachments**: same filename and size, uploaded by the integration user on the mirror
  side, and the same sha256 of the content (both are downloaded).
* **links**: a link on each side of the same type and direction whose other ends are paired.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from jirabridge.errors import SkipItemError
from jirabridge.jira import Attachment, Comment, Issue, UserRef
from jirabridge.sync.config import PairConfig, Side, SyncConfig
from jirabridge.sync.engine import SiteClient
from jirabridge.sync.markers import origin_of
from jirabridge.sync.pairs import PairRef, find_pair_by_key, link_comments
from jirabridge.sync.store import AttachmentPair, CommentPair, LinkPair, Store

__all__ = ["RebuiltChildren", "rebuild_children"]


@dataclass(frozen=True)
class RebuiltChildren:
    """How many child pairs of one issue pair were recorded again."""

    comments: int = 0
    attachments: int = 0
    links: int = 0


def words(doc: Any) -> str:
    """The words of an ADF document (text and mention labels), whitespace folded."""
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


def _is(user: UserRef | None, ident: str) -> bool:
    return user is not None and ident in {user.account_id, user.name, user.key}


async def rebuild_children(
    *,
    store: Store,
    config: SyncConfig,
    pair: PairConfig,
    clients: Mapping[Side, SiteClient],
    ref: PairRef,
    now: datetime,
) -> RebuiltChildren:
    """Record again the comment, attachment and link pairs of ``ref`` (skips any already
    recorded). ``clients`` are the Server and Cloud clients of ``pair``."""
    us = {
        Side.SERVER: config.sites[pair.server.site].integration_user,
        Side.CLOUD: config.sites[pair.cloud.site].integration_user,
    }
    issues: dict[Side, Issue] = {}
    comments: dict[Side, list[Comment]] = {}
    for side in (Side.SERVER, Side.CLOUD):
        issues[side] = await clients[side].get_issue(
            ref.key(side), fields=["attachment", "issuelinks"]
        )
        comments[side] = [c async for c in clients[side].comments(ref.key(side), properties=True)]

    sites = {Side.SERVER: pair.server.site, Side.CLOUD: pair.cloud.site}
    comment_rows = _match_comments(comments, sites)
    attachment_rows = await _match_attachments(issues, clients, us)
    link_rows = await asyncio.to_thread(_match_links, store, pair.id, issues)

    def record() -> RebuiltChildren:
        counts = {"comments": 0, "attachments": 0, "links": 0}
        with store.session() as session:
            known_c = {
                (r.server_comment_id, r.cloud_comment_id)
                for r in session.scalars(
                    select(CommentPair).where(CommentPair.issue_pair_id == ref.id)
                )
            }
            taken_c = {x for pair_ids in known_c for x in pair_ids}
            for row in comment_rows:
                if row["server_comment_id"] in taken_c or row["cloud_comment_id"] in taken_c:
                    continue
                link_comments(session, ref.id, now=now, **row)
                counts["comments"] += 1
            known_a = {
                x
                for r in session.scalars(
                    select(AttachmentPair).where(AttachmentPair.issue_pair_id == ref.id)
                )
                for x in (r.server_attachment_id, r.cloud_attachment_id)
            }
            for arow in attachment_rows:
                if {arow["server_attachment_id"], arow["cloud_attachment_id"]} & known_a:
                    continue
                session.add(AttachmentPair(issue_pair_id=ref.id, synced_at=now, **arow))
                counts["attachments"] += 1
            known_l = {
                x
                for r in session.scalars(select(LinkPair).where(LinkPair.issue_pair_id == ref.id))
                for x in (r.server_link_id, r.cloud_link_id)
            }
            for lrow in link_rows:
                if {lrow["server_link_id"], lrow["cloud_link_id"]} & known_l:
                    continue
                session.add(LinkPair(issue_pair_id=ref.id, synced_at=now, **lrow))
                counts["links"] += 1
        return RebuiltChildren(**counts)

    return await asyncio.to_thread(record)


def _match_comments(
    comments: Mapping[Side, Sequence[Comment]], sites: Mapping[Side, str]
) -> list[dict[str, Any]]:
    """Pair each marked comment with the comment its marker names on the other side."""
    rows: list[dict[str, Any]] = []
    for target in (Side.SERVER, Side.CLOUD):
        source = target.other
        sources = {c.id: c for c in comments[source] if c.id is not None}
        used: set[str] = set()
        for mirror in comments[target]:
            origin = origin_of(mirror)
            if mirror.id is None or origin is None or origin[0] != sites[source]:
                continue
            original = sources.get(origin[1])
            if original is None or origin[1] in used or origin_of(original) is not None:
                continue  # its source is gone, taken, or itself a mirror
            used.add(origin[1])
            server_c, cloud_c = (original, mirror) if source is Side.SERVER else (mirror, original)
            rows.append(
                {
                    "server_comment_id": server_c.id or "",
                    "cloud_comment_id": cloud_c.id or "",
                    "origin": source,
                    "server_body": server_c.body,
                    "cloud_body": cloud_c.body,
                }
            )
    return rows


async def _match_attachments(
    issues: Mapping[Side, Issue], clients: Mapping[Side, SiteClient], us: Mapping[Side, str]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    digests: dict[str, str] = {}

    async def digest(side: Side, att: Attachment) -> str | None:
        if att.id is None:
            return None
        if att.id not in digests:
            try:
                content = await clients[side].download_attachment(att)
            except SkipItemError:
                return None
            digests[att.id] = hashlib.sha256(content).hexdigest()
        return digests[att.id]

    for source in (Side.SERVER, Side.CLOUD):
        target = source.other
        mirrors = [
            a for a in issues[target].attachments if a.id is not None and _is(a.author, us[target])
        ]
        for att in issues[source].attachments:
            if att.id is None or _is(att.author, us[source]):
                continue
            candidates = [m for m in mirrors if (m.filename, m.size) == (att.filename, att.size)]
            if not candidates:
                continue
            wanted = await digest(source, att)
            for mirror in candidates:
                if wanted is not None and await digest(target, mirror) == wanted:
                    mirrors.remove(mirror)
                    ids = {source: att.id, target: mirror.id or ""}
                    rows.append(
                        {
                            "server_attachment_id": ids[Side.SERVER],
                            "cloud_attachment_id": ids[Side.CLOUD],
                            "filename": att.filename[:500],
                            "sha256": wanted,
                        }
                    )
                    break
    return rows


def _match_links(store: Store, pair_id: str, issues: Mapping[Side, Issue]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    used: set[str] = set()
    with store.session() as session:
        for link in issues[Side.SERVER].links:
            if link.id is None:
                continue
            other = find_pair_by_key(session, pair_id=pair_id, side=Side.SERVER, key=link.other_key)
            if other is None:
                continue
            for mirror in issues[Side.CLOUD].links:
                if mirror.id is None or mirror.id in used:
                    continue
                if (mirror.type_name, mirror.direction, mirror.other_key) == (
                    link.type_name,
                    link.direction,
                    other.cloud_key,
                ):
                    used.add(mirror.id)
                    rows.append(
                        {
                            "server_link_id": link.id,
                            "cloud_link_id": mirror.id,
                            "link_type": link.type_name[:100],
                        }
                    )
                    break
    return rows
