"""wiki -> ADF: the shapes Atlassian's transformer produces (observed with the oracle)."""

from __future__ import annotations

from typing import Any

import pytest

from jirabridge.markup import wiki_to_adf


def para(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


def text(value: str, *marks: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": value}
    if marks:
        node["marks"] = list(marks)
    return node


STRONG = {"type": "strong"}
EM = {"type": "em"}


def body(wiki: str) -> list[dict[str, Any]]:
    doc = wiki_to_adf(wiki)
    assert doc["type"] == "doc" and doc["version"] == 1
    return doc["content"]


def test_empty_text_is_an_empty_document() -> None:
    assert body("") == []
    assert body(" \n\n ") == []


def test_text_effects_each_get_their_mark() -> None:
    [p] = body("*b* _i_ -s- +u+ ^p^ ~d~ {{c}}")
    marked = [n for n in p["content"] if "marks" in n]
    assert [(n["text"], n["marks"]) for n in marked] == [
        ("b", [STRONG]),
        ("i", [EM]),
        ("s", [{"type": "strike"}]),
        ("u", [{"type": "underline"}]),
        ("p", [{"type": "subsup", "attrs": {"type": "sup"}}]),
        ("d", [{"type": "subsup", "attrs": {"type": "sub"}}]),
        ("c", [{"type": "code"}]),
    ]


def test_nested_marks_are_listed_inner_first() -> None:
    assert body("*_x_*") == [para(text("x", EM, STRONG))]
    assert body("_*x*_") == [para(text("x", STRONG, EM))]


def test_marker_inside_a_word_is_text() -> None:
    assert body("a*b* snake_case_name") == [para(text("a*b* snake_case_name"))]


def test_closing_marker_followed_by_letter_keeps_looking() -> None:
    assert body("*c*d e*") == [para(text("c*d e", STRONG))]


def test_unbalanced_marker_is_text() -> None:
    assert body("*never closed") == [para(text("*never closed"))]


def test_citation_gets_an_em_dash() -> None:
    assert body("??Someone??") == [para(text("\u2014 Someone", EM))]


def test_headings() -> None:
    assert body("h3. Title") == [
        {"type": "heading", "attrs": {"level": 3}, "content": [text("Title")]}
    ]


def test_single_newline_is_hard_break_and_blank_line_is_new_paragraph() -> None:
    assert body("a\nb\n\nc") == [
        para(text("a"), {"type": "hardBreak"}, text("b")),
        para(text("c")),
    ]


def test_windows_newlines_behave_like_unix_ones() -> None:
    assert body("a\r\nb\r\n\r\nc") == body("a\nb\n\nc")


def test_forced_line_break() -> None:
    assert body("a\\\\b") == [para(text("a"), {"type": "hardBreak"}, text("b"))]


def test_escapes_make_markers_literal() -> None:
    assert body("\\*not bold\\* \\[x]") == [para(text("*not bold* [x]"))]


def test_nested_mixed_lists() -> None:
    doc = body("* a\n*# b\n* c")
    assert doc == [
        {
            "type": "bulletList",
            "content": [
                {
                    "type": "listItem",
                    "content": [
                        para(text("a")),
                        {
                            "type": "orderedList",
                            "attrs": {"order": 1},
                            "content": [{"type": "listItem", "content": [para(text("b"))]}],
                        },
                    ],
                },
                {"type": "listItem", "content": [para(text("c"))]},
            ],
        }
    ]


def test_table_header_cells_are_bold() -> None:
    [table] = body("||h||\n|c|")
    assert table["type"] == "table"
    header, row = table["content"]
    assert header["content"][0]["type"] == "tableHeader"
    assert header["content"][0]["content"] == [para(text("h", STRONG))]
    assert row["content"][0] == {"type": "tableCell", "content": [para(text("c"))]}


def test_links() -> None:
    [p] = body("[Atlassian|https://atlassian.com] http://x.org/a?b=1.")
    link = {"type": "link", "attrs": {"href": "https://atlassian.com"}}
    bare = {"type": "link", "attrs": {"href": "http://x.org/a?b=1"}}
    assert p["content"] == [
        text("Atlassian", link),
        text(" "),
        text("http://x.org/a?b=1", bare),
        text("."),
    ]


def test_mention_without_directory_keeps_the_reference() -> None:
    [p] = body("[~jsmith]")
    assert p["content"] == [
        {"type": "mention", "attrs": {"id": "jsmith", "text": "", "accessLevel": ""}}
    ]


def test_image_and_attachment() -> None:
    single, group = body("!pic.png!\n\n[^doc.pdf]")
    assert single["type"] == "mediaSingle"
    assert single["content"][0]["attrs"]["id"] == "pic.png"
    assert single["content"][0]["attrs"]["type"] == "file"
    assert group == {
        "type": "mediaGroup",
        "content": [
            {"type": "media", "attrs": {"type": "file", "id": "doc.pdf", "collection": ""}}
        ],
    }


def test_code_and_noformat() -> None:
    code, noformat = body("{code:python}\nx = 1\n{code}\n{noformat}*raw*{noformat}")
    assert code == {
        "type": "codeBlock",
        "attrs": {"language": "python"},
        "content": [text("x = 1")],
    }
    assert noformat == {"type": "codeBlock", "content": [text("*raw*")]}


def test_code_without_language_is_java() -> None:
    [code] = body("{code}x{code}")
    assert code["attrs"] == {"language": "java"}


@pytest.mark.parametrize(
    ("colour", "panel_type"),
    [("#ffebe6", "error"), ("#deebff", "info"), ("green", "success"), (None, "info")],
)
def test_panel_type_follows_background(colour: str | None, panel_type: str) -> None:
    macro = "{panel}" if colour is None else f"{{panel:bgColor={colour}}}"
    [panel] = body(f"{macro}x{{panel}}")
    assert panel == {
        "type": "panel",
        "attrs": {"panelType": panel_type},
        "content": [para(text("x"))],
    }


def test_quotes() -> None:
    assert (
        body("bq. a")
        == body("{quote}a{quote}")
        == [{"type": "blockquote", "content": [para(text("a"))]}]
    )


def test_colour_names_become_hex() -> None:
    [p] = body("{color:red}r{color}")
    assert p["content"] == [text("r", {"type": "textColor", "attrs": {"color": "#ff0000"}})]


def test_emoticons() -> None:
    [p] = body("(y)")
    assert p["content"] == [
        {"type": "emoji", "attrs": {"shortName": ":thumbsup:", "id": "1f44d", "text": "\U0001f44d"}}
    ]


def test_rule_and_dashes() -> None:
    assert body("----") == [{"type": "rule"}]
    assert body("a -- b --- c") == [para(text("a \u2013 b \u2014 c"))]


def test_unicode_passes_through() -> None:
    assert body("日本語 *強調*") == [para(text("日本語 "), text("強調", STRONG))]


def test_adf_macro_embeds_known_nodes_only() -> None:
    assert body('{adf}{"type":"rule"}{adf}') == [{"type": "rule"}]
    [code] = body('{adf}{"type":"bogus"}{adf}')
    assert code["type"] == "codeBlock"
    assert code["content"][0]["text"].startswith("Invalid ADF Macro:")
    [code] = body("{adf}not json{adf}")
    assert code["type"] == "codeBlock"


def test_image_without_a_file_name_stays_text() -> None:
    """Deliberate difference from the transformer, whose empty media id the schema rejects."""
    assert body("!|x!") == [para(text("!|x!"))]
