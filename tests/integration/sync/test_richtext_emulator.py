"""Rich text between the emulators: links to paired issues, embedded attachments and mentions
arrive pointing at the other site's issue, attachment and user, both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from jirabridge.jira import IssueInput
from jirabridge.markup import adf_to_wiki, wiki_to_adf
from jirabridge.sync.apply._users import MISS_TTL_SECONDS
from jirabridge.sync.store import AuditEntry, IssuePair, Store

from .test_apply_emulator import BASE_C, BASE_S, World, build_world

PAIR = {"fields": [{"name": "summary"}, {"name": "description"}]}


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def nodes(adf: Any) -> list[dict[str, Any]]:
    if not isinstance(adf, dict):
        return []
    out = [adf]
    for child in adf.get("content") or []:
        out += nodes(child)
    return out


def of_type(adf: Any, kind: str) -> list[dict[str, Any]]:
    return [n for n in nodes(adf) if n.get("type") == kind]


def hrefs(adf: Any) -> list[str]:
    return [
        m["attrs"]["href"]
        for n in nodes(adf)
        for m in n.get("marks") or []
        if m.get("type") == "link"
    ]


async def create(world: World, site: str, summary: str, **kw: Any) -> tuple[str, str]:
    key = await world.alice[site].create_issue(
        IssueInput(project_key="OPS", issue_type="Task", summary=summary, **kw)
    )
    return key, (await world.alice[site].get_issue(key)).id


def mirror_of(world: World, server_key: str) -> str:
    with world.queue.store.session() as s:
        row = s.scalars(select(IssuePair).where(IssuePair.server_key == server_key)).one()
        return row.cloud_key


async def test_server_description_arrives_on_cloud_pointing_at_mirrors_and_back(
    store: Store,
) -> None:
    async with build_world(store, PAIR, markup=True) as world:
        for n in range(2):  # Cloud keys run ahead, so a key copied unchanged would be wrong
            await create(world, "cld", f"unrelated {n}")
        other_s, other_s_id = await create(world, "srv", "the other one")
        await world.apply("srv", other_s_id)
        other_c = mirror_of(world, other_s)
        assert other_c != other_s

        main_s, main_s_id = await create(world, "srv", "main")
        await world.apply("srv", main_s_id)
        main_c = mirror_of(world, main_s)

        # one change on Server: an image attached and embedded, the other issue named and linked
        await world.alice["srv"].add_attachment(main_s, "image.png", b"\x89PNG...", "image/png")
        wiki = (
            f"See {other_s} and [the other one|{BASE_S}/browse/{other_s}], "
            f"not OPS-99.\n\n!image.png!"
        )
        await world.alice["srv"].edit_issue(main_s, IssueInput(description=wiki_to_adf(wiki)))
        await world.apply("srv", main_s_id)

        cloud = await world.bot["cld"].get_issue(main_c)
        [image_c] = cloud.attachments
        [media] = of_type(cloud.description, "media")
        # the mirrored attachment's media file id (not the file name, not the attachment id)
        media_ids = world.apps["cld"].site
        assert media["attrs"]["id"] == media_ids.get_attachment(image_c.id).media_id
        texts = " ".join(n["text"] for n in of_type(cloud.description, "text"))
        assert f"See {other_c} and" in texts
        assert "OPS-99" in texts  # no such pair: kept as written
        assert hrefs(cloud.description) == [f"{BASE_C}/browse/{other_c}"]
        with store.session() as s:
            unmapped = s.scalars(
                select(AuditEntry).where(AuditEntry.kind == "reference_unmapped")
            ).all()
        assert [(e.subject, e.details["reference"]) for e in unmapped] == [(main_s, "OPS-99")]
        assert (await world.apply("cld", cloud.id)).writes == 0  # no echo

        # and back: a Cloud edit with a smart link and the image reaches Server as wiki
        await world.alice["cld"].add_attachment(main_c, "trace.png", b"trace", "image/png")
        trace_c = next(
            a
            for a in (await world.bot["cld"].get_issue(main_c)).attachments
            if a.filename == "trace.png"
        )
        body = {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "paragraph",
                    "content": [
                        {"type": "text", "text": f"Now {other_c}: "},
                        {"type": "inlineCard", "attrs": {"url": f"{BASE_C}/browse/{other_c}"}},
                    ],
                },
                media_single(media_ids.get_attachment(image_c.id).media_id),
                media_single(media_ids.get_attachment(trace_c.id).media_id),
            ],
        }
        await world.alice["cld"].edit_issue(main_c, IssueInput(description=body))
        await world.apply("cld", cloud.id)
        server = await world.bot["srv"].get_issue(main_s)
        assert sorted(a.filename for a in server.attachments) == ["image.png", "trace.png"]
        back = adf_to_wiki(server.description)
        assert (
            f"Now {other_s}: [{BASE_S}/browse/{other_s}|{BASE_S}/browse/{other_s}|smart-link]"
            in back
        )
        assert "!image.png!" in back and "!trace.png!" in back
        assert (await world.apply("srv", main_s_id)).writes == 0


def media_single(media_id: str) -> dict[str, Any]:
    return {
        "type": "mediaSingle",
        "attrs": {"layout": "center"},
        "content": [{"type": "media", "attrs": {"type": "file", "id": media_id, "collection": ""}}],
    }


def mention_doc(account_id: str, shown: str, tail: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "ask "},
                    {"type": "mention", "attrs": {"id": account_id, "text": shown}},
                    {"type": "text", "text": tail},
                ],
            }
        ],
    }


async def test_a_mention_miss_is_audited_and_a_user_created_later_is_found(store: Store) -> None:
    async with build_world(store, PAIR, markup=True) as world:
        clock = Clock()
        world.applier.clock = clock
        bob = world.apps["cld"].site.create_user(
            "Bob Builder", email="bob@acme.io", api_token="tok", groups=["jira-users"]
        )
        main_s, main_s_id = await create(world, "srv", "main")
        await world.apply("srv", main_s_id)
        main_c = mirror_of(world, main_s)
        c_id = (await world.bot["cld"].get_issue(main_c)).id

        await world.alice["cld"].edit_issue(
            main_c, IssueInput(description=mention_doc(bob.key, "@Bob Builder", " first"))
        )
        await world.apply("cld", c_id)
        server = await world.bot["srv"].get_issue(main_s)
        assert of_type(server.description, "mention") == []
        assert "ask @Bob Builder first" in adf_to_wiki(server.description)
        with store.session() as s:
            [entry] = s.scalars(
                select(AuditEntry).where(AuditEntry.kind == "mention_unresolved")
            ).all()
        assert entry.subject == main_c
        assert entry.details["user"] == bob.key
        assert entry.details["written_as"] == "@Bob Builder"
        assert bob.key in entry.message and main_c in entry.message

        # Bob gets a Server account; once the miss is older than the TTL he is found
        world.apps["srv"].site.create_user(
            "Bob Builder", name="bob", password="pw", email="bob@acme.io", groups=["jira-users"]
        )
        clock.at += timedelta(seconds=MISS_TTL_SECONDS + 1)
        await world.alice["cld"].edit_issue(
            main_c, IssueInput(description=mention_doc(bob.key, "@Bob Builder", " again"))
        )
        await world.apply("cld", c_id)
        server = await world.bot["srv"].get_issue(main_s)
        assert [m["attrs"]["id"] for m in of_type(server.description, "mention")] == ["bob"]
        assert "[~bob]" in adf_to_wiki(server.description)
        with store.session() as s:
            count = len(
                s.scalars(select(AuditEntry).where(AuditEntry.kind == "mention_unresolved")).all()
            )
        assert count == 1


async def test_a_comment_names_the_mirror_and_shows_the_mirrored_file(store: Store) -> None:
    async with build_world(store, PAIR, markup=True) as world:
        for n in range(3):
            await create(world, "cld", f"unrelated {n}")
        other_s, other_s_id = await create(world, "srv", "the other one")
        await world.apply("srv", other_s_id)
        main_s, main_s_id = await create(world, "srv", "main")
        await world.alice["srv"].add_attachment(main_s, "log.txt", b"boom", "text/plain")
        await world.apply("srv", main_s_id)  # creates the mirror, copies the file
        main_c = mirror_of(world, main_s)
        [log_c] = (await world.bot["cld"].get_issue(main_c)).attachments

        wiki = f"Same as {other_s}, see [^log.txt] and {{{{{other_s}}}}}"
        await world.alice["srv"].add_comment(main_s, wiki_to_adf(wiki))
        await world.apply("srv", main_s_id)
        [mirrored] = [c async for c in world.bot["cld"].comments(main_c)]
        texts = " ".join(n["text"] for n in of_type(mirrored.body, "text"))
        assert f"Same as {mirror_of(world, other_s)}, see" in texts
        assert texts.rstrip().endswith(other_s)  # in code: as written
        log_media = world.apps["cld"].site.get_attachment(log_c.id).media_id
        assert [m["attrs"]["id"] for m in of_type(mirrored.body, "media")] == [log_media]


async def test_the_attribution_line_keeps_the_source_key_while_the_body_is_translated(
    store: Store,
) -> None:
    pair = {**PAIR, "comments": {"attribution_template": "{key}: {author} wrote:"}}
    async with build_world(store, pair, markup=True) as world:
        for n in range(2):  # keys differ between the sites
            await create(world, "cld", f"unrelated {n}")
        main_s, main_s_id = await create(world, "srv", "main")
        await world.apply("srv", main_s_id)
        main_c = mirror_of(world, main_s)
        assert main_c != main_s
        await world.alice["srv"].add_comment(main_s, wiki_to_adf(f"{main_s} is broken"))
        await world.apply("srv", main_s_id)
        [mirrored] = [c async for c in world.bot["cld"].comments(main_c)]
        first, *rest = mirrored.body["content"]
        line = " ".join(n["text"] for n in of_type(first, "text"))
        body = " ".join(n["text"] for part in rest for n in of_type(part, "text"))
        assert line.startswith(f"{main_s}: ")  # where it was written
        assert f"{main_c} is broken" in body  # the issue, as the other site names it
