"""OAuth 2.0 (3LO) endpoints: ``POST /oauth/token``, ``GET /oauth/token/accessible-resources``
and an emulator-only ``GET /authorize`` that consents at once for the user named in ``user``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from jirabridge.emulator.infra._auth import OAuthGrantError, OAuthRequestError
from jirabridge.emulator.infra._responses import gateway_unauthorized

if TYPE_CHECKING:
    from jirabridge.emulator.infra._infra import Infra

__all__ = ["oauth_routes"]


def _oauth_error(error: str, description: str, status: int) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


async def _params(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        try:
            data: Any = json.loads(await request.body() or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise OAuthRequestError("invalid_request", "Malformed JSON body") from exc
        if not isinstance(data, dict):
            raise OAuthRequestError("invalid_request", "The body must be a JSON object")
        return {str(k): str(v) for k, v in data.items() if v is not None}
    try:
        form = await request.form()
    except HTTPException as exc:  # Starlette's answer to a broken multipart or form body
        raise OAuthRequestError("invalid_request", f"Malformed form body: {exc.detail}") from exc
    return {k: v for k, v in form.items() if isinstance(v, str)}


def oauth_routes(infra: Infra) -> list[BaseRoute]:
    async def token(request: Request) -> Response:
        try:
            params = await _params(request)
            grant = params.get("grant_type")
            now = infra.clock.monotonic()
            if grant == "authorization_code":
                pair = infra.oauth.exchange_code(
                    client_id=params.get("client_id"),
                    client_secret=params.get("client_secret"),
                    code=params.get("code"),
                    redirect_uri=params.get("redirect_uri"),
                    now=now,
                )
            elif grant == "refresh_token":
                pair = infra.oauth.refresh(
                    client_id=params.get("client_id"),
                    client_secret=params.get("client_secret"),
                    refresh_token=params.get("refresh_token"),
                    now=now,
                )
            elif not grant:
                raise OAuthRequestError("invalid_request", "Missing grant_type")
            else:
                raise OAuthRequestError("unsupported_grant_type", f"Unsupported grant: {grant}")
        except (OAuthGrantError, OAuthRequestError) as exc:
            return _oauth_error(exc.error, exc.description, exc.status)
        return JSONResponse(pair.as_json(), headers={"Cache-Control": "no-store"})

    async def accessible_resources(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        grant = (
            infra.oauth.access(value.strip(), infra.clock.monotonic())
            if scheme.lower() == "bearer"
            else None
        )
        if grant is None:
            return gateway_unauthorized()
        return JSONResponse(
            [
                {
                    "id": infra.options.cloud_id,
                    "url": infra.options.base_url,
                    "name": infra.options.site_name,
                    "scopes": grant.scope.split(),
                    "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/site.png",
                }
            ]
        )

    async def authorize(request: Request) -> Response:
        q = request.query_params
        client_id, user = q.get("client_id", ""), q.get("user", "")
        client = infra.oauth.clients.get(client_id)
        if client is None or not user:
            return _oauth_error("invalid_request", "Unknown client_id or missing user", 400)
        code = infra.oauth.issue_code(
            client_id, user, infra.clock.monotonic(), scope=q.get("scope") or None
        )
        redirect = q.get("redirect_uri") or client.redirect_uri
        query = {"code": code}
        if q.get("state"):
            query["state"] = q["state"]
        sep = "&" if "?" in redirect else "?"
        return RedirectResponse(redirect + sep + urlencode(query), status_code=302)

    return [
        Route("/oauth/token", token, methods=["POST"]),
        Route("/oauth/token/accessible-resources", accessible_resources, methods=["GET"]),
        Route("/authorize", authorize, methods=["GET"]),
    ]
