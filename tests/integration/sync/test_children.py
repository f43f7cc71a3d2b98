"""Children waiting for their parent's mirror are queued again when it is created."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from jirabridge.errors import RetryLaterError
from jirabridge.jira import IssueInput
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.queue import FailOutcome
from jirabridge.sync.store import IssuePair, Store

from .test_apply_emulator import World, build_world

PAIR = {"fields": [{"name": "summary"}, {"name": "parent"}]}


def rows(world: World) -> dict[str, IssuePair]:
    with world.queue.store.session() as s:
        return {r.cloud_key: r for r in s.scalars(select(IssuePair))}


async def test_sub_task_in_backoff_runs_as_soon_as_its_parent_is_mirrored(store: Store) -> None:
    async with build_world(store, PAIR) as world:
        cld = world.alice["cld"]
        story = await cld.create_issue(
            IssueInput(project_key="OPS", issue_type="Story", summary="Story")
        )
        sub = await cld.create_issue(
            IssueInput(project_key="OPS", issue_type="Sub-task", summary="Step", parent_key=story)
        )
        sub_id = (await cld.get_issue(sub)).id
        world.queue.enqueue(
            ChangeNotice(
                site="cld",
                issue_id=sub_id,
                event=EventKind.ISSUE_CREATED,
                observed_at=datetime.now(UTC),
            ),
            immediate=True,
        )
        [job] = world.queue.lease("t")
        with pytest.raises(RetryLaterError) as info:
            await world.applier.apply(job)
        assert world.queue.fail(job, info.value) is FailOutcome.RETRY
        assert world.queue.lease("t") == []  # backing off
        await world.apply("cld", (await cld.get_issue(story)).id)
        # no waiting for the backoff: the parent's mirror woke the sub-task's job
        [job] = world.queue.lease("t")
        assert job.issue_id == sub_id
        assert (await world.applier.apply(job)).action == "created"
        pairs = rows(world)
        server_sub = await world.bot["srv"].get_issue(pairs[sub].server_key)
        assert server_sub.parent_key == pairs[story].server_key


@pytest.mark.parametrize("site", ["srv", "cld"])
async def test_epic_child_gets_its_parent_once_the_epic_is_mirrored(
    store: Store, site: str
) -> None:
    async with build_world(store, PAIR) as world:
        alice = world.alice[site]
        extra = {}
        if site == "srv":
            fields = world.apps["srv"].site.fields.values()
            extra = {
                next(f.id for f in fields if (f.custom or "").endswith("gh-epic-label")): "Big"
            }
        epic = await alice.create_issue(
            IssueInput(project_key="OPS", issue_type="Epic", summary="Big", extra_fields=extra)
        )
        story = await alice.create_issue(
            IssueInput(project_key="OPS", issue_type="Story", summary="Part", parent_key=epic)
        )
        story_id = (await alice.get_issue(story)).id
        epic_id = (await alice.get_issue(epic)).id
        assert (await world.apply(site, story_id)).action == "created"  # parent pending
        await world.apply(site, epic_id)
        [job] = world.queue.lease("t")  # queued again by the epic's mirror
        assert job.issue_id == story_id
        await world.applier.apply(job)
        with world.queue.store.session() as s:
            found = {
                (r.server_key if site == "srv" else r.cloud_key): r
                for r in s.scalars(select(IssuePair))
            }
        other = "cld" if site == "srv" else "srv"
        mirror_key = found[story].cloud_key if site == "srv" else found[story].server_key
        epic_mirror = found[epic].cloud_key if site == "srv" else found[epic].server_key
        assert (await world.bot[other].get_issue(mirror_key)).parent_key == epic_mirror


async def test_no_search_when_the_pair_does_not_sync_parents(store: Store) -> None:
    async with build_world(store, {"fields": [{"name": "summary"}]}) as world:
        cld = world.alice["cld"]
        epic = await cld.create_issue(IssueInput(project_key="OPS", issue_type="Epic", summary="E"))
        await cld.create_issue(
            IssueInput(project_key="OPS", issue_type="Story", summary="S", parent_key=epic)
        )
        await world.apply("cld", (await cld.get_issue(epic)).id)
        assert world.queue.stats().queued == 0
