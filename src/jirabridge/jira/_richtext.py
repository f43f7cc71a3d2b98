"""The one seam where rich text changes form: wiki markup (Server, Cloud v2) <-> ADF.

The canonical form is ADF. The conversion itself belongs to :mod:`jirabridge.markup`
(``wiki_to_adf`` / ``adf_to_wiki`` with a ``MarkupContext``); when that package cannot be
imported, a plain-paragraph conversion keeps text (not formatting) so clients still work.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["MarkupCodec", "PlainCodec", "RichTextCodec", "default_codec"]

Adf = dict[str, Any]


class RichTextCodec(Protocol):
    def to_adf(self, wiki: str) -> Adf: ...

    def to_wiki(self, adf: Mapping[str, Any]) -> str: ...


class PlainCodec:
    """Paragraphs and line breaks only: blank lines separate paragraphs."""

    def to_adf(self, wiki: str) -> Adf:
        content: list[Adf] = []
        for block in wiki.replace("\r\n", "\n").split("\n\n"):
            if not block.strip():
                continue
            nodes: list[Adf] = []
            for i, line in enumerate(block.split("\n")):
                if i:
                    nodes.append({"type": "hardBreak"})
                if line:
                    nodes.append({"type": "text", "text": line})
            content.append({"type": "paragraph", "content": nodes})
        return {"type": "doc", "version": 1, "content": content}

    def to_wiki(self, adf: Mapping[str, Any]) -> str:
        blocks = []
        for block in adf.get("content") or ():
            blocks.append(_plain_text(block))
        return "\n\n".join(b for b in blocks if b)


def _plain_text(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        attrs = node.get("attrs") or {}
        return f"[~accountid:{attrs.get('id', '')}]"
    parts = [_plain_text(child) for child in node.get("content") or ()]
    sep = "\n" if kind not in ("paragraph", "heading") else ""
    return sep.join(parts)


class MarkupCodec:
    """Delegates to :mod:`jirabridge.markup`; ``context`` is its ``MarkupContext`` (or None)."""

    def __init__(self, context: Any = None) -> None:
        module = importlib.import_module("jirabridge.markup")
        self._wiki_to_adf = module.wiki_to_adf
        self._adf_to_wiki = module.adf_to_wiki
        self._context = context

    def to_adf(self, wiki: str) -> Adf:
        result: Adf = self._wiki_to_adf(wiki, self._context)
        return result

    def to_wiki(self, adf: Mapping[str, Any]) -> str:
        return str(self._adf_to_wiki(adf, self._context))


def default_codec(context: Any = None) -> RichTextCodec:
    """:class:`MarkupCodec` when ``jirabridge.markup`` is importable, else :class:`PlainCodec`."""
    try:
        return MarkupCodec(context)
    except (ImportError, AttributeError):
        return PlainCodec()
