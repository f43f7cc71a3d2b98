"""Injected latency, errors, timeouts and downtime, decided per request from a seeded source.

Every rule may name a path glob (``/rest/api/2/issue/*``) and a method; the default matches
every call. Decisions use one ``random.Random(seed)``, so the same calls in the same order get
the same faults in every run. Downtime windows are on the emulator clock (``monotonic``).
"""

from __future__ import annotations

import fnmatch
import random
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "DowntimeMode",
    "DowntimeWindow",
    "ErrorRule",
    "FaultAction",
    "FaultDecision",
    "FaultPlan",
    "LatencyRule",
    "LostAnswerRule",
    "TimeoutRule",
]


class DowntimeMode(StrEnum):
    """How a site that is down answers: a 503 page, or a dropped connection."""

    UNAVAILABLE = "503"
    REFUSE = "refuse"


class FaultAction(StrEnum):
    NONE = "none"
    ERROR = "error"
    TIMEOUT = "timeout"
    DOWN = "down"
    LOST_ANSWER = "lost_answer"


def _match(pattern: str, method: str | None, req_method: str, path: str) -> bool:
    if method is not None and method.upper() != req_method.upper():
        return False
    return fnmatch.fnmatchcase(path, pattern)


@dataclass(frozen=True)
class LatencyRule:
    """Add ``fixed`` seconds plus a uniform random ``0..jitter`` seconds."""

    fixed: float = 0.0
    jitter: float = 0.0
    pattern: str = "*"
    method: str | None = None

    def __post_init__(self) -> None:
        if self.fixed < 0 or self.jitter < 0:
            raise ValueError("latency must be >= 0")


@dataclass(frozen=True)
class ErrorRule:
    """Answer ``status`` to a share ``rate`` (0..1) of matching calls."""

    status: int
    rate: float
    pattern: str = "*"
    method: str | None = None
    retry_after: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error code (400-599)")


@dataclass(frozen=True)
class TimeoutRule:
    """For a share ``rate`` of matching calls, hang ``hang_seconds`` then drop the connection."""

    rate: float
    hang_seconds: float = 30.0
    pattern: str = "*"
    method: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if self.hang_seconds < 0:
            raise ValueError("hang_seconds must be >= 0")


@dataclass(frozen=True)
class LostAnswerRule:
    """For a share ``rate`` of matching calls, do the work, then drop the connection instead
    of answering: the caller cannot know whether its write happened (it did)."""

    rate: float
    pattern: str = "*"
    method: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")


@dataclass(frozen=True)
class DowntimeWindow:
    """The site is down from ``start`` to ``end`` (emulator monotonic seconds)."""

    start: float
    end: float
    mode: DowntimeMode = DowntimeMode.UNAVAILABLE
    pattern: str = "*"

    def covers(self, now: float, path: str) -> bool:
        return self.start <= now < self.end and fnmatch.fnmatchcase(path, self.pattern)


@dataclass(frozen=True)
class FaultDecision:
    latency: float = 0.0
    action: FaultAction = FaultAction.NONE
    status: int | None = None
    retry_after: int | None = None
    hang_seconds: float = 0.0
    refuse: bool = False


class FaultPlan:
    """The faults currently configured, and the seeded dice that apply them."""

    def __init__(self, seed: int = 1) -> None:
        self.seed = seed
        self._random = random.Random(seed)
        self.latency: list[LatencyRule] = []
        self.errors: list[ErrorRule] = []
        self.timeouts: list[TimeoutRule] = []
        self.lost_answers: list[LostAnswerRule] = []
        self.downtime: list[DowntimeWindow] = []

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.seed = seed
        self._random = random.Random(self.seed)
        self.latency.clear()
        self.errors.clear()
        self.timeouts.clear()
        self.lost_answers.clear()
        self.downtime.clear()

    def reseed(self, seed: int) -> None:
        """Restart the dice from ``seed`` (rules stay as they are)."""
        self.seed = seed
        self._random = random.Random(seed)

    def add_downtime(
        self,
        now: float,
        seconds: float,
        *,
        mode: DowntimeMode = DowntimeMode.UNAVAILABLE,
        pattern: str = "*",
        starts_in: float = 0.0,
    ) -> DowntimeWindow:
        if seconds <= 0 or starts_in < 0:
            raise ValueError("seconds must be > 0 and starts_in >= 0")
        window = DowntimeWindow(now + starts_in, now + starts_in + seconds, mode, pattern)
        self.downtime.append(window)
        return window

    def decide(self, method: str, path: str, now: float) -> FaultDecision:
        """Latency and at most one fault for this call (downtime, then timeout, then lost
        answer, then error)."""
        latency = 0.0
        for rule in self.latency:
            if _match(rule.pattern, rule.method, method, path):
                latency += rule.fixed + (self._random.uniform(0, rule.jitter) if rule.jitter else 0)
        self.downtime[:] = [w for w in self.downtime if w.end > now]
        for window in self.downtime:
            if window.covers(now, path):
                retry = max(1, round(window.end - now))
                return FaultDecision(
                    latency,
                    FaultAction.DOWN,
                    status=503,
                    retry_after=retry,
                    refuse=window.mode is DowntimeMode.REFUSE,
                )
        for timeout in self.timeouts:
            if _match(timeout.pattern, timeout.method, method, path) and (
                self._random.random() < timeout.rate
            ):
                return FaultDecision(
                    latency, FaultAction.TIMEOUT, hang_seconds=timeout.hang_seconds
                )
        for lost in self.lost_answers:
            if _match(lost.pattern, lost.method, method, path) and (
                self._random.random() < lost.rate
            ):
                return FaultDecision(latency, FaultAction.LOST_ANSWER)
        for error in self.errors:
            if _match(error.pattern, error.method, method, path) and (
                self._random.random() < error.rate
            ):
                return FaultDecision(
                    latency, FaultAction.ERROR, status=error.status, retry_after=error.retry_after
                )
        return FaultDecision(latency)
