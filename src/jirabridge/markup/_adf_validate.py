"""Checking that a value handed in as ADF is shaped like an ADF document.

Shape only (objects, types, lists where ADF has lists), with the JSON path of the first
problem in the :class:`~jirabridge.errors.BadInputError`; unknown node types are allowed here
(the writer degrades them to text and reports them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jirabridge.errors import BadInputError

__all__ = ["MAX_ADF_DEPTH", "validate_adf"]

MAX_ADF_DEPTH = 200


def validate_adf(doc: object) -> Mapping[str, Any]:
    """Check that ``doc`` is shaped like an ADF document; raise BadInputError with the path."""
    if not isinstance(doc, Mapping):
        raise BadInputError(f"ADF: $ must be an object, not {type(doc).__name__}")
    if doc.get("type") != "doc":
        raise BadInputError('ADF: $.type must be "doc"')
    _check_node(doc, "$", 0)
    return doc


def _check_node(node: object, path: str, depth: int) -> None:
    if depth > MAX_ADF_DEPTH:
        raise BadInputError(f"ADF: {path} is nested too deeply")
    if not isinstance(node, Mapping):
        raise BadInputError(f"ADF: {path} must be an object, not {type(node).__name__}")
    kind = node.get("type")
    if not isinstance(kind, str) or not kind:
        raise BadInputError(f"ADF: {path}.type must be a non-empty string")
    attrs = node.get("attrs")
    if attrs is not None and not isinstance(attrs, Mapping):
        raise BadInputError(f"ADF: {path}.attrs must be an object")
    if kind == "text" and not isinstance(node.get("text"), str):
        raise BadInputError(f"ADF: {path}.text must be a string")
    marks = node.get("marks")
    if marks is not None:
        if not isinstance(marks, list):
            raise BadInputError(f"ADF: {path}.marks must be a list")
        for i, m in enumerate(marks):
            if not isinstance(m, Mapping) or not isinstance(m.get("type"), str):
                raise BadInputError(f"ADF: {path}.marks[{i}] must be an object with a type")
            mark_attrs = m.get("attrs")
            if mark_attrs is not None and not isinstance(mark_attrs, Mapping):
                raise BadInputError(f"ADF: {path}.marks[{i}].attrs must be an object")
    content = node.get("content")
    if content is not None:
        if not isinstance(content, list):
            raise BadInputError(f"ADF: {path}.content must be a list")
        for i, child in enumerate(content):
            _check_node(child, f"{path}.content[{i}]", depth + 1)
