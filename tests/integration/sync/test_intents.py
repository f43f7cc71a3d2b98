"""Create intents: every mirror create is written ahead in the store and dropped with its
pair's record, so no resume path (a ``run`` after a dead backfill, a job whose attempts were
reset) creates a mirror a second time."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from jirabridge.cli import app
from jirabridge.errors import BadInputError
from jirabridge.jira import BulkCreateResult, Issue, IssueInput
from jirabridge.sync.apply import PROPERTY
from jirabridge.sync.apply._mirror import (
    forget_intents,
    pending_intents,
    record_pair,
    write_intents,
)
from jirabridge.sync.config import Side
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.queue import FailOutcome, Job, Queue
from jirabridge.sync.state import status_report
from jirabridge.sync.store import CreateIntent, IssuePair, JobState, QueueJob, Store, open_store
from jirabridge.sync.store._engine import alembic_config

from .test_adopt_mirror import die_after_create, lease_created
from .test_apply_emulator import World, build_world
from .test_backfill_bulk import cloud_calls, control, origins, runner_of, seed


class Killed(BaseException):
    """The process dies here (not an Exception: nothing in the engine may catch it)."""


def intents(store: Store) -> list[tuple[str, str, str, str, str]]:
    with store.session() as s:
        return [
            (r.pair_id, r.source_side, r.source_site, r.source_issue_id, r.source_key)
            for r in s.scalars(select(CreateIntent).order_by(CreateIntent.id))
        ]


def pairs(store: Store) -> list[IssuePair]:
    with store.session() as s:
        return list(s.scalars(select(IssuePair)))


def expire_leases(store: Store) -> None:
    """The dead process's leases run out (as they would after a SIGKILL)."""
    with store.session() as s:
        for job in s.scalars(select(QueueJob).where(QueueJob.state == JobState.LEASED)):
            job.lease_expires_at = datetime.now(UTC) - timedelta(seconds=1)


def lease_now(world: World) -> Job:
    with world.queue.store.session() as s:
        for row in s.scalars(select(QueueJob)):
            row.available_at = datetime.now(UTC)
    [job] = world.queue.lease("t")
    return job


async def test_run_after_a_backfill_killed_right_after_its_bulk_create_adopts_the_mirrors(
    store: Store,
) -> None:
    """The backfill dies right after ``POST /issue/bulk`` answered, before any pair is
    recorded; the admin then runs ``jirabridge run`` (poll and apply), not ``backfill``:
    the jobs never leased before (attempts 0) must adopt the mirrors, not create more."""
    async with build_world(store) as world:
        keys = await seed(world, 14, comments=1)
        runner = runner_of(world, store)
        client = world.bot["cld"]
        real = client.bulk_create
        written_ahead: list[int] = []
        reached = asyncio.Event()

        async def create_then_die(items: Sequence[IssueInput]) -> list[BulkCreateResult]:
            written_ahead.append(len(intents(store)))
            await real(items)
            reached.set()
            await asyncio.Event().wait()  # "killed" here: the whole process stops at once
            raise AssertionError("never")

        client.bulk_create = create_then_die
        try:
            run = asyncio.create_task(runner.backfill())
            async with asyncio.timeout(30):
                await reached.wait()
            run.cancel()
            with pytest.raises(asyncio.CancelledError):
                await run
        finally:
            client.bulk_create = real
        await asyncio.sleep(0.3)  # a lease taken in a thread as the run went down lands
        expire_leases(store)
        cloud = world.apps["cld"].site
        assert written_ahead == [10]  # the first batch, written before its POST
        assert len(cloud.issues) == 10 and pairs(store) == []
        left = intents(store)
        assert len(left) == 10
        assert {(p, side, site) for p, side, site, _, _ in left} == {("ops", "server", "srv")}
        assert {key for *_, key in left} == set(keys[:10])

        resumed = runner_of(world, store)  # a new process: nothing in memory
        async with control(world) as ctl:
            await ctl.reset_counters()
            async with asyncio.timeout(60):
                await resumed.poll_round()
                await resumed.drain()
            calls = await cloud_calls(ctl)
        # one scan served every job: each orphan's marker read once (not once per job)
        assert calls["GET /rest/api/3/issue/{key}/properties/jirabridge"] == 10
        assert len(cloud.issues) == 14
        assert max(origins(world).values()) == 1  # no source has two mirrors
        assert {r.server_key for r in pairs(store)} == set(keys)
        assert intents(store) == []
        for issue in cloud.issues.values():  # each mirror got its one comment, once
            assert len([c for c in cloud.comments.values() if c.issue_id == issue.id]) == 1


