from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


class FakeClock:
    """A frozen clock tests move by hand."""

    def __init__(self) -> None:
        self.wall = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self.mono = 1000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
