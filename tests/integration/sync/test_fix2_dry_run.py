"""``backfill --dry-run``: the real engine with recording clients on a throwaway store copy.

Against the emulators: the plan lists the writes, the sites see no write at all, the store
is unchanged, and a real backfill afterwards makes exactly the writes the plan listed."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from jirabridge.emulator.infra import ControlClient
from jirabridge.jira import IssueInput
from jirabridge.sync.config import ConfigWatcher
from jirabridge.sync.dryrun import WriteKind, dry_backfill
from jirabridge.sync.runner import SyncRunner
from jirabridge.sync.store import Base, Store

from .test_apply_emulator import BASE_C, BASE_S, doc
from .test_runner import ops_sites


def rows(store: Store) -> dict[str, int]:
    with store.session() as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


async def writes_seen(ctl: ControlClient) -> list[dict[str, Any]]:
    calls = (await ctl.counters())["calls"]
    return [
        c
        for c in calls
        if c["method"] in {"POST", "PUT", "DELETE", "PATCH"} and "search" not in c["endpoint"]
    ]


async def test_dry_run_lists_writes_sends_none_and_a_real_run_makes_them(
    store: Store, tmp_path: Path
) -> None:
    ops = ops_sites(tmp_path)
    transports = ops.transports
    made, factory, path, alice = ops.made, ops.factory, ops.path, ops.alice
    controls = {
        "srv": ControlClient(BASE_S, transport=transports["srv"]),
        "cld": ControlClient(BASE_C, transport=transports["cld"]),
    }
    try:
        a = await alice.create_issue(IssueInput(project_key="OPS", issue_type="Task", summary="a"))
        await alice.create_issue(IssueInput(project_key="OPS", issue_type="Task", summary="b"))
        await alice.add_comment(a, doc("please look at the logs"))
        await alice.add_attachment(a, "trace.txt", b"line 1\nline 2\n", "text/plain")
        for ctl in controls.values():
            await ctl.reset_counters()
        before = rows(store)

        runner = SyncRunner(ConfigWatcher(path), store, factory=factory)
        seen: list[tuple[int, int]] = []
        async with asyncio.timeout(60):
            plan = await dry_backfill(
                runner.config, store, runner.clients, progress=lambda d, t: seen.append((d, t))
            )

        # nothing was sent, nothing was stored
        for ctl in controls.values():
            assert await writes_seen(ctl) == []
            assert (await ctl.counters())["total"] > 0  # it did read
        assert rows(store) == before
        assert plan.issues_read == 2
        assert seen and seen[-1] == (2, 2)

        kinds = Counter((w.site, w.kind) for w in plan.writes)
        assert kinds[("cld", WriteKind.CREATE)] == 2
        assert kinds[("cld", WriteKind.COMMENT)] == 1
        assert kinds[("cld", WriteKind.ATTACHMENT)] == 1
        assert kinds[("srv", WriteKind.PROPERTY)] == 2  # the pair marker on both sides
        assert ("srv", WriteKind.COMMENT) not in kinds  # nothing flows back
        groups = {g.label: g for g in plan.by_pair()}
        labelled = next(label for label in groups if label.startswith(f"{a} <-> "))
        assert {w.kind for w in groups[labelled].writes} >= {
            WriteKind.CREATE,
            WriteKind.COMMENT,
            WriteKind.ATTACHMENT,
        }
        report = plan.to_json()
        assert report["writes"] == len(plan.writes)
        assert any(
            "please look at the logs" in w["detail"] for p in report["pairs"] for w in p["writes"]
        )

        # the real run makes the writes the plan listed
        async with asyncio.timeout(60):
            await runner.backfill()
        bot_c = runner.clients["cld"]
        mirrors = [i async for i in bot_c.search('project = "OPS"')]
        assert len(mirrors) == kinds[("cld", WriteKind.CREATE)]
        comments = 0
        attachments = 0
        for issue in mirrors:
            comments += len([c async for c in bot_c.comments(issue.key)])
            full = await bot_c.get_issue(issue.key, fields=["attachment"])
            attachments += len(full.attachments)
        assert comments == kinds[("cld", WriteKind.COMMENT)]
        assert attachments == kinds[("cld", WriteKind.ATTACHMENT)]
        real = Counter(
            (c["method"], c["endpoint"])
            for c in await writes_seen(controls["cld"])
            for _ in range(c["count"])
        )
        assert real  # the real run did write
        assert rows(store) != before
    finally:
        for ctl in controls.values():
            await ctl.aclose()
        for c in (*made, alice):
            await c.aclose()