@pytest.mark.parametrize("reset", ["released", "dead_then_retried"])
@pytest.mark.parametrize("origin", ["srv", "cld"])
async def test_a_create_that_died_is_adopted_by_a_job_whose_attempts_were_reset(
    store: Store, store_url: tuple[str, str | None], origin: str, reset: str
) -> None:
    """The create POST was answered, then the worker went down before recording the pair;
    the job comes back with its attempts reset (given back by a shutdown, or dead-lettered
    and retried as a new job), so ``attempts > 1`` says nothing: the intent does."""
    target = "cld" if origin == "srv" else "srv"
    async with build_world(store) as world:
        key = await world.alice[origin].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="only once")
        )
        issue_id = (await world.alice[origin].get_issue(key)).id
        assert issue_id is not None
        client = world.bot[target]
        real = die_after_create(client, Killed())
        job = lease_created(world, origin, issue_id)
        try:
            with pytest.raises(Killed):
                await world.applier.apply(job)
        finally:
            client.create_issue = real
        side = "server" if origin == "srv" else "cloud"
        assert intents(store) == [("ops", side, origin, issue_id, key)]
        assert status_report(world.queue).pending_creates == 1
        url, schema = store_url
        if schema is None:  # the CLI's --store takes a URL (the SQLite run)
            shown = CliRunner().invoke(app, ["status", "--store", url, "--json"])
            assert json.loads(shown.output)["pending_creates"] == 1
        if reset == "released":
            assert world.queue.release(job)
        else:
            assert world.queue.fail(job, BadInputError("gave up")) is FailOutcome.DEAD
            assert world.queue.retry_dead(everything=True) == 1
        job = lease_now(world)
        assert job.attempts == 1
        assert (await world.applier.apply(job)).action == "created"
        found = [i.key async for i in client.search('project = "OPS"')]
        assert len(found) == 1
        [row] = pairs(store)
        assert (row.cloud_key if target == "cld" else row.server_key) == found[0]
        assert intents(store) == []
        assert status_report(world.queue).pending_creates == 0


async def test_a_normal_create_writes_its_intent_ahead_and_leaves_none(store: Store) -> None:
    async with build_world(store) as world:
        key = await world.alice["srv"].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="plain")
        )
        issue_id = (await world.alice["srv"].get_issue(key)).id
        assert issue_id is not None
        client = world.bot["cld"]
        real = client.create_issue
        seen: list[list[tuple[str, str, str, str, str]]] = []
        looked: list[str] = []
        real_orphans = world.applier.orphans

        async def create(data: IssueInput, *a: Any, **kw: Any) -> str:
            seen.append(intents(store))
            return str(await real(data, *a, **kw))

        async def orphans(*a: Any, **kw: Any) -> dict[str, tuple[str, str]]:
            looked.append(str(kw.get("wanted")))
            return await real_orphans(*a, **kw)

        client.create_issue = create
        world.applier.orphans = orphans  # type: ignore[method-assign]
        try:
            assert (await world.apply("srv", issue_id)).action == "created"
        finally:
            client.create_issue = real
        assert seen == [[("ops", "server", "srv", issue_id, key)]]  # durable before the POST
        assert looked == []  # no intent was there: nothing to look for
        assert len(pairs(store)) == 1
        assert intents(store) == []


