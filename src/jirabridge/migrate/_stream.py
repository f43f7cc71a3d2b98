"""Stream the top-level entities of an ``entities.xml`` to handlers, with flat memory.

lxml's parser-target interface is used instead of building a tree: the parser calls back for
each start tag, and only the entities a caller asked for are turned into Python values. A
few entities keep long values in child elements (``<description><![CDATA[...]]>``); for
those the children's text is collected too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from lxml import etree

from jirabridge.errors import BadInputError
from jirabridge.migrate._scan import ScanningReader

__all__ = ["Entity", "EntityHandler", "ParseResult", "XmlProblem", "parse_entities"]

_BUILD = re.compile(r"JIRA Build\s*:\s*([0-9][0-9.]*)#([0-9]+)")
_CHUNK = 1 << 20
_MAX_CHILD_TEXT = 16 << 20  # longer child text is cut: memory stays bounded


@dataclass(frozen=True)
class Entity:
    """One top-level entity: its name, attributes, and (when asked) its children's text."""

    tag: str
    attrs: Mapping[str, str]
    children: Mapping[str, str]

    def get(self, name: str, default: str = "") -> str:
        """An attribute, falling back to a child element of the same name."""
        value = self.attrs.get(name)
        if value is None:
            value = self.children.get(name, default)
        return value


EntityHandler = Callable[[Entity], None]


@dataclass(frozen=True)
class XmlProblem:
    """Why the XML could not be parsed to the end: lxml's message and position."""

    message: str
    line: int
    column: int


class _Target:
    def __init__(self, handlers: Mapping[str, EntityHandler], with_children: frozenset[str]):
        self._handlers = handlers
        self._with_children = with_children
        self._depth = 0
        self._current: str | None = None
        self._attrs: dict[str, str] = {}
        self._children: dict[str, str] = {}
        self._child: str | None = None
        self._text: list[str] = []
        self._text_len = 0
        self.root: str | None = None
        self.build: tuple[str, str] | None = None
        self.count = 0

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        self._depth += 1
        depth = self._depth
        if depth == 2:
            self.count += 1
            if tag in self._handlers:
                self._current = tag
                self._attrs = dict(attrib)
                self._children = {}
        elif depth == 1:
            self.root = tag
        elif depth == 3 and self._current is not None and self._current in self._with_children:
            self._child = tag
            self._text = []
            self._text_len = 0

    def end(self, tag: str) -> None:
        depth = self._depth
        self._depth -= 1
        if depth == 2 and self._current is not None:
            self._handlers[self._current](Entity(self._current, self._attrs, self._children))
            self._current = None
        elif depth == 3 and self._child is not None:
            self._children[self._child] = "".join(self._text)
            self._child = None

    def data(self, data: str) -> None:
        if self._child is not None and self._text_len < _MAX_CHILD_TEXT:
            self._text.append(data)
            self._text_len += len(data)

    def comment(self, text: str) -> None:
        if self._depth == 0 and self.build is None:
            m = _BUILD.search(text)
            if m:
                self.build = (m.group(1), m.group(2))

    def close(self) -> None:
        return None


@dataclass(frozen=True)
class ParseResult:
    root: str | None
    entities: int
    build_comment: tuple[str, str] | None
    problem: XmlProblem | None


def parse_entities(
    reader: ScanningReader,
    handlers: Mapping[str, EntityHandler],
    *,
    with_children: frozenset[str] = frozenset(),
) -> ParseResult:
    """Feed ``reader`` to lxml and call ``handlers[tag]`` for each top-level entity.

    Hostile-XML settings: no entity resolution, no network, no DTD loading, no huge trees.
    A well-formedness error stops the parse and is returned as :class:`XmlProblem` (with
    lxml's line and column); a refusal by the scanner (DOCTYPE, UTF-16) raises
    :class:`BadInputError`.
    """
    target = _Target(handlers, with_children)
    parser = etree.XMLParser(
        target=cast(Any, target),  # lxml-stubs type the callbacks as str | bytes
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=False,
    )
    problem: XmlProblem | None = None
    try:
        while True:
            chunk = reader.read(_CHUNK)
            if not chunk:
                break
            parser.feed(chunk)
        parser.close()
    except etree.XMLSyntaxError as exc:
        line, col = exc.position if exc.position else (0, 0)
        problem = XmlProblem(str(exc.msg or exc), int(line or 0), int(col or 0))
    except BadInputError:
        raise
    except (ValueError, OSError, etree.LxmlError) as exc:
        raise BadInputError(f"cannot parse the XML: {exc}") from exc
    return ParseResult(target.root, target.count, target.build, problem)
