"""Jira's error answers: ``{"errorMessages": [...], "errors": {...}}`` with Jira's status codes.

Handlers raise :class:`JiraHttpError`; domain errors of the model (anything carrying
``status``, ``error_messages`` and ``errors``, as the model's ``ModelError`` does) and JQL
errors are translated here, in one place, by :func:`error_response_for`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from starlette.responses import JSONResponse, Response

from jirabridge.errors import BadInputError, JirabridgeError, JiraErrorBody

__all__ = ["JiraHttpError", "error_response", "error_response_for"]


class JiraHttpError(BadInputError):
    """A request the face refuses, with the status and body Jira would answer."""

    def __init__(
        self,
        status: int,
        messages: Iterable[str] = (),
        errors: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.error_messages = list(messages)
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})
        body = JiraErrorBody(status, self.error_messages, self.errors)
        super().__init__(body.summary(), jira=body)


def error_response(
    status: int,
    messages: Iterable[str] = (),
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Build Jira's JSON error answer."""
    return JSONResponse(
        {"errorMessages": list(messages), "errors": dict(errors or {})},
        status_code=status,
        headers=dict(headers or {}),
    )


def _as_str_dict(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    return {}


def error_response_for(exc: Exception) -> Response | None:
    """Translate a face, model or JQL error into Jira's answer; None if it is not one."""
    if isinstance(exc, JiraHttpError):
        return error_response(exc.status, exc.error_messages, exc.errors, exc.headers)
    status = getattr(exc, "status", None)
    if isinstance(status, int) and hasattr(exc, "error_messages"):
        messages = [str(m) for m in getattr(exc, "error_messages", None) or []]
        errors = _as_str_dict(getattr(exc, "errors", None))
        if not messages and not errors:
            messages = [str(exc)]
        return error_response(status, messages, errors)
    if isinstance(exc, JirabridgeError) and exc.jira is not None:
        body = exc.jira
        return error_response(body.status, body.error_messages, body.errors)
    if type(exc).__name__ == "JqlError" or isinstance(exc, BadInputError):
        messages = getattr(exc, "error_messages", None) or [getattr(exc, "message", str(exc))]
        return error_response(400, [str(m) for m in messages])
    return None
