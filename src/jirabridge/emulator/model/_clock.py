"""A clock the control plane can freeze and advance; every timestamp of the model comes from it.

Hand-written rather than freezegun/time-machine: those patch the process-wide clock, which
would also freeze the HTTP server, the webhook worker and the tests around an emulator; an
explicit clock object only moves the emulated site's time.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from jirabridge.emulator.model._errors import ClockError

__all__ = ["Clock"]


class Clock:
    """Wall clock (timezone-aware, UTC) plus a monotonic reading, both freezable.

    ``advance(seconds)`` moves both readings forward, whether frozen or not, so rate limits
    and token lifetimes measured with :meth:`monotonic` follow the emulated time.
    """

    def __init__(self, frozen_at: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_wall: datetime | None = None
        self._frozen_mono: float | None = None
        if frozen_at is not None:
            self.freeze(frozen_at)

    @property
    def frozen(self) -> bool:
        return self._frozen_wall is not None

    def now(self) -> datetime:
        """The current emulated time, UTC, with microseconds cut to milliseconds like Jira."""
        with self._lock:
            if self._frozen_wall is not None:
                return self._frozen_wall
            offset = self._offset
        now = datetime.now(UTC)
        if offset:  # an unadvanced clock skips the timedelta
            now += timedelta(seconds=offset)
        micro = now.microsecond
        return now.replace(microsecond=micro - micro % 1000) if micro % 1000 else now

    def monotonic(self) -> float:
        """Seconds on a monotonic scale that follows :meth:`freeze` and :meth:`advance`."""
        with self._lock:
            if self._frozen_mono is not None:
                return self._frozen_mono
            return time.monotonic() + self._offset

    def freeze(self, at: datetime | None = None) -> None:
        """Stop the clock at ``at`` (must be timezone-aware) or at the current time."""
        if at is not None and at.tzinfo is None:
            raise ClockError("Clock.freeze needs a timezone-aware datetime")
        current = self.now()
        mono = self.monotonic()
        wall = (at or current).astimezone(UTC)
        wall = wall.replace(microsecond=wall.microsecond // 1000 * 1000)
        with self._lock:
            self._frozen_wall = wall
            self._frozen_mono = mono

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (not backwards)."""
        if seconds < 0:
            raise ClockError("Clock.advance takes a non-negative number of seconds")
        with self._lock:
            if self._frozen_wall is not None and self._frozen_mono is not None:
                self._frozen_wall += timedelta(seconds=seconds)
                self._frozen_mono += seconds
            else:
                self._offset += seconds

    def unfreeze(self) -> None:
        """Let the clock run again from where it stood."""
        with self._lock:
            if self._frozen_wall is None or self._frozen_mono is None:
                return
            self._offset = (self._frozen_wall - datetime.now(UTC)).total_seconds()
            self._frozen_wall = None
            self._frozen_mono = None
