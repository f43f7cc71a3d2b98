"""Embedded attachments between the emulators by Cloud media file id: a Server ``!shot.png!``
arrives on Cloud as a ``media`` node with the media id the Cloud emulator gave the copied
attachment, a Cloud ``media`` node (a media id) arrives on Server as ``!shot.png!``, and the
media id is learned once per attachment pair, only for pairs whose documents may embed files."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select, update

from jirabridge.jira import IssueInput
from jirabridge.markup import adf_to_wiki, wiki_to_adf
from jirabridge.sync.apply._attachments import wants_media_ids
from jirabridge.sync.config import PairConfig
from jirabridge.sync.store import AttachmentPair, IssuePair, Store

from .test_apply_emulator import World, build_world
from .test_richtext_emulator import create, media_single, mirror_of, of_type

PAIR = {"fields": [{"name": "summary"}, {"name": "description"}]}
PLAIN = {"fields": [{"name": "summary"}], "comments": {"direction": "none"}}
CONTENT = "/rest/api/3/attachment/content/{id}"


def media_id_on_cloud(world: World, attachment_id: str | None) -> str:
    media_id = world.apps["cld"].site.get_attachment(attachment_id).media_id
    assert isinstance(media_id, str) and len(media_id) == 36
    return media_id


def stored_media_ids(store: Store) -> dict[str, str | None]:
    with store.session() as s:
        return {r.filename: r.cloud_media_id for r in s.scalars(select(AttachmentPair))}


def content_calls(world: World) -> int:
    return int(world.bot["cld"].stats.count(endpoint=CONTENT))


async def cloud_v2_description(world: World, key: str) -> Any:
    app = world.apps["cld"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=app.base_url, auth=("bot@acme.io", "tok")
    ) as http:
        answer = await http.get(f"/rest/api/2/issue/{key}", params={"fields": "description"})
    return answer.json()["fields"]["description"]


def doc(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(content)}


async def test_server_image_arrives_on_cloud_by_the_copy_media_id(store: Store) -> None:
    async with build_world(store, PAIR, markup=True) as world:
        key_s, id_s = await create(world, "srv", "main")
        await world.apply("srv", id_s)
        key_c = mirror_of(world, key_s)

        await world.alice["srv"].add_attachment(key_s, "shot.png", b"\x89PNG shot", "image/png")
        await world.alice["srv"].edit_issue(
            key_s, IssueInput(description=wiki_to_adf("Broken here:\n\n!shot.png!"))
        )
        before = content_calls(world)
        await world.apply("srv", id_s)
        assert content_calls(world) == before + 1  # one media id call for the one copy

        cloud = await world.bot["cld"].get_issue(key_c)
        [copy] = cloud.attachments
        media_id = media_id_on_cloud(world, copy.id)
        assert [m["attrs"]["id"] for m in of_type(cloud.description, "media")] == [media_id]
        assert stored_media_ids(store) == {"shot.png": media_id}
        # Cloud's own wiki rendering (REST v2) of the document shows the copied file by name
        assert await cloud_v2_description(world, key_c) == "Broken here:\n\n!shot.png!"
        assert (await world.apply("cld", cloud.id)).writes == 0  # no echo
        assert (await world.apply("srv", id_s)).writes == 0
        assert content_calls(world) == before + 1  # learned once, never asked again


async def test_cloud_media_node_arrives_on_server_as_the_file_name(store: Store) -> None:
    async with build_world(store, PAIR, markup=True) as world:
        key_c, id_c = await create(world, "cld", "from cloud")
        await world.apply("cld", id_c)
        key_s = mirror_of_cloud(world, key_c)

        [shot] = await world.alice["cld"].add_attachment(key_c, "shot.png", b"shot", "image/png")
        # another file of the same issue, and a media id of another issue: not ours to map
        await world.alice["cld"].add_attachment(key_c, "other.png", b"other", "image/png")
        stranger, _ = await create(world, "cld", "stranger")
        [foreign] = await world.alice["cld"].add_attachment(stranger, "x.png", b"x", "image/png")
        media_id = media_id_on_cloud(world, shot.id)
        body = doc(
            {"type": "paragraph", "content": [{"type": "text", "text": "see"}]},
            media_single(media_id),
            media_single(media_id_on_cloud(world, foreign.id)),
        )
        await world.alice["cld"].edit_issue(key_c, IssueInput(description=body))
        await world.apply("cld", id_c)

        server = await world.bot["srv"].get_issue(key_s)
        assert sorted(a.filename for a in server.attachments) == ["other.png", "shot.png"]
        wiki = adf_to_wiki(server.description)
        assert "!shot.png!" in wiki
        assert media_id not in wiki
        assert stored_media_ids(store)["shot.png"] == media_id
        assert (await world.apply("srv", server.id)).writes == 0


async def test_a_pair_without_rich_text_never_asks(store: Store) -> None:
    async with build_world(store, PLAIN, markup=True) as world:
        assert not wants_media_ids(world.config.pairs[0])
        key_s, id_s = await create(world, "srv", "plain")
        await world.apply("srv", id_s)
        await world.alice["srv"].add_attachment(key_s, "log.txt", b"log", "text/plain")
        await world.apply("srv", id_s)
        assert stored_media_ids(store) == {"log.txt": None}
        assert content_calls(world) == 0


async def test_a_pair_stored_without_a_media_id_learns_it_in_its_next_job(store: Store) -> None:
    async with build_world(store, PAIR, markup=True) as world:
        key_s, id_s = await create(world, "srv", "old")
        await world.apply("srv", id_s)
        await world.alice["srv"].add_attachment(key_s, "shot.png", b"png", "image/png")
        await world.apply("srv", id_s)
        with store.session() as s:  # as migration 0002 leaves a row made before it
            s.execute(update(AttachmentPair).values(cloud_media_id=None))

        await world.alice["srv"].edit_issue(
            key_s, IssueInput(description=wiki_to_adf("!shot.png!"))
        )
        await world.apply("srv", id_s)
        cloud = await world.bot["cld"].get_issue(mirror_of(world, key_s))
        media_id = media_id_on_cloud(world, cloud.attachments[0].id)
        assert stored_media_ids(store) == {"shot.png": media_id}
        assert [m["attrs"]["id"] for m in of_type(cloud.description, "media")] == [media_id]


def test_which_pairs_want_media_ids() -> None:
    def pair(**kw: Any) -> PairConfig:
        base: dict[str, Any] = {
            "id": "p",
            "server": {"site": "s", "project": "A"},
            "cloud": {"site": "c", "project": "B"},
            "comments": {"direction": "none"},
        }
        return PairConfig.model_validate({**base, **kw})

    assert not wants_media_ids(pair())
    assert not wants_media_ids(pair(fields=[{"name": "summary"}, {"name": "labels"}]))
    assert not wants_media_ids(pair(fields=[{"name": "description", "direction": "none"}]))
    assert wants_media_ids(pair(fields=[{"name": "environment"}]))
    assert wants_media_ids(pair(fields=[{"name": "notes", "cloud": "customfield_10001"}]))
    assert wants_media_ids(pair(comments={"direction": "cloud_to_server"}))


def mirror_of_cloud(world: World, cloud_key: str) -> str:
    with world.queue.store.session() as s:
        row = s.scalars(select(IssuePair).where(IssuePair.cloud_key == cloud_key)).one()
        return row.server_key


async def test_a_cloud_that_names_no_media_id_is_asked_once(store: Store) -> None:
    async with build_world(store, PAIR, markup=True) as world:
        asked: list[str | None] = []

        async def silent(attachment: Any) -> None:
            asked.append(attachment.id)
            return None  # e.g. answered with the bytes instead of a redirect

        world.bot["cld"].media_id = silent
        key_s, id_s = await create(world, "srv", "main")
        await world.apply("srv", id_s)
        await world.alice["srv"].add_attachment(key_s, "shot.png", b"png", "image/png")
        await world.apply("srv", id_s)
        assert stored_media_ids(store) == {"shot.png": ""}  # asked: none given
        wiki = wiki_to_adf("!shot.png!")
        await world.alice["srv"].edit_issue(key_s, IssueInput(description=wiki))
        await world.apply("srv", id_s)
        assert len(asked) == 1
        cloud = await world.bot["cld"].get_issue(mirror_of(world, key_s))
        # the best left: the Cloud attachment id (what older documents carry too)
        [copy] = cloud.attachments
        assert [m["attrs"]["id"] for m in of_type(cloud.description, "media")] == [copy.id]
