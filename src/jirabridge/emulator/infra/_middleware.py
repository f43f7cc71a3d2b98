"""The ASGI middleware stack: gateway prefix, faults, auth, rate limits, counters.

Order per request (as a real site would see it): the OAuth gateway prefix
``/ex/jira/{cloudId}`` is stripped (Cloud); injected latency; downtime, timeouts and injected
errors; authentication (sets ``request.state.user_key`` and ``request.state.auth_kind``; on
Server an ``Authorization: OAuth ...`` header is an OAuth 1.0a RSA-SHA1 signature, checked by
``_oauth1``, and also sets ``request.state.oauth1_consumer_key``);
rate limits; the app; the counters. The control plane (``/_emulator``) skips all of it.

A dropped connection (downtime in ``refuse`` mode, a timeout after its hang) is raised as the
``httpx`` error a client would see (``ConnectError`` / ``RemoteProtocolError``): with
``httpx.ASGITransport`` it reaches the client as is; under a real server it aborts the response.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import httpx
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jirabridge.emulator.infra._auth import SCOPE_MISMATCH, AuthKind, scope_allows
from jirabridge.emulator.infra._faults import FaultAction
from jirabridge.emulator.infra._oauth1 import OAuth1Problem, OAuth1Stage, Verified
from jirabridge.emulator.infra._ports import FlavourName
from jirabridge.emulator.infra._ratelimit import RateDecision, endpoint_key
from jirabridge.emulator.infra._responses import (
    captcha_challenge,
    gateway_unauthorized,
    jira_error,
    not_authenticated,
)
from jirabridge.emulator.infra._routes_oauth1 import (
    OAUTH1_PREFIX,
    is_form,
    oauth1_unauthorized,
    signed_request,
)

if TYPE_CHECKING:
    from jirabridge.emulator.infra._infra import Infra

__all__ = ["CONTROL_PREFIX", "InfraMiddleware"]

CONTROL_PREFIX = "/_emulator"
_GATEWAY = re.compile(r"^/ex/jira/([^/]+)(/.*)?$")


@dataclass
class _Outcome:
    status: int = 0
    retry_after: float | None = None


def _route_template(scope: Scope, root_path: str) -> str | None:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return None
    mount_prefix = str(scope.get("root_path", ""))[len(root_path) :]
    return mount_prefix + path


class InfraMiddleware:
    """Pure ASGI middleware; all state lives in the :class:`Infra` it is given."""

    def __init__(self, app: ASGIApp, infra: Infra) -> None:
        self.app = app
        self.infra = infra

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        infra = self.infra
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        state["infra"] = infra
        path: str = scope["path"]
        if path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return

        method: str = scope["method"].upper()
        root_path = str(scope.get("root_path", ""))
        via_gateway = False
        gw = _GATEWAY.match(path)
        if gw is not None and infra.flavour is FlavourName.CLOUD:
            via_gateway = True
            if gw.group(1) != infra.options.cloud_id:
                resp: Response = jira_error(404, ["Site not found for this cloudId."])
                await self._finish(scope, receive, send, resp, path, method, _Outcome(), 0.0)
                return
            path = gw.group(2) or "/"
            scope["path"] = path
            scope["raw_path"] = path.encode("latin-1")
        state["via_gateway"] = via_gateway

        clock = infra.clock
        decision = infra.faults.decide(method, path, clock.monotonic())
        if decision.latency > 0:
            await asyncio.sleep(decision.latency)
        if decision.action is FaultAction.DOWN:
            infra.counters.record(
                endpoint_key(path),
                method,
                0 if decision.refuse else 503,
                retry_after=None if decision.refuse else decision.retry_after,
                latency=decision.latency,
            )
            if decision.refuse:
                await _abort(send, httpx.ConnectError("Connection refused (emulated downtime)"))
            retry = str(decision.retry_after or 1)
            await jira_error(503, ["Service Unavailable"], headers={"Retry-After": retry})(
                scope, receive, send
            )
            return
        if decision.action is FaultAction.TIMEOUT:
            infra.counters.record(endpoint_key(path), method, 0, latency=decision.latency)
            await asyncio.sleep(decision.hang_seconds)
            await _abort(
                send, httpx.RemoteProtocolError("Server disconnected without sending a response.")
            )
        if decision.action is FaultAction.ERROR and decision.status is not None:
            headers = {}
            if decision.retry_after is not None:
                headers["Retry-After"] = str(decision.retry_after)
            resp = jira_error(decision.status, [_reason(decision.status)], headers=headers)
            await self._finish(
                scope,
                receive,
                send,
                resp,
                path,
                method,
                _Outcome(retry_after=decision.retry_after),
                decision.latency,
            )
            return

        protected = path.startswith("/rest/") and not any(
            path == p or path.startswith(p + "/") for p in infra.options.public_paths
        )
        server = infra.flavour is FlavourName.SERVER
        authorization = Headers(scope=scope).get("authorization") or ""
        if path.startswith("/oauth/") or (server and path.startswith(OAUTH1_PREFIX)):
            protected = False  # the token endpoints check their own credentials
            outcome_kind, user_key = AuthKind.ANONYMOUS, None
        elif server and authorization.lstrip()[:6].lower() == "oauth ":
            receive, oauth1 = await self._oauth1(scope, receive, authorization)
            if isinstance(oauth1, OAuth1Problem):
                resp = oauth1_unauthorized(oauth1, infra.options.base_url)
                await self._finish(
                    scope, receive, send, resp, path, method, _Outcome(), decision.latency
                )
                return
            outcome_kind, user_key = AuthKind.OAUTH1, oauth1.user_key
            state["oauth_client_id"] = None
            state["oauth1_consumer_key"] = oauth1.consumer_key
        else:
            auth = infra.authenticator.authenticate(authorization, clock.monotonic())
            wrong_door = (
                auth.kind is AuthKind.OAUTH
                and not via_gateway
                and infra.options.oauth_requires_gateway
            )
            if auth.failed or wrong_door or (protected and auth.user_key is None):
                if auth.captcha:
                    resp = captcha_challenge(infra.options.base_url)
                elif auth.gateway or via_gateway:
                    resp = gateway_unauthorized()
                else:
                    resp = not_authenticated(
                        failed_login=auth.failed and infra.flavour is FlavourName.SERVER
                    )
                await self._finish(
                    scope, receive, send, resp, path, method, _Outcome(), decision.latency
                )
                return
            if (
                auth.kind is AuthKind.OAUTH
                and auth.scope is not None
                and path.startswith("/rest/")
                and infra.options.oauth_enforce_scopes
                and not scope_allows(auth.scope, method, path)
            ):
                resp = JSONResponse({"code": 401, "message": SCOPE_MISMATCH}, status_code=401)
                await self._finish(
                    scope, receive, send, resp, path, method, _Outcome(), decision.latency
                )
                return
            outcome_kind, user_key = auth.kind, auth.user_key
            state["oauth_client_id"] = auth.client_id
        state["user_key"] = user_key
        state["auth_kind"] = outcome_kind.value

        rate: RateDecision | None = None
        if path.startswith("/rest/"):
            rate = infra.check_rate(method, path, user_key)
            if rate is not None and not rate.allowed:
                resp = jira_error(429, ["Rate limit exceeded."], headers=rate.headers)
                await self._finish(
                    scope,
                    receive,
                    send,
                    resp,
                    path,
                    method,
                    _Outcome(retry_after=rate.retry_after),
                    decision.latency,
                )
                return

        outcome = _Outcome()
        lose = decision.action is FaultAction.LOST_ANSWER  # do the work, drop the answer
        extra = dict(rate.headers) if rate is not None else {}
        if infra.flavour is FlavourName.SERVER:
            extra["X-AUSERNAME"] = _username(infra.site, user_key)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome.status = int(message["status"])
                if extra:
                    hdrs = MutableHeaders(scope=message)
                    for k, v in extra.items():
                        hdrs[k] = v
                if outcome.status == 503 or outcome.status == 429:
                    value = Headers(raw=message.get("headers", [])).get("retry-after")
                    if value and value.isdigit():
                        outcome.retry_after = float(value)
            if not lose:
                await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            template = _route_template(scope, root_path) or endpoint_key(path)
            infra.counters.record(
                template,
                method,
                outcome.status or 500,
                retry_after=outcome.retry_after,
                latency=decision.latency,
            )
        if lose:
            await _abort(
                send, httpx.RemoteProtocolError("Server disconnected without sending a response.")
            )

    async def _oauth1(
        self, scope: Scope, receive: Receive, authorization: str
    ) -> tuple[Receive, Verified | OAuth1Problem]:
        """Verify an OAuth 1.0a signed call. A form body is signed too, so it is read here
        and replayed to the app through the returned ``receive``."""
        infra = self.infra
        content_type = Headers(scope=scope).get("content-type")
        body: bytes | None = None
        if is_form(content_type):
            body, receive = await _buffer(receive)
        try:
            signed = signed_request(scope, authorization, body, content_type)
            verified = infra.oauth1.verify(
                signed, infra.clock.now().timestamp(), OAuth1Stage.RESOURCE
            )
        except OAuth1Problem as exc:
            return receive, exc
        return receive, verified

    async def _finish(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        response: Response,
        path: str,
        method: str,
        outcome: _Outcome,
        latency: float,
    ) -> None:
        self.infra.counters.record(
            endpoint_key(path),
            method,
            response.status_code,
            retry_after=outcome.retry_after,
            latency=latency,
        )
        await response(scope, receive, send)


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body; return it and a ``receive`` that replays it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _abort(send: Send, exc: httpx.TransportError) -> NoReturn:
    """Drop the connection. In-process (``httpx.ASGITransport``) the client gets ``exc``
    itself; under a real server the head of a response promising a body that never comes is
    sent first, so the server closes the socket mid-response (a 500 page is what a server
    sends when the app fails before starting one) and the client sees a transport error."""
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [(b"content-length", b"1048576"), (b"content-type", b"text/plain")],
        }
    )
    raise exc


def _username(site: Any, user_key: str | None) -> str:
    """Server's ``X-AUSERNAME``: the caller's username, ``anonymous`` without one."""
    if user_key is None:
        return "anonymous"
    users = getattr(site, "users", None)
    user = users.get(user_key) if isinstance(users, dict) else None
    name = getattr(user, "name", None)
    return str(name) if name else user_key


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
