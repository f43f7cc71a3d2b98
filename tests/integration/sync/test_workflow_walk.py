"""The status walk finds a shortest path through a workflow it learns as it goes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jirabridge.emulator.model import StatusCategory
from jirabridge.emulator.model import Transition as WfTransition
from jirabridge.errors import SkipItemError
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.store import Store

from .test_apply_emulator import build_world
from .test_apply_scenarios import paired


def maze(site: object) -> None:
    """Cloud OPS workflow: To Do -> Dead End (listed first, leads only back) or Review;
    Review -> Shipped (both can be reopened); Archived exists but nothing leads there."""
    s = site  # the emulator Site
    todo = next(st for st in s.statuses.values() if st.name == "To Do")  # type: ignore[attr-defined]
    dead = s.create_status("Dead End", StatusCategory.INDETERMINATE)  # type: ignore[attr-defined]
    review = s.create_status("Review", StatusCategory.INDETERMINATE)  # type: ignore[attr-defined]
    shipped = s.create_status("Shipped", StatusCategory.DONE)  # type: ignore[attr-defined]
    s.create_status("Archived", StatusCategory.DONE)  # type: ignore[attr-defined]
    s.create_workflow(  # type: ignore[attr-defined]
        "Maze",
        todo.id,
        [
            WfTransition(11, "Wander", dead.id, (todo.id,)),
            WfTransition(21, "Review", review.id, (todo.id,)),
            WfTransition(31, "Back", todo.id, (dead.id,)),
            WfTransition(41, "Ship", shipped.id, (review.id,)),
            WfTransition(51, "Reopen", todo.id, (review.id,)),
            WfTransition(61, "Reopen shipped", todo.id, (shipped.id,)),
        ],
    )
    s.set_workflow("OPS", "Maze")  # type: ignore[attr-defined]


PAIR = {
    "create": "none",
    "fields": [
        {"name": "summary"},
        {"name": "status", "direction": "server_to_cloud", "values": "st"},
    ],
}


async def done_on_server(world: object, s_key: str) -> None:
    alice = world.alice["srv"]  # type: ignore[attr-defined]
    done = next(t for t in await alice.transitions(s_key) if t.to_status == "Done")
    await alice.transition(s_key, done.id)


async def test_shortest_path_past_a_dead_end(store: Store) -> None:
    pair = {**PAIR, "translations": {"st": {"map": {"Done": "Shipped"}}}}
    async with build_world(store, pair) as world:
        maze(world.apps["cld"].site)
        s_key, s_id, c_key, _ = await paired(world)
        assert (await world.bot["cld"].get_issue(c_key)).status == "To Do"
        await done_on_server(world, s_key)
        await world.apply("srv", s_id)
        assert (await world.bot["cld"].get_issue(c_key)).status == "Shipped"
        # the workflow is now known: the next walk goes straight via Review
        s2, s2_id, c2, _ = await paired(world)
        await done_on_server(world, s2)
        await world.apply("srv", s2_id)
        mirror = await world.bot["cld"].get_issue(c2, expand=["changelog"])
        assert mirror.status == "Shipped"
        moves = [i.to_string for e in mirror.changelog for i in e.items if i.field == "status"]
        assert moves == ["Review", "Shipped"]


async def test_unreachable_status_leaves_the_mirror_where_it_was(store: Store) -> None:
    pair = {**PAIR, "translations": {"st": {"map": {"Done": "Archived"}}}}
    async with build_world(store, pair) as world:
        maze(world.apps["cld"].site)
        s_key, s_id, c_key, _ = await paired(world)
        await done_on_server(world, s_key)
        world.queue.enqueue(
            ChangeNotice(
                site="srv",
                issue_id=s_id,
                event=EventKind.ISSUE_UPDATED,
                observed_at=datetime.now(UTC),
            ),
            immediate=True,
        )
        [job] = world.queue.lease("t")
        with pytest.raises(SkipItemError) as caught:
            await world.applier.apply(job)
        message = str(caught.value)
        assert "no workflow path to 'Archived'" in message
        assert "back to 'To Do'" in message
        assert "review" in message and "shipped" in message  # what it explored
        assert (await world.bot["cld"].get_issue(c_key)).status == "To Do"
