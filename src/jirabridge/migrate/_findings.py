"""Findings: what a check found, how bad it is, where, and how to fix it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Finding", "Severity"]


class Severity(enum.Enum):
    """How a finding affects the import."""

    BLOCKER = "blocker"  # Site Import fails or loses data: fix before uploading
    WARNING = "warning"  # the import runs but the result needs attention
    INFO = "info"  # a fact the admin should know (counts, links to map)

    @property
    def rank(self) -> int:
        return {"blocker": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Finding:
    """One problem or fact, with a stable rule id (``ZIP001``, ``USR003`` ...)."""

    rule: str
    severity: Severity
    message: str
    location: str = ""
    fix: str = ""
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "location": self.location,
            "fix": self.fix,
            "data": self.data,
        }
