"""Comment markers between the two emulators: every mirrored comment carries
``jirabridge.origin`` (set in its create POST), and a mirror whose pair row is missing, or
whose POST answer was lost, is found again by that marker, never by its text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from jirabridge.jira import AmbiguousWriteError, Comment, IssueInput
from jirabridge.sync.markers import MARKER, find_marked, origin_of
from jirabridge.sync.store import CommentPair, IssuePair, Store

from .test_apply_emulator import World, build_world, doc, text_of
from .test_apply_scenarios import paired


async def _comments(world: World, site: str, key: str) -> list[Comment]:
    return [c async for c in world.bot[site].comments(key, properties=True)]


def _pairs(store: Store) -> list[tuple[str, str]]:
    with store.session() as s:
        return [(r.server_comment_id, r.cloud_comment_id) for r in s.scalars(select(CommentPair))]


async def set_faults(world: World, site: str, body: dict[str, Any]) -> None:
    """Set the fault rules of one emulator through its control plane."""
    app = world.apps[site]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=app.base_url
    ) as c:
        r = await c.post("/_emulator/faults", json=body)
    assert r.status_code == 200, r.text


async def test_mirrors_carry_the_marker_of_their_source_both_ways(store: Store) -> None:
    async with build_world(store) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        on_cloud = await world.alice["cld"].add_comment(c_key, doc("from cloud"))
        on_server = await world.alice["srv"].add_comment(s_key, doc("from server"))
        await world.apply("cld", c_id)

        [mirror_s] = [c for c in await _comments(world, "srv", s_key) if c.id != on_server.id]
        assert mirror_s.properties[MARKER] == {
            "site": "cld",
            "issue": c_key,
            "comment": on_cloud.id,
        }
        [mirror_c] = [c for c in await _comments(world, "cld", c_key) if c.id != on_cloud.id]
        assert mirror_c.properties[MARKER] == {
            "site": "srv",
            "issue": s_key,
            "comment": on_server.id,
        }
        assert sorted(_pairs(store)) == sorted(
            [(mirror_s.id, on_cloud.id), (on_server.id, mirror_c.id)]
        )
        # the human comments carry no marker; nothing comes back
        assert MARKER not in on_cloud.properties
        assert (await world.apply("srv", s_id)).writes == 0


async def test_a_mirror_posted_by_a_dead_attempt_is_adopted_by_its_marker(
    store: Store,
) -> None:
    async with build_world(store) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        source = await world.alice["cld"].add_comment(c_key, doc("printer jammed"))
        # what the attempt that died had posted: its marker, but no pair row, and a text that
        # is not what the apply step would write now (the attribution changed since)
        posted = await world.bot["srv"].add_comment(
            s_key,
            doc("an older attribution line: printer jammed"),
            properties={MARKER: {"site": "cld", "issue": c_key, "comment": source.id}},
        )
        # our own comment with the very words the mirror would have, but no marker: not it
        await world.bot["srv"].add_comment(s_key, doc("Alice wrote: printer jammed"))
        result = await world.apply("cld", c_id)

        server = await _comments(world, "srv", s_key)
        assert len(server) == 2  # nothing posted
        assert _pairs(store) == [(posted.id, source.id)]
        assert result.writes == 0
        # and the unmarked comment of ours is never copied to Cloud
        assert [c.id for c in await _comments(world, "cld", c_key)] == [source.id]


async def test_a_lost_comment_answer_is_adopted_not_posted_twice(store: Store) -> None:
    async with build_world(store) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        source = await world.alice["cld"].add_comment(c_key, doc("lost in transit"))
        await set_faults(
            world, "srv", {"lostAnswers": [{"rate": 1, "pattern": "*/comment", "method": "POST"}]}
        )
        await world.apply("cld", c_id)
        await set_faults(world, "srv", {"clear": True})

        server = await _comments(world, "srv", s_key)
        assert len(server) == 1
        assert server[0].properties[MARKER]["comment"] == source.id
        assert "lost in transit" in text_of(server[0].body)
        assert _pairs(store) == [(server[0].id, source.id)]
        assert (await world.apply("srv", s_id)).writes == 0
        assert len(await _comments(world, "srv", s_key)) == 1


async def test_an_ambiguous_post_that_did_not_happen_is_sent_again(store: Store) -> None:
    async with build_world(store) as world:
        s_key, s_id, c_key, c_id = await paired(world)
        source = await world.alice["cld"].add_comment(c_key, doc("second time lucky"))
        client = world.bot["srv"]
        real = client.add_comment
        calls = 0

        async def flaky(*args: Any, **kwargs: Any) -> Comment:
            nonlocal calls
            calls += 1
            if calls == 1:  # failed before it reached Jira, but the client cannot know
                raise AmbiguousWriteError("connection reset")
            return await real(*args, **kwargs)

        client.add_comment = flaky
        try:
            result = await world.apply("cld", c_id)
        finally:
            del client.add_comment
        assert calls == 2
        [mirror] = await _comments(world, "srv", s_key)
        assert mirror.properties[MARKER]["comment"] == source.id
        assert _pairs(store) == [(mirror.id, source.id)]
        assert result.writes == 2  # both POSTs count: the first may have been a write


async def test_a_fresh_mirror_is_not_asked_for_its_comments(store: Store) -> None:
    async with build_world(store) as world:
        key = await world.alice["cld"].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="new one")
        )
        await world.alice["cld"].add_comment(key, doc("first words"))
        issue = await world.alice["cld"].get_issue(key)
        asked: list[str] = []
        for site in ("srv", "cld"):
            client = world.bot[site]
            real = client.comments

            def spy(k: str, *, _real: Any = real, **kw: Any) -> AsyncIterator[Comment]:
                asked.append(k)
                return _real(k, **kw)

            client.comments = spy
        try:
            created = await world.apply("cld", issue.id)
        finally:
            for site in ("srv", "cld"):
                del world.bot[site].comments
        assert created.action == "created"
        with store.session() as s:
            pair = s.scalars(select(IssuePair)).one()
        assert asked == []  # source: its issue read holds them; the new mirror has none
        [mirror] = await _comments(world, "srv", pair.server_key)
        assert mirror.properties[MARKER]["issue"] == key
        assert (await world.apply("srv", pair.server_issue_id)).writes == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"site": "cld", "issue": "OPS-1", "comment": "10001"}, ("cld", "10001")),
        ({"site": "cld", "comment": 10001}, ("cld", "10001")),  # a number is read as an id
        ({"site": "cld", "comment": True}, None),
        ({"site": "", "comment": "1"}, None),
        ({"site": "cld", "comment": ""}, None),
        ({"site": "cld"}, None),
        ({"comment": "1"}, None),
        ("cld:1", None),
        (["cld", "1"], None),
        (None, None),
    ],
)
def test_only_a_well_formed_marker_names_an_origin(value: Any, expected: Any) -> None:
    comment = Comment(doc("x"), id="5", properties={MARKER: value})
    assert origin_of(comment) == expected
    assert origin_of(Comment(doc("x"), id="5")) is None
    found = find_marked([comment], ("cld", "10001"))
    assert (found is comment) == (expected == ("cld", "10001"))
