"""Rich text on the wire: wiki markup strings (Server v2, Cloud v2) or ADF (Cloud v3).

The model keeps rich text in the site's native form (wiki ``str`` on Server, ADF ``dict`` on
Cloud). :func:`to_wire` and :func:`from_wire` convert between the stored form and the form of
the API version of the request. Conversion is done by :mod:`jirabridge.markup` when it is
installed; otherwise a plain-paragraph fallback keeps the emulator usable (text survives,
formatting does not).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["adf_to_wiki", "from_wire", "is_adf", "to_wire", "wiki_to_adf"]

_WikiToAdf = Callable[[str], dict[str, Any]]
_AdfToWiki = Callable[[Mapping[str, Any]], str]


def _fallback_wiki_to_adf(text: str) -> dict[str, Any]:
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    content: list[dict[str, Any]] = []
    for para in paragraphs:
        inline: list[dict[str, Any]] = []
        for i, line in enumerate(para.split("\n")):
            if i:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": content}


def _collect_text(node: Any, out: list[str]) -> None:
    if not isinstance(node, Mapping):
        return
    kind = node.get("type")
    if kind == "text":
        out.append(str(node.get("text", "")))
    elif kind == "hardBreak":
        out.append("\n")
    elif kind == "mention":
        attrs = node.get("attrs") or {}
        out.append(f"[~accountid:{attrs.get('id', '')}]")
    for child in node.get("content") or []:
        _collect_text(child, out)


def _fallback_adf_to_wiki(doc: Mapping[str, Any]) -> str:
    blocks: list[str] = []
    for block in doc.get("content") or []:
        parts: list[str] = []
        _collect_text(block, parts)
        blocks.append("".join(parts))
    return "\n\n".join(blocks)


def _load() -> tuple[_WikiToAdf, _AdfToWiki]:
    try:
        markup = importlib.import_module("jirabridge.markup")
        w2a = markup.wiki_to_adf
        a2w = markup.adf_to_wiki
    except (ImportError, AttributeError):
        return _fallback_wiki_to_adf, _fallback_adf_to_wiki
    return w2a, a2w


_W2A, _A2W = _load()


def wiki_to_adf(text: str) -> dict[str, Any]:
    """Wiki markup -> ADF document (``jirabridge.markup`` when present)."""
    try:
        return _W2A(text)
    except Exception:  # a converter bug must not crash the emulator
        return _fallback_wiki_to_adf(text)


def adf_to_wiki(doc: Mapping[str, Any]) -> str:
    """ADF document -> wiki markup (``jirabridge.markup`` when present)."""
    try:
        return _A2W(doc)
    except Exception:  # a converter bug must not crash the emulator
        return _fallback_adf_to_wiki(doc)


def is_adf(value: Any) -> bool:
    """True for a dict that looks like an ADF document."""
    return isinstance(value, Mapping) and value.get("type") == "doc"


def to_wire(stored: Any, *, adf_api: bool) -> Any:
    """Stored rich text -> the request's API form (ADF for Cloud v3, wiki otherwise)."""
    if stored is None:
        return None
    if adf_api:
        if is_adf(stored):
            return stored
        return wiki_to_adf(str(stored))
    if isinstance(stored, Mapping):
        return adf_to_wiki(stored)
    return stored


def from_wire(value: Any, *, native_adf: bool) -> Any:
    """A value from a request -> the site's native form (ADF on Cloud, wiki on Server).

    The caller has already checked the type against the API version (string for v2, ADF
    document for v3).
    """
    if value is None:
        return None
    if native_adf:
        if is_adf(value):
            return value
        return wiki_to_adf(str(value))
    if isinstance(value, Mapping):
        return adf_to_wiki(value)
    return value
