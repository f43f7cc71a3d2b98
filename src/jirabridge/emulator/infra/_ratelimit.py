"""Rate limits of both flavours, as pure state driven by a clock reading (seconds).

Server/Data Center (8.6+): one token bucket per user. The bucket holds at most ``capacity``
tokens; every ``interval_seconds`` a batch of ``fill_rate`` tokens is added. Each REST call
takes one token; an empty bucket answers 429 with ``Retry-After`` = seconds to the next batch.

Cloud: three independent limits, each named in ``RateLimit-Reason``:

- ``jira-burst-based``: at most ``burst_per_second`` calls per endpoint and method in each
  one-second window (per-endpoint overrides by glob pattern);
- ``jira-per-issue-on-write``: writes to one issue, several ``(count, window seconds)`` rules
  (Atlassian documents 20 per 2 s and 100 per 30 s);
- a penalty: a client that retries before its ``Retry-After`` has passed is refused again with
  the same or a longer wait (``penalty_seconds`` added each time).

Data Center before 8.x named its headers ``X-RateLimiting-*`` (``-Limit``, ``-Remaining``,
``-Interval-Seconds``, ``-FillRate``); :class:`HeaderStyle` ``LEGACY`` sends those names
instead of the ``X-RateLimit-*`` ones (``Retry-After`` is the same in both).

Hand-written rather than a library (e.g. ``limits``): the emulator needs Jira's exact header
set, its early-retry penalty and an injectable clock, which a generic limiter does not give.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = [
    "CloudRateLimitConfig",
    "CloudRateLimiter",
    "HeaderStyle",
    "RateDecision",
    "ServerRateLimitConfig",
    "ServerRateLimiter",
    "endpoint_key",
    "issue_write_target",
]

BURST = "jira-burst-based"
PER_ISSUE = "jira-per-issue-on-write"

_ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-\d+$")
_ISSUE_PATH = re.compile(r"^/rest/api/(?:2|3|latest)/issue/([^/]+)(?:/.*)?$")
_WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})


def endpoint_key(path: str) -> str:
    """The endpoint a path belongs to: ids and issue keys replaced by ``{id}``/``{key}``."""
    parts: list[str] = []
    for seg in path.split("/"):
        if seg.isdigit() and parts and parts[-1] == "api":  # the API version: /rest/api/2
            parts.append(seg)
        elif seg.isdigit():
            parts.append("{id}")
        elif _ISSUE_KEY.match(seg):
            parts.append("{key}")
        else:
            parts.append(seg)
    return "/".join(parts)


def issue_write_target(method: str, path: str) -> str | None:
    """The issue id or key a write goes to, or ``None`` for reads and non-issue paths."""
    if method.upper() not in _WRITE_METHODS:
        return None
    m = _ISSUE_PATH.match(path)
    if m is None or m.group(1) in {"bulk", "createmeta", "picker", "properties", "archive"}:
        return None
    return m.group(1)


def _retry_after_value(seconds: float) -> int:
    return max(1, math.ceil(seconds - 1e-9))


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class RateDecision:
    """What the limiter says about one request: allow or 429, and the headers to add."""

    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: int | None = None
    reason: str | None = None


class HeaderStyle(StrEnum):
    """Which names a Data Center site gives its rate-limit headers."""

    MODERN = "modern"  # 8.6+: X-RateLimit-*
    LEGACY = "legacy"  # older: X-RateLimiting-*


_MODERN_PREFIX = "X-RateLimit-"
_LEGACY_PREFIX = "X-RateLimiting-"


def _styled(headers: dict[str, str], style: HeaderStyle) -> dict[str, str]:
    if style is HeaderStyle.MODERN:
        return headers
    return {
        (_LEGACY_PREFIX + k[len(_MODERN_PREFIX) :] if k.startswith(_MODERN_PREFIX) else k): v
        for k, v in headers.items()
    }


@dataclass(frozen=True)
class ServerRateLimitConfig:
    """Jira DC's per-user bucket. ``exempt`` users are never limited; ``header_style``
    chooses the header names (``LEGACY``: the pre-8.x ``X-RateLimiting-*``)."""

    capacity: int = 100
    fill_rate: int = 10
    interval_seconds: float = 1.0
    exempt: frozenset[str] = frozenset()
    header_style: HeaderStyle = HeaderStyle.MODERN

    def __post_init__(self) -> None:
        if self.capacity < 1 or self.fill_rate < 1 or self.interval_seconds <= 0:
            raise ValueError("capacity and fill_rate must be >= 1 and interval_seconds > 0")


@dataclass
class _Bucket:
    tokens: int
    last_fill: float


class ServerRateLimiter:
    """Token bucket per user, refilled in whole batches per interval."""

    def __init__(self, config: ServerRateLimitConfig) -> None:
        self.config = config
        self._buckets: dict[str, _Bucket] = {}

    def _refill(self, bucket: _Bucket, now: float) -> None:
        cfg = self.config
        intervals = math.floor((now - bucket.last_fill) / cfg.interval_seconds)
        if intervals > 0:
            bucket.tokens = min(cfg.capacity, bucket.tokens + intervals * cfg.fill_rate)
            bucket.last_fill += intervals * cfg.interval_seconds

    def check(self, user_key: str, now: float) -> RateDecision:
        cfg = self.config
        if user_key in cfg.exempt:
            return RateDecision(True)
        bucket = self._buckets.get(user_key)
        if bucket is None:
            bucket = self._buckets[user_key] = _Bucket(cfg.capacity, now)
        self._refill(bucket, now)
        base = {
            "X-RateLimit-Limit": str(cfg.capacity),
            "X-RateLimit-Interval-Seconds": str(_fmt_num(cfg.interval_seconds)),
            "X-RateLimit-FillRate": str(cfg.fill_rate),
        }
        style = HeaderStyle(cfg.header_style)
        if bucket.tokens > 0:
            bucket.tokens -= 1
            headers = {**base, "X-RateLimit-Remaining": str(bucket.tokens), "Retry-After": "0"}
            return RateDecision(True, _styled(headers, style))
        wait = bucket.last_fill + cfg.interval_seconds - now
        retry = _retry_after_value(wait)
        return RateDecision(
            False,
            _styled({**base, "X-RateLimit-Remaining": "0", "Retry-After": str(retry)}, style),
            retry_after=retry,
        )

    def remaining(self, user_key: str, now: float) -> int:
        bucket = self._buckets.get(user_key)
        if bucket is None:
            return self.config.capacity
        self._refill(bucket, now)
        return bucket.tokens


def _fmt_num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


@dataclass(frozen=True)
class CloudRateLimitConfig:
    """Cloud's limits. ``burst_overrides`` maps a path glob (``/rest/api/3/search*``) to its
    own per-second limit; ``per_issue_writes`` is a tuple of ``(count, window_seconds)``."""

    burst_per_second: int = 100
    burst_overrides: tuple[tuple[str, int], ...] = ()
    per_issue_writes: tuple[tuple[int, float], ...] = ((20, 2.0), (100, 30.0))
    penalty_seconds: float = 1.0
    near_limit_fraction: float = 0.2

    def __post_init__(self) -> None:
        if self.burst_per_second < 1:
            raise ValueError("burst_per_second must be >= 1")
        if any(limit < 1 for _, limit in self.burst_overrides):
            raise ValueError("burst_overrides limits must be >= 1")
        if any(c < 1 or w <= 0 for c, w in self.per_issue_writes):
            raise ValueError("per_issue_writes entries need count >= 1 and window > 0")
        if self.penalty_seconds < 0:
            raise ValueError("penalty_seconds must be >= 0")

    def burst_limit(self, path: str) -> int:
        for pattern, limit in self.burst_overrides:
            if fnmatch.fnmatchcase(path, pattern):
                return limit
        return self.burst_per_second


@dataclass
class _Block:
    until: float
    wait: int
    reason: str
    limit: int


class CloudRateLimiter:
    """Burst windows per endpoint+method, sliding per-issue write windows, and the penalty."""

    def __init__(
        self, config: CloudRateLimitConfig, canonical_issue: Callable[[str], str] | None = None
    ) -> None:
        """``canonical_issue`` maps an issue key or id to one name, so writes to ``PRJ-1``
        and to ``10001`` count against the same issue."""
        self.config = config
        self._canonical = canonical_issue
        self._windows: dict[str, tuple[int, int]] = {}
        self._issue_writes: dict[str, deque[float]] = {}
        self._blocks: dict[str, _Block] = {}

    def check(self, method: str, path: str, now: float, wall: datetime) -> RateDecision:
        """Decide for one call; ``now`` is the monotonic reading, ``wall`` the clock's time."""
        method = method.upper()
        burst_scope = f"burst:{method} {endpoint_key(path)}"
        issue = issue_write_target(method, path)
        if issue is not None and self._canonical is not None:
            issue = self._canonical(issue)
        issue_scope = f"issue:{issue}" if issue is not None else None

        for scope in (burst_scope, issue_scope):
            if scope is None:
                continue
            block = self._blocks.get(scope)
            if block is not None and now < block.until:
                wait = _retry_after_value(block.wait + self.config.penalty_seconds)
                wait = max(wait, _retry_after_value(block.until - now))
                block.wait, block.until = wait, now + wait
                return self._refuse(block.reason, wait, block.limit, wall)

        limit = self.config.burst_limit(path)
        second = math.floor(now)
        start, used = self._windows.get(burst_scope, (second, 0))
        if start != second:
            start, used = second, 0
        if used >= limit:
            wait = _retry_after_value(start + 1 - now)
            self._blocks[burst_scope] = _Block(now + wait, wait, BURST, limit)
            return self._refuse(BURST, wait, limit, wall)

        if issue_scope is not None:
            times = self._issue_writes.setdefault(issue_scope, deque())
            longest = max((w for _, w in self.config.per_issue_writes), default=0.0)
            while times and times[0] <= now - longest:
                times.popleft()
            for count, window in self.config.per_issue_writes:
                recent = [t for t in times if t > now - window]
                if len(recent) >= count:
                    wait = _retry_after_value(recent[0] + window - now)
                    self._blocks[issue_scope] = _Block(now + wait, wait, PER_ISSUE, count)
                    return self._refuse(PER_ISSUE, wait, count, wall)
            times.append(now)

        self._windows[burst_scope] = (start, used + 1)
        remaining = limit - used - 1
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining)}
        if remaining < limit * self.config.near_limit_fraction:
            headers["X-RateLimit-NearLimit"] = "true"
        return RateDecision(True, headers)

    def _refuse(self, reason: str, wait: int, limit: int, wall: datetime) -> RateDecision:
        headers = {
            "Retry-After": str(wait),
            "X-RateLimit-Reset": _iso(wall + timedelta(seconds=wait)),
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-NearLimit": "true",
            "RateLimit-Reason": reason,
        }
        return RateDecision(False, headers, retry_after=wait, reason=reason)
