"""The :class:`Infra` facade: one object the faces build, mount and wrap."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from jirabridge.emulator.infra._auth import Authenticator, CredentialStore, OAuthStore
from jirabridge.emulator.infra._counters import RequestCounters
from jirabridge.emulator.infra._delivery import DeliveryQueue, DeliveryWorker
from jirabridge.emulator.infra._faults import FaultPlan
from jirabridge.emulator.infra._oauth1 import OAuth1Store
from jirabridge.emulator.infra._options import InfraOptions
from jirabridge.emulator.infra._ports import (
    ClockLike,
    CredentialChecker,
    FlavourName,
    JqlMatcher,
    PayloadBuilder,
    SystemClock,
    flavour_name,
)
from jirabridge.emulator.infra._ratelimit import (
    CloudRateLimitConfig,
    CloudRateLimiter,
    RateDecision,
    ServerRateLimitConfig,
    ServerRateLimiter,
)
from jirabridge.emulator.infra._site_adapters import search_jql_matcher, site_credential_checker
from jirabridge.emulator.infra._webhooks import WebhookRegistry

__all__ = ["Infra"]

log = logging.getLogger(__name__)


class Infra:
    """Auth, rate limits, faults, counters, webhooks and the ``/_emulator`` control plane.

    Built from ``(site, flavour)``; ``site`` is the model's ``Site`` (its ``clock`` is used,
    users' passwords/API tokens/PATs are checked). All limits and faults start off.

    Public attributes are the pure pieces (``faults``, ``counters``, ``oauth``,
    ``oauth1``, ``credentials``, ``webhooks``, ``deliveries``) so tests and the faces can drive them
    directly as well as through the control plane.
    """

    def __init__(self, site: Any, flavour: object, *, options: InfraOptions | None = None) -> None:
        self.site = site
        self.flavour: FlavourName = flavour_name(flavour)
        self.options = opts = options or InfraOptions()
        clock = getattr(site, "clock", None)
        self.clock: ClockLike = clock if isinstance(clock, ClockLike) else SystemClock()
        self.counters = RequestCounters()
        self.faults = FaultPlan(opts.seed)
        self.oauth = OAuthStore(seed=opts.seed, access_token_ttl=opts.access_token_ttl)
        self.oauth1 = OAuth1Store(seed=opts.seed)
        self.credentials = CredentialStore()
        checker: CredentialChecker | None = opts.credential_checker or site_credential_checker(
            site, self.flavour
        )
        self.authenticator = Authenticator(
            self.flavour,
            self.oauth,
            self.credentials,
            checker,
            captcha_after=opts.captcha_after_failures,
        )
        self.jql_matcher: JqlMatcher | None = opts.jql_matcher or search_jql_matcher(
            site, self.flavour
        )
        self.webhooks = WebhookRegistry(rest_ttl_days=opts.rest_webhook_ttl_days)
        self.deliveries = DeliveryQueue(
            self.flavour,
            seed=opts.seed,
            capacity=opts.server_queue_capacity,
            retry_delays=opts.cloud_retry_delays,
        )
        self.worker = DeliveryWorker(
            self.deliveries,
            self.clock,
            transport=opts.webhook_transport,
            timeout=opts.webhook_timeout,
        )
        self.server_limiter: ServerRateLimiter | None = None
        self.cloud_limiter: CloudRateLimiter | None = None
        self._payload_builder: PayloadBuilder | None = None
        self._apply_options()

    def _apply_options(self) -> None:
        opts = self.options
        self.set_server_rate_limit(opts.server_rate_limit)
        self.set_cloud_rate_limit(opts.cloud_rate_limit)
        self.faults.latency[:] = opts.latency
        self.faults.errors[:] = opts.errors
        self.faults.timeouts[:] = opts.timeouts
        if opts.webhook_faults is not None:
            self.deliveries.set_faults(opts.webhook_faults)

    # contract with the faces ----------------------------------------------------------------
    def wrap(self, app: ASGIApp) -> ASGIApp:
        """Return ``app`` wrapped in the middleware stack (auth, limits, faults, counters)."""
        from jirabridge.emulator.infra._middleware import InfraMiddleware

        return InfraMiddleware(app, self)

    def routes(self) -> list[BaseRoute]:
        """Control plane, webhook registration routes and the OAuth endpoints."""
        from jirabridge.emulator.infra._control import control_routes
        from jirabridge.emulator.infra._routes_oauth import oauth_routes
        from jirabridge.emulator.infra._routes_oauth1 import oauth1_routes
        from jirabridge.emulator.infra._routes_webhooks import webhook_routes

        routes = [*control_routes(self), *oauth_routes(self), *webhook_routes(self)]
        if self.flavour is FlavourName.SERVER:
            routes.extend(oauth1_routes(self))
        return routes

    def set_payload_builder(self, fn: PayloadBuilder) -> None:
        """The faces' function that renders a domain event as the flavour's webhook JSON."""
        self._payload_builder = fn

    def on_event(self, event: Any) -> None:
        """Listener for ``site.subscribe``: queue webhook deliveries for a domain event."""
        if self._payload_builder is None:
            return
        if not self.webhooks.has_hooks():
            return
        payload = self._payload_builder(event)
        if payload is not None:
            self.dispatch(payload)

    def dispatch(self, payload: Mapping[str, Any]) -> int:
        """Queue deliveries of a rendered payload to every matching webhook; returns how many."""
        now = self.clock.now()
        targets = self.webhooks.match(payload, now, self.jql_matcher)
        event = str(payload.get("webhookEvent", ""))
        queued = 0
        for target in targets:
            queued += len(
                self.deliveries.enqueue(target, event, payload, self.clock.monotonic(), now)
            )
        if queued:
            self.worker.wake()
        return queued

    async def start(self) -> None:
        """Start the webhook delivery worker (call from the app's lifespan)."""
        await self.worker.start()

    async def stop(self) -> None:
        """Stop the delivery worker and close its HTTP client."""
        await self.worker.stop()

    async def flush_webhooks(
        self, *, include_scheduled: bool = False, within: float = 30.0
    ) -> bool:
        """Deliver every due webhook now (also scheduled retries and injected delays with
        ``include_scheduled``); True when the queue went idle within ``within`` seconds."""
        return await self.worker.flush(include_scheduled=include_scheduled, within=within)

    # rate limits ----------------------------------------------------------------------------
    def set_server_rate_limit(self, config: ServerRateLimitConfig | None) -> None:
        self.server_limiter = ServerRateLimiter(config) if config is not None else None

    def set_cloud_rate_limit(self, config: CloudRateLimitConfig | None) -> None:
        self.cloud_limiter = (
            CloudRateLimiter(config, self._canonical_issue) if config is not None else None
        )

    def _canonical_issue(self, ref: str) -> str:
        find = getattr(self.site, "find_issue", None)
        if callable(find):
            try:
                issue = find(ref)
            except Exception:  # a lookup failure only weakens the per-issue limit
                issue = None
            if issue is not None and getattr(issue, "id", None) is not None:
                return str(issue.id)
        return ref

    def check_rate(self, method: str, path: str, user_key: str | None) -> RateDecision | None:
        """The rate-limit decision for one REST call, or ``None`` when limits are off."""
        now = self.clock.monotonic()
        if self.flavour is FlavourName.SERVER and self.server_limiter is not None:
            return self.server_limiter.check(user_key or "anonymous", now)
        if self.flavour is FlavourName.CLOUD and self.cloud_limiter is not None:
            return self.cloud_limiter.check(method, path, now, self.clock.now())
        return None

    # state ------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the state the constructor options describe: counters, webhooks,
        deliveries, tokens and added credentials forgotten; limits and faults as configured."""
        self.counters.reset()
        self.faults.reset()
        self.webhooks.reset()
        self.deliveries.reset()
        self.oauth = OAuthStore(
            seed=self.options.seed, access_token_ttl=self.options.access_token_ttl
        )
        self.authenticator.oauth = self.oauth
        self.oauth1 = OAuth1Store(seed=self.options.seed)
        self.credentials = CredentialStore()
        self.authenticator.store = self.credentials
        self.authenticator.captcha_after = self.options.captcha_after_failures
        self.authenticator.clear_failures()
        self._apply_options()

    def summary(self) -> dict[str, Any]:
        return {
            "flavour": self.flavour.value,
            "clock": {"now": self.clock.now().isoformat(), "monotonic": self.clock.monotonic()},
            "webhooks": self.webhooks.summary(),
            "deliveries": self.deliveries.summary(),
            "oauth": self.oauth.summary(),
            "oauth1": self.oauth1.summary(),
            "requests": self.counters.total,
            "rateLimited": self.counters.rate_limited,
            "rateLimits": {
                "server": self.server_limiter is not None,
                "cloud": self.cloud_limiter is not None,
            },
            "faults": {
                "latency": len(self.faults.latency),
                "errors": len(self.faults.errors),
                "timeouts": len(self.faults.timeouts),
                "downtime": len(self.faults.downtime),
            },
        }
