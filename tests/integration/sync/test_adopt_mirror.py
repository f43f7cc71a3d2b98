"""A retried job adopts the mirror an attempt that died created, instead of a second one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from jirabridge.jira import IssueInput
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.queue import FailOutcome, Job
from jirabridge.sync.store import IssuePair, QueueJob, Store

from .test_apply_emulator import World, build_world


class Died(Exception):
    pass


def die_after_create(client: Any, error: BaseException) -> Any:
    """Make ``client``'s creates succeed on the site, then raise ``error`` (the worker dies
    before it records the pair); answers the real ``create_issue`` to put back."""
    real = client.create_issue

    async def create_then_die(data: IssueInput, *a: Any, **kw: Any) -> str:
        await real(data, *a, **kw)
        raise error

    client.create_issue = create_then_die
    return real


def lease_created(world: World, origin: str, issue_id: str) -> Job:
    """Queue the creation of ``issue_id`` on ``origin`` and lease its job."""
    world.queue.enqueue(
        ChangeNotice(
            site=origin,
            issue_id=issue_id,
            event=EventKind.ISSUE_CREATED,
            observed_at=datetime.now(UTC),
        ),
        immediate=True,
    )
    [job] = world.queue.lease("t")
    return job


@pytest.mark.parametrize("origin", ["srv", "cld"])
async def test_retry_after_a_create_that_died_adopts_the_mirror(store: Store, origin: str) -> None:
    target = "cld" if origin == "srv" else "srv"
    async with build_world(store) as world:
        key = await world.alice[origin].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="only once")
        )
        issue_id = (await world.alice[origin].get_issue(key)).id
        client = world.bot[target]
        real = die_after_create(client, Died("worker died after the create"))
        job = lease_created(world, origin, issue_id)
        with pytest.raises(Died) as info:
            await world.applier.apply(job)
        assert world.queue.fail(job, info.value) is FailOutcome.RETRY
        client.create_issue = real
        with store.session() as s:
            s.scalars(select(QueueJob)).one().available_at = datetime.now(UTC)
        [job] = world.queue.lease("t")
        assert job.attempts == 2
        assert (await world.applier.apply(job)).action == "created"
        found = [i.key async for i in client.search('project = "OPS"')]
        assert len(found) == 1
        with store.session() as s:
            [row] = s.scalars(select(IssuePair)).all()
        assert (row.cloud_key if target == "cld" else row.server_key) == found[0]


@pytest.mark.parametrize("origin", ["srv", "cld"])
async def test_retry_after_a_comment_that_died_adopts_the_posted_comment(
    store: Store, origin: str
) -> None:
    from .test_apply_emulator import doc, text_of
    from .test_apply_scenarios import paired

    target = "cld" if origin == "srv" else "srv"
    async with build_world(store) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        key, issue_id = (s_key, s_id) if origin == "srv" else (c_key, c_id)
        mirror = c_key if origin == "srv" else s_key
        await world.alice[origin].add_comment(key, doc("said once"))
        client = world.bot[target]
        real = client.add_comment

        async def post_then_die(*a: Any, **kw: Any) -> Any:
            await real(*a, **kw)
            raise Died("worker died after posting")

        client.add_comment = post_then_die
        world.queue.enqueue(
            ChangeNotice(
                site=origin,
                issue_id=issue_id,
                event=EventKind.ISSUE_UPDATED,
                observed_at=datetime.now(UTC),
            ),
            immediate=True,
        )
        [job] = world.queue.lease("t")
        with pytest.raises(Died):
            await world.applier.apply(job)
        client.add_comment = real
        assert world.queue.release(job)  # as if its lease had run out
        [job] = world.queue.lease("t")
        await world.applier.apply(job)
        texts = [text_of(c.body) async for c in client.comments(mirror)]
        assert len(texts) == 1 and "said once" in texts[0]
        # and the pair is recorded: a further sync posts nothing
        await world.apply(origin, issue_id)
        assert len([c async for c in client.comments(mirror)]) == 1
