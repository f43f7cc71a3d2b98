"""The per-request context handed to every face handler, and the route helper.

A handler is ``async def handler(ctx: Ctx) -> Any``: it returns a JSON-able value (sent as
200), a :class:`starlette.responses.Response` (sent as is) or raises; :func:`endpoint` turns
it into a Starlette endpoint that builds the :class:`Ctx`, translates face/model/JQL errors
into Jira's JSON (:mod:`._errors`) and never lets an unexpected exception escape as a bare
500 without Jira's body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from jirabridge.emulator.faces._errors import JiraHttpError, error_response, error_response_for
from jirabridge.emulator.faces._wire import is_number, parse_json

__all__ = ["Api", "Ctx", "FaceConfig", "Handler", "JiraJSONResponse", "admin_key", "endpoint"]

_log = logging.getLogger("jirabridge.emulator.faces")

_SIMPLE_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}

#: Largest JSON request body the faces read (bigger ones get 413, never exhaust memory).
MAX_JSON_BYTES = 16 * 1024 * 1024


class Api:
    """API families a route belongs to (how it renders users and rich text)."""

    V2 = "2"
    V3 = "3"
    AGILE = "agile"


@dataclass(slots=True)
class FaceConfig:
    """What every handler of one app shares: the site, its flavour and the public base URL."""

    site: Any
    cloud: bool
    base_url: str
    default_user_key: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Ctx:
    """One request as a handler sees it."""

    face: FaceConfig
    api: str
    request: Request
    user_key: str

    @property
    def site(self) -> Any:
        return self.face.site

    @property
    def cloud(self) -> bool:
        return self.face.cloud

    @property
    def adf(self) -> bool:
        """True when rich text travels as ADF (Cloud REST v3)."""
        return self.face.cloud and self.api == Api.V3

    @property
    def v3(self) -> bool:
        return self.face.cloud and self.api == Api.V3

    @property
    def rest_api(self) -> str:
        """The REST version used in ``self`` links of this answer."""
        return "3" if self.api == Api.V3 else "2"

    def url(self, path: str) -> str:
        return f"{self.face.base_url}{path}"

    def api_url(self, path: str) -> str:
        return f"{self.face.base_url}/rest/api/{self.rest_api}/{path}"

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str, default: str | None = None) -> str | None:
        return self.request.query_params.get(name, default)

    def query_int(self, name: str, default: int) -> int:
        raw = self.request.query_params.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise JiraHttpError(
                400, [f"The value '{raw}' is not a valid number for parameter '{name}'."]
            ) from exc

    def query_bool(self, name: str, default: bool) -> bool:
        raw = self.request.query_params.get(name)
        if raw is None or raw == "":
            return default
        return raw.lower() == "true"

    def query_list(self, name: str) -> list[str]:
        """Values given repeated or comma separated."""
        out: list[str] = []
        for raw in self.request.query_params.getlist(name):
            out.extend(p.strip() for p in raw.split(",") if p.strip())
        return out

    async def body(self) -> bytes:
        """The request body, refused with 413 beyond :data:`MAX_JSON_BYTES`."""
        declared = self.request.headers.get("content-length", "")
        if is_number(declared) and int(declared) > MAX_JSON_BYTES:
            raise JiraHttpError(413, ["The request body is too large."])
        chunks: list[bytes] = []
        size = 0
        async for chunk in self.request.stream():
            size += len(chunk)
            if size > MAX_JSON_BYTES:
                raise JiraHttpError(413, ["The request body is too large."])
            chunks.append(chunk)
        return b"".join(chunks)

    async def json(self) -> Any:
        """The JSON body. Like Jira's XSRF filter, a body sent as one of the browser "simple"
        types (form, multipart, text/plain) needs ``X-Atlassian-Token: no-check`` (else 403),
        and JSON resources then refuse it (415)."""
        mime = self.request.headers.get("content-type", "").split(";")[0].strip().lower()
        if mime in _SIMPLE_TYPES:
            token = self.request.headers.get("x-atlassian-token", "").lower()
            if token not in ("no-check", "nocheck"):
                raise JiraHttpError(403, ["XSRF check failed"])
            raise JiraHttpError(415, [f"Unsupported Media Type: {mime}; send application/json"])
        return parse_json(await self.body())

    async def json_object(self) -> dict[str, Any]:
        body = await self.json()
        if not isinstance(body, dict):
            raise JiraHttpError(
                400,
                [
                    "Can not deserialize instance of object out of "
                    f"{type(body).__name__.upper()} token"
                ],
            )
        return body


Handler = Callable[[Ctx], Awaitable[Any]]


def _user_key(request: Request, face: FaceConfig) -> str:
    state_key = getattr(request.state, "user_key", None)
    if isinstance(state_key, str) and state_key:
        return state_key
    if face.default_user_key:
        return face.default_user_key
    return admin_key(face.site)


def admin_key(site: Any) -> str:
    """The key of the site's administrator (who acts when no auth layer says otherwise)."""
    key = getattr(site, "admin_key", None)
    if isinstance(key, str) and key in getattr(site, "users", {}):
        return key
    for group in ("jira-administrators", "site-admins", "jira-admins"):
        members = getattr(site, "groups", {}).get(group)
        if members is not None and members.members:
            return str(sorted(members.members)[0])
    users = getattr(site, "users", {})
    return str(next(iter(users), ""))


def endpoint(
    face: FaceConfig, api: str, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap ``handler`` as a Starlette endpoint for the API family ``api``."""

    async def run(request: Request) -> Response:
        for value in request.path_params.values():
            if isinstance(value, str) and value.isdigit() and not value.isascii():
                # "²" passes str.isdigit() but no id is made of it (int() would fail)
                return error_response(404, [f"No entity with id '{value}' exists."])
        ctx = Ctx(face, api, request, _user_key(request, face))
        try:
            result = await handler(ctx)
        except Exception as exc:
            answer = error_response_for(exc)
            if answer is not None:
                return answer
            _log.exception("emulator handler failed: %s %s", request.method, request.url.path)
            return error_response(500, [f"Internal server error: {type(exc).__name__}"])
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(status_code=204)
        return JiraJSONResponse(result)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


class JiraJSONResponse(JSONResponse):
    """JSON answer rendered compactly (Jira's own answers carry no whitespace)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
