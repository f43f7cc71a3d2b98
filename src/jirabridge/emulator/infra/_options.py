"""Construction options of :class:`~jirabridge.emulator.infra.Infra` (a value object)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from jirabridge.emulator.infra._delivery import WebhookFaults
from jirabridge.emulator.infra._faults import ErrorRule, LatencyRule, TimeoutRule
from jirabridge.emulator.infra._ports import CredentialChecker, JqlMatcher
from jirabridge.emulator.infra._ratelimit import CloudRateLimitConfig, ServerRateLimitConfig

__all__ = ["InfraOptions"]

#: Paths any caller may reach without Jira credentials (beside the control plane and OAuth).
DEFAULT_PUBLIC_PATHS: tuple[str, ...] = (
    "/rest/api/2/serverInfo",
    "/rest/api/3/serverInfo",
    "/status",
)


@dataclass(frozen=True)
class InfraOptions:
    """Everything an :class:`Infra` is built with; all limits and faults are off by default.

    ``credential_checker`` verifies basic passwords, API tokens and PATs against the site's
    users; when ``None`` infra asks the site itself (see ``_auth.site_credential_checker``).
    ``jql_matcher`` decides webhook JQL filters; when ``None`` infra uses
    ``jirabridge.emulator.search`` if it is importable. ``webhook_transport`` is the httpx
    transport webhook deliveries go through (tests pass an ``httpx.ASGITransport``).
    ``rest_webhooks_need_app``: like Cloud, ``/rest/api/3/webhook`` answers 403 unless the
    caller is an OAuth 2.0 app; set False to let basic-auth callers register (owner = user).
    ``oauth_requires_gateway``: like Cloud, refuse OAuth bearer tokens on the site URL (they
    work only under ``/ex/jira/{cloudId}``); off by default to ease tests.
    ``oauth_enforce_scopes``: a token whose scopes do not cover the call gets the gateway's
    401 ``Unauthorized; scope does not match`` (see ``_auth.scope_allows``).
    ``captcha_after_failures``: Server only; after that many failed basic logins in a row a
    login is CAPTCHA-locked (403 ``X-Authentication-Denied-Reason: CAPTCHA_CHALLENGE``).
    ``cloud_retry_delays``: seconds before each Cloud webhook retry (Atlassian: retried for
    up to about 30 minutes). The rate-limit, fault and webhook-fault fields are the state a
    new (or reset) Infra starts with; the control plane changes them at run time.
    """

    base_url: str = "http://127.0.0.1:8080"
    cloud_id: str = "5a1e1d0c-0b5e-4c1a-9d1e-000000000001"
    site_name: str = "emulated"
    seed: int = 1
    public_paths: tuple[str, ...] = DEFAULT_PUBLIC_PATHS
    access_token_ttl: float = 3600.0
    credential_checker: CredentialChecker | None = None
    jql_matcher: JqlMatcher | None = None
    webhook_transport: httpx.AsyncBaseTransport | None = field(default=None, compare=False)
    webhook_timeout: float = 10.0
    server_queue_capacity: int = 1000
    cloud_retry_delays: tuple[float, ...] = (30.0, 60.0, 120.0, 300.0, 600.0)
    rest_webhook_ttl_days: float = 30.0
    rest_webhooks_need_app: bool = True
    oauth_requires_gateway: bool = False
    oauth_enforce_scopes: bool = True
    captcha_after_failures: int | None = None
    server_rate_limit: ServerRateLimitConfig | None = None
    cloud_rate_limit: CloudRateLimitConfig | None = None
    latency: tuple[LatencyRule, ...] = ()
    errors: tuple[ErrorRule, ...] = ()
    timeouts: tuple[TimeoutRule, ...] = ()
    webhook_faults: WebhookFaults | None = None
