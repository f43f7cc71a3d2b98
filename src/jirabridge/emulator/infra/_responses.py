"""Error answers in Jira's shapes, with Jira's status codes and messages."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

__all__ = [
    "NOT_AUTHENTICATED",
    "gateway_unauthorized",
    "jira_error",
    "not_authenticated",
]

NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


def jira_error(
    status: int,
    messages: list[str] | None = None,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """``{"errorMessages": [...], "errors": {...}}`` with ``status``."""
    body = {"errorMessages": list(messages or []), "errors": dict(errors or {})}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def not_authenticated() -> JSONResponse:
    """Jira's 401 for a protected resource reached without (valid) credentials."""
    return jira_error(
        401, [NOT_AUTHENTICATED], headers={"WWW-Authenticate": 'Basic realm="protected-area"'}
    )


def gateway_unauthorized() -> JSONResponse:
    """The OAuth gateway's 401 (``api.atlassian.com``) for a missing, expired or revoked token."""
    return JSONResponse({"code": 401, "message": "Unauthorized"}, status_code=401)
