"""Error answers in Jira's shapes, with Jira's status codes and messages."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

__all__ = [
    "NOT_AUTHENTICATED",
    "captcha_challenge",
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


def not_authenticated(*, failed_login: bool = False) -> JSONResponse:
    """Jira's 401 for a protected resource reached without (valid) credentials; Server
    marks a rejected login with ``X-Seraph-LoginReason: AUTHENTICATED_FAILED``."""
    headers = {"WWW-Authenticate": 'Basic realm="protected-area"'}
    if failed_login:
        headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
    return jira_error(401, [NOT_AUTHENTICATED], headers=headers)


def captcha_challenge(base_url: str) -> JSONResponse:
    """Jira Server's 403 once too many logins failed: basic auth stays refused until the user
    passes a CAPTCHA in the browser."""
    return jira_error(
        403,
        ["CAPTCHA_CHALLENGE"],
        headers={
            "X-Seraph-LoginReason": "AUTHENTICATION_DENIED",
            "X-Authentication-Denied-Reason": (
                f"CAPTCHA_CHALLENGE; login-url={base_url.rstrip('/')}/login.jsp"
            ),
        },
    )


def gateway_unauthorized() -> JSONResponse:
    """The OAuth gateway's 401 (``api.atlassian.com``) for a missing, expired or revoked token."""
    return JSONResponse({"code": 401, "message": "Unauthorized"}, status_code=401)
