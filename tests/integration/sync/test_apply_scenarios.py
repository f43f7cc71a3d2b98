"""The seed scenarios (examples/) and the failure paths of the apply step, on both emulators."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from jirabridge.jira import IssueInput
from jirabridge.sync.config import QueueConfig
from jirabridge.sync.pairs import link_pair
from jirabridge.sync.queue import Queue, run_workers
from jirabridge.sync.store import Conflict, IssuePair, Store

from .test_apply_emulator import World, build_world, doc, text_of

NOW_KEYS: dict[str, Any] = {}


async def paired(world: World) -> tuple[str, str, str, str]:
    """An issue on each side, linked, with a first sync done: (s_key, s_id, c_key, c_id)."""
    from datetime import UTC, datetime

    from jirabridge.sync.config import Side

    s_key = await world.alice["srv"].create_issue(
        IssueInput(project_key="OPS", issue_type="Task", summary="same")
    )
    c_key = await world.alice["cld"].create_issue(
        IssueInput(project_key="OPS", issue_type="Task", summary="same")
    )
    s_id = (await world.alice["srv"].get_issue(s_key)).id
    c_id = (await world.alice["cld"].get_issue(c_key)).id
    with world.queue.store.session() as s:
        link_pair(
            s,
            pair_id="ops",
            server=(s_id, s_key),
            cloud=(c_id, c_key),
            origin=Side.SERVER,
            now=datetime.now(UTC),
        )
    await world.apply("srv", s_id)
    return s_key, s_id, c_key, c_id


async def test_server_done_resolves_cloud_with_a_comment(store: Store) -> None:
    pair = {
        "create": "none",
        "fields": [
            {"name": "summary", "direction": "cloud_to_server"},
            {"name": "status", "direction": "server_to_cloud", "conflict": "server_wins"},
        ],
        "comments": {"direction": "cloud_to_server"},
        "rules": [
            {
                "name": "Server Done resolves Cloud",
                "when": {"side": "server", "event": "transitioned", "status_category": "done"},
                "then": [
                    {
                        "action": "transition_mirror",
                        "to_status": "Done",
                        "resolution": "Done",
                        "comment": "Resolved on the Server site as {key} ({status}).",
                    }
                ],
            }
        ],
    }
    async with build_world(store, pair) as world:
        s_key, s_id, c_key, _ = await paired(world)
        transitions = await world.alice["srv"].transitions(s_key)
        done = next(t for t in transitions if t.to_status == "Done")
        await world.alice["srv"].transition(s_key, done.id)
        await world.apply("srv", s_id)
        cloud = await world.bot["cld"].get_issue(c_key)
        assert cloud.status == "Done"
        assert cloud.resolution == "Done"
        comments = [text_of(c.body) async for c in world.bot["cld"].comments(c_key)]
        assert comments == [f"Resolved on the Server site as {s_key} (Done)."]
        # the Cloud-side transition and comment are ours: nothing comes back
        assert [c async for c in world.bot["srv"].comments(s_key)] == []
        assert (await world.apply("srv", s_id)).writes == 0


async def test_new_cloud_issue_creates_server_issue_and_writes_the_key_back(
    store: Store,
) -> None:
    pair = {
        "create": "cloud_to_server",
        "fields": [{"name": "summary"}, {"name": "priority"}],
        "rules": [
            {
                "name": "intake",
                "when": {"side": "cloud", "event": "created"},
                "then": [
                    {
                        "action": "create_mirror",
                        "issue_type": "Bug",
                        "write_back_field": "customfield_10090",
                    }
                ],
            }
        ],
    }
    async with build_world(store, pair) as world:
        c_key = await world.alice["cld"].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="From Cloud", priority="High")
        )
        c_id = (await world.alice["cld"].get_issue(c_key)).id
        result = await world.apply("cld", c_id)
        assert result.action == "created"
        with store.session() as s:
            row = s.scalars(select(IssuePair)).one()
        server = await world.bot["srv"].get_issue(row.server_key)
        assert (server.summary, server.priority, server.issue_type) == ("From Cloud", "High", "Bug")
        cloud = await world.bot["cld"].get_issue(c_key)
        assert cloud.custom_fields["customfield_10090"].value == server.key
        links = await world.bot["srv"].remote_links(server.key)
        assert any(c_key in link.title for link in links)
        # a Server issue does not create a Cloud one in this scenario
        s_only = await world.alice["srv"].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="Server only")
        )
        ignored = await world.apply("srv", (await world.alice["srv"].get_issue(s_only)).id)
        assert ignored.action == "ignored"


async def test_priority_raised_on_either_side_is_propagated(store: Store) -> None:
    pair = {
        "fields": [{"name": "summary"}, {"name": "priority", "immediate": True}],
        "translations": {
            "priority": {"map": {"Highest": "High", "High": "Highest"}, "unmapped": "keep"}
        },
    }
    async with build_world(store, pair) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        await world.alice["srv"].edit_issue(s_key, IssueInput(priority="Highest"))
        await world.apply("srv", s_id)
        assert (await world.bot["cld"].get_issue(c_key)).priority == "High"
        await world.alice["cld"].edit_issue(c_key, IssueInput(priority="Highest"))
        await world.apply("cld", c_id)
        assert (await world.bot["srv"].get_issue(s_key)).priority == "High"
        assert (await world.apply("srv", s_id)).writes == 0


async def test_edits_on_both_sides_follow_the_latest_and_are_recorded(store: Store) -> None:
    async with build_world(store) as world:
        s_key, s_id, c_key, _ = await paired(world)
        await world.alice["srv"].edit_issue(s_key, IssueInput(summary="server says"))
        await asyncio.sleep(0.01)
        await world.alice["cld"].edit_issue(c_key, IssueInput(summary="cloud says"))
        await world.apply("srv", s_id)
        assert (await world.bot["srv"].get_issue(s_key)).summary == "cloud says"
        assert (await world.bot["cld"].get_issue(c_key)).summary == "cloud says"
        with store.session() as s:
            [conflict] = s.scalars(select(Conflict)).all()
        assert (conflict.field, conflict.winner) == ("summary", "cloud")
        assert conflict.server_value == {"value": "server says"}


async def test_unreachable_status_is_dead_lettered_and_others_go_on(store: Store) -> None:
    pair = {
        "fields": [{"name": "summary"}, {"name": "status", "values": "st"}],
        "translations": {"st": {"map": {"In Progress": "Blocked"}}},
    }
    async with build_world(store, pair) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        transitions = await world.alice["srv"].transitions(s_key)
        started = next(t for t in transitions if t.to_status == "In Progress")
        await world.alice["srv"].transition(s_key, started.id)
        other_s, other_s_id, other_c, _ = await paired(world)
        await world.alice["srv"].edit_issue(other_s, IssueInput(summary="fine"))
        queue = Queue(
            store,
            config=QueueConfig(coalesce_seconds=0),
            site_sides={"srv": "server", "cld": "cloud"},
        )
        from datetime import UTC, datetime

        from jirabridge.sync.notices import ChangeNotice, EventKind

        for issue_id in (s_id, other_s_id):
            queue.enqueue(
                ChangeNotice(
                    site="srv",
                    issue_id=issue_id,
                    event=EventKind.ISSUE_UPDATED,
                    observed_at=datetime.now(UTC),
                )
            )
        stop = asyncio.Event()

        async def stop_when_idle() -> None:
            while queue.stats().queued or queue.stats().leased:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            stop.set()

        await asyncio.wait_for(
            asyncio.gather(
                run_workers(queue, world.applier, workers=2, stop=stop, idle_seconds=0.05),
                stop_when_idle(),
            ),
            timeout=60,
        )
        [dead] = queue.dead_letters()
        assert dead.issue_id == s_id
        assert dead.error_branch == "SkipItemError"
        assert "Blocked" in dead.reason
        assert (await world.bot["cld"].get_issue(other_c)).summary == "fine"
        assert (await world.bot["cld"].get_issue(c_key)).status != "Blocked"
        del c_id


async def test_deleted_issue_is_not_an_error_but_a_missing_one_is(store: Store) -> None:
    from datetime import UTC, datetime

    import pytest

    from jirabridge.errors import SkipItemError
    from jirabridge.sync.notices import ChangeNotice, EventKind

    async with build_world(store) as world:
        for event in (EventKind.ISSUE_DELETED, EventKind.ISSUE_UPDATED):
            world.queue.enqueue(
                ChangeNotice(
                    site="srv", issue_id="99999", event=event, observed_at=datetime.now(UTC)
                ),
                immediate=True,
            )
            [job] = world.queue.lease("t")
            if event is EventKind.ISSUE_DELETED:
                assert (await world.applier.apply(job)).action == "ignored"
            else:
                with pytest.raises(SkipItemError):
                    await world.applier.apply(job)


async def test_attachments_copied_once_and_links_merged(store: Store) -> None:
    from jirabridge.jira import LinkDirection

    async with build_world(store) as world:
        s1, s1_id, c1, c1_id = await paired(world)
        s2, _, c2, _ = await paired(world)
        await world.alice["cld"].add_attachment(c1, "notes.txt", b"hello world", "text/plain")
        types = [t["name"] for t in await world.alice["srv"].link_types()]
        link_type = "Blocks" if "Blocks" in types else types[0]
        await world.alice["srv"].create_link(link_type, s1, s2)
        await world.apply("srv", s1_id)
        server = await world.bot["srv"].get_issue(s1)
        assert [a.filename for a in server.attachments] == ["notes.txt"]
        assert await world.bot["srv"].download_attachment(server.attachments[0]) == b"hello world"
        cloud = await world.bot["cld"].get_issue(c1)
        assert (link_type, LinkDirection.OUTWARD, c2) in {
            (x.type_name, x.direction, x.other_key) for x in cloud.links
        }
        # nothing is copied back or doubled
        assert (await world.apply("cld", c1_id)).writes == 0
        assert (await world.apply("srv", s1_id)).writes == 0
        assert len((await world.bot["cld"].get_issue(c1)).attachments) == 1
        assert len((await world.bot["cld"].get_issue(c1)).links) == 1
        # a link removed on one side is not removed on the other (merge, never overwrite)
        [server_link] = (await world.bot["srv"].get_issue(s1)).links
        assert server_link.id is not None
        await world.alice["srv"].delete_link(server_link.id)
        await world.apply("srv", s1_id)
        assert len((await world.bot["cld"].get_issue(c1)).links) == 1


async def test_epic_parent_is_mapped_through_the_pairs_once_both_exist(store: Store) -> None:
    pair = {"fields": [{"name": "summary"}, {"name": "parent"}]}
    async with build_world(store, pair) as world:
        epic = await world.alice["cld"].create_issue(
            IssueInput(project_key="OPS", issue_type="Epic", summary="Big thing")
        )
        story = await world.alice["cld"].create_issue(
            IssueInput(project_key="OPS", issue_type="Story", summary="Part", parent_key=epic)
        )
        story_id = (await world.alice["cld"].get_issue(story)).id
        epic_id = (await world.alice["cld"].get_issue(epic)).id
        # the story first: its epic has no mirror yet, so the parent waits
        assert (await world.apply("cld", story_id)).action == "created"
        await world.apply("cld", epic_id)
        await world.apply("cld", story_id)
        with store.session() as s:
            rows = {r.cloud_key: r for r in s.scalars(select(IssuePair))}
        server_story = await world.bot["srv"].get_issue(rows[story].server_key)
        assert server_story.parent_key == rows[epic].server_key
        assert (await world.apply("srv", server_story.id)).writes == 0


async def test_assignee_goes_through_the_user_mapping(store: Store) -> None:
    pair = {"fields": [{"name": "summary"}, {"name": "assignee"}]}
    async with build_world(store, pair) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        alice_s = await world.alice["srv"].myself()
        alice_c = await world.alice["cld"].myself()
        await world.alice["srv"].edit_issue(s_key, IssueInput(assignee=alice_s))
        await world.apply("srv", s_id)
        cloud = await world.bot["cld"].get_issue(c_key)
        assert cloud.assignee is not None
        assert cloud.assignee.account_id == alice_c.account_id  # matched by e-mail
        assert (await world.apply("cld", c_id)).writes == 0


async def test_unmatched_user_is_skipped_and_audited_not_guessed(store: Store) -> None:
    from jirabridge.sync.store import AuditEntry

    pair = {"fields": [{"name": "summary"}, {"name": "assignee"}]}
    async with build_world(store, pair) as world:
        s_key, s_id, c_key, _ = await paired(world)
        from jirabridge.jira import UserRef

        users = await world.bot["srv"].find_users("svc-jirabridge")
        bot_s = next(u for u in users if u.name == "svc-jirabridge")
        # the bot has no e-mail on Server and no entry in users.map: no Cloud match
        await world.alice["srv"].edit_issue(s_key, IssueInput(assignee=UserRef(name=bot_s.name)))
        await world.apply("srv", s_id)
        assert (await world.bot["cld"].get_issue(c_key)).assignee is None
        with store.session() as s:
            skipped = s.scalars(select(AuditEntry).where(AuditEntry.kind == "field_skipped")).all()
        assert [e.message.split(":")[0] for e in skipped] == ["assignee"]


async def test_only_issues_matching_the_side_jql_take_part(store: Store) -> None:
    pair = {
        "cloud": {"site": "cld", "project": "OPS", "jql": "labels = sync"},
        "fields": [{"name": "summary"}],
    }
    async with build_world(store, pair) as world:
        out = await world.alice["cld"].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="private")
        )
        inside = await world.alice["cld"].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="shared", labels=("sync",))
        )
        ignored = await world.apply("cld", (await world.alice["cld"].get_issue(out)).id)
        assert ignored.action == "ignored"
        created = await world.apply("cld", (await world.alice["cld"].get_issue(inside)).id)
        assert created.action == "created"


async def test_transition_rule_fires_once_even_when_status_is_not_synced(store: Store) -> None:
    pair = {
        "fields": [{"name": "summary"}],
        "rules": [
            {
                "name": "done note",
                "when": {"side": "server", "event": "transitioned", "status": "In Progress"},
                "then": [{"action": "add_comment", "target": "cloud", "body": "{key} started"}],
            }
        ],
    }
    async with build_world(store, pair) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        transitions = await world.alice["srv"].transitions(s_key)
        started = next(t for t in transitions if t.to_status == "In Progress")
        await world.alice["srv"].transition(s_key, started.id)
        await world.apply("srv", s_id)
        await world.apply("srv", s_id)
        await world.apply("cld", c_id)
        comments = [text_of(c.body) async for c in world.bot["cld"].comments(c_key)]
        assert comments == [f"{s_key} started"]


async def test_sprint_membership_follows_by_sprint_name(store: Store) -> None:
    pair = {"fields": [{"name": "summary"}], "sprints": "both"}
    async with build_world(store, pair) as world:
        ids: dict[str, dict[str, int]] = {"srv": {}, "cld": {}}
        boards: dict[str, int] = {}
        # boards and sprints are set up in the emulators' models directly
        for name, app in world.apps.items():
            board = app.site.create_board("OPS board", "scrum", project_ref="OPS")
            boards[name] = board.id
            for sprint in ("Sprint 1", "Sprint 2"):
                made = app.site.create_sprint(app.site.admin_key, board.id, sprint)
                ids[name][sprint] = made.id
        s_key, s_id, c_key, c_id = await paired(world)
        await world.bot["srv"].move_to_sprint(ids["srv"]["Sprint 1"], [s_key])
        await world.apply("srv", s_id)

        async def sprint_names(site: str, key: str) -> list[int]:
            issue = await world.bot[site].get_issue(key)
            values = [
                v.value for v in issue.custom_fields.values() if v.custom and "sprint" in v.custom
            ]
            return sorted(i for v in values for i in v)

        assert await sprint_names("cld", c_key) == [ids["cld"]["Sprint 1"]]
        await world.bot["cld"].move_to_sprint(ids["cld"]["Sprint 2"], [c_key])
        await world.apply("cld", c_id)
        assert await sprint_names("srv", s_key) == [ids["srv"]["Sprint 2"]]
        assert (await world.apply("srv", s_id)).writes == 0
        await world.bot["srv"].move_to_backlog([s_key])
        await world.apply("srv", s_id)
        assert await sprint_names("cld", c_key) == []
        # a sprint created after the engine cached the boards is still found
        for name, app in world.apps.items():
            ids[name]["Sprint 3"] = app.site.create_sprint(
                app.site.admin_key, boards[name], "Sprint 3"
            ).id
        await world.bot["srv"].move_to_sprint(ids["srv"]["Sprint 3"], [s_key])
        await world.apply("srv", s_id)
        assert await sprint_names("cld", c_key) == [ids["cld"]["Sprint 3"]]


async def test_sub_task_waits_for_its_parent_mirror(store: Store) -> None:
    import pytest

    from jirabridge.errors import RetryLaterError

    pair = {"fields": [{"name": "summary"}, {"name": "parent"}]}
    async with build_world(store, pair) as world:
        story = await world.alice["cld"].create_issue(
            IssueInput(project_key="OPS", issue_type="Story", summary="Story")
        )
        sub = await world.alice["cld"].create_issue(
            IssueInput(project_key="OPS", issue_type="Sub-task", summary="Step", parent_key=story)
        )
        sub_id = (await world.alice["cld"].get_issue(sub)).id
        from datetime import UTC, datetime

        from jirabridge.sync.notices import ChangeNotice, EventKind
        from jirabridge.sync.queue import FailOutcome

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
        with pytest.raises(RetryLaterError, match="no mirror yet") as info:
            await world.applier.apply(job)
        assert world.queue.fail(job, info.value) is FailOutcome.RETRY  # not dead-lettered
        await world.apply("cld", (await world.alice["cld"].get_issue(story)).id)
        sub_job = world.queue.stats()
        assert sub_job.queued == 1
        with store.session() as s:
            rows = {r.cloud_key: r for r in s.scalars(select(IssuePair))}
        assert sub not in rows
        # after the backoff the sub-task's job runs again and finds the parent's mirror
        from jirabridge.sync.store import QueueJob

        with store.session() as s:
            s.scalars(select(QueueJob)).one().available_at = datetime.now(UTC)
        [job] = world.queue.lease("t")
        assert (await world.applier.apply(job)).action == "created"
        with store.session() as s:
            rows = {r.cloud_key: r for r in s.scalars(select(IssuePair))}
        server_sub = await world.bot["srv"].get_issue(rows[sub].server_key)
        assert server_sub.parent_key == rows[story].server_key
        assert server_sub.issue_type == "Sub-task"


async def test_comment_edits_and_deletes_follow_by_comment_id(store: Store) -> None:
    async with build_world(store) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        first = await world.alice["srv"].add_comment(s_key, doc("first"))
        await world.alice["srv"].add_comment(s_key, doc("second"))
        await world.apply("srv", s_id)
        mirrored = [c async for c in world.bot["cld"].comments(c_key)]
        assert [text_of(c.body).split(":", 1)[1].strip() for c in mirrored] == ["first", "second"]
        assert first.id is not None
        await world.alice["srv"].update_comment(s_key, first.id, doc("first, corrected"))
        await world.apply("srv", s_id)
        texts = [text_of(c.body) async for c in world.bot["cld"].comments(c_key)]
        assert any(t.endswith("first, corrected") for t in texts) and len(texts) == 2
        await world.alice["srv"].delete_comment(s_key, first.id)
        await world.apply("srv", s_id)
        texts = [text_of(c.body) async for c in world.bot["cld"].comments(c_key)]
        assert len(texts) == 1 and texts[0].endswith("second")
        assert (await world.apply("cld", c_id)).writes == 0
        assert len([c async for c in world.bot["srv"].comments(s_key)]) == 1


async def test_a_change_made_while_a_job_runs_is_not_lost(store: Store) -> None:
    """Someone edits the source while the engine is writing the mirror: the snapshot must not
    swallow that edit, and the poll must not take it for the engine's own echo."""
    async with build_world(store) as world:
        s_key, s_id, c_key, _ = await paired(world)
        cloud_bot = world.bot["cld"]

        class Meddling:
            def __getattr__(self, name: str) -> Any:
                return getattr(cloud_bot, name)

            async def edit_issue(self, key: str, *args: Any, **kwargs: Any) -> None:
                await cloud_bot.edit_issue(key, *args, **kwargs)
                # meanwhile, on Server, a person changes another field
                await world.alice["srv"].edit_issue(s_key, IssueInput(labels=("late",)))

        world.applier.clients["cld"] = Meddling()  # type: ignore[assignment]
        await world.alice["srv"].edit_issue(s_key, IssueInput(summary="first change"))
        await world.apply("srv", s_id)
        world.applier.clients["cld"] = cloud_bot
        cloud = await cloud_bot.get_issue(c_key)
        assert cloud.summary == "first change"
        assert cloud.labels == ()  # not yet: it happened during the job
        with store.session() as s:
            from jirabridge.sync.store import Snapshot

            snap = s.scalars(select(Snapshot).where(Snapshot.side == "server")).one()
        # not the edit's stamp (None, or the start read's: the Server side was not written),
        # so a poll will not take it for our echo
        late = (await world.bot["srv"].get_issue(s_key)).updated
        assert late is not None
        assert snap.issue_updated is None or snap.issue_updated < late
        await world.apply("srv", s_id)
        assert (await cloud_bot.get_issue(c_key)).labels == ("late",)


