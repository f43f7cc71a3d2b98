"""The one place where HTTP statuses and httpx exceptions become jirabridge errors."""

from __future__ import annotations

import email.utils
import json
import re
from datetime import UTC, datetime
from enum import StrEnum

import httpx

from jirabridge.errors import (
    FixConfigError,
    JirabridgeError,
    JiraErrorBody,
    ReauthenticateError,
    RequestInfo,
    RetryLaterError,
    SkipItemError,
)

__all__ = [
    "Scope",
    "error_from_response",
    "error_from_transport",
    "oauth_problem",
    "parse_error_body",
    "retry_after_seconds",
]


class Scope(StrEnum):
    """What a call is about, which decides how a 4xx is classified."""

    ITEM = "item"  # one issue / comment / attachment: a 400/403/404 skips that item
    CONFIG = "config"  # site-level reads and admin calls: a 4xx means config must change


def request_info(request: httpx.Request) -> RequestInfo:
    url = request.url.copy_with(query=None) if request.url.query else request.url
    return RequestInfo(method=request.method, url=str(url))


def parse_error_body(response: httpx.Response) -> JiraErrorBody:
    """Read Jira's error JSON (``errorMessages``/``errors``, or OAuth's ``error``)."""
    messages: list[str] = []
    errors: dict[str, str] = {}
    try:
        data = json.loads(response.content) if response.content else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        raw_msgs = data.get("errorMessages")
        if isinstance(raw_msgs, list):
            messages.extend(str(m) for m in raw_msgs)
        raw_errors = data.get("errors")
        if isinstance(raw_errors, dict):
            errors.update({str(k): str(v) for k, v in raw_errors.items()})
        for key in ("message", "error_description", "error"):
            if isinstance(data.get(key), str) and not messages:
                messages.append(data[key])
    elif response.content and response.status_code >= 400:
        text = response.content[:200].decode("utf-8", "replace").strip()
        if text and not text.startswith("<"):
            messages.append(text)
    return JiraErrorBody(status=response.status_code, error_messages=messages, errors=errors)


_OAUTH_PROBLEM = re.compile(r'oauth_problem="([A-Za-z_]{1,64})"')


def oauth_problem(headers: httpx.Headers) -> str | None:
    """Jira's OAuth 1.0a refusal reason (``WWW-Authenticate: OAuth ..., oauth_problem="..."``:
    ``signature_invalid``, ``timestamp_refused``, ``nonce_used``, ``consumer_key_unknown``,
    ``token_rejected``...), or ``None``."""
    match = _OAUTH_PROBLEM.search(headers.get("WWW-Authenticate", ""))
    return match.group(1) if match else None


def retry_after_seconds(headers: httpx.Headers, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date) or ``X-RateLimit-Reset``."""
    now = now or datetime.now(UTC)
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                return max(0.0, (when - now).total_seconds())
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            when = datetime.fromisoformat(reset.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - now).total_seconds())
    return None


def error_from_response(response: httpx.Response, *, scope: Scope) -> JirabridgeError:
    """Classify a failed answer by what the caller should do."""
    status = response.status_code
    body = parse_error_body(response)
    info = request_info(response.request)
    what = f"Jira answered HTTP {status}"
    if status == 401:
        problem = oauth_problem(response.headers)
        detail = f" (OAuth 1.0a: {problem})" if problem else ""
        return ReauthenticateError(f"{what}: credentials refused{detail}", request=info, jira=body)
    login_reason = response.headers.get("X-Seraph-LoginReason", "")
    if status == 403 and ("AUTHENTICATION_DENIED" in login_reason or "FAILED" in login_reason):
        return ReauthenticateError(
            f"{what}: login denied ({login_reason}); a CAPTCHA may be required",
            request=info,
            jira=body,
        )
    if status == 429 or status >= 500 or status in (408, 409, 423, 425):
        return RetryLaterError(
            what, retry_after=retry_after_seconds(response.headers), request=info, jira=body
        )
    if scope is Scope.ITEM and status in (400, 403, 404, 413, 422):
        return SkipItemError(what, request=info, jira=body)
    if status == 410:
        return FixConfigError(f"{what}: this endpoint is gone", request=info, jira=body)
    return FixConfigError(what, request=info, jira=body)


def error_from_transport(exc: httpx.HTTPError, request: httpx.Request | None) -> JirabridgeError:
    """Classify an httpx exception (no answer at all)."""
    info = request_info(request) if request is not None else None
    name = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return RetryLaterError(f"Jira did not answer in time ({name})", request=info)
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return FixConfigError(f"the Jira base URL is not usable ({name})", request=info)
    if isinstance(exc, httpx.TransportError):
        return RetryLaterError(f"cannot reach Jira ({name})", request=info)
    return RetryLaterError(f"HTTP failure talking to Jira ({name})", request=info)


def request_was_not_sent(exc: httpx.HTTPError) -> bool:
    """True when the request certainly never reached Jira, so even a create may be resent."""
    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
