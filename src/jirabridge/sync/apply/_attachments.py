"""Attachments copied once each (recorded as ``AttachmentPair`` with their sha256)."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from jirabridge.errors import RetryLaterError
from jirabridge.sync.apply._base import _ApplierBase, _Ctx, log
from jirabridge.sync.config import Side
from jirabridge.sync.pairs import PairRef
from jirabridge.sync.store import AttachmentPair


class _AttachmentsMixin(_ApplierBase):
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
