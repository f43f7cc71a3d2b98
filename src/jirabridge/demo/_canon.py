"""Compare rich text across the two sites: ADF -> one canonical line of text.

Both clients hand back ADF (the Server client converts wiki markup), but the two documents
of a synced pair legitimately differ in node details (empty mention texts, access levels,
split text nodes). The canonical form keeps what a reader sees: the words, the emphasis
marks, list items, and who is mentioned, as the person behind the id *on that site*: a
Server user name is nobody on Cloud, so a mention that was copied without being mapped shows
up as a divergence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["canonical_text"]

_MARKS = {"strong": "*", "em": "_", "code": "`", "strike": "-", "underline": "+"}
_BLOCKS = frozenset(
    {"paragraph", "heading", "blockquote", "codeBlock", "panel", "tableCell", "tableHeader"}
)


def canonical_text(doc: Mapping[str, Any] | None, who: Callable[[str], str]) -> str:
    """``doc`` as one normalised line; ``who(id)`` names the person behind a mention id."""
    if not doc:
        return ""
    parts: list[str] = []
    _walk(doc, who, parts)
    return " ".join(" ".join(parts).split())


def _walk(node: Mapping[str, Any], who: Callable[[str], str], out: list[str]) -> None:
    kind = node.get("type")
    if kind == "text":
        text = str(node.get("text", ""))
        marks = sorted(
            _MARKS[m["type"]]
            for m in node.get("marks") or ()
            if isinstance(m, Mapping) and m.get("type") in _MARKS
        )
        for mark in marks:
            text = f"{mark}{text}{mark}"
        out.append(text)
        return
    if kind == "mention":
        attrs = node.get("attrs") or {}
        out.append(f"@{who(str(attrs.get('id', '')))}")
        return
    if kind == "hardBreak":
        out.append("/")
        return
    if kind == "listItem":
        out.append("•")
    for child in node.get("content") or ():
        if isinstance(child, Mapping):
            _walk(child, who, out)
    if kind in _BLOCKS:
        out.append("¶")
