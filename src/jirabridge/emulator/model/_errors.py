"""Domain errors of the emulated site, shaped so a face can render Jira's error JSON.

::

    jirabridge.errors.BadInputError
    └── ModelError            status, error_messages, errors (field id -> message)
        ├── NotFound          404
        ├── ValidationFailed  400
        ├── PermissionDenied  403
        └── Conflict          409
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import TypeVar

from jirabridge.errors import BadInputError, JiraErrorBody

__all__ = [
    "ClockError",
    "Conflict",
    "ModelError",
    "NotFound",
    "PermissionDenied",
    "StateFileError",
    "ValidationFailed",
]

E = TypeVar("E", bound=enum.Enum)

ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."


class ModelError(BadInputError):
    """A request the emulated site refuses; carries Jira's status code and messages."""

    status: int = 400

    def __init__(
        self,
        error_messages: Sequence[str] | str = (),
        errors: Mapping[str, str] | None = None,
        *,
        status: int | None = None,
    ) -> None:
        if isinstance(error_messages, str):
            error_messages = [error_messages]
        self.error_messages: list[str] = list(error_messages)
        self.errors: dict[str, str] = dict(errors or {})
        if status is not None:
            self.status = status
        body = JiraErrorBody(self.status, tuple(self.error_messages), dict(self.errors))
        super().__init__(body.summary(), jira=body)


class NotFound(ModelError):
    """404: the thing does not exist (or the caller may not see it)."""

    status = 404


class ValidationFailed(ModelError):
    """400: the request is not valid (field errors keyed by field id)."""

    status = 400


class PermissionDenied(ModelError):
    """403: the acting user may not do this."""

    status = 403


class Conflict(ModelError):
    """409: the request conflicts with the current state."""

    status = 409


class ClockError(BadInputError, ValueError):
    """A clock change that makes no sense (a naive datetime, going backwards)."""


class StateFileError(BadInputError):
    """A saved state file cannot be read: not ours, a newer version, truncated or corrupt."""


def enum_value(enum_cls: type[E], value: object, what: str) -> E:
    """``enum_cls(value)``, or :class:`ValidationFailed` naming the accepted values."""
    try:
        return enum_cls(value)
    except ValueError:
        accepted = ", ".join(str(m.value) for m in enum_cls)
        raise ValidationFailed(f"Invalid {what} '{value}'; use one of: {accepted}.") from None
