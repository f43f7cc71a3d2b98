"""Jira lists: nesting ``*``/``#`` items the way Jira does, and what a list item may hold."""

from __future__ import annotations

from jirabridge.markup._nodes import (
    InvalidContentError,
    Node,
    add_mark,
    has_any_mark,
    make,
    mark,
)

__all__ = ["ListBuilder", "list_sanitize", "list_type"]


def list_sanitize(nodes: list[Node]) -> list[Node]:
    out: list[Node] = []
    for node in nodes:
        if node.type == "blockquote":
            out.extend(node.content or ())
        elif node.type == "heading":
            content = []
            for child in node.content or ():
                if child.is_text:
                    if child.text:
                        child = Node("text", text=child.text.upper(), marks=child.marks)
                    if not has_any_mark(child, ("strong", "code")):
                        child = add_mark(child, mark("strong"))
                content.append(child)
            out.append(make("paragraph", None, content))
        else:
            out.append(node)
    return out


def list_type(symbols: str) -> str:
    return "orderedList" if symbols.endswith("#") else "bulletList"


class _ListTree:
    __slots__ = ("children", "parent", "type")

    def __init__(self, type_: str, parent: _ItemTree | None) -> None:
        self.type = type_
        self.parent = parent
        self.children: list[_ItemTree] = []


class _ItemTree:
    __slots__ = ("children", "content", "parent")

    def __init__(self, parent: _ListTree, content: list[Node] | None) -> None:
        self.parent = parent
        self.content = content
        self.children: list[_ListTree] = []


_LIST_ITEM_CONTENT = frozenset(
    {"paragraph", "orderedList", "bulletList", "mediaSingle", "codeBlock"}
)


class ListBuilder:
    """Builds nested lists from (symbols, content) items, the way Jira nests ``*``/``#``."""

    def __init__(self, symbols: str) -> None:
        self.root = _ListTree(list_type(symbols), None)
        self.last_depth = 1
        self.last_list = self.root

    @property
    def type(self) -> str:
        return self.root.type

    def add(self, symbols: str, content: list[Node]) -> None:
        depth = len(symbols)
        type_ = list_type(symbols)
        if depth > self.last_depth:
            self._nest(depth - self.last_depth, type_)
        elif depth < self.last_depth:
            self.last_list = self._ancestor(self.last_depth - depth)
        self.last_depth = depth
        self.last_list = self._add_item(type_, content)

    def _add_item(self, type_: str, content: list[Node]) -> _ListTree:
        lst = self.last_list
        if lst.type != type_:
            parent = lst.parent
            if parent is None:
                raise InvalidContentError("list type changes at the root")
            new = _ListTree(type_, parent)
            parent.children.append(new)
            lst = new
        lst.children.append(_ItemTree(lst, content))
        return lst

    def _nest(self, levels: int, type_: str) -> None:
        for _ in range(levels):
            if not self.last_list.children:
                self.last_list.children = [_ItemTree(self.last_list, None)]
            item = self.last_list.children[-1]
            nested = _ListTree(type_, item)
            item.children = [nested]
            self.last_list = nested

    def _ancestor(self, levels: int) -> _ListTree:
        lst = self.last_list
        for _ in range(levels):
            if lst.parent is None:
                break
            lst = lst.parent.parent
        return lst

    def build(self) -> list[Node]:
        return self._build_list(self.root)

    def _build_list(self, lst: _ListTree) -> list[Node]:
        out: list[Node] = []
        items: list[Node] = []
        attrs = {"order": 1} if lst.type == "orderedList" else None
        for child in lst.children:
            for node in self._build_item(child):
                if node.type == "listItem":
                    items.append(node)
                    continue
                if items:
                    out.append(make(lst.type, attrs, items))
                out.append(node)
                items = []
        if items:
            out.append(make(lst.type, attrs, items))
        return out

    def _build_item(self, item: _ItemTree) -> list[Node]:
        content = list(item.content or [])
        for nested in item.children:
            content.extend(self._build_list(nested))
        out: list[Node] = []
        pending: list[Node] = []
        for node in content:
            if node.type == "paragraph" and not node.content:
                continue
            if node.type == "paragraph" and all(
                c.is_text and not (c.text or "").strip() for c in node.content or ()
            ):
                continue
            if node.type not in _LIST_ITEM_CONTENT:
                out.append(self._list_item(pending))
                out.append(node)
                pending = []
                continue
            pending.append(node)
        if pending:
            out.append(self._list_item(pending))
        return out

    @staticmethod
    def _list_item(content: list[Node]) -> Node:
        if not content or content[0].type not in ("paragraph", "mediaSingle"):
            if content and content[0].type in ("bulletList", "orderedList"):
                return make("listItem", None, content)
            content = [make("paragraph"), *content]
        return make("listItem", None, content)