async def test_a_backfill_leaves_no_intent_and_does_not_scan_for_orphans(store: Store) -> None:
    async with build_world(store) as world:
        await seed(world, 3, comments=0)
        runner = runner_of(world, store)
        calls: list[object] = []
        real = runner.applier.orphans

        async def orphans(*a: Any, **kw: Any) -> dict[str, tuple[str, str]]:
            calls.append(kw.get("wanted"))
            return await real(*a, **kw)

        runner.applier.orphans = orphans  # type: ignore[method-assign]
        async with asyncio.timeout(60):
            await runner.backfill()
        assert calls == []  # no intent left by a dead run: no listing of the bot's issues
        assert len(pairs(store)) == 3
        assert intents(store) == []


async def test_creates_jira_refuses_leave_no_intent(store: Store) -> None:
    """A mirror Jira refuses (a required field the source has no value for) is not created:
    neither the bulk create nor its job's create leaves an intent behind."""
    async with build_world(store) as world:
        cloud = world.apps["cld"].site
        team = cloud.create_custom_field("Team", "textfield")
        bug = cloud.issue_type_by_name("Bug").id
        base = cloud.field_configuration(cloud.get_project("OPS").id, bug)
        cloud.set_field_configuration(
            "OPS",
            dataclasses.replace(
                base,
                create_fields=[*base.create_fields, team.id],
                required={*base.required, team.id},
            ),
            issue_type_id=bug,
        )
        await seed(world, 2, comments=0, issue_type="Bug")
        runner = runner_of(world, store)
        async with asyncio.timeout(60):
            await runner.backfill()
        assert len(runner.queue.dead_letters()) == 2
        assert cloud.issues == {}
        assert intents(store) == []


def test_migration_0003_up_and_down(store_url: tuple[str, str | None]) -> None:
    url, schema = store_url
    store = open_store(url, schema=schema)
    try:
        assert "jb_create_intents" in inspect(store.engine).get_table_names(schema=schema)
        with store.engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
        assert "jb_create_intents" not in inspect(store.engine).get_table_names(schema=schema)
        assert "jb_issue_pairs" in inspect(store.engine).get_table_names(schema=schema)
        store.migrate()
        assert "jb_create_intents" in inspect(store.engine).get_table_names(schema=schema)
    finally:
        store.dispose()


def test_intents_are_written_once_per_source_and_dropped_by_the_pair_record(store: Store) -> None:
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def issue(issue_id: str, key: str) -> Issue:
        return Issue(
            id=issue_id, key=key, project_key="OPS", issue_type="Task", summary=key, status="Open"
        )

    a, b = issue("10", "OPS-1"), issue("11", "OPS-2")
    with store.session() as s:
        assert write_intents(s, "ops", Side.SERVER, "srv", [a, b], now=t0) == set()
    with store.session() as s:  # again (a create sent twice): the first may have happened
        later = t0 + timedelta(minutes=5)
        assert write_intents(s, "ops", Side.SERVER, "srv", [b], now=later) == {"11"}
        assert write_intents(s, "ops", Side.CLOUD, "cld", [b], now=later) == set()
        assert write_intents(s, "other", Side.SERVER, "srv", [b], now=later) == set()
    with store.session() as s:
        assert pending_intents(s, "ops", Side.SERVER) == {"server:10", "server:11"}
        ats = dict(
            s.execute(
                select(CreateIntent.source_issue_id, CreateIntent.at).where(
                    CreateIntent.pair_id == "ops", CreateIntent.source_side == "server"
                )
            ).all()
        )
        assert ats == {"10": t0, "11": t0 + timedelta(minutes=5)}
        record_pair(s, "ops", Side.SERVER, b, issue("900", "CLD-1"), now=t0)
    with store.session() as s:
        assert pending_intents(s, "ops", Side.SERVER) == {"server:10"}
        assert pending_intents(s, "ops", Side.CLOUD) == {"cloud:11"}  # another side's
        assert pending_intents(s, "other", Side.SERVER) == {"server:11"}  # another pair's


