"""The one seam where rich text changes form: wiki markup (Server, Cloud v2) <-> ADF.

The canonical form is ADF. The conversion itself belongs to :mod:`jirabridge.markup`
(``wiki_to_adf`` / ``adf_to_wiki`` with a ``MarkupContext``); :class:`PlainCodec` is a
paragraphs-only stand-in for tests that must not depend on the converter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from jirabridge.jira._model import UserRef
from jirabridge.markup import (
    MappingUserDirectory,
    MarkupContext,
    UserEntry,
    adf_to_wiki,
    wiki_to_adf,
)

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
    """Delegates to :mod:`jirabridge.markup`; ``context`` is its ``MarkupContext`` (or None).

    Build it with :meth:`for_people` to translate mentions between ``[~username]`` and ADF
    mention nodes carrying accountIds.
    """

    def __init__(self, context: MarkupContext | None = None) -> None:
        self.context = context

    @classmethod
    def for_people(cls, people: Iterable[UserRef]) -> MarkupCodec:
        """A codec whose mentions go through a directory of people known on both sites."""
        entries = [
            UserEntry(
                account_id=p.account_id,
                username=p.name,
                key=p.key,
                email=p.email,
                display_name=p.display_name,
            )
            for p in people
            if p.account_id
        ]
        return cls(MarkupContext(users=MappingUserDirectory(entries)))

    def to_adf(self, wiki: str) -> Adf:
        return wiki_to_adf(wiki, self.context)

    def to_wiki(self, adf: Mapping[str, Any]) -> str:
        return adf_to_wiki(adf, self.context)


def default_codec(context: MarkupContext | None = None) -> RichTextCodec:
    """The codec clients use unless told otherwise: :class:`MarkupCodec`."""
    return MarkupCodec(context)
