"""Attachments copied once each (recorded as ``AttachmentPair`` with their sha256).

A copy is never made twice: an upload whose answer was lost (:class:`AmbiguousWriteError`)
is found again on the target as a new upload of ours with the same file name and size, and
one of ours whose pair row is missing (the attempt died after uploading) as an unpaired upload
of ours with the same name, size and bytes; either is adopted. An attachment over the size limit
is not copied and leaves an ``attachment_too_large`` audit entry (once per attachment), which
``jirabridge status`` lists.

Media ids: an ADF ``media`` node on Cloud names its file by the Cloud attachment's Media
Services file id, which attachment metadata does not carry. It is learned when the pair is
recorded (``CloudClient.media_id``: one bodyless call per Cloud attachment) and stored with it
(``cloud_media_id``), so the rich-text translation maps media id <-> file name both ways. It
is learned only when the issue pair syncs comments or a field that may be rich text; a stored
pair without one (made before migration 0002, or by ``jirabridge rebuild``) gets it in its
next job. Learned eagerly rather than the first time a document embeds the file: a Cloud
document names a file only by media id, so a lazy lookup would have to ask for every unknown
attachment of the issue at that moment anyway, and from the rich-text path that has no store
row to update; eagerly it costs one small GET next to the download and upload of the copy.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select, update

from jirabridge.errors import RetryLaterError, SkipItemError
from jirabridge.jira import AmbiguousWriteError, Attachment
from jirabridge.sync.apply._base import _ApplierBase, _Ctx, log
from jirabridge.sync.config import Direction, PairConfig, Side
from jirabridge.sync.pairs import PairRef
from jirabridge.sync.store import AttachmentPair, AuditEntry

TOO_LARGE = "attachment_too_large"
"""Audit kind of an attachment not copied because of its size."""

AMBIGUOUS_UPLOADS = 3
"""Uploads whose outcome stayed unknown (and that were not found after each) before the job
gives up and is retried later."""


_RICH_SYSTEM_FIELDS = frozenset({"description", "environment"})


@runtime_checkable
class _MediaIds(Protocol):
    """A client that can tell an attachment's media file id (Jira Cloud)."""

    async def media_id(self, attachment: Attachment | str) -> str | None: ...


def wants_media_ids(pair: PairConfig) -> bool:
    """Whether documents of ``pair`` may embed attachments: comments sync, or a field that
    may be rich text does (description, environment, a custom field: it may be a textarea)."""
    if pair.comments.direction is not Direction.NONE:
        return True
    return any(
        rule.direction is not Direction.NONE
        and (_may_be_rich(rule.server_id) or _may_be_rich(rule.cloud_id))
        for rule in pair.fields
    )


def _may_be_rich(field_id: str) -> bool:
    return field_id in _RICH_SYSTEM_FIELDS or field_id.startswith("customfield_")


@dataclass(frozen=True)
class _TooLarge:
    site: str
    issue_key: str
    attachment: Attachment
    limit: int | None  # None: the target site refused it (413) at a size it did not say

    def message(self) -> str:
        limit = "the target site's limit" if self.limit is None else f"{self.limit} bytes"
        return f"{self.attachment.filename} ({self.attachment.size} bytes) not copied: over {limit}"


