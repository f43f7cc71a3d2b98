"""The two public conversion functions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jirabridge.errors import BadInputError
from jirabridge.markup._adf_writer import write_wiki
from jirabridge.markup._context import MarkupContext
from jirabridge.markup._rewrite import rewrite_issue_keys
from jirabridge.markup._wiki_parser import parse_wiki

__all__ = ["adf_to_wiki", "wiki_to_adf"]


def wiki_to_adf(text: str, ctx: MarkupContext | None = None) -> dict[str, Any]:
    """Convert Jira wiki markup to an ADF document (``{"version": 1, "type": "doc", ...}``).

    Never raises on any string: text the notation does not give a meaning to stays text.
    """
    value: object = text  # callers outside mypy's reach may pass anything
    if not isinstance(value, str):
        raise BadInputError(f"wiki markup must be a string, not {type(value).__name__}")
    doc = parse_wiki(text, ctx)
    content = [node.to_json() for node in doc.content or ()]
    if content == [{"type": "paragraph", "content": []}]:
        content = []  # an empty document, as Atlassian's transformer writes it
    if ctx is not None and ctx.issue_keys:
        for node in content:
            _rewrite_text_keys(node, ctx)
    return {"version": 1, "type": "doc", "content": content}


def _rewrite_text_keys(node: dict[str, Any], ctx: MarkupContext) -> None:
    if node.get("type") == "text":
        if not any(m.get("type") == "code" for m in node.get("marks", ())):
            node["text"] = rewrite_issue_keys(node["text"], ctx)
        return
    if node.get("type") == "codeBlock":
        return
    for child in node.get("content", ()):
        _rewrite_text_keys(child, ctx)


def adf_to_wiki(doc: Mapping[str, Any], ctx: MarkupContext | None = None) -> str:
    """Convert an ADF document to Jira wiki markup.

    Raises :class:`jirabridge.errors.BadInputError` (with the JSON path) when ``doc`` is not an
    ADF document; well-formed nodes of unknown types degrade to their text and are reported.
    """
    return write_wiki(doc, ctx)
