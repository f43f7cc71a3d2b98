"""Field writes, the status walk over the workflow, and the pair's declarative rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jirabridge.errors import SkipItemError
from jirabridge.jira import IssueInput, Transition
from jirabridge.sync.apply._base import STATUS_KEY, _ApplierBase, _Ctx
from jirabridge.sync.apply._values import _adf_text, _input, _input_kwargs
from jirabridge.sync.config import AddComment, Side, TransitionMirror, TriggerEvent
from jirabridge.sync.diff import FieldPlan
from jirabridge.sync.pairs import SnapshotData

MAX_WORKFLOW_STEPS = 12


class _FieldsMixin(_ApplierBase):
    async def _write_fields(self, ctx: _Ctx, plan: FieldPlan) -> None:
        for target, side_plan in ((Side.SERVER, plan.to_server), (Side.CLOUD, plan.to_cloud)):
            fields = dict(side_plan.fields)
            if not fields:
                continue
            status = fields.pop("status", None)
            resolution = fields.pop("resolution", None)
            fields.pop("key", None)
            fields.pop("issuetype", None)
            key = ctx.issues[target].key
            client = ctx.clients[target]
            ctx.written[target].update(
                r.name
                for r in ctx.pair.fields
                if (r.server_id if target is Side.SERVER else r.cloud_id) in side_plan.fields
            )
            data = _input(fields, skip=frozenset(), info=await client.fields())
            if _input_kwargs(data):
                await client.edit_issue(key, data)
                ctx.writes += 1
            if status is not None and status != ctx.issues[target].status:
                await self._transition(ctx, target, str(status), resolution, None)

    async def _transition(
        self,
        ctx: _Ctx,
        target: Side,
        status: str,
        resolution: Any,
        comment: str | None,
    ) -> None:
        client = ctx.clients[target]
        key = ctx.issues[target].key
        chosen = await self._walk_to(ctx, target, status)
        extra: dict[str, Any] = {}
        if "resolution" in chosen.fields:
            name = resolution if isinstance(resolution, str) else None
            if name is None:
                allowed = chosen.fields["resolution"].get("allowedValues") or []
                name = next((a.get("name") for a in allowed if a.get("name")), "Done")
            extra["resolution"] = {"name": name}
        body = None if comment is None else _adf_text(comment)
        await client.transition(
            key,
            chosen.id,
            fields=IssueInput(extra_fields=extra) if extra else None,
            comment=body,
        )
        ctx.writes += 1
        ctx.written[target].update({"status", "resolution"})

    async def _walk_to(self, ctx: _Ctx, target: Side, status: str) -> Transition:
        """Move the issue along the workflow until ``status`` is one transition away.

        The REST API shows only the transitions out of the current status, so the workflow
        is learnt as it is walked (and remembered per site, project and issue type): each
        step reads the transitions of the status it reached. The route is a shortest path
        (breadth-first) over what is known; while the target is not yet known to be
        reachable, the walk goes to the nearest status whose transitions are not known yet.
        At most :data:`MAX_WORKFLOW_STEPS` moves; intermediate steps never take a transition
        with a screen. Each step is a real transition by the integration user, so it never
        echoes. When no path is found the issue is walked back to where it was (over the
        known transitions) and the item is dead-lettered with the statuses tried."""
        client = ctx.clients[target]
        issue = ctx.issues[target]
        key = issue.key
        graph = self._workflows.setdefault(
            (self._site_of(ctx, target), issue.project_key, issue.issue_type), {}
        )
        start = issue.status
        current = start
        path: list[str] = []
        wanted = status.lower()
        while True:
            options = tuple(await client.transitions(key))
            graph[current.lower()] = options
            chosen = _pick(options, status)
            if chosen is not None:
                return chosen
            route = _route(graph, current, lambda s: s == wanted)
            if route is None:  # not known to be reachable: explore the nearest unknown status
                route = _route(graph, current, lambda s: s not in graph)
            if route is None or len(path) >= MAX_WORKFLOW_STEPS:
                break
            step = route[0]
            await client.transition(key, step.id)
            ctx.writes += 1
            current = step.to_status
            path.append(step.to_status)
        names = ", ".join(sorted({t.to_status for t in options})) or "none"
        tried = ", ".join(sorted({s for s in graph if s != start.lower()})) or "none"
        where = await self._walk_back(ctx, target, current, start, graph) if path else start
        via = f"; walked {' -> '.join([start, *path])}" if path else ""
        back = (
            f", then back to {start!r}"
            if path and where.lower() == start.lower()
            else (f", left in {where!r} (no way back found)" if path else "")
        )
        raise SkipItemError(
            f"{key}: no workflow path to {status!r} from {start!r} within "
            f"{MAX_WORKFLOW_STEPS} steps{via}{back} (statuses explored: {tried}; available "
            f"from {current!r}: {names})"
        )

    async def _walk_back(
        self,
        ctx: _Ctx,
        target: Side,
        current: str,
        start: str,
        graph: Mapping[str, Sequence[Transition]],
    ) -> str:
        """Return the issue to ``start`` over the known transitions; the status it ends in."""
        client = ctx.clients[target]
        key = ctx.issues[target].key
        home = start.lower()
        for _ in range(MAX_WORKFLOW_STEPS):
            if current.lower() == home:
                break
            options = tuple(await client.transitions(key))
            direct = _pick(options, start)
            if direct is not None and not direct.fields:
                await client.transition(key, direct.id)
                ctx.writes += 1
                return start
            route = _route({**graph, current.lower(): options}, current, lambda s: s == home)
            if route is None:
                break
            await client.transition(key, route[0].id)
            ctx.writes += 1
            current = route[0].to_status
        return current

    async def _run_rules(self, ctx: _Ctx, snaps: Mapping[Side, SnapshotData | None]) -> None:
        for rule in ctx.pair.rules:
            when = rule.when
            if when.event is not TriggerEvent.TRANSITIONED:
                continue
            source = ctx.issues[when.side]
            snap = snaps[when.side]
            if snap is None:
                continue  # first sync of the pair: nothing was observed transitioning
            if snap.values.get(STATUS_KEY) == source.status:
                continue  # no transition since the last sync
            if when.status and when.status != source.status:
                continue
            if when.status_category and when.status_category != (source.status_category or ""):
                continue
            target = when.side.other
            for action in rule.then:
                if isinstance(action, TransitionMirror):
                    mirror = ctx.issues[target]
                    text = (action.comment or "").format(
                        key=source.key, status=source.status, site=self._site_of(ctx, when.side)
                    )
                    if mirror.status != action.to_status:
                        await self._transition(
                            ctx, target, action.to_status, action.resolution, text or None
                        )
                        ctx.issues[target] = await ctx.clients[target].get_issue(mirror.key)
                    elif text:
                        await ctx.clients[target].add_comment(mirror.key, _adf_text(text))
                        ctx.writes += 1
                elif isinstance(action, AddComment):
                    await ctx.clients[action.target].add_comment(
                        ctx.issues[action.target].key,
                        _adf_text(
                            action.body.format(key=source.key, status=source.status, site="")
                        ),
                    )
                    ctx.writes += 1


def _route(
    graph: Mapping[str, Sequence[Transition]],
    start: str,
    goal: Callable[[str], bool],
) -> list[Transition] | None:
    """The shortest list of transitions (breadth-first over ``graph``: status name in lower
    case -> its transitions) from ``start`` to the first status where ``goal(status)`` holds;
    only the last step may have a screen. None when there is none."""
    origin = start.lower()
    seen = {origin}
    frontier: list[tuple[str, list[Transition]]] = [(origin, [])]
    while frontier:
        nxt: list[tuple[str, list[Transition]]] = []
        for status, route in frontier:
            for t in graph.get(status, ()):
                to = t.to_status.lower()
                if to in seen:
                    continue
                if goal(to):
                    return [*route, t]
                if t.fields:
                    continue  # a screen: never an intermediate step
                seen.add(to)
                nxt.append((to, [*route, t]))
        frontier = nxt
    return None


def _pick(options: Sequence[Transition], status: str) -> Transition | None:
    wanted = status.lower()
    return next((t for t in options if t.to_status.lower() == wanted), None)
