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
