"""ADF -> wiki: the notation written, bad input rejected with its path, unknown nodes kept."""

from __future__ import annotations

from typing import Any

import pytest

from jirabridge.errors import BadInputError
from jirabridge.markup import MarkupContext, ReportKind, adf_to_wiki, wiki_to_adf


def doc(*content: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "type": "doc", "content": list(content)}


def p(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


def t(text: str, *marks: str, **attrs: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": text}
    if marks:
        node["marks"] = [{"type": m, **({"attrs": attrs} if attrs else {})} for m in marks]
    return node


@pytest.mark.parametrize(
    ("node", "wiki"),
    [
        (t("b", "strong"), "*b*"),
        (t("i", "em"), "_i_"),
        (t("s", "strike"), "-s-"),
        (t("u", "underline"), "+u+"),
        (t("c", "code"), "{{c}}"),
        (t("x", "subsup", type="sup"), "^x^"),
        (t("x", "subsup", type="sub"), "~x~"),
        (t("r", "textColor", color="#ff0000"), "{color:#ff0000}r{color}"),
        (t("site", "link", href="https://x.org"), "[site|https://x.org]"),
        (t("https://x.org", "link", href="https://x.org"), "[https://x.org]"),
    ],
)
def test_marks(node: dict[str, Any], wiki: str) -> None:
    assert adf_to_wiki(doc(p(node))) == wiki


def test_mark_inside_a_word_uses_braces() -> None:
    assert adf_to_wiki(doc(p(t("a"), t("b", "strong"), t("c")))) == "a{*}b{*}c"
    assert wiki_to_adf("a{*}b{*}c") == doc(p(t("a"), t("b", "strong"), t("c")))


def test_plain_text_that_looks_like_notation_is_escaped() -> None:
    text = "*not bold* [not a link] {code} a|b _x_ -y- :) (y)"
    wiki = adf_to_wiki(doc(p(t(text))))
    assert wiki_to_adf(wiki) == doc(p(t(text)))


def test_line_start_list_markers_are_escaped() -> None:
    value = doc(p(t("a"), {"type": "hardBreak"}, t("* not a list")))
    assert wiki_to_adf(adf_to_wiki(value)) == value


def test_blocks() -> None:
    value = doc(
        {"type": "heading", "attrs": {"level": 2}, "content": [t("H")]},
        {"type": "rule"},
        {"type": "codeBlock", "attrs": {"language": "python"}, "content": [t("x = 1")]},
        {"type": "panel", "attrs": {"panelType": "warning"}, "content": [p(t("w"))]},
        {"type": "blockquote", "content": [p(t("q"))]},
    )
    assert adf_to_wiki(value) == (
        "h2. H\n\n----\n\n{code:python}\nx = 1\n{code}\n\n"
        "{panel:bgColor=#fffae6}\nw\n{panel}\n\nbq. q"
    )
    assert wiki_to_adf(adf_to_wiki(value)) == value


def test_nested_lists_and_tables_read_back_the_same() -> None:
    wiki = "* a\n** b\n*# c\n* d\n\n||h1||h2||\n|1|2|"
    once = adf_to_wiki(wiki_to_adf(wiki))
    assert once == wiki
    assert wiki_to_adf(once) == wiki_to_adf(wiki)


def test_media() -> None:
    value = doc(
        {
            "type": "mediaSingle",
            "attrs": {"layout": "center"},
            "content": [
                {
                    "type": "media",
                    "attrs": {
                        "type": "file",
                        "id": "a.png",
                        "collection": "",
                        "width": 10,
                        "height": 20,
                    },
                }
            ],
        },
        {
            "type": "mediaGroup",
            "content": [
                {"type": "media", "attrs": {"type": "file", "id": "b.pdf", "collection": ""}}
            ],
        },
    )
    assert adf_to_wiki(value) == "!a.png|width=10,height=20!\n\n[^b.pdf]"


def test_unknown_code_language_becomes_noformat_and_is_reported() -> None:
    ctx = MarkupContext()
    value = doc({"type": "codeBlock", "attrs": {"language": "brainfuck"}, "content": [t("+")]})
    assert adf_to_wiki(value, ctx) == "{noformat}\n+\n{noformat}"
    assert ctx.report.lossy


def test_unknown_well_formed_nodes_degrade_to_text_and_are_reported() -> None:
    ctx = MarkupContext()
    value = doc(
        p(t("a "), {"type": "status", "attrs": {"text": "done"}}),
        {"type": "futureBlock", "content": [p(t("inner"))]},
        p({"type": "futureInline", "attrs": {"text": "x*y"}}),
    )
    assert adf_to_wiki(value, ctx) == "a DONE\n\ninner\n\nx*y"
    kinds = {item.kind for item in ctx.report.items}
    assert kinds == {ReportKind.LOSSY, ReportKind.UNSUPPORTED}
    assert ctx.report.unsupported == [
        "futureBlock written as its text",
        "futureInline written as its text",
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "$ must be an object"),
        ("doc", "$ must be an object"),
        ({"type": "paragraph"}, '$.type must be "doc"'),
        ({"type": "doc", "content": {}}, "$.content must be a list"),
        ({"type": "doc", "content": [1]}, "$.content[0] must be an object"),
        ({"type": "doc", "content": [{"content": []}]}, "$.content[0].type must be"),
        ({"type": "doc", "content": [p({"type": "text"})]}, "$.content[0].content[0].text"),
        (
            {"type": "doc", "content": [p({"type": "text", "text": "x", "marks": {}})]},
            "marks must be a list",
        ),
        ({"type": "doc", "content": [p({"type": "text", "text": "x", "marks": [1]})]}, "marks[0]"),
        ({"type": "doc", "content": [{"type": "heading", "attrs": []}]}, "$.content[0].attrs"),
    ],
)
def test_bad_adf_is_rejected_with_its_path(value: Any, message: str) -> None:
    with pytest.raises(BadInputError) as info:
        adf_to_wiki(value)
    assert message in str(info.value)


def test_deeply_nested_adf_is_rejected_not_crashing() -> None:
    node: dict[str, Any] = p(t("x"))
    for _ in range(500):
        node = {"type": "blockquote", "content": [node]}
    with pytest.raises(BadInputError, match="nested too deeply"):
        adf_to_wiki(doc(node))


def test_wiki_to_adf_rejects_non_text() -> None:
    with pytest.raises(BadInputError):
        wiki_to_adf(b"bytes")  # type: ignore[arg-type]


def test_validate_adf_is_public_and_returns_the_document() -> None:
    from jirabridge.markup import validate_adf

    value = doc(p(t("x")))
    assert validate_adf(value) is value
    with pytest.raises(BadInputError, match=r"\$\.content\[0\]"):
        validate_adf({"type": "doc", "content": ["x"]})
