"""A job on a paired issue reads the store once (pair, snapshots, comment/attachment/link
pairs in one session) and writes it once, and those reads never outlive their job."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select

from jirabridge.jira import IssueInput
from jirabridge.sync.store import CommentPair, IssuePair, Store
from tests.integration.sync.test_apply_emulator import World, build_world, doc, text_of


@contextmanager
def counting_sessions(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    opened = [0]
    real = store.session

    @contextmanager
    def session() -> Iterator[Any]:
        opened[0] += 1
        with real() as s:
            yield s

    monkeypatch.setattr(store, "session", session)
    yield opened
    monkeypatch.setattr(store, "session", real)


async def paired(world: World, store: Store) -> tuple[str, str, str]:
    """A Server issue with its Cloud mirror: (server key, server id, cloud key)."""
    key = await world.alice["srv"].create_issue(
        IssueInput(project_key="OPS", issue_type="Task", summary="Disk full")
    )
    issue = await world.alice["srv"].get_issue(key)
    assert issue.id is not None
    assert (await world.apply("srv", issue.id)).action == "created"
    with store.session() as s:
        cloud_key = s.scalars(select(IssuePair)).one().cloud_key
    return key, issue.id, cloud_key


async def test_an_edit_of_a_paired_issue_takes_one_read_and_one_write_session(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with build_world(store) as world:
        key, issue_id, cloud_key = await paired(world, store)
        await world.alice["srv"].edit_issue(key, IssueInput(summary="Disk still full"))
        real_apply = world.applier.apply
        counts: list[int] = []

        async def counted(job: Any) -> Any:
            with counting_sessions(store, monkeypatch) as opened:
                result = await real_apply(job)
            counts.append(opened[0])
            return result

        monkeypatch.setattr(world.applier, "apply", counted)
        assert (await world.apply("srv", issue_id)).writes == 1
        assert (await world.bot["cld"].get_issue(cloud_key)).summary == "Disk still full"
        # the read (pair, snapshots, comment, attachment and link pairs) and the commit
        assert counts == [2]


async def test_reads_of_one_job_are_not_seen_by_the_next_in_the_same_task(
    store: Store,
) -> None:
    async with build_world(store) as world:
        key, issue_id, cloud_key = await paired(world, store)
        for n in range(3):
            await world.alice["srv"].edit_issue(key, IssueInput(summary=f"edit {n}"))
            assert (await world.apply("srv", issue_id)).writes == 1
            assert (await world.bot["cld"].get_issue(cloud_key)).summary == f"edit {n}"
        # the snapshot each job saved is the one the next compared with: nothing left to do
        assert (await world.apply("srv", issue_id)).writes == 0

        # comment pairs read with the pair: an earlier comment's pair is found, not posted again
        await world.alice["srv"].add_comment(key, doc("first"))
        await world.apply("srv", issue_id)
        await world.alice["srv"].add_comment(key, doc("second"))
        await world.apply("srv", issue_id)
        mirrored = [text_of(c.body) async for c in world.bot["cld"].comments(cloud_key)]
        assert len(mirrored) == 2
        assert "first" in mirrored[0] and "second" in mirrored[1]
        with store.session() as s:
            assert len(s.scalars(select(CommentPair)).all()) == 2
