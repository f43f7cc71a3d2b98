"""Rich text between the sites of a pair: issue keys, base URLs, attachments, mentions."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from jirabridge.markup import ReportKind, adf_to_wiki, wiki_to_adf
from jirabridge.sync.config import Side
from jirabridge.sync.richtext import (
    DocState,
    MentionMiss,
    MirroredAttachment,
    RichTextLookups,
    mention_ids,
    reference_keys,
    refers_to_attachments,
    translate_doc,
)

SRV = "https://jira.corp"
CLD = "https://corp.atlassian.net"
IMAGE = MirroredAttachment(server_id="10001", cloud_id="20001", filename="image.png")
PDF = MirroredAttachment(
    server_id="10002", cloud_id="20002", filename="spec.pdf", cloud_media_id="6f1c-uuid"
)


def para(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(nodes)}


def doc(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(blocks)}


def text(value: str, *marks: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": value}
    if marks:
        node["marks"] = list(marks)
    return node


def link(href: str) -> dict[str, Any]:
    return {"type": "link", "attrs": {"href": href}}


def media(ident: str, **attrs: Any) -> dict[str, Any]:
    return {
        "type": "mediaSingle",
        "attrs": {"layout": "center"},
        "content": [
            {"type": "media", "attrs": {"type": "file", "id": ident, "collection": "", **attrs}}
        ],
    }


def to_cloud(**kw: Any) -> RichTextLookups:
    base: dict[str, Any] = {
        "target": Side.CLOUD,
        "issue_keys": {"OPS-1": "CLD-7", "OPS-2": "CLD-9"},
        "base_urls": {SRV: CLD},
        "attachments": (IMAGE, PDF),
        "unpaired": frozenset({"OPS-3", "OPS-44"}),
    }
    base.update(kw)
    return RichTextLookups(**base)


def to_server(**kw: Any) -> RichTextLookups:
    base: dict[str, Any] = {
        "target": Side.SERVER,
        "issue_keys": {"CLD-7": "OPS-1"},
        "base_urls": {CLD: SRV},
        "attachments": (IMAGE, PDF),
        "unpaired": frozenset({"CLD-8"}),
    }
    base.update(kw)
    return RichTextLookups(**base)


def first_inline(result: Any) -> dict[str, Any]:
    node: dict[str, Any] = result.doc["content"][0]["content"][0]
    return node


# ---- issue keys --------------------------------------------------------------------------


def test_paired_keys_in_text_become_the_other_sides_keys() -> None:
    source = doc(para(text("see OPS-1 and OPS-2, not XOPS-1 or OPS-1x")))
    out = translate_doc(source, to_cloud())
    assert first_inline(out)["text"] == "see CLD-7 and CLD-9, not XOPS-1 or OPS-1x"
    assert not out.report


def test_keys_in_code_stay_as_written() -> None:
    source = doc(
        para(text("run OPS-1", {"type": "code"})),
        {"type": "codeBlock", "content": [text("OPS-1 in a block")]},
    )
    out = translate_doc(source, to_cloud())
    assert out.doc == source


def test_unpaired_key_of_the_source_project_is_kept_and_reported() -> None:
    out = translate_doc(doc(para(text("OPS-3 and ABC-1"))), to_cloud())
    assert first_inline(out)["text"] == "OPS-3 and ABC-1"
    assert out.report.unmapped_issues == ["OPS-3"]  # ABC-1 was never looked up: not judged
    assert out.report.items[0].path == "$.content[0].content[0]"


def test_browse_link_on_the_source_site_points_at_the_mirror() -> None:
    href = f"{SRV}/browse/OPS-1?focusedCommentId=5"
    out = translate_doc(doc(para(text("the other one", link(href)))), to_cloud())
    node = first_inline(out)
    assert node["marks"] == [link(f"{CLD}/browse/CLD-7?focusedCommentId=5")]
    assert node["text"] == "the other one"


def test_a_link_showing_its_url_shows_the_new_url() -> None:
    href = f"{SRV}/browse/OPS-1"
    out = translate_doc(doc(para(text(href, link(href)))), to_cloud())
    assert first_inline(out) == text(f"{CLD}/browse/CLD-7", link(f"{CLD}/browse/CLD-7"))


def test_browse_link_to_an_unpaired_issue_is_left_on_the_source_site() -> None:
    href = f"{SRV}/browse/OPS-44"
    out = translate_doc(doc(para(text("old", link(href)))), to_cloud())
    assert first_inline(out)["marks"] == [link(href)]  # CLD's OPS-44 would be another issue
    assert out.report.unmapped_issues == ["OPS-44"]


def test_links_to_other_sites_are_not_touched_even_with_a_paired_key() -> None:
    href = "https://other.example/browse/OPS-1"
    out = translate_doc(doc(para(text("elsewhere", link(href)))), to_cloud())
    assert first_inline(out)["marks"] == [link(href)]


def test_other_pages_of_the_source_site_move_to_the_target_base() -> None:
    href = f"{SRV}/secure/Dashboard.jspa"
    out = translate_doc(doc(para(text("board", link(href)))), to_cloud())
    assert first_inline(out)["marks"] == [link(f"{CLD}/secure/Dashboard.jspa")]
    # a look-alike host is not the site
    near = "https://jira.corporate.example/x"
    assert first_inline(translate_doc(doc(para(text("x", link(near)))), to_cloud()))["marks"] == [
        link(near)
    ]


@pytest.mark.parametrize("kind", ["inlineCard", "blockCard", "embedCard"])
def test_smart_links_point_at_the_mirror(kind: str) -> None:
    card = {"type": kind, "attrs": {"url": f"{CLD}/browse/CLD-7"}}
    out = translate_doc(doc(para(card)), to_server())
    assert first_inline(out)["attrs"]["url"] == f"{SRV}/browse/OPS-1"


def test_attachment_urls_point_at_the_mirrored_attachment() -> None:
    href = f"{SRV}/secure/attachment/10001/image.png"
    unknown = f"{SRV}/secure/attachment/999/gone.png"
    source = doc(para(text("img", link(href)), text("gone", link(unknown))))
    out = translate_doc(source, to_cloud())
    marks = [n["marks"] for n in out.doc["content"][0]["content"]]
    assert marks == [[link(f"{CLD}/secure/attachment/20001/image.png")], [link(unknown)]]
    assert out.report.unmapped_attachments == ["999"]


# ---- attachments -------------------------------------------------------------------------


def test_server_file_names_become_cloud_media_ids() -> None:
    source = doc(media("image.png", width=200, height=183), media("spec.pdf"))
    out = translate_doc(source, to_cloud())
    ids = [b["content"][0]["attrs"]["id"] for b in out.doc["content"]]
    assert ids == ["20001", "6f1c-uuid"]  # the Cloud attachment id stands in without a media id
    assert out.doc["content"][0]["content"][0]["attrs"]["width"] == 200


def test_cloud_media_ids_become_server_file_names() -> None:
    source = doc(
        media("6f1c-uuid"),
        media("20001"),
        media("unknown-uuid", alt="image.png"),
        media("image.png"),  # what a Cloud v2 wiki write leaves
    )
    out = translate_doc(source, to_server())
    ids = [b["content"][0]["attrs"]["id"] for b in out.doc["content"]]
    assert ids == ["spec.pdf", "image.png", "image.png", "image.png"]
    assert not out.report


def test_the_newest_attachment_of_a_file_name_wins() -> None:
    older = MirroredAttachment(server_id="9", cloud_id="19", filename="image.png")
    newer = MirroredAttachment(server_id="10", cloud_id="30", filename="image.png")
    out = translate_doc(doc(media("image.png")), to_cloud(attachments=(newer, older)))
    assert out.doc["content"][0]["content"][0]["attrs"]["id"] == "30"


def test_an_attachment_without_mirror_is_kept_and_reported() -> None:
    source = doc(media("later.png"), para({"type": "mediaInline", "attrs": {"type": "file"}}))
    out = translate_doc(source, to_cloud())
    assert out.doc == source
    assert out.report.unmapped_attachments == ["later.png", ""]


def test_inline_media_and_external_images() -> None:
    inline = {"type": "mediaInline", "attrs": {"type": "file", "id": "20002", "collection": ""}}
    external = {
        "type": "mediaSingle",
        "content": [{"type": "media", "attrs": {"type": "external", "url": f"{CLD}/browse/CLD-7"}}],
    }
    out = translate_doc(doc(para(inline), external), to_server())
    assert first_inline(out)["attrs"]["id"] == "spec.pdf"
    assert out.doc["content"][1]["content"][0]["attrs"]["url"] == f"{SRV}/browse/OPS-1"


def test_wiki_image_round_trip_through_both_sites() -> None:
    """Server wiki -> (client) ADF -> Cloud -> back -> (client) wiki keeps the references."""
    wiki = "See OPS-1 !image.png! and [^spec.pdf]"
    on_cloud = translate_doc(wiki_to_adf(wiki), to_cloud()).doc
    refs = [n["attrs"]["id"] for n in _all(on_cloud) if n.get("type") == "media"]
    assert refs == ["20001", "6f1c-uuid"]
    back = translate_doc(on_cloud, to_server()).doc
    assert back == wiki_to_adf(wiki)
    assert "!image.png!" in adf_to_wiki(back)


def _all(node: Any) -> list[dict[str, Any]]:
    out = [node] if isinstance(node, dict) else []
    for child in node.get("content") or [] if isinstance(node, dict) else []:
        out += _all(child)
    return out


# ---- mentions ----------------------------------------------------------------------------


def mention(ident: str, shown: str = "") -> dict[str, Any]:
    return {"type": "mention", "attrs": {"id": ident, "text": shown, "accessLevel": ""}}


def test_mentions_point_at_the_target_user() -> None:
    out = translate_doc(doc(para(mention("alice", "@Alice"))), to_cloud(mentions={"alice": "a-1"}))
    assert first_inline(out) == mention("a-1", "@Alice")
    assert out.mention_misses == ()


def test_a_mention_of_an_unknown_user_becomes_readable_text_and_is_returned() -> None:
    source = doc(
        para(
            mention("ghost"),
            text(" "),
            mention("ghost"),
            text(" "),
            mention("x-9", "@Xavier Nine"),
            text(" "),
            mention("anon"),
        )
    )
    out = translate_doc(
        source, to_cloud(mentions={}, names={"ghost": "Gus Host", "x-9": "ignored"})
    )
    texts = [n.get("text") for n in out.doc["content"][0]["content"]]
    assert texts == ["@Gus Host", " ", "@Gus Host", " ", "@Xavier Nine", " ", "@anon"]
    assert out.mention_misses == (
        MentionMiss("ghost", "@Gus Host"),
        MentionMiss("x-9", "@Xavier Nine"),
        MentionMiss("anon", "@anon"),
    )
    assert out.report.unresolved_users == ["ghost", "ghost", "x-9", "anon"]


def test_without_a_mention_table_mentions_pass_unchanged() -> None:
    source = doc(para(mention("alice")))
    assert translate_doc(source, to_cloud()).doc == source


# ---- robustness and scanning --------------------------------------------------------------


def test_the_input_is_not_modified() -> None:
    source = doc(
        para(text("OPS-1", link(f"{SRV}/browse/OPS-1")), mention("bob")), media("image.png")
    )
    before = copy.deepcopy(source)
    translate_doc(source, to_cloud(mentions={}))
    assert source == before


@pytest.mark.parametrize(
    "odd",
    [
        None,
        "plain string",
        42,
        [text("OPS-1"), "stray", None],
        {"type": "doc", "content": "not a list"},
        {"type": "paragraph", "content": [{"type": "text", "text": 5}]},
        {
            "type": "text",
            "text": "x",
            "marks": [{"type": "link"}, "bad", {"type": "link", "attrs": {"href": 3}}],
        },
        {"type": "media", "attrs": "bad"},
        {"type": "mention", "attrs": None},
        {"type": "inlineCard", "attrs": {"url": None}},
    ],
)
def test_odd_content_is_copied_not_crashed_on(odd: Any) -> None:
    out = translate_doc(odd, to_cloud(mentions={}))
    if isinstance(odd, dict) and odd.get("type") == "mention":
        assert out.doc == {"type": "text", "text": "@?"}
    elif odd == [text("OPS-1"), "stray", None]:
        assert out.doc == [text("CLD-7"), "stray", None]
    else:
        assert out.doc == odd


def test_reference_keys_lists_text_and_link_keys_outside_code() -> None:
    source = doc(
        para(
            text("OPS-1 "),
            text("OPS-2", {"type": "code"}),
            text("x", link("https://anywhere/browse/ABC-3?x")),
            {"type": "inlineCard", "attrs": {"url": f"{CLD}/browse/CLD-4"}},
        ),
        {"type": "codeBlock", "content": [text("OPS-5")]},
    )
    assert reference_keys(source) == {"OPS-1", "ABC-3", "CLD-4"}
    assert reference_keys(None) == set()


def test_mention_ids_lists_every_mention() -> None:
    source = doc(para(mention("alice"), text("x")), para(mention("bob"), mention("")))
    assert mention_ids(source) == {"alice", "bob"}
    assert mention_ids([source, "junk"]) == {"alice", "bob"}


def test_refers_to_attachments_only_for_file_references() -> None:
    assert refers_to_attachments(doc(media("image.png")))
    assert refers_to_attachments(doc(para({"type": "mediaInline", "attrs": {"type": "file"}})))
    assert refers_to_attachments(doc(para(text("x", link(f"{SRV}/secure/attachment/1/a.png")))))
    external = {"type": "media", "attrs": {"type": "external", "url": "https://x/y.png"}}
    assert not refers_to_attachments(doc({"type": "mediaSingle", "content": [external]}))
    assert not refers_to_attachments(doc(para(text("OPS-1", link(f"{SRV}/browse/OPS-1")))))
    assert not refers_to_attachments("!image.png!")  # not ADF


def test_doc_state_keeps_each_miss_once_per_direction() -> None:
    state = DocState()
    source = doc(para(mention("ghost", "@Gus"), text(" OPS-3 "), mention("ghost")), media("x.png"))
    for _ in range(2):
        state.note(translate_doc(source, to_cloud(mentions={})), Side.SERVER, "OPS-5")
    state.note(translate_doc(doc(para(text("CLD-8"))), to_server()), Side.CLOUD, "CLD-7")
    assert state.notes == {
        (ReportKind.UNRESOLVED_USER, "ghost", Side.SERVER): ("OPS-5", "@Gus"),
        (ReportKind.UNMAPPED_ISSUE, "OPS-3", Side.SERVER): ("OPS-5", ""),
        (ReportKind.UNMAPPED_ATTACHMENT, "x.png", Side.SERVER): ("OPS-5", ""),
        (ReportKind.UNMAPPED_ISSUE, "CLD-8", Side.CLOUD): ("CLD-7", ""),
    }
