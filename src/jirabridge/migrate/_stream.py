"""Stream the top-level entities of an ``entities.xml`` to handlers, with flat memory.

lxml's parser-target interface is used instead of building a tree: the parser calls back for
each start tag and only the entities a caller asked for are turned into Python values. In
the entity format every entity name is CamelCase (``Issue``, ``OSPropertyString``) and every
child element lowercase (``description``, ``body``, ``value``), so attribute-only handlers
need no depth tracking and no ``end`` callback, which keeps the Python work per element to
one dictionary lookup. Entities whose children's text is wanted (``with_children``) get a
second, slower target that also tracks ends and text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from lxml import etree

from jirabridge.errors import BadInputError
from jirabridge.migrate._scan import ScanningReader

__all__ = [
    "AttrHandler",
    "Entity",
    "EntityHandler",
    "ParseResult",
    "XmlProblem",
    "parse_entities",
]

_BUILD = re.compile(r"JIRA Build\s*:\s*([0-9][0-9.]*)#([0-9]+)")
_CHUNK = 1 << 20
_MAX_CHILD_TEXT = 16 << 20  # longer child text is cut: memory stays bounded


@dataclass(frozen=True)
class Entity:
    """One top-level entity: its name, attributes, and its children's text."""

    tag: str
    attrs: Mapping[str, str]
    children: Mapping[str, str]

    def get(self, name: str, default: str = "") -> str:
        """An attribute, falling back to a child element of the same name."""
        value = self.attrs.get(name)
        if value is None:
            value = self.children.get(name, default)
        return value


AttrHandler = Callable[[Mapping[str, str]], None]
EntityHandler = Callable[[Entity], None]


@dataclass(frozen=True)
class XmlProblem:
    """Why the XML could not be parsed to the end: lxml's message and position."""

    message: str
    line: int
    column: int


@dataclass(frozen=True)
class ParseResult:
    root: str | None
    build_comment: tuple[str, str] | None
    problem: XmlProblem | None


class _AttrTarget:
    """Start tags only: ``handlers[tag](attrib)``."""

    def __init__(self, handlers: Mapping[str, AttrHandler]) -> None:
        self._get = handlers.get
        self.root: str | None = None
        self.build: tuple[str, str] | None = None

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        handler = self._get(tag)
        if handler is not None:
            handler(attrib)
        elif self.root is None:
            self.root = tag

    def comment(self, text: str) -> None:
        if self.build is None and self.root is None:
            m = _BUILD.search(text)
            if m:
                self.build = (m.group(1), m.group(2))

    def close(self) -> None:
        return None


class _EntityTarget(_AttrTarget):
    """Also collects the children's text of the entities in ``entity_handlers``."""

    def __init__(
        self, handlers: Mapping[str, AttrHandler], entity_handlers: Mapping[str, EntityHandler]
    ) -> None:
        super().__init__(handlers)
        self._entity_handlers = entity_handlers
        self._depth = 0
        self._current: str | None = None
        self._attrs: dict[str, str] = {}
        self._children: dict[str, str] = {}
        self._child: str | None = None
        self._text: list[str] = []
        self._text_len = 0

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        self._depth += 1
        if self._depth == 2 and tag in self._entity_handlers:
            self._current = tag
            self._attrs = dict(attrib)
            self._children = {}
        elif self._depth == 3 and self._current is not None:
            self._child = tag
            self._text = []
            self._text_len = 0
        if self._depth <= 2:
            super().start(tag, attrib)

    def end(self, tag: str) -> None:
        depth = self._depth
        self._depth -= 1
        if depth == 2 and self._current is not None:
            entity = Entity(self._current, self._attrs, self._children)
            self._current = None
            self._entity_handlers[tag](entity)
        elif depth == 3 and self._child is not None:
            self._children[self._child] = "".join(self._text)
            self._child = None

    def data(self, data: str) -> None:
        if self._child is not None and self._text_len < _MAX_CHILD_TEXT:
            self._text.append(data)
            self._text_len += len(data)


def parse_entities(
    reader: ScanningReader,
    handlers: Mapping[str, AttrHandler],
    entity_handlers: Mapping[str, EntityHandler] | None = None,
) -> ParseResult:
    """Feed ``reader`` to lxml; call ``handlers[tag](attrs)`` at each entity's start tag and
    ``entity_handlers[tag](entity)`` (with children's text) at its end.

    Hostile-XML settings: no entity resolution, no network, no DTD loading, no huge trees.
    A well-formedness error stops the parse and is returned as :class:`XmlProblem` (with
    lxml's line and column); a refusal by the scanner (DOCTYPE, UTF-16) raises
    :class:`BadInputError`.
    """
    target: _AttrTarget = (
        _EntityTarget(handlers, entity_handlers) if entity_handlers else _AttrTarget(handlers)
    )
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
    return ParseResult(target.root, target.build, problem)
