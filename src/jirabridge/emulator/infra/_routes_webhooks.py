"""Webhook registration endpoints (thin: parse, call :class:`WebhookRegistry`, serialise).

Both flavours: admin webhooks ``/rest/webhooks/1.0/webhook[/{id}]``. Cloud only: app webhooks
``/rest/api/{2,3}/webhook``, ``PUT .../webhook/refresh``, ``GET .../webhook/failed`` in the
shapes of the Cloud OpenAPI spec (``PageBeanWebhook``, ``ContainerForRegisteredWebhooks``,
``WebhooksExpirationDate``, ``FailedWebhooks``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from jirabridge.emulator.infra._delivery import DeliveryStatus
from jirabridge.emulator.infra._ports import FlavourName
from jirabridge.emulator.infra._responses import jira_error
from jirabridge.emulator.infra._webhooks import (
    AdminWebhook,
    RestWebhook,
    TargetKind,
    WebhookNotFound,
)
from jirabridge.errors import BadInputError

if TYPE_CHECKING:
    from jirabridge.emulator.infra._infra import Infra

__all__ = ["webhook_routes"]

JQL_SECTION = "issue-related-events-section"
APP_ONLY = "Only Connect and OAuth 2.0 apps can use this operation."
ADMIN_ONLY = "You must be a Jira administrator to manage webhooks."


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise BadInputError("A JSON request body is required.")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError("Unexpected character in the JSON request body.") from exc


def _admin_json(hook: AdminWebhook, base_url: str) -> dict[str, Any]:
    return {
        "self": f"{base_url}/rest/webhooks/1.0/webhook/{hook.id}",
        "name": hook.name,
        "url": hook.url,
        "events": list(hook.events),
        "filters": {JQL_SECTION: hook.jql or ""},
        "excludeBody": hook.exclude_body,
        "enabled": hook.enabled,
        "lastUpdatedUser": hook.last_updated_user,
        "lastUpdatedDisplayName": hook.last_updated_user,
        "lastUpdated": _ms(hook.last_updated),
    }


def _rest_json(hook: RestWebhook) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": hook.id,
        "url": hook.url,
        "jqlFilter": hook.jql,
        "events": list(hook.events),
        "expirationDate": _ms(hook.expires_at),
    }
    if hook.field_ids is not None:
        out["fieldIdsFilter"] = list(hook.field_ids)
    if hook.property_keys is not None:
        out["issuePropertyKeysFilter"] = list(hook.property_keys)
    return out


def _admin_fields(body: Any, *, partial: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadInputError("The webhook must be a JSON object.")
    out: dict[str, Any] = {}
    if "name" in body or not partial:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise BadInputError("The webhook name is required.")
        out["name"] = name
    if "url" in body or not partial:
        url = body.get("url")
        if not isinstance(url, str):
            raise BadInputError("The webhook URL is required.")
        out["url"] = url
    if "events" in body or not partial:
        events = body.get("events", [])
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise BadInputError("events must be a list of event names.")
        out["events"] = events
    if "filters" in body:
        filters = body["filters"]
        if not isinstance(filters, dict):
            raise BadInputError("filters must be an object.")
        jql = filters.get(JQL_SECTION)
        out["jql"] = str(jql) if jql else None
    elif "jqlFilter" in body:
        out["jql"] = str(body["jqlFilter"]) if body["jqlFilter"] else None
    elif not partial:
        out["jql"] = None
    for src in ("excludeBody", "excludeIssueDetails"):
        if src in body:
            out["exclude_body"] = bool(body[src])
    if not partial:
        out.setdefault("exclude_body", False)
    if "enabled" in body or not partial:
        out["enabled"] = bool(body.get("enabled", True))
    if "secret" in body:
        secret = body["secret"]
        if secret is not None and not isinstance(secret, str):
            raise BadInputError("secret must be a string.")
        out["secret"] = secret or None
    return out


def _ids(body: Any) -> list[int]:
    ids = body.get("webhookIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise BadInputError("webhookIds must be a list of webhook ids.")
    return ids


def webhook_routes(infra: Infra) -> list[BaseRoute]:
    base = infra.options.base_url.rstrip("/")

    def user_of(request: Request) -> str:
        return str(getattr(request.state, "user_key", None) or "anonymous")

    def not_admin(request: Request) -> Response | None:
        """Admin webhooks are for Jira administrators (when the site can tell who is one)."""
        is_admin = getattr(infra.site, "is_admin", None)
        key = getattr(request.state, "user_key", None)
        if callable(is_admin) and key is not None and not is_admin(key):
            return jira_error(403, [ADMIN_ONLY])
        return None

    # admin webhooks -------------------------------------------------------------------------
    async def admin_list(request: Request) -> Response:
        if (denied := not_admin(request)) is not None:
            return denied
        return JSONResponse([_admin_json(h, base) for h in infra.webhooks.admin_hooks()])

    async def admin_create(request: Request) -> Response:
        if (denied := not_admin(request)) is not None:
            return denied
        try:
            fields = _admin_fields(await _json_body(request), partial=False)
            hook = infra.webhooks.create_admin(
                **fields, user_key=user_of(request), now=infra.clock.now()
            )
        except BadInputError as exc:
            return jira_error(400, [exc.message])
        return JSONResponse(_admin_json(hook, base), status_code=201)

    async def admin_one(request: Request) -> Response:
        if (denied := not_admin(request)) is not None:
            return denied
        try:
            hook_id = int(request.path_params["hook_id"])
        except ValueError:
            return jira_error(404, ["Webhook not found."])
        try:
            if request.method == "GET":
                return JSONResponse(_admin_json(infra.webhooks.get_admin(hook_id), base))
            if request.method == "DELETE":
                infra.webhooks.delete_admin(hook_id)
                return Response(status_code=204)
            fields = _admin_fields(await _json_body(request), partial=True)
            hook = infra.webhooks.update_admin(
                hook_id, user_of(request), infra.clock.now(), **fields
            )
            return JSONResponse(_admin_json(hook, base))
        except WebhookNotFound:
            return jira_error(404, ["Webhook not found."])
        except BadInputError as exc:
            return jira_error(400, [exc.message])

    routes: list[BaseRoute] = [
        Route("/rest/webhooks/1.0/webhook", admin_list, methods=["GET"]),
        Route("/rest/webhooks/1.0/webhook", admin_create, methods=["POST"]),
        Route("/rest/webhooks/1.0/webhook/{hook_id}", admin_one, methods=["GET", "PUT", "DELETE"]),
    ]
    if infra.flavour is not FlavourName.CLOUD:
        return routes

    # Cloud app webhooks ---------------------------------------------------------------------
    def owner_of(request: Request) -> str | None:
        client = getattr(request.state, "oauth_client_id", None)
        if client:
            return f"oauth:{client}"
        if infra.options.rest_webhooks_need_app:
            return None
        return f"user:{user_of(request)}"

    async def rest_collection(request: Request) -> Response:
        owner = owner_of(request)
        if owner is None:
            return jira_error(403, [APP_ONLY])
        try:
            if request.method == "GET":
                hooks = infra.webhooks.rest_hooks(owner)
                start = max(0, int(request.query_params.get("startAt", 0)))
                size = max(1, min(100, int(request.query_params.get("maxResults", 100))))
                page = hooks[start : start + size]
                return JSONResponse(
                    {
                        "isLast": start + len(page) >= len(hooks),
                        "maxResults": size,
                        "startAt": start,
                        "total": len(hooks),
                        "values": [_rest_json(h) for h in page],
                    }
                )
            body = await _json_body(request)
            if request.method == "DELETE":
                infra.webhooks.delete_rest(owner, _ids(body))
                return Response(status_code=202)
            if not isinstance(body, dict) or not isinstance(body.get("webhooks"), list):
                raise BadInputError("The request must have a url and a list of webhooks.")
            url = body.get("url")
            if not isinstance(url, str):
                raise BadInputError("The request must have a url and a list of webhooks.")
            results = infra.webhooks.register_rest(
                owner,
                url,
                body["webhooks"],
                infra.clock.now(),
                infra.jql_matcher,
                user_key=getattr(request.state, "user_key", None),
            )
            return JSONResponse({"webhookRegistrationResult": results})
        except ValueError:
            return jira_error(400, ["startAt and maxResults must be integers."])
        except BadInputError as exc:
            return jira_error(400, [exc.message])

    async def rest_refresh(request: Request) -> Response:
        owner = owner_of(request)
        if owner is None:
            return jira_error(403, [APP_ONLY])
        try:
            ids = _ids(await _json_body(request))
        except BadInputError as exc:
            return jira_error(400, [exc.message])
        expires = infra.webhooks.refresh_rest(owner, ids, infra.clock.now())
        return JSONResponse({"expirationDate": _ms(expires)})

    async def rest_failed(request: Request) -> Response:
        owner = owner_of(request)
        if owner is None:
            return jira_error(403, [APP_ONLY])
        try:
            size = int(request.query_params.get("maxResults", 100))
            after = int(request.query_params.get("after", 0))
        except ValueError:
            return jira_error(400, ["maxResults and after must be integers."])
        mine = {h.id for h in infra.webhooks.rest_hooks(owner)}
        failed = sorted(
            (
                d
                for d in infra.deliveries.deliveries()
                if d.status is DeliveryStatus.FAILED
                and d.kind is TargetKind.REST
                and d.webhook_id in mine
                and d.failed_at is not None
                and _ms(d.failed_at) > after
            ),
            key=lambda d: (d.failed_at, d.id),
        )
        page = failed[: max(1, size)]
        # records with the same failure time are never split across pages
        if page and len(failed) > len(page):
            last = page[-1].failed_at
            page += [d for d in failed[len(page) :] if d.failed_at == last]
        values = [
            {
                "id": d.identifier,
                "body": (d.body or b"").decode("utf-8"),
                "url": d.url,
                "failureTime": _ms(d.failed_at) if d.failed_at else 0,
            }
            for d in page
        ]
        out: dict[str, Any] = {"values": values, "maxResults": max(1, size)}
        if values:
            out["next"] = (
                f"{base}{request.url.path}?after={values[-1]['failureTime']}&maxResults={size}"
            )
        return JSONResponse(out)

    for version in ("2", "3"):
        prefix = f"/rest/api/{version}/webhook"
        routes += [
            Route(prefix, rest_collection, methods=["GET", "POST", "DELETE"]),
            Route(prefix + "/refresh", rest_refresh, methods=["PUT"]),
            Route(prefix + "/failed", rest_failed, methods=["GET"]),
        ]
    return routes
