"""HTTP calls of one live job: a side the job wrote nothing to is not read again at the end,
and comments come from the issue reads when those hold them all (a listing with properties
only when one of our comments lacks a pair, or for a retried job). Counted through a
counting transport under the engine's own clients."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import httpx
from sqlalchemy import select

from jirabridge.jira import (
    CloudClient,
    IssueInput,
    PlainCodec,
    RateGovernor,
    RetryPolicy,
    ServerClient,
    basic_auth,
    cloud_api_token_auth,
)
from jirabridge.sync.apply import Applier
from jirabridge.sync.apply._base import tracked
from jirabridge.sync.config import Side
from jirabridge.sync.store import CommentPair, IssuePair, Store
from tests.integration.sync.test_apply_emulator import World, build_world, doc, text_of


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, site: str) -> None:
        self.inner = inner
        self.site = site
        self.calls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = re.sub(r"/rest/api/[23]/", "/", request.url.path)
        path = re.sub(r"/issue/(OPS-)?\d+", "/issue/X", path)  # by key or by id
        expand = request.url.params.get("expand")
        self.calls.append(
            f"{self.site} {request.method} {path}" + (f" +{expand}" if expand else "")
        )
        return await self.inner.handle_async_request(request)


@dataclass
class Counted:
    world: World
    transports: dict[str, CountingTransport]

    def reset(self) -> None:
        for t in self.transports.values():
            t.calls.clear()

    def calls(self) -> list[str]:
        return [c for t in self.transports.values() for c in t.calls]


@asynccontextmanager
async def counted_world(store: Store) -> AsyncIterator[Counted]:
    async with build_world(store) as world:
        transports = {
            site: CountingTransport(httpx.ASGITransport(app=app), site)
            for site, app in world.apps.items()
        }
        kinds = {
            "srv": (ServerClient, basic_auth("svc-jirabridge", "pw")),
            "cld": (CloudClient, cloud_api_token_auth("bot@acme.io", "tok")),
        }
        bot: dict[str, Any] = {
            site: cls(
                world.apps[site].base_url,
                auth=auth,
                codec=PlainCodec(),
                retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
                governor=RateGovernor(),
                transport=transports[site],
            )
            for site, (cls, auth) in kinds.items()
        }
        world.applier = Applier(world.config, bot, world.queue)
        try:
            yield Counted(world, transports)
        finally:
            for c in bot.values():
                await c.aclose()


async def paired(c: Counted, store: Store) -> tuple[str, str, str]:
    """A Server issue with its Cloud mirror and one edit synced (the clients' caches warm)."""
    world = c.world
    key = await world.alice["srv"].create_issue(
        IssueInput(project_key="OPS", issue_type="Task", summary="Disk full")
    )
    issue = await world.alice["srv"].get_issue(key)
    assert issue.id is not None
    assert (await world.apply("srv", issue.id)).action == "created"
    await world.alice["srv"].edit_issue(key, IssueInput(summary="warm up"))
    assert (await world.apply("srv", issue.id)).writes == 1
    with store.session() as s:
        cloud_key = s.scalars(select(IssuePair)).one().cloud_key
    c.reset()
    return key, issue.id, cloud_key


async def test_a_one_field_edit_takes_four_calls(store: Store) -> None:
    async with counted_world(store) as c:
        key, issue_id, cloud_key = await paired(c, store)
        await c.world.alice["srv"].edit_issue(key, IssueInput(summary="Disk still full"))
        assert (await c.world.apply("srv", issue_id)).writes == 1
        assert sorted(c.calls()) == sorted(
            [
                "srv GET /issue/X +changelog",  # the job's issue
                "cld GET /issue/X +changelog",  # its mirror
                "cld PUT /issue/X",  # the edit
                "cld GET /issue/X +changelog",  # the written side, read again
            ]
        )  # was 7: the Server issue read again and both sides' comments listed
        assert (await c.world.bot["cld"].get_issue(cloud_key)).summary == "Disk still full"
        # the snapshots saved are right: the echo of our write and the job again write nothing
        c.reset()
        assert (await c.world.apply("srv", issue_id)).writes == 0
        assert (await c.world.apply("cld", cloud_key)).writes == 0
        assert sorted(c.calls()) == sorted(
            ["srv GET /issue/X +changelog", "cld GET /issue/X +changelog"]
            + ["cld GET /issue/X +changelog", "srv GET /issue/X +changelog"]
        )


async def test_a_change_made_meanwhile_on_the_unwritten_side_is_synced_next_time(
    store: Store,
) -> None:
    async with counted_world(store) as c:
        key, issue_id, cloud_key = await paired(c, store)
        await c.world.alice["srv"].edit_issue(key, IssueInput(summary="first"))
        real = c.world.applier._write_fields

        async def edit_meanwhile(ctx: Any, plan: Any) -> None:
            await real(ctx, plan)
            # a person edits the job's own issue while the job writes the mirror
            await c.world.alice["srv"].edit_issue(key, IssueInput(summary="second"))

        c.world.applier._write_fields = edit_meanwhile  # type: ignore[method-assign]
        assert (await c.world.apply("srv", issue_id)).writes == 1
        c.world.applier._write_fields = real  # type: ignore[method-assign]
        assert (await c.world.bot["cld"].get_issue(cloud_key)).summary == "first"
        # the start read's ``updated`` was kept: the later edit is a change, not our echo
        assert (await c.world.apply("srv", issue_id)).writes == 1
        assert (await c.world.bot["cld"].get_issue(cloud_key)).summary == "second"


async def test_comments_come_from_the_issue_reads(store: Store) -> None:
    async with counted_world(store) as c:
        key, issue_id, cloud_key = await paired(c, store)
        await c.world.alice["srv"].add_comment(key, doc("hello"))
        assert (await c.world.apply("srv", issue_id)).writes == 1
        assert sorted(c.calls()) == sorted(
            [
                "srv GET /issue/X +changelog",
                "cld GET /issue/X +changelog",
                "cld POST /issue/X/comment",
                "cld GET /issue/X",  # written (a comment): read again, no field written
            ]
        )
        [mirror] = [x async for x in c.world.bot["cld"].comments(cloud_key)]
        assert "hello" in text_of(mirror.body)
        # our mirror is paired: the next job again lists nothing and posts nothing
        c.reset()
        assert (await c.world.apply("cld", cloud_key)).writes == 0
        assert sorted(c.calls()) == sorted(
            ["cld GET /issue/X +changelog", "srv GET /issue/X +changelog"]
        )
        with store.session() as s:
            assert len(s.scalars(select(CommentPair)).all()) == 1


async def test_an_unpaired_comment_of_ours_is_listed_with_properties_and_adopted(
    store: Store,
) -> None:
    async with counted_world(store) as c:
        key, issue_id, cloud_key = await paired(c, store)
        await c.world.alice["srv"].add_comment(key, doc("hello"))
        assert (await c.world.apply("srv", issue_id)).writes == 1
        with store.session() as s:  # the attempt "died" before its pair row was written
            s.delete(s.scalars(select(CommentPair)).one())
        c.reset()
        assert (await c.world.apply("srv", issue_id)).writes == 0
        calls = c.calls()
        assert "cld GET /issue/X/comment +properties" in calls  # the side with the orphan
        assert not [x for x in calls if x.startswith("srv GET /issue/X/comment")]
        assert len([x async for x in c.world.bot["cld"].comments(cloud_key)]) == 1
        with store.session() as s:
            assert len(s.scalars(select(CommentPair)).all()) == 1  # adopted, not posted again


async def test_a_retried_job_lists_the_comments_of_both_sides(store: Store) -> None:
    async with counted_world(store) as c:
        key, issue_id, cloud_key = await paired(c, store)
        await c.world.alice["srv"].edit_issue(key, IssueInput(summary="again"))
        real = c.world.queue.lease

        def lease_retried(*args: Any, **kwargs: Any) -> Any:
            from dataclasses import replace

            return [replace(j, attempts=2) for j in real(*args, **kwargs)]

        c.world.queue.lease = lease_retried  # type: ignore[method-assign]
        assert (await c.world.apply("srv", issue_id)).writes == 1
        calls = c.calls()
        assert "srv GET /issue/X/comment +properties" in calls
        assert "cld GET /issue/X/comment +properties" in calls


async def test_the_issue_read_tells_whether_it_holds_every_comment(store: Store) -> None:
    async with counted_world(store) as c:
        key, _, _ = await paired(c, store)
        for n in range(3):
            await c.world.alice["srv"].add_comment(key, doc(f"c{n}"))
        full = await c.world.bot["srv"].get_issue(key)
        assert full.comments_total == 3 and len(full.comments) == 3
        assert (await c.world.bot["srv"].get_issue(key, fields=["summary"])).comments_total is None
        raw = await c.world.bot["srv"].get_issue_raw(key)
        raw["fields"]["comment"]["comments"] = raw["fields"]["comment"]["comments"][:1]
        reader = await c.world.bot["srv"].reader()
        cut = reader.issue(raw)
        assert len(cut.comments) == 1 and cut.comments_total == 3  # a first page only
        raw["fields"]["comment"].pop("total")
        assert reader.issue(raw).comments_total == 1


@runtime_checkable
class _Ids(Protocol):
    async def media_id(self, attachment: str) -> str | None: ...


class _Fake:
    def __init__(self) -> None:
        self.flavour = "cloud"

    async def media_id(self, attachment: str) -> str | None:
        return attachment

    async def get_issue(self, key: str) -> str:
        return key

    async def frobnicate(self, key: str) -> str:  # unknown: taken for a write
        return key


async def test_tracked_clients_note_the_writes_only_and_keep_their_abilities() -> None:
    touched: set[Side] = set()
    clients = tracked({Side.SERVER: _Fake(), Side.CLOUD: object()}, touched)  # type: ignore[dict-item]
    server = clients[Side.SERVER]
    assert isinstance(server, _Ids) and not isinstance(clients[Side.CLOUD], _Ids)
    assert getattr(server, "flavour") == "cloud"
    assert await server.get_issue("A-1") == "A-1"  # type: ignore[comparison-overlap]
    assert await getattr(server, "media_id")("m") == "m"
    assert touched == set()
    assert await getattr(server, "frobnicate")("A-1") == "A-1"
    assert touched == {Side.SERVER}