async def test_mentions_point_at_the_same_person_on_the_other_site(store: Store) -> None:
    pair = {"fields": [{"name": "summary"}, {"name": "description"}]}
    async with build_world(store, pair, markup=True) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        alice_c = await world.alice["cld"].myself()
        mention = {"type": "mention", "attrs": {"id": "alice", "text": "@Alice"}}
        nobody = {"type": "mention", "attrs": {"id": "ghost", "text": "@Ghost"}}
        body = {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "paragraph",
                    "content": [
                        {"type": "text", "text": "ask "},
                        mention,
                        {"type": "text", "text": " and "},
                        nobody,
                    ],
                }
            ],
        }
        await world.alice["srv"].edit_issue(s_key, IssueInput(description=body))
        await world.apply("srv", s_id)
        cloud = await world.bot["cld"].get_issue(c_key)
        from jirabridge.sync.richtext import mention_ids

        assert mention_ids(cloud.description) == {
            alice_c.account_id
        }  # Alice on Cloud, matched by e-mail
        assert "@ghost" in text_of(cloud.description).lower()  # unknown there: plain text
        # and back: a Cloud comment mentioning Alice names the Server user
        comment = {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "paragraph",
                    "content": [
                        {"type": "mention", "attrs": {"id": alice_c.account_id, "text": "@Alice"}}
                    ],
                }
            ],
        }
        await world.alice["cld"].add_comment(c_key, comment)
        await world.apply("cld", c_id)
        [mirrored] = [c async for c in world.bot["srv"].comments(s_key)]
        assert mention_ids(mirrored.body) == {"alice"}
        assert (await world.apply("srv", s_id)).writes == 0
