"""After a lost store, rebuild_pairs also finds mirrored comments, attachments and links
again, so the backfill that follows copies nothing a second time."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from jirabridge.jira import IssueInput
from jirabridge.sync.config import ConfigWatcher
from jirabridge.sync.engine import SiteClient
from jirabridge.sync.runner import SyncRunner
from jirabridge.sync.store import AttachmentPair, CommentPair, LinkPair, Store, open_store

from .test_apply_emulator import doc
from .test_runner import ops_sites


def counts(store: Store) -> tuple[int, int, int]:
    with store.session() as s:
        return (
            s.scalar(select(func.count()).select_from(CommentPair)) or 0,
            s.scalar(select(func.count()).select_from(AttachmentPair)) or 0,
            s.scalar(select(func.count()).select_from(LinkPair)) or 0,
        )


def links_known(found: tuple[int, int, int], original: tuple[int, int, int]) -> bool:
    """Comment and attachment pairs exactly as before; the link known under at least one of
    its issue pairs (the rebuild records it under both)."""
    return found[:2] == original[:2] and found[2] >= 1


async def cloud_view(c: SiteClient, key: str) -> tuple[int, int, int]:
    issue = await c.get_issue(key, fields=["attachment", "issuelinks"])
    comments = [x async for x in c.comments(key)]
    return len(comments), len(issue.attachments), len(issue.links)


async def test_rebuild_finds_comments_attachments_and_links(store: Store, tmp_path: Path) -> None:
    ops = ops_sites(tmp_path)
    made, factory, path, alice = ops.made, ops.factory, ops.path, ops.alice
    fresh = open_store(f"sqlite:///{tmp_path / 'restored.db'}")
    try:
        a = await alice.create_issue(IssueInput(project_key="OPS", issue_type="Task", summary="a"))
        b = await alice.create_issue(IssueInput(project_key="OPS", issue_type="Task", summary="b"))
        await alice.add_comment(a, doc("please look at the logs"))
        await alice.add_comment(a, doc("second remark"))
        await alice.add_attachment(a, "trace.txt", b"line 1\nline 2\n", "text/plain")
        await alice.create_link("Blocks", a, b)

        runner = SyncRunner(ConfigWatcher(path), store, factory=factory)
        async with asyncio.timeout(60):
            await runner.backfill()
        cld = runner.clients["cld"]
        with store.session() as s:
            from jirabridge.sync.config import Side
            from jirabridge.sync.pairs import find_pair_by_key

            ref = find_pair_by_key(s, side=Side.SERVER, key=a)
            assert ref is not None
        before = await cloud_view(cld, ref.cloud_key)
        assert before == (2, 1, 1)
        original = counts(store)
        # the link is recorded under one or both of its issue pairs, by the order the workers
        # took the two issues: what must hold is that it is known, and copied once (cloud_view)
        assert original[:2] == (2, 1) and original[2] >= 1

        # the store is lost: a new, empty one
        restored = SyncRunner(ConfigWatcher(path), fresh, factory=factory)
        async with asyncio.timeout(60):
            assert await restored.rebuild_pairs() == 2
        assert links_known(counts(fresh), original)
        async with asyncio.timeout(60):
            assert await restored.rebuild_pairs() == 0  # idempotent
            await restored.backfill()
        assert await cloud_view(restored.clients["cld"], ref.cloud_key) == before
        assert links_known(counts(fresh), original)
        # and the other way: nothing came back to the Server issue
        back = [x async for x in alice.comments(a)]
        assert len(back) == 2
        assert len((await alice.get_issue(a, fields=["attachment"])).attachments) == 1
    finally:
        fresh.dispose()
        for c in (*made, alice):
            await c.aclose()
