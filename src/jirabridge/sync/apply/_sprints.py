"""Sprints: the mirror follows its source into the sprint of the same name, or the backlog."""

from __future__ import annotations

from collections.abc import Mapping

from jirabridge.jira import Sprint, SprintState
from jirabridge.sync.apply._base import SPRINTS_KEY, _ApplierBase, _Ctx, log
from jirabridge.sync.config import Direction, Side
from jirabridge.sync.pairs import SnapshotData

SPRINT_FIELD = "com.pyxis.greenhopper.jira:gh-sprint"
SPRINT_CACHE_SECONDS = 60.0


class _SprintsMixin(_ApplierBase):
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
