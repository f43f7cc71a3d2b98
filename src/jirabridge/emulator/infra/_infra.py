"""The :class:`Infra` facade: one object the faces build, mount and wrap."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from jirabridge.emulator.infra._counters import RequestCounters
from jirabridge.emulator.infra._options import InfraOptions
from jirabridge.emulator.infra._ports import (
    ClockLike,
    FlavourName,
    PayloadBuilder,
    SystemClock,
    flavour_name,
)

__all__ = ["Infra"]


class Infra:
    """Auth, rate limits, faults, counters, webhooks and the ``/_emulator`` control plane.

    Built from ``(site, flavour)``; ``site`` is the model's ``Site`` (its ``clock`` and
    ``subscribe`` are used when present).
    """

    def __init__(self, site: Any, flavour: object, *, options: InfraOptions | None = None) -> None:
        self.site = site
        self.flavour: FlavourName = flavour_name(flavour)
        self.options = options or InfraOptions()
        clock = getattr(site, "clock", None)
        self.clock: ClockLike = clock if isinstance(clock, ClockLike) else SystemClock()
        self.counters = RequestCounters()
        self._payload_builder: PayloadBuilder | None = None

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """Return ``app`` wrapped in the middleware stack (auth, limits, faults, counters)."""
        infra = self

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            scope.setdefault("state", {})
            scope["state"].setdefault("infra", infra)
            await app(scope, receive, send)

        return wrapped

    def routes(self) -> list[BaseRoute]:
        """Control plane, webhook registration routes and the OAuth endpoints."""
        return []

    def set_payload_builder(self, fn: PayloadBuilder) -> None:
        """The faces' function that renders a domain event as the flavour's webhook JSON."""
        self._payload_builder = fn

    def on_event(self, event: Any) -> None:
        """Listener for ``site.subscribe``: queue webhook deliveries for a domain event."""

    async def start(self) -> None:
        """Start the webhook delivery worker (call from the app's lifespan)."""

    async def stop(self) -> None:
        """Stop the delivery worker and close its HTTP client."""
