"""Content fingerprints that survive the wiki markup -> ADF change of a migration.

A Server site stores rich text as wiki markup and Cloud as ADF, and links to the old server
are remapped after the import, so ``verify`` compares words, not bytes: the words of the
text in order, lower-cased, without markup, mentions, or URLs. Written by hand because the
comparison must forget exactly what a migration legitimately changes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "IssueDigest",
    "ProjectDigest",
    "adf_words",
    "comments_hash",
    "content_hash",
    "fingerprint",
    "wiki_words",
]

_URL = re.compile(r"https?://\S+|mailto:\S+", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_MACRO = re.compile(r"\{[A-Za-z]+(?::[^}]*)?\}")
_MENTION = re.compile(r"\[~[^\]]*\]")
_LINK = re.compile(r"\[([^|\]]*)\|[^\]]*\]")
_BARE_LINK = re.compile(r"\[[^\]|]*\]")
_HEADING = re.compile(r"^\s*h[1-6]\.\s", re.MULTILINE)
_IMAGE = re.compile(r"![^!\s][^!]*!")


@dataclass(frozen=True)
class ProjectDigest:
    key: str
    name: str


@dataclass(frozen=True)
class IssueDigest:
    """What verify compares for one issue (no text, only hashes and counts)."""

    key: str
    project: str
    content: str  # summary + description fingerprint
    comments: tuple[str, ...]  # fingerprint of each comment, sorted
    attachments: tuple[tuple[str, int], ...]  # (file name, size), sorted
    status: str = ""
    issuetype: str = ""


def _words(text: str) -> list[str]:
    return _WORD.findall(_URL.sub(" ", text).lower())


def wiki_words(text: str) -> list[str]:
    """The words of wiki markup text, without markup, mentions and URLs."""
    text = _MENTION.sub(" ", text)
    text = _LINK.sub(lambda m: " " + m.group(1) + " ", text)
    text = _BARE_LINK.sub(" ", text)
    text = _IMAGE.sub(" ", text)
    text = _MACRO.sub(" ", text)
    text = _HEADING.sub(" ", text)
    return _words(text)


def adf_words(doc: Mapping[str, Any] | None) -> list[str]:
    """The words of an ADF document's text nodes (mentions, cards, media left out)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            kind = node.get("type")
            if kind == "text":
                parts.append(str(node.get("text", "")))
            elif kind in ("hardBreak", "paragraph", "heading", "listItem", "tableCell"):
                parts.append(" ")
            if kind in ("mention", "inlineCard", "blockCard", "media", "mediaSingle", "emoji"):
                return
            for child in node.get("content") or ():
                walk(child)
                if kind not in ("text",):
                    parts.append(" ")

    walk(doc)
    return _words("".join(parts))


def fingerprint(words: Iterable[str]) -> str:
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()[:32]


def content_hash(summary: str, description_words: Iterable[str]) -> str:
    joined = summary.strip() + "\x00" + " ".join(description_words)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]


def comments_hash(fingerprints: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(fingerprints)).encode()).hexdigest()[:32]
