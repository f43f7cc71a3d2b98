"""What infra needs from the rest of the emulator, as small protocols.

Infra is written against these shapes, not against the model's classes, so it can be built and
tested before (and independently of) the model: the model's ``Site`` and ``Clock`` satisfy them
structurally. :class:`SystemClock` is the fallback when a site has no clock of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "ClockLike",
    "CredentialChecker",
    "EventListener",
    "FlavourName",
    "JqlMatcher",
    "PayloadBuilder",
    "SystemClock",
    "flavour_name",
]


class FlavourName(StrEnum):
    """The two flavours, by name (the model's ``Flavour`` enum maps onto these by value)."""

    SERVER = "server"
    CLOUD = "cloud"


def flavour_name(flavour: object) -> FlavourName:
    """Accept the model's ``Flavour`` enum, a :class:`FlavourName` or a plain string."""
    raw = getattr(flavour, "value", flavour)
    text = str(raw).lower()
    if text.startswith("flavour."):
        text = text.split(".", 1)[1]
    for name in FlavourName:
        if text == name.value or text == name.name.lower():
            return name
    raise ValueError(f"unknown flavour {flavour!r}; expected 'server' or 'cloud'")


@runtime_checkable
class ClockLike(Protocol):
    """The emulator clock: tz-aware wall time and a monotonic reading that follow freeze/advance."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """Real time, adjustable like the model's clock (used when the site brings none)."""

    def __init__(self) -> None:
        self._frozen: datetime | None = None
        self._offset = 0.0
        self._frozen_mono: float | None = None

    def now(self) -> datetime:
        if self._frozen is not None:
            return self._frozen
        return datetime.now(UTC) + timedelta(seconds=self._offset)

    def monotonic(self) -> float:
        if self._frozen_mono is not None:
            return self._frozen_mono
        return time.monotonic() + self._offset

    def freeze(self, at: datetime | None = None) -> None:
        self._frozen = at if at is not None else self.now()
        self._frozen_mono = self.monotonic()

    def advance(self, seconds: float) -> None:
        if self._frozen is not None and self._frozen_mono is not None:
            self._frozen += timedelta(seconds=seconds)
            self._frozen_mono += seconds
        else:
            self._offset += seconds

    def unfreeze(self) -> None:
        if self._frozen is not None:
            self._offset = (self._frozen - datetime.now(UTC)).total_seconds()
        self._frozen = None
        self._frozen_mono = None


#: Checks a credential against the site's users; returns the user's key or ``None``.
#: Arguments: (kind, login, secret) where kind is "password", "api_token" or "pat".
CredentialChecker = Callable[[str, str, str], str | None]

#: Turns a domain event into the flavour's webhook JSON; ``None`` when the event has no webhook.
PayloadBuilder = Callable[[Any], Mapping[str, Any] | None]

#: Answers whether the issue with this key matches this JQL for this viewer.
JqlMatcher = Callable[[str, str, str | None], bool]

EventListener = Callable[[Any], None]
