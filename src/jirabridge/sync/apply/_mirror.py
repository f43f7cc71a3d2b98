"""Creating a mirror (or adopting one an attempt that died created), and waking its children."""

from __future__ import annotations

import asyncio

from jirabridge.errors import JirabridgeError, RetryLaterError
from jirabridge.jira import Issue, IssueInput, RemoteLink
from jirabridge.sync.apply._base import PROPERTY, _Ctx, log
from jirabridge.sync.apply._users import _UsersMixin
from jirabridge.sync.apply._values import _NOT_EDITABLE, _input, _input_kwargs, canonical_values
from jirabridge.sync.config import CreateMirror, PairConfig, Side, TriggerEvent
from jirabridge.sync.diff import plan_fields
from jirabridge.sync.engine import SiteClient
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.pairs import PairRef, find_pair, link_pair

EPIC_NAME = "com.pyxis.greenhopper.jira:gh-epic-label"
EPIC_LINK = "com.pyxis.greenhopper.jira:gh-epic-link"


class _MirrorMixin(_UsersMixin):
    async def _create_mirror(self, ctx: _Ctx, source: Issue, *, retried: bool = False) -> PairRef:
        """Create ``source``'s mirror and record the pair. ``retried``: an earlier attempt
        of this job may have created the mirror and died before recording it (a crash, a
        lost lease), so look for that unpaired mirror first and adopt it."""
        pair, side = ctx.pair, ctx.side
        target = side.other
        rule = next(
            (
                action
                for r in pair.rules
                if r.when.side is side and r.when.event is TriggerEvent.CREATED
                for action in r.then
                if isinstance(action, CreateMirror)
            ),
            None,
        )
        values = canonical_values(source, pair.fields, side)
        await self._resolve_users(ctx, {side: values})
        await self.prepare_docs(ctx, {side: list(values.values())})
        keys = await self._issue_keys(pair, {side: values})
        plan = plan_fields(
            pair.fields,
            self._translator(ctx, keys),
            server_now=values if side is Side.SERVER else {},
            cloud_now=values if side is Side.CLOUD else {},
            server_hashes=None,
            cloud_hashes=None,
            origin=side,
        )
        fields = dict((plan.to_cloud if target is Side.CLOUD else plan.to_server).fields)
        end = pair.cloud if target is Side.CLOUD else pair.server
        issue_type = (rule.issue_type if rule else None) or self._translated_type(
            pair, source.issue_type, target
        )
        if source.parent_key and "sub" in issue_type.lower() and "parent" not in fields:
            # a sub-task cannot exist without its parent: wait until the parent is mirrored
            raise RetryLaterError(
                f"{source.key}: parent {source.parent_key} has no mirror yet", retry_after=5
            )
        client = ctx.clients[target]
        data = _input(fields, skip=_NOT_EDITABLE, info=await client.fields())
        data = IssueInput(
            **{
                **_input_kwargs(data),
                "project_key": end.project,
                "issue_type": issue_type,
                "summary": data.summary if data.summary is not None else source.summary,
            }
        )
        origin_tag = f"{side.value}:{source.id}"
        if target is Side.SERVER and (issue_type or "").lower() == "epic":
            data = await self._with_epic_name(client, data)

        async def check() -> str | None:
            return await self.find_unpaired_mirror(client, pair.id, target, end.project, data)

        key = await check() if retried else None
        if key is not None:
            log.warning("adopting %s: created for %s by an attempt that died", key, source.key)
        else:
            key = await client.create_issue(data, check=check)
        ctx.writes += 1
        mirror = await client.get_issue(key, expand=["changelog"])
        ctx.issues[target] = mirror
        assert source.id is not None and mirror.id is not None
        server, cloud = (source, mirror) if side is Side.SERVER else (mirror, source)
        assert server.id is not None and cloud.id is not None
        now = self.clock.now()

        def record() -> PairRef:
            with self.queue.store.session() as session:
                return link_pair(
                    session,
                    pair_id=pair.id,
                    server=(server.id or "", server.key),
                    cloud=(cloud.id or "", cloud.key),
                    origin=side,
                    now=now,
                )

        ref = await asyncio.to_thread(record)
        marker = {
            "pair": pair.id,
            "server": server.key,
            "cloud": cloud.key,
            "origin": origin_tag,
        }
        for s, issue in ((Side.SERVER, server), (Side.CLOUD, cloud)):
            await ctx.clients[s].set_property(issue.key, PROPERTY, marker)
            other = cloud if s is Side.SERVER else server
            other_site = pair.cloud.site if s is Side.SERVER else pair.server.site
            await ctx.clients[s].put_remote_link(
                issue.key,
                RemoteLink(
                    url=other.url or f"{self.config.sites[other_site].url}/browse/{other.key}",
                    title=f"{other.key} (mirror on {other_site})",
                    global_id=f"jirabridge:{pair.id}:{other.key}",
                    relationship="synced with",
                ),
            )
            ctx.writes += 2
        if rule is not None and rule.write_back_field:
            await ctx.clients[side].edit_issue(
                source.key, IssueInput(extra_fields={rule.write_back_field: mirror.key})
            )
            ctx.writes += 1
        return ref

    async def find_unpaired_mirror(
        self, client: SiteClient, pair_id: str, side: Side, project: str, data: IssueInput
    ) -> str | None:
        """After an ambiguous create (timeout, 5xx): the issue we may have created anyway.

        Entity properties cannot be searched without an app, so look for an issue created
        by the integration user in the last 15 minutes with the same summary that is in no
        pair yet; None means the create did not happen and may be sent again."""
        jql = (
            f'project = "{project}" AND creator = currentUser() AND created >= -15m '
            "ORDER BY created DESC"
        )
        async for found in client.search(jql, fields=["summary", "created"]):
            if found.summary != data.summary or found.id is None:
                continue
            paired = await asyncio.to_thread(self._find_by_id, pair_id, side, found.id)
            if paired is None:
                return found.key
        return None

    def _find_by_id(self, pair_id: str, side: Side, issue_id: str) -> PairRef | None:
        with self.queue.store.session() as session:
            return find_pair(session, side=side, issue_id=issue_id, pair_id=pair_id)

    @staticmethod
    async def _with_epic_name(client: SiteClient, data: IssueInput) -> IssueInput:
        """Server epics need an "Epic Name" (Cloud has none): use the summary."""
        fields = await client.fields()
        epic_name = next((f.id for f in fields.values() if f.custom_key == EPIC_NAME), None)
        if epic_name is None or epic_name in data.extra_fields:
            return data
        extra = {**data.extra_fields, epic_name: data.summary}
        return IssueInput(**{**_input_kwargs(data), "extra_fields": extra})

    def _translated_type(self, pair: PairConfig, issue_type: str, target: Side) -> str:
        table = pair.translations.get("issuetype")
        if table is None:
            return issue_type
        result = table.to_cloud(issue_type) if target is Side.CLOUD else table.to_server(issue_type)
        return result or issue_type

    async def _requeue_children(self, ctx: _Ctx, site: str, parent: Issue) -> int:
        """``parent`` just got its mirror: queue its sub-tasks and epic children again, so
        the ones waiting for it (a sub-task's create, a pending ``parent`` field) go on now.
        Only when the pair syncs ``parent``; a failed search is logged, never fatal."""
        if not any("parent" in (r.server_id, r.cloud_id) for r in ctx.pair.fields):
            return 0
        if "sub" in parent.issue_type.lower():
            return 0  # sub-tasks have no children
        client = ctx.clients[ctx.side]
        clauses = [f'parent = "{parent.key}"']
        if ctx.side is Side.SERVER:
            fields = await client.fields()
            epic_link = next((f for f in fields.values() if f.custom_key == EPIC_LINK), None)
            if epic_link is not None:
                clauses.append(f'"{epic_link.name}" = "{parent.key}"')
        jql = " OR ".join(clauses)
        now = self.clock.now()
        notices: list[ChangeNotice] = []
        try:
            async for child in client.search(jql, fields=["summary"]):
                if child.id is not None:
                    notices.append(
                        ChangeNotice(
                            site=site,
                            issue_id=child.id,
                            issue_key=child.key,
                            event=EventKind.ISSUE_UPDATED,
                            observed_at=now,
                        )
                    )
        except JirabridgeError as exc:
            log.warning("children of %s not re-queued: %s", parent.key, exc)
            return 0

        def enqueue() -> None:
            for notice in notices:
                self.queue.enqueue(notice, wake=True)

        await asyncio.to_thread(enqueue)
        return len(notices)
