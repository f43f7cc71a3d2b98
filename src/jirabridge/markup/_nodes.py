"""The in-memory document tree the wiki parser builds before it becomes ADF JSON.

A small mutable node type (the parser decorates text nodes with marks as it unwinds nested
formatting), content checks that mirror the ADF schema's content expressions for the nodes the
parser creates, and text-node merging (adjacent text with the same marks becomes one node).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "BLOCK_TYPES",
    "INLINE_TYPES",
    "InvalidContentError",
    "Mark",
    "Node",
    "add_mark",
    "has_any_mark",
    "make",
    "mark",
    "merge_text",
    "text_node",
]

Mark = tuple[str, tuple[tuple[str, Any], ...]]
"""A mark: its type and its attributes as sorted ``(name, value)`` pairs (hashable, comparable)."""

INLINE_TYPES = frozenset(
    {"text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status", "mediaInline"}
)
BLOCK_TYPES = frozenset(
    {
        "paragraph",
        "heading",
        "bulletList",
        "orderedList",
        "blockquote",
        "codeBlock",
        "panel",
        "rule",
        "mediaGroup",
        "mediaSingle",
        "table",
        "blockCard",
        "embedCard",
        "expand",
        "nestedExpand",
        "taskList",
        "decisionList",
    }
)

_INLINE = INLINE_TYPES
_CELL = frozenset(
    {
        "paragraph",
        "panel",
        "blockquote",
        "orderedList",
        "bulletList",
        "rule",
        "heading",
        "codeBlock",
        "mediaSingle",
        "mediaGroup",
        "blockCard",
        "embedCard",
        "nestedExpand",
        "decisionList",
        "taskList",
    }
)
# child types allowed, and whether at least one child is required
_CONTENT_RULES: dict[str, tuple[frozenset[str], bool]] = {
    "doc": (BLOCK_TYPES, True),
    "paragraph": (_INLINE, False),
    "heading": (_INLINE, False),
    "bulletList": (frozenset({"listItem"}), True),
    "orderedList": (frozenset({"listItem"}), True),
    "listItem": (
        frozenset({"paragraph", "bulletList", "orderedList", "mediaSingle", "codeBlock"}),
        True,
    ),
    "blockquote": (
        frozenset(
            {"paragraph", "orderedList", "bulletList", "codeBlock", "mediaSingle", "mediaGroup"}
        ),
        True,
    ),
    "panel": (
        frozenset(
            {
                "paragraph",
                "heading",
                "bulletList",
                "orderedList",
                "blockCard",
                "mediaGroup",
                "mediaSingle",
                "codeBlock",
                "rule",
                "decisionList",
                "taskList",
            }
        ),
        True,
    ),
    "codeBlock": (frozenset({"text"}), False),
    "table": (frozenset({"tableRow"}), True),
    "tableRow": (frozenset({"tableCell", "tableHeader"}), True),
    "tableCell": (_CELL, True),
    "tableHeader": (_CELL, True),
    "mediaSingle": (frozenset({"media"}), True),
    "mediaGroup": (frozenset({"media"}), True),
}


class InvalidContentError(Exception):
    """A node was built with content its type does not allow (internal: the parser falls back
    to plain text, as Atlassian's transformer does when ProseMirror rejects a node)."""


class Node:
    """One node of the document tree (ADF vocabulary)."""

    __slots__ = ("attrs", "content", "marks", "raw", "text", "type")

    def __init__(
        self,
        type_: str,
        attrs: dict[str, Any] | None = None,
        content: list[Node] | None = None,
        marks: tuple[Mark, ...] = (),
        text: str | None = None,
        raw: dict[str, Any] | None = None,
    ) -> None:
        self.type = type_
        self.attrs = attrs
        self.content = content
        self.marks = marks
        self.text = text
        self.raw = raw

    @property
    def is_block(self) -> bool:
        return self.type in BLOCK_TYPES

    @property
    def is_text(self) -> bool:
        return self.type == "text"

    def text_content(self) -> str:
        if self.text is not None:
            return self.text
        return "".join(child.text_content() for child in self.content or ())

    def with_marks(self, marks: tuple[Mark, ...]) -> Node:
        return Node(self.type, self.attrs, self.content, marks, self.text, self.raw)

    def to_json(self) -> dict[str, Any]:
        if self.raw is not None:
            return self.raw
        out: dict[str, Any] = {"type": self.type}
        if self.text is not None:
            out["text"] = self.text
        if self.attrs:
            out["attrs"] = dict(self.attrs)
        if self.content is not None and (self.content or self.type != "codeBlock"):
            out["content"] = [child.to_json() for child in self.content]
        if self.marks:
            out["marks"] = [
                {"type": name, "attrs": dict(attrs)} if attrs else {"type": name}
                for name, attrs in self.marks
            ]
        return out

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        if self.text is not None:
            return f"text({self.text!r}, {[m[0] for m in self.marks]})"
        return f"{self.type}({self.attrs or ''}, {self.content})"


def mark(name: str, **attrs: Any) -> Mark:
    return (name, tuple(sorted(attrs.items())))


def text_node(text: str, marks: tuple[Mark, ...] = ()) -> Node:
    if text == "":
        raise InvalidContentError("empty text nodes are not allowed")
    return Node("text", text=text, marks=marks)


def has_any_mark(node: Node, names: Iterable[str]) -> bool:
    wanted = set(names)
    return any(m[0] in wanted for m in node.marks)


def add_mark(node: Node, new: Mark) -> Node:
    """Append ``new`` to the node's marks (kept in order: the transformer appends, never sorts)."""
    return node.with_marks((*node.marks, new))


def merge_text(nodes: Sequence[Node]) -> list[Node]:
    """Join adjacent text nodes that carry the same marks."""
    out: list[Node] = []
    for node in nodes:
        if (
            out
            and node.is_text
            and out[-1].is_text
            and out[-1].marks == node.marks
            and out[-1].raw is None
        ):
            previous = out[-1]
            out[-1] = Node("text", text=(previous.text or "") + (node.text or ""), marks=node.marks)
        else:
            out.append(node)
    return out


def make(type_: str, attrs: dict[str, Any] | None = None, content: Sequence[Node] = ()) -> Node:
    """Build a container node, checking its content like the schema would."""
    allowed, required = _CONTENT_RULES.get(type_, (None, False))
    children = merge_text(content)
    if allowed is not None:
        for child in children:
            if child.type not in allowed:
                raise InvalidContentError(f"{child.type} is not allowed in {type_}")
        if required and not children:
            raise InvalidContentError(f"{type_} needs content")
    return Node(type_, attrs, children)
