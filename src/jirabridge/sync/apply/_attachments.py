"""Attachments copied once each (recorded as ``AttachmentPair`` with their sha256).

A copy is never made twice: an upload whose answer was lost (:class:`AmbiguousWriteError`)
is found again on the target as a new upload of ours, not paired in this job, with the same
file name, size and bytes (sha256), and one of ours whose pair row is missing (the attempt died
after uploading) as an unpaired upload of ours with the same name, size and bytes; either is
adopted. An attachment over the size limit is not copied and leaves an
``attachment_too_large`` audit entry (once per attachment), which ``jirabridge status`` lists;
one the target site refused (413) is not downloaded again while that entry exists.

A file is never held in memory whole: it is downloaded into a spooled temporary file (in memory
up to :data:`SPOOL_BYTES`, then on disk), hashed from there and uploaded from there
(``download_attachment_to``, and ``add_attachment`` given the open file).

Media ids: an ADF ``media`` node on Cloud names its file by the Cloud attachment's Media
Services file id, which attachment metadata does not carry. It is learned when the pair is
recorded (``CloudClient.media_id``: one bodyless call per Cloud attachment) and stored with it
(``cloud_media_id``), so the rich-text translation maps media id <-> file name both ways; when
Cloud cannot answer it now (an error lasting past the retries) it is left unknown and asked in
the next job, never failing this one. It is learned only when the issue pair syncs comments or a
field that may be rich text; a stored pair without one (made before migration 0002, or by
``jirabridge rebuild``) gets it in its next job. Learned eagerly rather than the first time a
document embeds the file: a Cloud document names a file only by media id, so a lazy lookup would
have to ask for every unknown attachment of the issue at that moment anyway, and from the
rich-text path that has no store row to update; eagerly it costs one small GET next to the
download and upload of the copy.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from typing import IO, Any, Protocol, runtime_checkable

from sqlalchemy import select, update

from jirabridge.errors import RetryLaterError, SkipItemError
from jirabridge.jira import AmbiguousWriteError, Attachment
from jirabridge.sync.apply._base import _ApplierBase, _Ctx, log
from jirabridge.sync.config import Direction, PairConfig, Side
from jirabridge.sync.pairs import PairRef
from jirabridge.sync.state import TOO_LARGE
from jirabridge.sync.store import AttachmentPair, AuditEntry

SPOOL_BYTES = 1024 * 1024
"""A file being copied is kept in memory up to this size, on disk beyond it."""

_CHUNK = 1024 * 1024

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
        rows = await self._pair_rows(AttachmentPair, ref.id)
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
        refused: dict[Side, set[str]] | None = None  # refused with 413 earlier (audited)
        for source in (Side.SERVER, Side.CLOUD):
            target = source.other
            if not direction.flows_to(target):
                continue
            for att in ctx.issues[source].attachments:
                if att.id is None or att.id in known[source]:
                    continue
                if self._is_us(att.author, ctx.pair, source):
                    continue  # one we uploaded whose pair row is missing: never copy back
                site, key = self._site_of(ctx, source), ref.key(source)
                if att.size > limit:
                    too_large.append(_TooLarge(site, key, att, limit))
                    continue
                if refused is None:
                    refused = await asyncio.to_thread(self._refused, ctx, ref)
                if att.id in refused[source]:
                    continue  # the target refused it as too large: not downloaded again
                with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
                    digest = await self._download(ctx, source, att, body)
                    adopted = await self._orphan_copy(ctx, target, orphans[target], att, digest)
                    if adopted is None:
                        try:
                            adopted = await self._upload_once(
                                ctx, target, att, body, digest, paired=known[target]
                            )
                        except SkipItemError as exc:
                            if exc.jira is None or exc.jira.status != 413:
                                raise
                            too_large.append(_TooLarge(site, key, att, None))
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
                        "sha256": digest,
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
        except RetryLaterError as exc:
            # optional, and asked again in the next job: a lasting outage of this one call
            # must not fail every job of the issue
            log.warning("media id of attachment %s not learned yet: %s", att.id, exc)
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
                    learned[row.id] = found  # the rows may be plain (read-only) rows
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

    async def _download(self, ctx: _Ctx, side: Side, att: Attachment, body: IO[bytes]) -> str:
        """Download ``att`` from ``side`` into ``body``; answers its sha256 (hex)."""
        client = ctx.clients[side]
        await client.download_attachment_to(att, body)
        return await asyncio.to_thread(_sha256, body)

    async def _orphan_copy(
        self,
        ctx: _Ctx,
        target: Side,
        orphans: list[Attachment],
        att: Attachment,
        digest: str,
    ) -> Attachment | None:
        """The unpaired upload of ours that is ``att``'s copy: same name and size, and (read
        only for such a candidate, which a dead attempt leaves rarely) the same bytes."""
        for candidate in orphans:
            if (candidate.filename, candidate.size) != (att.filename, att.size):
                continue
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as theirs:
                if await self._download(ctx, target, candidate, theirs) == digest:
                    return candidate
        return None

    async def _upload_once(
        self,
        ctx: _Ctx,
        target: Side,
        att: Attachment,
        body: IO[bytes],
        digest: str,
        *,
        paired: Collection[str] = (),
    ) -> Attachment:
        """Upload ``att`` (its content in ``body``, sha256 ``digest``) to ``target``. When
        the outcome is unknown, the target issue's attachments are read again and a new
        upload of ours with the same name, size and bytes that is not ``paired`` already
        (in this job: an earlier file's copy) is adopted; else it is sent again."""
        client, key = ctx.clients[target], ctx.issues[target].key
        before = {a.id for a in ctx.issues[target].attachments}
        mime = att.mime_type or "application/octet-stream"
        uploads = 0
        while True:
            uploads += 1
            try:
                body.seek(0)
                made = await client.add_attachment(key, att.filename, body, mime)
            except AmbiguousWriteError:
                now = await client.get_issue(key, fields=["attachment"])
                fresh = [
                    a
                    for a in now.attachments
                    if a.id not in before
                    and a.id not in paired
                    and self._is_us(a.author, ctx.pair, target)
                ]
                found = await self._orphan_copy(ctx, target, fresh, att, digest)
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

    def _refused(self, ctx: _Ctx, ref: PairRef) -> dict[Side, set[str]]:
        """Per source side, the ids of the issue pair's attachments the target site refused
        as too large (413) in an earlier job: their ``attachment_too_large`` entries."""
        out: dict[Side, set[str]] = {Side.SERVER: set(), Side.CLOUD: set()}
        with self.queue.store.session() as session:
            for side in out:
                entries = session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.kind == TOO_LARGE)
                    .where(AuditEntry.site == self._site_of(ctx, side))
                    .where(AuditEntry.subject == ref.key(side)[:200])
                )
                for entry in entries:
                    details = entry.details or {}
                    if details.get("pair") == ctx.pair.id and details.get("limit") is None:
                        out[side].add(str(details.get("attachment_id")))
        return out

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


def _sha256(body: IO[bytes]) -> str:
    """The sha256 (hex) of ``body`` from its start, read in chunks."""
    body.seek(0)
    digest = hashlib.sha256()
    while chunk := body.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()
