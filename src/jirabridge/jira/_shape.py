"""Checked access to Jira's JSON answers: a field of the wrong shape is a clear error.

An odd answer (a proxy's page, a list where an object belongs, an id that is not a number)
must not escape as ``KeyError``/``TypeError``/``AttributeError``: it becomes a
:class:`~jirabridge.errors.BadInputError` that names the request it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jirabridge.errors import BadInputError, RequestInfo

__all__ = ["Answer", "expect_list", "expect_object"]


def expect_object(
    value: Any, request: RequestInfo | None = None, what: str = "answer"
) -> Mapping[str, Any]:
    """``value`` if it is a JSON object; otherwise :class:`BadInputError`."""
    if isinstance(value, Mapping):
        return value
    raise BadInputError(
        f"Jira's {what} is a {_kind(value)} where an object was expected", request=request
    )


def expect_list(value: Any, request: RequestInfo | None = None, what: str = "answer") -> list[Any]:
    """``value`` if it is a JSON list (``None``, an empty body, reads as empty)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise BadInputError(
        f"Jira's {what} is a {_kind(value)} where a list was expected", request=request
    )


@dataclass(frozen=True)
class Answer:
    """One JSON object from Jira with typed, checked field access."""

    data: Mapping[str, Any]
    request: RequestInfo | None = None
    what: str = "answer"

    @classmethod
    def of(cls, value: Any, request: RequestInfo | None = None, what: str = "answer") -> Answer:
        return cls(expect_object(value, request, what), request, what)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def text(self, key: str) -> str:
        """A required string field (a number is accepted: Jira spells some ids both ways)."""
        value = self.data.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise self._missing(key, "text", value)

    def number(self, key: str) -> int:
        """A required integer field (a string of digits is accepted)."""
        value = self.data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        raise self._missing(key, "number", value)

    def _missing(self, key: str, kind: str, value: Any) -> BadInputError:
        found = "nothing" if value is None else f"a {_kind(value)}"
        return BadInputError(
            f"Jira's {self.what} has {found} for {key!r} where a {kind} was expected",
            request=self.request,
        )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__
