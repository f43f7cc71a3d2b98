"""OAuth 1.0a over HTTP (Server): the three ``/plugins/servlet/oauth/...`` endpoints, Jira's
401 answer for a refused signature, and the helpers that rebuild what a client signed.

- ``POST /plugins/servlet/oauth/request-token`` (signed, no token, ``oauth_callback``) ->
  ``oauth_token=...&oauth_token_secret=...&oauth_callback_confirmed=true``;
- ``GET /plugins/servlet/oauth/authorize?oauth_token=...&user=<key>``: the emulator consents
  at once for the user named in ``user`` (the real page asks them to log in and approve), then
  redirects to the callback with ``oauth_token`` and ``oauth_verifier`` (or, for ``oob``,
  answers them as a form-encoded body);
- ``POST /plugins/servlet/oauth/access-token`` (signed with the request token, with
  ``oauth_verifier``) -> ``oauth_token=...&oauth_token_secret=...&oauth_expires_in=...``.

Refusals answer 401 with ``WWW-Authenticate: OAuth realm="<base url>", oauth_problem="..."``
as Jira's OAuth filter does. The body is Jira's JSON error (``errors`` holds the ``oauth_*``
parameters) rather than the servlets' form-encoded ``oauth_problem=...``: every error answer
of the emulator has the one JSON shape (the HTTP fuzz tests hold it to that), and OAuth clients
read the problem from the header. The authorize page answers 400 in the same JSON shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlencode

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

from jirabridge.emulator.infra._oauth1 import (
    ACCESS_TOKEN_TTL,
    OAuth1Problem,
    OAuth1Stage,
    SignedRequest,
    Verified,
    parse_authorization_header,
)
from jirabridge.emulator.infra._responses import NOT_AUTHENTICATED, jira_error
from jirabridge.errors import BadInputError

if TYPE_CHECKING:
    from jirabridge.emulator.infra._infra import Infra

__all__ = [
    "OAUTH1_PREFIX",
    "is_form",
    "oauth1_routes",
    "oauth1_unauthorized",
    "request_url",
    "signed_request",
]

OAUTH1_PREFIX = "/plugins/servlet/oauth/"
_FORM = "application/x-www-form-urlencoded"


def is_form(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == _FORM


def request_url(scope: Scope) -> str:
    """The URL the client addressed (``Host`` header, the path as sent), without query."""
    headers = Headers(scope=scope)
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) and raw else str(scope["path"])
    path = path.split("?", 1)[0]
    return f"{scope.get('scheme', 'http')}://{host}{path}"


def signed_request(
    scope: Scope, authorization: str | None, body: bytes | None, content_type: str | None
) -> SignedRequest:
    """Every parameter RFC 5849 signs: the query, a form body, the ``Authorization`` header."""
    params: list[tuple[str, str]] = []
    query = scope.get("query_string", b"")
    try:
        params.extend(parse_qsl(query.decode("utf-8"), keep_blank_values=True))
        if body and is_form(content_type):
            params.extend(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError as exc:
        raise OAuth1Problem("parameter_rejected", "parameters are not UTF-8") from exc
    if authorization:
        try:
            params.extend(parse_authorization_header(authorization))
        except BadInputError as exc:
            raise OAuth1Problem("parameter_rejected", exc.message) from exc
    return SignedRequest(str(scope["method"]), request_url(scope), params)


def _form(pairs: Sequence[tuple[str, str]], status: int = 200) -> Response:
    return Response(urlencode(list(pairs)), status_code=status, media_type=_FORM)


def oauth1_unauthorized(problem: OAuth1Problem, realm: str) -> Response:
    """Jira's 401 for a refused OAuth 1.0a request: the problem in ``WWW-Authenticate``
    (``OAuth realm="...", oauth_problem="..."``, what OAuth clients read), and Jira's JSON
    error body naming it (``errors`` holds the same ``oauth_*`` parameters)."""
    params = problem.parameters()
    header = ", ".join(
        [f'OAuth realm="{quote(realm, safe="")}"']
        + [f'{k}="{quote(v, safe="")}"' for k, v in params]
    )
    return jira_error(
        401,
        [f"OAuth problem: {problem.problem}. {NOT_AUTHENTICATED}"],
        dict(params),
        headers={"WWW-Authenticate": header},
    )


def oauth1_routes(infra: Infra) -> list[BaseRoute]:
    def wall() -> float:
        return infra.clock.now().timestamp()

    async def verified(request: Request, stage: OAuth1Stage) -> tuple[SignedRequest, Verified]:
        body = await request.body()
        signed = signed_request(
            request.scope,
            request.headers.get("authorization"),
            body,
            request.headers.get("content-type"),
        )
        return signed, infra.oauth1.verify(signed, wall(), stage)

    async def request_token(request: Request) -> Response:
        try:
            signed, ok = await verified(request, OAuth1Stage.REQUEST_TOKEN)
            token, secret = infra.oauth1.issue_request_token(
                ok, signed.first("oauth_callback"), wall()
            )
        except OAuth1Problem as exc:
            return oauth1_unauthorized(exc, infra.options.base_url)
        return _form(
            [
                ("oauth_token", token),
                ("oauth_token_secret", secret),
                ("oauth_callback_confirmed", "true"),
            ]
        )

    async def authorize(request: Request) -> Response:
        q = request.query_params
        token, user = q.get("oauth_token", ""), q.get("user", "")
        if not token or not user:
            return jira_error(
                400, ["The emulator consents at once: give oauth_token and user=<user key>."]
            )
        try:
            verifier, callback = infra.oauth1.authorize(token, user, wall())
        except OAuth1Problem as exc:
            return oauth1_unauthorized(exc, infra.options.base_url)
        pairs = [("oauth_token", token), ("oauth_verifier", verifier)]
        if callback == "oob":
            return _form(pairs)
        sep = "&" if "?" in callback else "?"
        return RedirectResponse(callback + sep + urlencode(pairs), status_code=302)

    async def access_token(request: Request) -> Response:
        try:
            signed, ok = await verified(request, OAuth1Stage.ACCESS_TOKEN)
            token, secret = infra.oauth1.exchange(ok, signed.first("oauth_verifier"), wall())
        except OAuth1Problem as exc:
            return oauth1_unauthorized(exc, infra.options.base_url)
        ttl = str(int(ACCESS_TOKEN_TTL))
        return _form(
            [
                ("oauth_token", token),
                ("oauth_token_secret", secret),
                ("oauth_expires_in", ttl),
                ("oauth_authorization_expires_in", ttl),
            ]
        )

    return [
        Route(OAUTH1_PREFIX + "request-token", request_token, methods=["GET", "POST"]),
        Route(OAUTH1_PREFIX + "authorize", authorize, methods=["GET"]),
        Route(OAUTH1_PREFIX + "access-token", access_token, methods=["GET", "POST"]),
    ]