async def test_one_scan_serves_other_jobs_but_only_with_hits_still_unpaired(store: Store) -> None:
    async with build_world(store) as world:
        bot, applier = world.bot["cld"], world.applier
        scans: list[object] = []
        real = applier.orphans

        async def orphans(*a: Any, **kw: Any) -> dict[str, tuple[str, str]]:
            scans.append(kw.get("wanted"))
            return await real(*a, **kw)

        applier.orphans = orphans  # type: ignore[method-assign]

        async def orphan(origin: str) -> str:
            data = IssueInput(project_key="OPS", issue_type="Task", summary=origin)
            marker = {"pair": "ops", "origin": origin}
            return str(
                await bot.create_issue(dataclasses.replace(data, properties={PROPERTY: marker}))
            )

        async def find(origin: str) -> str | None:
            key = await applier.find_unpaired_mirror(bot, "ops", Side.CLOUD, "OPS", origin)
            return None if key is None else str(key)

        a, b, c = [await orphan(o) for o in ("server:1", "server:2", "server:3")]
        assert await find("server:1") == a and len(scans) == 1
        assert await find("server:2") == b and len(scans) == 1  # from the first scan
        # paired meanwhile (by a backfill, say): the remembered hit is not handed out
        c_issue = await bot.get_issue(c)
        with store.session() as s:
            source = dataclasses.replace(c_issue, id="3", key="SRV-3")
            record_pair(s, "ops", Side.SERVER, source, c_issue, now=datetime.now(UTC))
        assert await find("server:3") is None and len(scans) == 2
        # a miss is never remembered: the next look scans again and finds a new orphan
        assert await find("server:4") is None and len(scans) == 3
        d = await orphan("server:4")
        assert await find("server:4") == d and len(scans) == 4


def add_intent(store: Store, issue_id: str, at: datetime, site: str = "srv") -> None:
    with store.session() as s:
        s.add(
            CreateIntent(
                pair_id="ops",
                source_side="server",
                source_site=site,
                source_issue_id=issue_id,
                source_key=f"OPS-{issue_id}",
                at=at,
            )
        )


def test_only_old_intents_whose_source_has_no_job_are_forgotten(store: Store) -> None:
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    add_intent(store, "1", now - timedelta(hours=1))  # old, no job: goes
    add_intent(store, "2", now - timedelta(hours=1))  # old, its job is queued: stays
    add_intent(store, "3", now)  # recent: stays
    add_intent(store, "4", now - timedelta(hours=1), site="elsewhere")  # a job on srv only
    Queue(store).enqueue(
        ChangeNotice(site="srv", issue_id="2", event=EventKind.ISSUE_UPDATED, observed_at=now)
    )
    Queue(store).enqueue(
        ChangeNotice(site="srv", issue_id="4", event=EventKind.ISSUE_UPDATED, observed_at=now)
    )
    with store.session() as s:
        before = now - timedelta(minutes=10)
        assert forget_intents(s, "ops", Side.CLOUD, ["1", "2", "3", "4"], before=before) == 0
        assert forget_intents(s, "ops", Side.SERVER, ["1", "2", "3", "4"], before=before) == 2
    assert [i[3] for i in intents(store)] == ["2", "3"]


async def test_a_backfill_forgets_old_intents_with_no_mirror_and_no_job(store: Store) -> None:
    """A source deleted after its create was written ahead (and refused or never sent) would
    make every later backfill scan for its mirror: once a scan finds none, the intent goes."""
    async with build_world(store) as world:
        await seed(world, 1, comments=0)
        add_intent(store, "77777", datetime.now(UTC) - timedelta(hours=1))
        add_intent(store, "88888", datetime.now(UTC))  # too recent to judge
        runner = runner_of(world, store)
        async with asyncio.timeout(60):
            await runner.backfill()
        assert len(pairs(store)) == 1
        assert [i[3] for i in intents(store)] == ["88888"]
