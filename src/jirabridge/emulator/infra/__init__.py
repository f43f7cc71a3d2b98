"""Cross-cutting parts of the emulators: auth, rate limits, faults, counters, webhooks, control.

Each piece is pure state and logic (testable with a fake clock) plus a thin ASGI part. The faces
use one object, :class:`Infra`::

    infra = Infra(site, Flavour.CLOUD, options=InfraOptions(base_url=...))
    infra.set_payload_builder(render_webhook)        # domain event -> webhook JSON (or None)
    app = infra.wrap(Starlette(routes=infra.routes() + face_routes, lifespan=...))
    site.subscribe(infra.on_event)                   # lifespan: await infra.start()/stop()

Inside a face handler, ``request.state.user_key`` is the authenticated user's key (``None``
when anonymous on a public path) and ``request.state.auth_kind`` one of :class:`AuthKind`'s
values; ``request.state.via_gateway`` is True for ``/ex/jira/{cloudId}/...`` calls and
``request.state.oauth_client_id`` names the OAuth app (else ``None``).

Routes added by :meth:`Infra.routes`: the ``/_emulator/...`` control plane (reference table in
``_control``; :class:`ControlClient` calls it from Python), ``POST /oauth/token``,
``GET /oauth/token/accessible-resources``, ``GET /authorize`` (consents at once for
``?user=<key>``), on Server the OAuth 1.0a servlets ``/plugins/servlet/oauth/request-token``,
``/authorize`` (consents at once for ``?user=<key>``) and ``/access-token``, admin webhooks
``/rest/webhooks/1.0/webhook[/{id}]`` and, on Cloud, app webhooks
``/rest/api/{2,3}/webhook[/refresh|/failed]``.

On Server an ``Authorization: OAuth ...`` header is an OAuth 1.0a RSA-SHA1 signature (consumers
registered with ``POST /_emulator/oauth1/consumers``); it authenticates as the user who
authorized the token (``auth_kind`` ``oauth1``) or answers 401 with Jira's
``WWW-Authenticate: OAuth ..., oauth_problem="..."``.

Pieces (each a private module): ``_auth`` (credentials, OAuth 2.0 store, scopes, CAPTCHA),
``_oauth1`` (OAuth 1.0a consumers, tokens, nonces, RFC 5849 base string; HTTP in
``_routes_oauth1``),
``_ratelimit`` (DC bucket; Cloud burst, per-issue writes, penalty), ``_faults`` (latency,
errors, timeouts, downtime), ``_counters``, ``_webhooks`` (registrations, matching),
``_delivery`` (queue rules per flavour, async worker), ``_middleware`` (the ASGI stack).
"""

from jirabridge.emulator.infra._auth import (
    Authenticator,
    AuthKind,
    CredentialStore,
    OAuthClient,
    OAuthGrantError,
    OAuthRequestError,
    OAuthStore,
)
from jirabridge.emulator.infra._client import ControlClient
from jirabridge.emulator.infra._counters import RequestCounters
from jirabridge.emulator.infra._delivery import (
    Delivery,
    DeliveryQueue,
    DeliveryStatus,
    DeliveryWorker,
    WebhookFaults,
)
from jirabridge.emulator.infra._faults import (
    DowntimeMode,
    ErrorRule,
    FaultPlan,
    LatencyRule,
    LostAnswerRule,
    TimeoutRule,
)
from jirabridge.emulator.infra._infra import Infra
from jirabridge.emulator.infra._options import InfraOptions
from jirabridge.emulator.infra._ports import FlavourName, SystemClock
from jirabridge.emulator.infra._ratelimit import (
    CloudRateLimitConfig,
    CloudRateLimiter,
    HeaderStyle,
    RateDecision,
    ServerRateLimitConfig,
    ServerRateLimiter,
)
from jirabridge.emulator.infra._webhooks import WebhookRegistry

__all__ = [
    "AuthKind",
    "Authenticator",
    "CloudRateLimitConfig",
    "CloudRateLimiter",
    "ControlClient",
    "CredentialStore",
    "Delivery",
    "DeliveryQueue",
    "DeliveryStatus",
    "DeliveryWorker",
    "DowntimeMode",
    "ErrorRule",
    "FaultPlan",
    "FlavourName",
    "HeaderStyle",
    "Infra",
    "InfraOptions",
    "LatencyRule",
    "LostAnswerRule",
    "OAuthClient",
    "OAuthGrantError",
    "OAuthRequestError",
    "OAuthStore",
    "RateDecision",
    "RequestCounters",
    "ServerRateLimitConfig",
    "ServerRateLimiter",
    "SystemClock",
    "TimeoutRule",
    "WebhookFaults",
    "WebhookRegistry",
]
