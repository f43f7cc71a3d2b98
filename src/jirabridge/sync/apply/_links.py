"""Issue links between paired issues, added on the other side and never removed (``LinkPair``)."""

from __future__ import annotations

import asyncio
from typing import Any

from jirabridge.jira import LinkDirection
from jirabridge.sync.apply._base import _ApplierBase, _Ctx
from jirabridge.sync.config import Side
from jirabridge.sync.pairs import PairRef
from jirabridge.sync.store import LinkPair


class _LinksMixin(_ApplierBase):
    async def _sync_links(self, ctx: _Ctx, ref: PairRef) -> list[dict[str, Any]]:
        """Add on the other side every link between paired issues (never remove one)."""
        direction = ctx.pair.links
        rows = await self._pair_rows(LinkPair, ref.id)
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
