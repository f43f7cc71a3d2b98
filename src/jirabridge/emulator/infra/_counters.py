"""Request counters: calls per endpoint template, method and status, plus waits and 429s."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["CounterKey", "RequestCounters"]


@dataclass(frozen=True, order=True)
class CounterKey:
    """One row of the counter table."""

    template: str
    method: str
    status: int


class RequestCounters:
    """Counts API calls so benchmarks and tests can see how many calls a client made.

    ``waits`` adds up the seconds the emulator told clients to wait (``Retry-After``) and the
    latency it injected; ``rate_limited`` counts 429 answers.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[CounterKey] = Counter()
        self._keys: dict[tuple[str, str, int], CounterKey] = {}
        self._rate_limited = 0
        self._retry_after_seconds = 0.0
        self._latency_seconds = 0.0

    def record(
        self,
        template: str,
        method: str,
        status: int,
        *,
        retry_after: float | None = None,
        latency: float = 0.0,
    ) -> None:
        raw = (template, method, status)
        with self._lock:
            key = self._keys.get(raw)
            if key is None:  # a frozen dataclass costs a few microseconds to build: once per row
                key = self._keys[raw] = CounterKey(template, method.upper(), status)
            self._calls[key] += 1
            if status == 429:
                self._rate_limited += 1
            if retry_after:
                self._retry_after_seconds += retry_after
            self._latency_seconds += latency

    def count(
        self, template: str | None = None, method: str | None = None, status: int | None = None
    ) -> int:
        """Calls matching every filter given (``None`` matches anything)."""
        with self._lock:
            return sum(
                n
                for key, n in self._calls.items()
                if (template is None or key.template == template)
                and (method is None or key.method == method.upper())
                and (status is None or key.status == status)
            )

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._calls.values())

    @property
    def rate_limited(self) -> int:
        with self._lock:
            return self._rate_limited

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._rate_limited = 0
            self._retry_after_seconds = 0.0
            self._latency_seconds = 0.0

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready view: ``{"total", "rateLimited", "waits": {...}, "calls": [...]}``."""
        with self._lock:
            rows = [
                {"endpoint": k.template, "method": k.method, "status": k.status, "count": n}
                for k, n in sorted(self._calls.items())
            ]
            return {
                "total": sum(self._calls.values()),
                "rateLimited": self._rate_limited,
                "waits": {
                    "retryAfterSeconds": round(self._retry_after_seconds, 3),
                    "latencySeconds": round(self._latency_seconds, 3),
                },
                "calls": rows,
            }