class _AttachmentsMixin(_ApplierBase):
    async def _sync_attachments(self, ctx: _Ctx, ref: PairRef) -> list[dict[str, Any]]:
        """Copy each attachment once (by id, recorded with its sha256)."""
        direction = ctx.pair.attachments
        limit = ctx.pair.max_attachment_bytes
        rows = await asyncio.to_thread(self._rows, AttachmentPair, ref.id)
        known = {
            Side.SERVER: {r.server_attachment_id for r in rows},
            Side.CLOUD: {r.cloud_attachment_id for r in rows},
        }
        # uploads of ours with no pair row: an attempt died after uploading them
        orphans = {
            s: [
                a
                for a in ctx.issues[s].attachments
                if a.id is not None and a.id not in known[s] and self._is_us(a.author, ctx.pair, s)
            ]
            for s in (Side.SERVER, Side.CLOUD)
        }
        media = wants_media_ids(ctx.pair)
        if media:
            await self._learn_stored_media_ids(ctx, rows)
        out: list[dict[str, Any]] = []
        too_large: list[_TooLarge] = []
        for source in (Side.SERVER, Side.CLOUD):
            target = source.other
            if not direction.flows_to(target):
                continue
            for att in ctx.issues[source].attachments:
                if att.id is None or att.id in known[source]:
                    continue
                if self._is_us(att.author, ctx.pair, source):
                    continue  # one we uploaded whose pair row is missing: never copy back
                if att.size > limit:
                    too_large.append(
                        _TooLarge(self._site_of(ctx, source), ref.key(source), att, limit)
                    )
                    continue
                content = await ctx.clients[source].download_attachment(att)
                adopted = await self._orphan_copy(ctx, target, orphans[target], att, content)
                if adopted is None:
                    try:
                        adopted = await self._upload_once(ctx, target, att, content)
                    except SkipItemError as exc:
                        if exc.jira is None or exc.jira.status != 413:
                            raise
                        too_large.append(
                            _TooLarge(self._site_of(ctx, source), ref.key(source), att, None)
                        )
                        continue
                else:
                    orphans[target].remove(adopted)
                    log.info("attachment %s on %s adopted", att.filename, ref.key(target))
                assert adopted.id is not None
                ids = {source: att.id, target: adopted.id}
                known[target].add(adopted.id)
                cloud_att = att if source is Side.CLOUD else adopted
                out.append(
                    {
                        "server_attachment_id": ids[Side.SERVER],
                        "cloud_attachment_id": ids[Side.CLOUD],
                        "filename": att.filename[:500],
                        "sha256": hashlib.sha256(content).hexdigest(),
                        "cloud_media_id": await self._media_id(ctx, cloud_att) if media else None,
                    }
                )
        if too_large:
            await asyncio.to_thread(self._audit_too_large, ctx.pair.id, too_large)
        return out

    async def _media_id(self, ctx: _Ctx, att: Attachment) -> str | None:
        """The media file id of a Cloud attachment: ``""`` when Cloud answered without one
        (not asked again), None when it could not be asked now (asked in a later job)."""
        client = ctx.clients[Side.CLOUD]
        if not isinstance(client, _MediaIds) or att.id is None:
            return None
        try:
            found = await client.media_id(att)
        except SkipItemError as exc:  # gone meanwhile, or not ours to read
            log.info("media id of attachment %s not learned: %s", att.id, exc)
            return None
        if found is None:
            log.warning("Jira Cloud gave no media id for attachment %s", att.id)
        return found or ""

    async def _learn_stored_media_ids(self, ctx: _Ctx, rows: list[AttachmentPair]) -> None:
        """Learn and store the media id of paired attachments recorded without one (their
        Cloud attachment still on the issue as read)."""
        present = {a.id: a for a in ctx.issues[Side.CLOUD].attachments}
        learned: dict[int, str] = {}
        for row in rows:
            att = present.get(row.cloud_attachment_id)
            if row.cloud_media_id is None and att is not None:
                found = await self._media_id(ctx, att)
                if found is not None:
                    learned[row.id] = row.cloud_media_id = found
        if learned:
            await asyncio.to_thread(self._store_media_ids, learned)

    def _store_media_ids(self, learned: dict[int, str]) -> None:
        with self.queue.store.session() as session:
            for row_id, media_id in learned.items():
                session.execute(
                    update(AttachmentPair)
                    .where(AttachmentPair.id == row_id)
                    .values(cloud_media_id=media_id)
                )

    async def _orphan_copy(
        self,
        ctx: _Ctx,
        target: Side,
        orphans: list[Attachment],
        att: Attachment,
        content: bytes,
    ) -> Attachment | None:
        """The unpaired upload of ours that is ``att``'s copy: same name and size, and (read
        only for such a candidate, which a dead attempt leaves rarely) the same bytes."""
        for candidate in orphans:
            if (candidate.filename, candidate.size) != (att.filename, att.size):
                continue
            if await ctx.clients[target].download_attachment(candidate) == content:
                return candidate
        return None

    async def _upload_once(
        self, ctx: _Ctx, target: Side, att: Attachment, content: bytes
    ) -> Attachment:
        """Upload ``att`` to ``target``. When the outcome is unknown, the target issue's
        attachments are read again and an upload of ours with the same name and size (not
        paired yet) is adopted; else it is sent again."""
        client, key = ctx.clients[target], ctx.issues[target].key
        before = {a.id for a in ctx.issues[target].attachments}
        uploads = 0
        while True:
            uploads += 1
            try:
                made = await client.add_attachment(
                    key, att.filename, content, att.mime_type or "application/octet-stream"
                )
            except AmbiguousWriteError:
                now = await client.get_issue(key, fields=["attachment"])
                fresh = [
                    a
                    for a in now.attachments
                    if a.id not in before and self._is_us(a.author, ctx.pair, target)
                ]
                found = _same_file(fresh, att)
                if found is not None:
                    log.info("upload to %s had an unknown outcome: found, adopted", key)
                    ctx.writes += 1
                    return found
                if uploads >= AMBIGUOUS_UPLOADS:
                    raise
                log.info("upload to %s had an unknown outcome: not there, sent again", key)
                continue
            ctx.writes += 1
            if not made or made[0].id is None:
                raise RetryLaterError(f"attachment {att.filename} upload gave no id")
            return made[0]

    def _audit_too_large(self, pair_id: str, items: list[_TooLarge]) -> None:
        """One ``attachment_too_large`` entry per attachment (same issue, name, size and
        limit), however often it is seen."""
        now = self.clock.now()
        with self.queue.store.session() as session:
            for item in items:
                subject = item.issue_key[:200]
                seen = session.scalars(
                    select(AuditEntry.id)
                    .where(AuditEntry.kind == TOO_LARGE)
                    .where(AuditEntry.site == item.site)
                    .where(AuditEntry.subject == subject)
                    .where(AuditEntry.message == item.message())
                ).first()
                if seen is not None:
                    continue
                log.warning("%s: %s", item.issue_key, item.message())
                session.add(
                    AuditEntry(
                        at=now,
                        kind=TOO_LARGE,
                        site=item.site,
                        subject=subject,
                        message=item.message(),
                        details={
                            "pair": pair_id,
                            "issue": item.issue_key,
                            "attachment_id": item.attachment.id,
                            "filename": item.attachment.filename,
                            "size": item.attachment.size,
                            "limit": item.limit,
                        },
                    )
                )


def _same_file(candidates: list[Attachment], att: Attachment) -> Attachment | None:
    """The first of ``candidates`` with ``att``'s file name and size."""
    return next((c for c in candidates if (c.filename, c.size) == (att.filename, att.size)), None)
