"""The ``/_emulator`` control plane (JSON, no Jira auth, never rate-limited or faulted).

Bodies are validated with pydantic models (camelCase keys, unknown keys refused); a bad body
answers 400 ``{"errorMessages": [...], "errors": {field: message}}`` and changes nothing.
Every field has a default, so ``{}`` is a valid body. Times are emulator-clock seconds.

=========================  ======  =========================================================
path                       method  body (defaults) -> answer
=========================  ======  =========================================================
reset                      POST    -> site and infra back to their initial state
seed                       POST    ``{"kind": "demo"}`` or ``{"projects": 1, "issues": 10,
                                   "comments": 0, "users": 3, "sprints": 0, "seed": 1}``
clock                      GET     -> ``{"now", "monotonic", "frozen"}``
clock                      POST    ``{"freeze": true | "2026-01-05T09:00:00Z", "advance": 60,
                                   "unfreeze": false}``
latency                    POST    ``{"ms": 50, "jitterMs": 0, "pattern": "*", "method": null,
                                   "replace": true, "clear": false}``
faults                     POST    ``{"errors": [{"status": 503, "rate": 0.3, "pattern": "*",
                                   "method": null, "retryAfter": null}], "timeouts": [{"rate":
                                   0.1, "hangSeconds": 30}], "lostAnswers": [{"rate": 1,
                                   "pattern": "*", "method": "POST"}] (done, then the
                                   connection dropped), "seed": null, "replace": true,
                                   "clear": false}``
downtime                   POST    ``{"seconds": 30, "mode": "503" | "refuse", "pattern": "*",
                                   "startsIn": 0, "clear": false}``
ratelimits                 POST    ``{"enabled": true, "capacity": 100, "fillRate": 10,
                                   "intervalSeconds": 1, "exempt": [], "burstPerSecond": 100,
                                   "burstOverrides": {"/rest/api/3/search*": 10},
                                   "perIssueWrites": [[20, 2], [100, 30]], "penaltySeconds": 1,
                                   "headerStyle": "modern" | "legacy"}``
                                   (Server uses the bucket fields and ``headerStyle``:
                                   ``legacy`` sends pre-8.x ``X-RateLimiting-*`` names;
                                   Cloud uses the others)
counters                   GET     -> ``{"total", "rateLimited", "waits", "calls": [...]}``
counters                   DELETE  -> 204
webhooks/faults            POST    ``{"dropRate": 0, "duplicateRate": 0, "delayRate": 0,
                                   "delaySeconds": 60}``
webhooks/deliveries        GET     ``?status=failed`` -> ``{"summary", "deliveries"}``
webhooks/flush             POST    ``{"includeScheduled": false, "timeout": 30}`` -> ``{"idle"}``
oauth/clients              POST    ``{"name", "redirectUri", "scopes", "clientId",
                                   "clientSecret"}`` -> the client, with ``cloudId``
oauth/codes                POST    ``{"clientId", "userKey", "scope"}`` -> ``{"code"}``
oauth/revoke               POST    ``{"token"}`` or ``{"userKey"}`` -> ``{"revoked": n}``
oauth/expire               POST    ``{"userKey": null}`` -> ``{"expired": n}`` (access tokens)
oauth/settings             POST    ``{"accessTokenTtl": 3600}``
oauth1/consumers           POST    ``{"consumerKey", "publicKey": "-----BEGIN PUBLIC KEY-----...",
                                   "name", "callback", "timestampWindow": 300}`` (Server:
                                   an application link's incoming OAuth 1.0a, RSA-SHA1)
oauth1/tokens              POST    ``{"consumerKey", "userKey"}`` -> ``{"token", "tokenSecret"}``
                                   (an access token without the three-legged dance)
oauth1/revoke              POST    ``{"token"}`` -> ``{"revoked": bool}``
credentials                POST    ``{"kind": "password" | "api_token" | "pat", "secret",
                                   "userKey", "login", "expiresIn"}``
credentials/revoke         POST    ``{"secret"}`` (also a site user's own token or password)
credentials/expire         POST    ``{"secret"}``
credentials/captcha        POST    ``{"after": 3}`` or ``{"clear": true, "login": null}``
permissions                POST    ``{"projectKey", "user", "deny": [], "restore": [],
                                   "restoreAll": false}`` -> ``{"projectKey", "userKey",
                                   "denied": [...]}`` (project permissions taken from one
                                   user in one project; ``/mypermissions`` and browsing
                                   honour them)
state                      GET     -> summary counts of infra and site
=========================  ======  =========================================================
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jirabridge.emulator.infra._delivery import WebhookFaults
from jirabridge.emulator.infra._faults import (
    DowntimeMode,
    ErrorRule,
    LatencyRule,
    LostAnswerRule,
    TimeoutRule,
)
from jirabridge.emulator.infra._ratelimit import (
    CloudRateLimitConfig,
    HeaderStyle,
    ServerRateLimitConfig,
)
from jirabridge.emulator.infra._responses import jira_error
from jirabridge.errors import JirabridgeError

if TYPE_CHECKING:
    from jirabridge.emulator.infra._infra import Infra

__all__ = ["control_routes"]

PREFIX = "/_emulator"
_SITE_STORES = (
    "users",
    "groups",
    "projects",
    "issues",
    "comments",
    "worklogs",
    "attachments",
    "links",
    "boards",
    "sprints",
)


class _Body(BaseModel):
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, alias_generator=to_camel, frozen=True
    )


_DAY = 86_400.0
_YEAR = 366 * _DAY


class ClockBody(_Body):
    freeze: datetime | bool | None = None
    advance: float | None = Field(default=None, ge=0, le=100 * _YEAR)
    unfreeze: bool = False

    @field_validator("freeze")
    @classmethod
    def _sane_year(cls, value: datetime | bool | None) -> datetime | bool | None:
        if isinstance(value, datetime) and not 1970 <= value.year <= 9000:
            raise ValueError("freeze must be a time between 1970 and 9000")
        return value


class LatencyBody(_Body):
    ms: float = Field(default=0, ge=0, le=600_000)
    jitter_ms: float = Field(default=0, ge=0, le=600_000)
    pattern: str = "*"
    method: str | None = None
    replace: bool = True
    clear: bool = False


class ErrorBody(_Body):
    status: int = Field(ge=400, le=599)
    rate: float = Field(ge=0, le=1)
    pattern: str = "*"
    method: str | None = None
    retry_after: int | None = Field(default=None, ge=0, le=int(_DAY))


class TimeoutBody(_Body):
    rate: float = Field(ge=0, le=1)
    hang_seconds: float = Field(default=30.0, ge=0, le=3600)
    pattern: str = "*"
    method: str | None = None


class LostAnswerBody(_Body):
    rate: float = Field(ge=0, le=1)
    pattern: str = "*"
    method: str | None = None


class FaultsBody(_Body):
    errors: list[ErrorBody] = []
    timeouts: list[TimeoutBody] = []
    lost_answers: list[LostAnswerBody] = []
    seed: int | None = None
    replace: bool = True
    clear: bool = False


class DowntimeBody(_Body):
    seconds: float = Field(default=0, ge=0, le=_YEAR)
    mode: Literal["503", "refuse"] = "503"
    pattern: str = "*"
    starts_in: float = Field(default=0, ge=0, le=_YEAR)
    clear: bool = False


class WebhookFaultsBody(_Body):
    drop_rate: float = Field(default=0, ge=0, le=1)
    duplicate_rate: float = Field(default=0, ge=0, le=1)
    delay_rate: float = Field(default=0, ge=0, le=1)
    delay_seconds: float = Field(default=60, ge=0, le=_DAY)


class RateLimitsBody(_Body):
    enabled: bool = True
    capacity: int = Field(default=100, ge=1, le=10**9)
    fill_rate: int = Field(default=10, ge=1, le=10**9)
    interval_seconds: float = Field(default=1.0, gt=0, le=_DAY)
    exempt: list[str] = []
    burst_per_second: int = Field(default=100, ge=1, le=10**9)
    burst_overrides: dict[str, int] = {}
    per_issue_writes: list[tuple[int, float]] = [(20, 2.0), (100, 30.0)]
    penalty_seconds: float = Field(default=1.0, ge=0, le=3600)
    header_style: HeaderStyle = HeaderStyle.MODERN


class SeedBody(_Body):
    kind: Literal["demo", "bulk"] | None = None
    projects: int = Field(default=1, ge=0, le=1_000)
    issues: int = Field(default=10, ge=0, le=2_000_000)
    comments: int = Field(default=0, ge=0, le=10_000_000)
    users: int = Field(default=3, ge=0, le=100_000)
    sprints: int = Field(default=0, ge=0, le=10_000)
    seed: int = 1


class OAuthClientBody(_Body):
    name: str = "app"
    redirect_uri: str = "http://127.0.0.1/callback"
    scopes: list[str] | None = None
    client_id: str | None = None
    client_secret: str | None = None


class OAuthCodeBody(_Body):
    client_id: str
    user_key: str
    scope: str | None = None


class OAuthRevokeBody(_Body):
    token: str | None = None
    user_key: str | None = None


class OAuthExpireBody(_Body):
    user_key: str | None = None


class OAuthSettingsBody(_Body):
    access_token_ttl: float = Field(gt=0, le=10 * _YEAR)


class OAuth1ConsumerBody(_Body):
    consumer_key: str = Field(min_length=1, max_length=255)
    public_key: str = Field(min_length=1, max_length=20_000)
    name: str = "application link"
    callback: str | None = None
    timestamp_window: float | None = Field(default=None, gt=0, le=_DAY)


class OAuth1TokenBody(_Body):
    consumer_key: str = Field(min_length=1)
    user_key: str = Field(min_length=1)


class OAuth1RevokeBody(_Body):
    token: str = Field(min_length=1)


class CredentialBody(_Body):
    kind: Literal["password", "api_token", "pat"]
    secret: str = Field(min_length=1)
    user_key: str = Field(min_length=1)
    login: str | None = None
    expires_in: float | None = Field(default=None, ge=0, le=10 * _YEAR)


class SecretBody(_Body):
    secret: str = Field(min_length=1)


class CaptchaBody(_Body):
    after: int | None = Field(default=None, ge=1)
    clear: bool = False
    login: str | None = None


class PermissionsBody(_Body):
    project_key: str = Field(min_length=1)
    user: str = Field(min_length=1, description="user key, name or e-mail")
    deny: list[str] = Field(default_factory=list)
    restore: list[str] = Field(default_factory=list)
    restore_all: bool = False


class FlushBody(_Body):
    include_scheduled: bool = False
    timeout: float = Field(default=30.0, gt=0, le=600)


B = TypeVar("B", bound=_Body)


def _validation_error(exc: ValidationError) -> Response:
    errors = {
        ".".join(str(p) for p in err["loc"]) or "body": str(err["msg"]) for err in exc.errors()
    }
    return jira_error(400, ["The request body is not valid."], errors)


async def _parse(request: Request, model: type[B]) -> B:
    raw = await request.body()
    data: Any = {}
    if raw.strip():
        data = json.loads(raw)
    return model.model_validate(data)


Handler = Callable[[Request], Awaitable[Response]]


def _guard(fn: Handler) -> Handler:
    async def guarded(request: Request) -> Response:
        try:
            return await fn(request)
        except ValidationError as exc:
            return _validation_error(exc)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return jira_error(400, ["The request body is not valid JSON."])
        except (ValueError, OverflowError, JirabridgeError) as exc:
            message = exc.message if isinstance(exc, JirabridgeError) else str(exc)
            return jira_error(400, [message])

    return guarded


def _site_counts(site: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for name in _SITE_STORES:
        store = getattr(site, name, None)
        if store is not None:
            try:
                out[name] = len(store)
            except TypeError:
                continue
    return out


def control_routes(infra: Infra) -> list[BaseRoute]:
    clock = infra.clock

    def clock_json() -> dict[str, Any]:
        return {
            "now": clock.now().isoformat(),
            "monotonic": clock.monotonic(),
            "frozen": bool(getattr(clock, "frozen", False)),
        }

    async def reset(request: Request) -> Response:
        site_reset = False
        fn = getattr(infra.site, "reset", None)
        if callable(fn):
            fn()
            site_reset = True
        infra.reset()
        return JSONResponse({"reset": True, "siteReset": site_reset})

    async def seed(request: Request) -> Response:
        body = await _parse(request, SeedBody)
        seeding: Any = None
        for name in ("jirabridge.emulator.seed", "jirabridge.emulator.model.seed"):
            try:
                seeding = importlib.import_module(name)
                break
            except ImportError:
                continue
        if seeding is None:
            return jira_error(501, ["Seeding is not available in this build."])
        if body.kind == "demo":
            seeding.seed_demo(infra.site, seed=body.seed)
        else:
            seeding.seed_bulk(
                infra.site,
                projects=body.projects,
                issues=body.issues,
                comments=body.comments,
                users=body.users,
                sprints=body.sprints,
                seed=body.seed,
            )
        return JSONResponse({"seeded": body.kind or "bulk", "site": _site_counts(infra.site)})

    async def clock_get(request: Request) -> Response:
        return JSONResponse(clock_json())

    async def clock_post(request: Request) -> Response:
        body = await _parse(request, ClockBody)
        if body.unfreeze:
            _call(clock, "unfreeze")
        if body.freeze is not None and body.freeze is not False:
            at = body.freeze if isinstance(body.freeze, datetime) else None
            if at is not None and at.tzinfo is None:
                raise ValueError("freeze needs a timezone-aware time (end it with Z or +00:00)")
            _call(clock, "freeze", at)
        if body.advance:
            _call(clock, "advance", body.advance)
        return JSONResponse(clock_json())

    async def latency(request: Request) -> Response:
        body = await _parse(request, LatencyBody)
        if body.clear or body.replace:
            infra.faults.latency.clear()
        if not body.clear and (body.ms or body.jitter_ms):
            infra.faults.latency.append(
                LatencyRule(body.ms / 1000, body.jitter_ms / 1000, body.pattern, body.method)
            )
        return JSONResponse({"latency": [vars(r) for r in infra.faults.latency]})

    async def faults(request: Request) -> Response:
        body = await _parse(request, FaultsBody)
        if body.seed is not None:
            infra.faults.reseed(body.seed)
        if body.clear or body.replace:
            infra.faults.errors.clear()
            infra.faults.timeouts.clear()
            infra.faults.lost_answers.clear()
        if not body.clear:
            infra.faults.errors.extend(
                ErrorRule(e.status, e.rate, e.pattern, e.method, e.retry_after) for e in body.errors
            )
            infra.faults.timeouts.extend(
                TimeoutRule(t.rate, t.hang_seconds, t.pattern, t.method) for t in body.timeouts
            )
            infra.faults.lost_answers.extend(
                LostAnswerRule(x.rate, x.pattern, x.method) for x in body.lost_answers
            )
        return JSONResponse(
            {
                "errors": [vars(r) for r in infra.faults.errors],
                "timeouts": [vars(r) for r in infra.faults.timeouts],
                "lostAnswers": [vars(r) for r in infra.faults.lost_answers],
            }
        )

    async def downtime(request: Request) -> Response:
        body = await _parse(request, DowntimeBody)
        if body.clear:
            infra.faults.downtime.clear()
            return JSONResponse({"downtime": []})
        window = infra.faults.add_downtime(
            clock.monotonic(),
            body.seconds,
            mode=DowntimeMode(body.mode),
            pattern=body.pattern,
            starts_in=body.starts_in,
        )
        return JSONResponse(
            {
                "downtime": [
                    {
                        "start": w.start,
                        "end": w.end,
                        "mode": w.mode.value,
                        "pattern": w.pattern,
                    }
                    for w in infra.faults.downtime
                ],
                "added": {"start": window.start, "end": window.end},
            }
        )

    async def webhook_faults(request: Request) -> Response:
        body = await _parse(request, WebhookFaultsBody)
        wf = WebhookFaults(body.drop_rate, body.duplicate_rate, body.delay_rate, body.delay_seconds)
        infra.deliveries.set_faults(wf)
        return JSONResponse(body.model_dump(by_alias=True))

    async def ratelimits(request: Request) -> Response:
        body = await _parse(request, RateLimitsBody)
        if not body.enabled:
            infra.set_server_rate_limit(None)
            infra.set_cloud_rate_limit(None)
            return JSONResponse({"enabled": False})
        infra.set_server_rate_limit(
            ServerRateLimitConfig(
                body.capacity,
                body.fill_rate,
                body.interval_seconds,
                frozenset(body.exempt),
                header_style=body.header_style,
            )
        )
        infra.set_cloud_rate_limit(
            CloudRateLimitConfig(
                body.burst_per_second,
                tuple(body.burst_overrides.items()),
                tuple(body.per_issue_writes),
                body.penalty_seconds,
            )
        )
        return JSONResponse({"enabled": True, **body.model_dump(by_alias=True)})

    async def counters_get(request: Request) -> Response:
        return JSONResponse(infra.counters.snapshot())

    async def counters_delete(request: Request) -> Response:
        infra.counters.reset()
        return Response(status_code=204)

    async def deliveries(request: Request) -> Response:
        items = [d.as_json() for d in infra.deliveries.deliveries()]
        status = request.query_params.get("status")
        if status:
            items = [d for d in items if d["status"] == status]
        return JSONResponse({"summary": infra.deliveries.summary(), "deliveries": items})

    async def flush(request: Request) -> Response:
        body = await _parse(request, FlushBody)
        idle = await infra.worker.flush(
            include_scheduled=body.include_scheduled, within=body.timeout
        )
        return JSONResponse({"idle": idle, "summary": infra.deliveries.summary()})

    async def oauth_client(request: Request) -> Response:
        body = await _parse(request, OAuthClientBody)
        client = infra.oauth.create_client(
            body.name,
            redirect_uri=body.redirect_uri,
            scopes=tuple(body.scopes) if body.scopes else None,
            client_id=body.client_id,
            client_secret=body.client_secret,
        )
        return JSONResponse(
            {
                "clientId": client.client_id,
                "clientSecret": client.client_secret,
                "name": client.name,
                "redirectUri": client.redirect_uri,
                "scopes": list(client.scopes),
                "cloudId": infra.options.cloud_id,
            },
            status_code=201,
        )

    async def oauth_code(request: Request) -> Response:
        body = await _parse(request, OAuthCodeBody)
        code = infra.oauth.issue_code(
            body.client_id, body.user_key, clock.monotonic(), scope=body.scope
        )
        return JSONResponse({"code": code}, status_code=201)

    async def oauth_revoke(request: Request) -> Response:
        body = await _parse(request, OAuthRevokeBody)
        if body.token is None and body.user_key is None:
            raise ValueError("give token or userKey")
        n = 0
        if body.token is not None:
            n += int(infra.oauth.revoke(body.token))
        if body.user_key is not None:
            n += infra.oauth.revoke_user(body.user_key)
        return JSONResponse({"revoked": n})

    async def oauth_expire(request: Request) -> Response:
        body = await _parse(request, OAuthExpireBody)
        return JSONResponse({"expired": infra.oauth.expire_access_tokens(user_key=body.user_key)})

    async def oauth_settings(request: Request) -> Response:
        body = await _parse(request, OAuthSettingsBody)
        infra.oauth.access_token_ttl = body.access_token_ttl
        return JSONResponse({"accessTokenTtl": body.access_token_ttl})

    async def oauth1_consumer(request: Request) -> Response:
        body = await _parse(request, OAuth1ConsumerBody)
        consumer = infra.oauth1.add_consumer(
            body.consumer_key, body.public_key, name=body.name, callback=body.callback
        )
        if body.timestamp_window is not None:
            infra.oauth1.timestamp_window = body.timestamp_window
        return JSONResponse(
            {
                "consumerKey": consumer.consumer_key,
                "name": consumer.name,
                "callback": consumer.callback,
                "timestampWindow": infra.oauth1.timestamp_window,
                "signatureMethod": "RSA-SHA1",
            },
            status_code=201,
        )

    async def oauth1_token(request: Request) -> Response:
        body = await _parse(request, OAuth1TokenBody)
        token, secret = infra.oauth1.issue_access_token(
            body.consumer_key, body.user_key, clock.now().timestamp()
        )
        return JSONResponse({"token": token, "tokenSecret": secret}, status_code=201)

    async def oauth1_revoke(request: Request) -> Response:
        body = await _parse(request, OAuth1RevokeBody)
        return JSONResponse({"revoked": infra.oauth1.revoke(body.token)})

    async def credential_add(request: Request) -> Response:
        body = await _parse(request, CredentialBody)
        expires = clock.monotonic() + body.expires_in if body.expires_in is not None else None
        infra.credentials.add(
            body.kind, body.secret, body.user_key, login=body.login, expires_at=expires
        )
        return JSONResponse({"added": body.kind, "userKey": body.user_key}, status_code=201)

    async def credential_revoke(request: Request) -> Response:
        body = await _parse(request, SecretBody)
        infra.credentials.revoke(body.secret)
        return JSONResponse({"revoked": True})

    async def credential_expire(request: Request) -> Response:
        body = await _parse(request, SecretBody)
        if not infra.credentials.expire(body.secret, clock.monotonic()):
            infra.credentials.revoke(body.secret)
        return JSONResponse({"expired": True})

    async def captcha(request: Request) -> Response:
        body = await _parse(request, CaptchaBody)
        if body.clear:
            infra.authenticator.clear_failures(body.login)
        else:
            infra.authenticator.captcha_after = body.after
        return JSONResponse({"after": infra.authenticator.captcha_after})

    async def permissions(request: Request) -> Response:
        from jirabridge.emulator.model import PERMISSIONS, deny_permissions, restore_permissions

        body = await _parse(request, PermissionsBody)
        site = infra.site
        bad = [
            k
            for k in (*body.deny, *body.restore)
            if k not in PERMISSIONS or PERMISSIONS[k].type != "PROJECT"
        ]
        if bad:  # refused before anything changes
            return jira_error(400, [f"not project permission keys: {', '.join(bad)}"])
        denied = restore_permissions(
            site, body.project_key, body.user, None if body.restore_all else body.restore
        )
        if body.deny:
            denied = deny_permissions(site, body.project_key, body.user, body.deny)
        return JSONResponse(
            {
                "projectKey": site.get_project(body.project_key).key,
                "userKey": site.find_user(body.user).key,
                "denied": sorted(denied),
            }
        )

    async def state(request: Request) -> Response:
        return JSONResponse({**infra.summary(), "site": _site_counts(infra.site)})

    table: list[tuple[str, Handler, str]] = [
        ("/reset", reset, "POST"),
        ("/seed", seed, "POST"),
        ("/clock", clock_get, "GET"),
        ("/clock", clock_post, "POST"),
        ("/latency", latency, "POST"),
        ("/faults", faults, "POST"),
        ("/downtime", downtime, "POST"),
        ("/webhooks/faults", webhook_faults, "POST"),
        ("/ratelimits", ratelimits, "POST"),
        ("/counters", counters_get, "GET"),
        ("/counters", counters_delete, "DELETE"),
        ("/webhooks/deliveries", deliveries, "GET"),
        ("/webhooks/flush", flush, "POST"),
        ("/oauth/clients", oauth_client, "POST"),
        ("/oauth/codes", oauth_code, "POST"),
        ("/oauth/revoke", oauth_revoke, "POST"),
        ("/oauth/expire", oauth_expire, "POST"),
        ("/oauth/settings", oauth_settings, "POST"),
        ("/oauth1/consumers", oauth1_consumer, "POST"),
        ("/oauth1/tokens", oauth1_token, "POST"),
        ("/oauth1/revoke", oauth1_revoke, "POST"),
        ("/credentials", credential_add, "POST"),
        ("/credentials/revoke", credential_revoke, "POST"),
        ("/credentials/expire", credential_expire, "POST"),
        ("/credentials/captcha", captcha, "POST"),
        ("/permissions", permissions, "POST"),
        ("/state", state, "GET"),
    ]
    return [
        Route(PREFIX + path, _guard(handler), methods=[method]) for path, handler, method in table
    ]


def _call(obj: Any, name: str, *args: Any) -> None:
    fn = getattr(obj, name, None)
    if not callable(fn):
        raise ValueError(f"this clock cannot {name}")
    fn(*args)
