"""Counters for every call a client makes (for benchmarks and the status view)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["CallKey", "CallStats", "endpoint_template"]

_ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]+-\d+$")
_NUMBER = re.compile(r"^\d+$")
_ACCOUNT = re.compile(r"^[0-9a-f]{24}$|^\d+:[0-9a-f-]{36}$")


def endpoint_template(path: str) -> str:
    """``/rest/api/2/issue/ABC-1/comment/100`` -> ``/rest/api/2/issue/{id}/comment/{id}``."""
    parts: list[str] = []
    for part in path.split("/"):
        after_api = bool(parts) and parts[-1] in ("api", "agile", "webhooks", "auth")
        if not after_api and (
            _ISSUE_KEY.match(part) or _NUMBER.match(part) or _ACCOUNT.match(part)
        ):
            parts.append("{id}")
        else:
            parts.append(part)
    return "/".join(parts)


@dataclass(frozen=True, order=True)
class CallKey:
    endpoint: str
    method: str
    status: int  # 0 when no answer came back (timeout, connection refused)


@dataclass
class CallStats:
    """Mutable counters; one instance per client. Not shared across event loops."""

    calls: Counter[CallKey] = field(default_factory=Counter)
    retries: int = 0
    wait_seconds: float = 0.0
    rate_limited: int = 0
    latency_seconds: float = 0.0

    def record(self, *, endpoint: str, method: str, status: int, latency: float) -> None:
        self.calls[CallKey(endpoint, method, status)] += 1
        self.latency_seconds += latency
        if status == 429:
            self.rate_limited += 1

    def record_retry(self) -> None:
        self.retries += 1

    def record_wait(self, seconds: float) -> None:
        self.wait_seconds += seconds

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def count(
        self, *, endpoint: str | None = None, method: str | None = None, status: int | None = None
    ) -> int:
        return sum(
            n
            for k, n in self.calls.items()
            if (endpoint is None or k.endpoint == endpoint)
            and (method is None or k.method == method)
            and (status is None or k.status == status)
        )

    def snapshot(self) -> dict[str, object]:
        """A JSON-friendly summary."""
        return {
            "total": self.total,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "wait_seconds": round(self.wait_seconds, 3),
            "latency_seconds": round(self.latency_seconds, 3),
            "calls": [
                {"endpoint": k.endpoint, "method": k.method, "status": k.status, "count": n}
                for k, n in sorted(self.calls.items())
            ],
        }
