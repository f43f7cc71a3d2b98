"""The one exception tree of jirabridge, branched by what the caller should do.

::

    JirabridgeError                 root: catch this to catch everything jirabridge raises
    ├── RetryLaterError             transient (429, 5xx, timeout, site down): try again later,
    │                               after ``retry_after`` seconds when known
    ├── ReauthenticateError         credentials missing, expired, revoked or rotated away:
    │                               get new credentials, then retry
    ├── FixConfigError              the configuration (file, mapping, permissions) is wrong:
    │                               a person must change it; retrying will not help
    ├── SkipItemError               this one item (issue, comment, attachment) cannot be
    │                               processed: park it in the dead-letter queue, go on with others
    └── BadInputError               input handed to jirabridge (a backup, a webhook body, markup,
                                    a file) is malformed or hostile: reject it with this message

Foreign exceptions (httpx, lxml, zipfile, SQLAlchemy) are translated into this tree at the
boundary where they occur, chained with ``raise ... from exc``. Messages never contain secrets:
build them with :func:`redact` when they include a URL, a header or a credential.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "BadInputError",
    "FixConfigError",
    "JiraErrorBody",
    "JirabridgeError",
    "ReauthenticateError",
    "RequestInfo",
    "RetryLaterError",
    "SkipItemError",
    "redact",
]

_KEYS = (
    "authorization|proxy-authorization|access_token|refresh_token|id_token|client_secret|"
    "password|passwd|pwd|api_token|apitoken|token|secret|private_key|"
    "oauth_token|oauth_token_secret|oauth_signature|oauth_verifier"
)
_PEM = re.compile(r"-----BEGIN ([A-Z ]*PRIVATE KEY)-----.*?(?:-----END \1-----|\Z)", re.DOTALL)
_SCHEME = re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]+")
_KEY_VALUE = re.compile(rf"(?i)(?<![\w-])([\"']?(?:{_KEYS})[\"']?\s*[:=]\s*[\"']?)[^\s&,;\"'}}]+")
_URL_USERINFO = re.compile(r"(?i)(https?://)[^/\s:@]+:[^/\s@]+@")


def redact(text: str) -> str:
    """Return ``text`` with credentials masked: PEM private keys, ``Basic``/``Bearer``
    credentials, ``key=value`` / ``"key": "value"`` pairs of secret-bearing keys (tokens,
    passwords, secrets, OAuth parameters, Authorization headers), and URL userinfo."""
    out = _PEM.sub(lambda m: f"-----BEGIN {m.group(1)}-----***-----END {m.group(1)}-----", text)
    out = _SCHEME.sub(lambda m: f"{m.group(1)} ***", out)
    out = _KEY_VALUE.sub(lambda m: f"{m.group(1)}***", out)
    return _URL_USERINFO.sub(lambda m: f"{m.group(1)}***@", out)


@dataclass(frozen=True)
class RequestInfo:
    """The request that failed, without any credential."""

    method: str
    url: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", redact(self.url))

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


@dataclass(frozen=True)
class JiraErrorBody:
    """Jira's error answer: ``{"errorMessages": [...], "errors": {field: message}}``."""

    status: int
    error_messages: Sequence[str] = ()
    errors: Mapping[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        parts = list(self.error_messages) + [f"{k}: {v}" for k, v in self.errors.items()]
        return "; ".join(parts) if parts else f"HTTP {self.status}"


class JirabridgeError(Exception):
    """Root of every error jirabridge raises."""

    def __init__(
        self,
        message: str,
        *,
        request: RequestInfo | None = None,
        jira: JiraErrorBody | None = None,
    ) -> None:
        self.message = redact(message)
        self.request = request
        self.jira = jira
        super().__init__(self.message)

    def __str__(self) -> str:
        text = self.message
        if self.request is not None:
            text += f" [{self.request}]"
        if self.jira is not None and self.jira.summary() not in text:
            text += f" (Jira said: {redact(self.jira.summary())})"
        return text


class RetryLaterError(JirabridgeError):
    """Transient failure: the same call may succeed later."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        request: RequestInfo | None = None,
        jira: JiraErrorBody | None = None,
    ) -> None:
        super().__init__(message, request=request, jira=jira)
        self.retry_after = retry_after


class ReauthenticateError(JirabridgeError):
    """Credentials are missing, wrong, expired or rotated away."""


class FixConfigError(JirabridgeError):
    """The configuration must be changed by a person; retrying will not help."""


class SkipItemError(JirabridgeError):
    """This item cannot be processed now or ever; dead-letter it and go on."""


class BadInputError(JirabridgeError):
    """Input handed to jirabridge is malformed or hostile."""
