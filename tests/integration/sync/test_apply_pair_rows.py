"""The comment, attachment and link pairs a job read with its pair are handed to the parts
as they are: no store call, no thread hop; without those reads the parts read them."""

from __future__ import annotations

from typing import Any

import pytest

from jirabridge.jira import IssueInput
from jirabridge.sync.store import AttachmentPair, CommentPair, LinkPair, Store
from tests.integration.sync.test_apply_emulator import build_world
from tests.integration.sync.test_apply_reads import paired


async def test_parts_take_the_rows_read_with_the_pair(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with build_world(store) as world:
        key, issue_id, _ = await paired(world, store)
        read_alone: list[Any] = []
        real = world.applier._rows

        def rows(table: Any, issue_pair_id: int) -> list[Any]:
            read_alone.append(table)
            return real(table, issue_pair_id)

        monkeypatch.setattr(world.applier, "_rows", rows)
        await world.alice["srv"].edit_issue(key, IssueInput(summary="Disk still full"))
        assert (await world.apply("srv", issue_id)).writes == 1
        assert read_alone == []
        # outside a job (no reads taken): each table is read from the store
        for table in (CommentPair, AttachmentPair, LinkPair):
            assert await world.applier._pair_rows(table, 1) == []
        assert read_alone == [CommentPair, AttachmentPair, LinkPair]
