"""Hostile input: 1 MB of markers must convert in linear time (guarded by a timeout, not a
speed assertion), and absurd nesting must neither recurse without bound nor crash."""

from __future__ import annotations

from typing import Any

import pytest

from jirabridge.markup import ConversionReport, MarkupContext, adf_to_wiki, wiki_to_adf

MB = 1_000_000


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "text",
    [
        pytest.param("*a " * (MB // 3), id="unclosed-strong-openers"),
        pytest.param("{{[(!|_-" * (MB // 8), id="mixed-openers"),
    ],
)
def test_one_megabyte_of_openers_finishes(text: str) -> None:
    doc = wiki_to_adf(text)
    assert len(_text_of(doc)) >= len(text) * 0.6  # kept (as text or media names), not lost
    assert adf_to_wiki(doc)


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\\\\a" * (MB // 3), id="double-backslash-in-one-word"),
        pytest.param("\\\\a \\\\a\\" * (MB // 12), id="double-backslash-words"),
    ],
)
def test_one_megabyte_of_forced_breaks_finishes(text: str) -> None:
    # ``\\`` is a line break unless a backslash follows in the same word: the check once
    # rescanned the rest of the word at each match (40k took 5.7 s; 1 MB would take hours).
    doc = wiki_to_adf(text)
    assert len(_text_of(doc)) >= len(text) * 0.6
    # the same text given as an ADF string must come back as wiki that reads back to it
    adf = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }
    wiki = adf_to_wiki(adf)
    assert _text_of(wiki_to_adf(wiki)).replace("\u200b", "") == text


def test_forced_break_rule_still_holds() -> None:
    # the linear rewrite keeps the rule: a break unless a backslash follows in the word
    assert _kinds(wiki_to_adf("a\\\\b")) == ["text", "hardBreak", "text"]
    assert _kinds(wiki_to_adf("a\\\\b c\\d")) == ["text", "hardBreak", "text"]
    assert "hardBreak" not in _kinds(wiki_to_adf("a\\\\b\\c"))
    assert "hardBreak" not in _kinds(wiki_to_adf("\\\\\\"))


def _kinds(doc: dict[str, Any]) -> list[str]:
    return [node["type"] for node in doc["content"][0]["content"]]


def _text_of(node: Any) -> str:
    if isinstance(node, dict):
        own = str(node.get("text", "")) + str(node.get("attrs", {}).get("id", ""))
        return own + "".join(_text_of(child) for child in node.get("content", ()))
    return ""


def test_deep_nesting_is_cut_off_and_reported() -> None:
    ctx = MarkupContext(report=ConversionReport())
    text = "h1." * 200 + " x"
    doc = wiki_to_adf(text, ctx)
    assert doc["content"]
    assert any("nesting too deep" in item for item in ctx.report.lossy)


def test_many_nested_quotes_and_panels() -> None:
    text = "{quote}{panel}" * 500 + "x" + "{panel}{quote}" * 500
    doc = wiki_to_adf(text)
    assert doc["type"] == "doc"
    assert "x" in adf_to_wiki(doc)
