"""Hot reload is its own task of `SyncRunner.run`: a long poll interval does not delay it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml

from jirabridge.sync.config import ConfigWatcher
from jirabridge.sync.runner import SyncRunner
from jirabridge.sync.store import Store

from .test_runner import ops_sites


def edit(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


async def wait_until(check: Any, seconds: float = 20) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 (polls the runner's state from outside)
            await asyncio.sleep(0.02)


async def test_run_reloads_a_changed_file_between_polls(store: Store, tmp_path: Path) -> None:
    ops = ops_sites(tmp_path)
    edit(ops.path, lambda d: d.update(polling={"interval_seconds": 3600}))
    rounds: list[bool] = []
    try:
        watcher = ConfigWatcher(ops.path)
        runner = SyncRunner(watcher, store, factory=ops.factory, reload_seconds=0.05)
        real_round = runner.poll_round

        async def counted(**kw: Any) -> Any:
            rounds.append(kw.get("reload", True))
            return await real_round(**kw)

        runner.poll_round = counted  # type: ignore[method-assign]
        queue, receiver_queue = runner.queue, runner.queue
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        try:
            await wait_until(lambda: len(rounds) == 1)
            # the next poll is an hour away; the reload happens anyway
            edit(ops.path, lambda d: d["queue"].update(coalesce_seconds=7))
            await wait_until(lambda: runner.config.queue.coalesce_seconds == 7)
            # one queue for the runner's life: workers and receiver follow the new settings
            assert runner.queue is queue is receiver_queue
            assert queue.config.coalesce_seconds == 7
            assert runner.applier.config.queue.coalesce_seconds == 7

            # a bad file is refused and the running configuration stays
            ops.path.write_text(ops.path.read_text().replace("flavour: cloud", "flavour: moon"))
            await wait_until(lambda: runner.watcher is not None and bool(runner.watcher.problems))
            assert runner.config.sites["cld"].flavour.value == "cloud"

            def fixed(d: Any) -> None:
                d["sites"]["cld"]["flavour"] = "cloud"
                d["queue"]["coalesce_seconds"] = 9

            edit(ops.path, fixed)
            await wait_until(lambda: runner.config.queue.coalesce_seconds == 9)
            assert len(rounds) == 1  # all of it without a second poll round
            assert rounds == [False]  # and the poll round did not read the file itself
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
    finally:
        for c in (*ops.made, ops.alice):
            await c.aclose()
