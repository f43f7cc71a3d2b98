"""The backfill creates missing mirrors in bulk, hands them to the jobs, settles them, and
adopts (never doubles) what a run that died had created."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

import jirabridge.sync.backfill as backfill_module
from jirabridge.emulator.infra import ControlClient
from jirabridge.emulator.model import FieldConfiguration
from jirabridge.jira import IssueInput
from jirabridge.sync.apply import PROPERTY
from jirabridge.sync.config import QueueConfig, Side
from jirabridge.sync.pairs import find_pair
from jirabridge.sync.runner import SyncRunner
from jirabridge.sync.store import IssuePair, JobState, QueueJob, Snapshot, Store

from .test_apply_emulator import BASE_C, build_world, doc

URL_FIELD = "customfield_10095"


def runner_of(world: Any, store: Store) -> SyncRunner:
    config = world.config.model_copy(
        update={"queue": QueueConfig(coalesce_seconds=0, workers=4, lease_seconds=30)}
    )
    return SyncRunner(config, store, clients=world.bot)


async def seed(world: Any, count: int, comments: int = 2, issue_type: str = "Task") -> list[str]:
    keys = []
    for i in range(count):
        key = await world.alice["srv"].create_issue(
            IssueInput(
                project_key="OPS",
                issue_type=issue_type,
                summary=f"{issue_type} {i}",
                description=doc(f"body {i}"),
                priority="High",
            )
        )
        for j in range(comments):
            await world.alice["srv"].add_comment(key, doc(f"comment {j} of {i}"))
        keys.append(key)
    return keys


def control(world: Any) -> ControlClient:
    cloud = world.apps["cld"]
    return ControlClient(BASE_C, transport=httpx.ASGITransport(app=cloud))


async def cloud_calls(ctl: ControlClient) -> Counter[str]:
    counters = await ctl.counters()
    out: Counter[str] = Counter()
    for row in counters["calls"]:
        out[f"{row['method']} {row['endpoint']}"] += int(row["count"])
    return out


async def backfill_counting(world: Any, runner: SyncRunner) -> Counter[str]:
    """Run a backfill; the Cloud calls it made, by method and endpoint."""
    async with control(world) as ctl:
        await ctl.reset_counters()
        async with asyncio.timeout(60):
            await runner.backfill()
        return await cloud_calls(ctl)


def origins(world: Any) -> Counter[str]:
    """origin tag -> how many Cloud issues carry it (a duplicate shows as 2)."""
    site = world.apps["cld"].site
    return Counter(
        str((issue.properties.get(PROPERTY) or {}).get("origin")) for issue in site.issues.values()
    )


async def test_backfill_creates_mirrors_in_bulk_without_reading_them(store: Store) -> None:
    pair = {
        "cross_reference": {"remote_links": ["server"], "url_fields": {"cloud": URL_FIELD}},
    }
    async with build_world(store, pair) as world:
        world.apps["cld"].site.create_custom_field("Server issue", "url", field_id=URL_FIELD)
        keys = await seed(world, 12)
        runner = runner_of(world, store)
        calls = await backfill_counting(world, runner)
        cloud = world.apps["cld"].site
        assert len(cloud.issues) == 12
        # two bulk creates (a first batch of 10, then the rest), nothing one by one
        assert calls["POST /rest/api/3/issue/bulk"] == 2
        assert calls["POST /rest/api/3/issue"] == 0
        # the new mirrors were never read one by one, nor their (empty) comment lists
        assert calls["GET /rest/api/3/issue/{key}"] == 0
        assert calls["GET /rest/api/3/issue/{key}/comment"] == 0
        assert calls["PUT /rest/api/3/issue/{key}/properties/jirabridge"] == 0
        assert calls["POST /rest/api/3/issue/{key}/remotelink"] == 0
        assert calls["POST /rest/api/3/issue/{key}/comment"] == 24
        with store.session() as s:
            rows = {r.server_key: r for r in s.scalars(select(IssuePair))}
            stamps = s.scalars(
                select(Snapshot.issue_updated).where(Snapshot.side == Side.CLOUD.value)
            ).all()
        assert set(rows) == set(keys)
        assert len(stamps) == 12 and all(u is not None for u in stamps)  # settled
        for key in keys[:3]:
            mirror_key = rows[key].cloud_key
            mirror = await world.bot["cld"].get_issue(mirror_key)
            assert mirror.summary.startswith("Task ")
            assert [c.body is not None for c in mirror.comments] == [True, True]
            marker = await world.bot["cld"].get_property(mirror_key, PROPERTY)
            assert marker["origin"] == f"server:{rows[key].server_issue_id}"
            assert marker["server"] == key
            source_marker = await world.bot["srv"].get_property(key, PROPERTY)
            assert source_marker["cloud"] == mirror_key
            url = mirror.custom_fields[URL_FIELD].value
            assert url.endswith(f"/browse/{key}")
        # settled: the engine's own writes are not changes; a second run writes nothing
        again = await backfill_counting(world, runner)
        writes = {
            k: n for k, n in again.items() if not k.startswith(("GET", "POST /rest/api/3/search"))
        }
        assert writes == {}
        assert runner.queue.stats().dead == 0


async def test_a_run_killed_after_the_bulk_create_is_adopted_not_doubled(store: Store) -> None:
    async with build_world(store) as world:
        await seed(world, 14, comments=1)
        runner = runner_of(world, store)
        reached = asyncio.Event()
        real = backfill_module._cross_reference

        async def die_before_pairing(*args: Any, **kwargs: Any) -> None:
            reached.set()
            await asyncio.Event().wait()  # "killed" here: never returns

        backfill_module._cross_reference = die_before_pairing  # type: ignore[assignment]
        try:
            run = asyncio.create_task(runner.backfill())
            async with asyncio.timeout(30):
                await reached.wait()
            run.cancel()
            with pytest.raises(asyncio.CancelledError):
                await run
        finally:
            backfill_module._cross_reference = real  # type: ignore[assignment]
        await asyncio.sleep(0.3)  # a lease taken in a thread as the task was cancelled lands
        with store.session() as s:  # the dead process's leases run out
            for job in s.scalars(select(QueueJob).where(QueueJob.state == JobState.LEASED)):
                job.lease_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        # the first batch exists on Cloud, in no pair
        assert len(world.apps["cld"].site.issues) == 10
        with store.session() as s:
            assert s.scalars(select(IssuePair)).all() == []

        resumed = runner_of(world, store)  # a new process: nothing in memory
        async with asyncio.timeout(60):
            await resumed.backfill()
        assert len(world.apps["cld"].site.issues) == 14
        assert max(origins(world).values()) == 1
        with store.session() as s:
            assert len(s.scalars(select(IssuePair)).all()) == 14
        for issue in world.apps["cld"].site.issues.values():
            assert (
                len([c for c in world.apps["cld"].site.comments.values() if c.issue_id == issue.id])
                == 1
            )


async def test_an_unmarked_issue_with_the_same_summary_is_never_adopted(store: Store) -> None:
    async with build_world(store) as world:
        bot = world.bot["cld"]

        async def twin(marker: dict[str, str] | None) -> str:
            props = {} if marker is None else {PROPERTY: marker}
            data = IssueInput(project_key="OPS", issue_type="Task", summary="twin")
            return str(await bot.create_issue(dataclasses.replace(data, properties=props)))

        await twin(None)
        marked = await twin({"pair": "ops", "origin": "server:4242"})
        other_pair = await twin({"pair": "elsewhere", "origin": "server:777"})
        applier = world.applier
        assert (
            await applier.find_unpaired_mirror(bot, "ops", Side.CLOUD, "OPS", "server:4242")
            == marked
        )
        assert await applier.find_unpaired_mirror(bot, "ops", Side.CLOUD, "OPS", "server:1") is None
        # a marker of another pair is not this pair's mirror
        assert (
            await applier.find_unpaired_mirror(bot, "ops", Side.CLOUD, "OPS", "server:777") is None
        )
        assert other_pair != marked


async def test_a_mirror_the_bulk_create_refuses_goes_to_its_job_and_is_dead_lettered(
    store: Store,
) -> None:
    async with build_world(store) as world:
        cloud = world.apps["cld"].site
        team = cloud.create_custom_field("Team", "textfield")
        base = cloud.field_configuration(
            cloud.get_project("OPS").id, cloud.issue_type_by_name("Bug").id
        )
        cloud.set_field_configuration(
            "OPS",
            dataclasses.replace(
                base,
                create_fields=[*base.create_fields, team.id],
                required={*base.required, team.id},
            ),
            issue_type_id=cloud.issue_type_by_name("Bug").id,
        )
        tasks = await seed(world, 3, comments=1)
        bugs = await seed(world, 2, comments=1, issue_type="Bug")
        runner = runner_of(world, store)
        async with asyncio.timeout(60):
            await runner.backfill()
        with store.session() as s:
            paired = {r.server_key for r in s.scalars(select(IssuePair))}
        assert paired == set(tasks)  # the refused ones held nothing up
        dead = runner.queue.dead_letters()
        assert {d.issue_key for d in dead} == set(bugs)
        assert all("Team" in (d.reason or "") for d in dead)
        assert len(cloud.issues) == 3
        assert isinstance(base, FieldConfiguration)


async def test_sub_tasks_are_created_after_their_parent_in_a_later_bulk_batch(
    store: Store,
) -> None:
    async with build_world(store, {"fields": [{"name": "summary"}, {"name": "parent"}]}) as world:
        srv = world.alice["srv"]
        story = await srv.create_issue(
            IssueInput(project_key="OPS", issue_type="Story", summary="Story")
        )
        steps = [
            await srv.create_issue(
                IssueInput(
                    project_key="OPS", issue_type="Sub-task", summary=f"Step {i}", parent_key=story
                )
            )
            for i in range(3)
        ]
        runner = runner_of(world, store)
        calls = await backfill_counting(world, runner)
        with store.session() as s:
            pairs = {r.server_key: r.cloud_key for r in s.scalars(select(IssuePair))}
        assert set(pairs) == {story, *steps}
        for step in steps:
            mirror = await world.bot["cld"].get_issue(pairs[step])
            assert mirror.parent_key == pairs[story]
        assert calls["POST /rest/api/3/issue"] == 0  # all in bulk: the story, then its steps
        assert calls["POST /rest/api/3/issue/bulk"] == 2
        assert max(origins(world).values()) == 1


async def test_two_pairs_on_one_site_each_mirror_only_their_own_project(store: Store) -> None:
    async with build_world(store) as world:
        for app in world.apps.values():
            app.site.create_project("DEV", "Dev", app.site.admin_key)
        ops = world.config.pairs[0]
        dev = ops.model_copy(
            update={
                "id": "dev",
                "server": ops.server.model_copy(update={"project": "DEV"}),
                "cloud": ops.cloud.model_copy(update={"project": "DEV"}),
            }
        )
        world.config = world.config.model_copy(update={"pairs": [ops, dev]})
        for project in ("OPS", "DEV", "OPS", "DEV", "OPS"):
            await world.alice["srv"].create_issue(
                IssueInput(project_key=project, issue_type="Task", summary=f"in {project}")
            )
        runner = runner_of(world, store)
        async with asyncio.timeout(60):
            await runner.backfill()
        cloud = world.apps["cld"].site
        made = Counter(
            (cloud.projects[i.project_id].key, i.fields["summary"]) for i in cloud.issues.values()
        )
        assert made == {("OPS", "in OPS"): 3, ("DEV", "in DEV"): 2}
        with store.session() as s:
            by_pair = Counter(r.pair_id for r in s.scalars(select(IssuePair)))
        assert by_pair == {"ops": 3, "dev": 2}


async def test_settle_leaves_a_mirror_someone_touched_unknown(store: Store) -> None:
    """A mirror that shows more than we synced (a person commented, or edited a field)
    keeps no ``updated`` stamp, so the next poll syncs it; an untouched one is stamped."""
    async with build_world(store) as world:
        await seed(world, 3, comments=1)
        runner = runner_of(world, store)
        async with asyncio.timeout(60):
            await runner.backfill()
        with store.session() as s:
            rows = list(s.scalars(select(IssuePair).order_by(IssuePair.id)))
            for snap in s.scalars(select(Snapshot).where(Snapshot.side == "cloud")):
                snap.issue_updated = None  # as the jobs that did not re-read left it
        with store.session() as s:
            refs = [
                find_pair(s, side=Side.SERVER, issue_id=r.server_issue_id, pair_id="ops")
                for r in rows
            ]
        commented, edited, untouched = (r.cloud_key for r in rows)
        await world.alice["cld"].add_comment(commented, doc("a person was here"))
        await world.alice["cld"].edit_issue(edited, IssueInput(summary="changed by a person"))
        work = backfill_module._Work(
            world.config.pairs[0], Side.SERVER, "srv", [], made=[r for r in refs if r]
        )
        assert await backfill_module._settle(runner.applier, work) == 1
        with store.session() as s:
            stamped = set(
                s.scalars(
                    select(IssuePair.cloud_key)
                    .join(Snapshot, Snapshot.issue_pair_id == IssuePair.id)
                    .where(Snapshot.side == "cloud", Snapshot.issue_updated.is_not(None))
                )
            )
        assert stamped == {untouched}
        # the next poll picks the two touched ones up, and only them
        await runner.poll_round()
        with store.session() as s:
            queued = set(
                s.scalars(
                    select(QueueJob.issue_key).where(
                        QueueJob.site == "cld", QueueJob.state == JobState.QUEUED
                    )
                )
            )
        assert queued == {commented, edited}


async def test_a_source_deleted_after_the_read_does_not_stop_the_bulk_creates(
    store: Store,
) -> None:
    """Jira refuses a whole ``id in (...)`` query naming a deleted issue: the others of the
    batch are still read and created in bulk (none falls back to one-by-one creates)."""
    async with build_world(store) as world:
        keys = await seed(world, 6, comments=0)
        server = world.apps["srv"].site
        real = backfill_module._held

        def held_then_delete(runner: SyncRunner) -> Any:
            works = real(runner)
            server.delete_issue(server.admin_key, keys[2])  # gone before the creator reads
            return works

        backfill_module._held = held_then_delete  # type: ignore[assignment]
        try:
            runner = runner_of(world, store)
            calls = await backfill_counting(world, runner)
        finally:
            backfill_module._held = real  # type: ignore[assignment]
        with store.session() as s:
            paired = {r.server_key for r in s.scalars(select(IssuePair))}
        assert paired == set(keys) - {keys[2]}
        assert calls["POST /rest/api/3/issue"] == 0
        assert calls["POST /rest/api/3/issue/bulk"] == 1
        assert len(world.apps["cld"].site.issues) == 5
