"""Search: Server ``/search`` (startAt/maxResults/total, 10,000 result window), Cloud
``/search/jql`` (nextPageToken, ids only unless fields are asked, no total),
``/search/approximate-count``, the removed Cloud ``/search`` answering 410 Gone, and the
issue picker."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from jirabridge.emulator.faces._context import Ctx
from jirabridge.emulator.faces._errors import JiraHttpError
from jirabridge.emulator.faces._issues import parse_field_selection
from jirabridge.emulator.faces._render import field_schema
from jirabridge.emulator.faces._table import RouteSpec
from jirabridge.emulator.faces._views import renderer_of
from jirabridge.emulator.model._records import Issue
from jirabridge.emulator.search import search

__all__ = ["ROUTES", "run_search"]

#: Jira DC's ``jira.search.platform.max.result.window``.
RESULT_WINDOW = 10_000
SERVER_MAX_RESULTS = 1000
CLOUD_MAX_RESULTS = 5000
GONE_MESSAGE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/"
    "#CHANGE-2046"
)
UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)


def run_search(ctx: Ctx, jql: str) -> list[Issue]:
    """All issues matching ``jql`` that the viewer may browse, in JQL order."""
    result = search(ctx.site, jql, viewer_key=ctx.user_key, flavour=ctx.site.flavour)
    return list(result.issues)


def _int(value: Any, name: str, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise JiraHttpError(400, [f"The value for '{name}' must be a number."])
    try:
        return int(value)
    except ValueError as exc:
        raise JiraHttpError(
            400, [f"The value '{value}' is not a valid number for '{name}'."]
        ) from exc


def _list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        out: list[str] = []
        for v in value:
            out.extend(p.strip() for p in v.split(",") if p.strip())
        return out
    raise JiraHttpError(400, [f"The value for '{name}' must be a list of strings."])


def _validation(value: Any) -> str:
    """Server's ``validateQuery``: strict (the default), warn, none, or the legacy booleans
    (true is strict, false is warn); anything else is refused by the JQL compiler."""
    if value is None or value is True:
        return "strict"
    if value is False:
        return "warn"
    if isinstance(value, str):
        low = value.strip().lower()
        return {"true": "strict", "false": "warn"}.get(low, low)
    raise JiraHttpError(400, ["The value for 'validateQuery' must be a string or a boolean."])


def _check_keys(body: dict[str, Any], allowed: set[str], bean: str) -> None:
    for key in body:
        if key not in allowed:
            raise JiraHttpError(
                400,
                [f'Unrecognized field "{key}" (Class {bean}), not marked as ignorable'],
            )


async def _params(ctx: Ctx, allowed: set[str], bean: str) -> dict[str, Any]:
    if ctx.request.method == "POST":
        body = await ctx.json_object()
        _check_keys(body, allowed, bean)
        return body
    params: dict[str, Any] = {}
    for key in allowed:
        values = ctx.request.query_params.getlist(key)
        if values:
            params[key] = values if len(values) > 1 else values[0]
    return params


_SERVER_KEYS = {
    "jql",
    "startAt",
    "maxResults",
    "fields",
    "expand",
    "validateQuery",
    "properties",
    "fieldsByKeys",
}


async def server_search(ctx: Ctx) -> Any:
    if ctx.cloud:
        raise JiraHttpError(410, [GONE_MESSAGE])
    params = await _params(ctx, _SERVER_KEYS, "com.atlassian.jira.rest.v2.search.SearchRequestBean")
    jql = params.get("jql") or ""
    if not isinstance(jql, str):
        raise JiraHttpError(400, ["The JQL query must be a string."])
    start = _int(params.get("startAt"), "startAt", 0)
    limit = _int(params.get("maxResults"), "maxResults", 50)
    if start < 0:
        raise JiraHttpError(400, ["The 'startAt' parameter must not be negative."])
    limit = max(0, min(limit, SERVER_MAX_RESULTS))
    validation = _validation(params.get("validateQuery"))
    result = search(
        ctx.site, jql, viewer_key=ctx.user_key, flavour=ctx.site.flavour, validation=validation
    )
    issues = list(result.issues)
    if start + limit > RESULT_WINDOW and limit > 0:
        raise JiraHttpError(
            500,
            [
                "Search limit exceeded. We couldn't complete your search because it requests "
                f"{start + limit:,} results which exceeded the search platform limit of "
                f"{RESULT_WINDOW:,}. Try refining your query or contact your Jira administrator. "
                "Repeating the same search may not work."
            ],
        )
    mode, include, exclude = parse_field_selection(
        _list(params.get("fields"), "fields"), default="*navigable"
    )
    expand = _list(params.get("expand"), "expand")
    properties = _list(params.get("properties"), "properties")
    renderer = renderer_of(ctx)
    page = issues[start : start + limit]
    per_issue = [e for e in expand if e not in ("names", "schema")]
    rendered = [
        renderer.issue(
            i, mode=mode, include=include, exclude=exclude, expand=per_issue, properties=properties
        )
        for i in page
    ]
    out: dict[str, Any] = {
        "expand": "schema,names",
        "startAt": start,
        "maxResults": limit,
        "total": len(issues),
        "issues": rendered,
    }
    if result.warnings:
        out["warningMessages"] = list(result.warnings)
    _names_and_schema(ctx, out, rendered, expand)
    return out


def _names_and_schema(
    ctx: Ctx, out: dict[str, Any], rendered: list[dict[str, Any]], expand: list[str]
) -> None:
    """``expand=names,schema``: one map for the whole answer, over the fields it shows."""
    seen = {fid for issue in rendered for fid in issue.get("fields", {})}
    fields = {fid: ctx.site.fields[fid] for fid in sorted(seen) if fid in ctx.site.fields}
    if "names" in expand:
        out["names"] = {fid: fd.name for fid, fd in fields.items()}
    if "schema" in expand:
        out["schema"] = {fid: field_schema(fd) for fid, fd in fields.items()}


_CLOUD_KEYS = {
    "jql",
    "nextPageToken",
    "maxResults",
    "fields",
    "expand",
    "properties",
    "fieldsByKeys",
    "failFast",
    "reconcileIssues",
}


#: Cloud's page tokens live about seven days (on the emulator's clock).
TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600
INVALID_TOKEN = "The provided next page token is invalid or expired."  # noqa: S105 - a message


def _token(jql: str, offset: int, issued: float) -> str:
    """An opaque page token: position, issue time and a digest of the query."""
    digest = hashlib.sha256(jql.encode("utf-8")).hexdigest()[:12]
    raw = f"v1:{offset}:{int(issued)}:{digest}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _offset(token: str, jql: str, now: float) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        version, offset, issued, digest = base64.urlsafe_b64decode(padded).decode().split(":")
        if version != "v1" or digest != hashlib.sha256(jql.encode()).hexdigest()[:12]:
            raise ValueError(token)
        if now - int(issued) > TOKEN_LIFETIME_SECONDS:
            raise ValueError(token)
        return int(offset)
    except (ValueError, UnicodeDecodeError) as exc:
        raise JiraHttpError(400, [INVALID_TOKEN]) from exc


def _bounded(jql: str) -> bool:
    text = jql.strip().lower()
    return bool(text) and not text.startswith("order by")


async def cloud_search(ctx: Ctx) -> Any:
    params = await _params(ctx, _CLOUD_KEYS, "SearchAndReconcileRequestBean")
    jql = params.get("jql") or ""
    if not isinstance(jql, str):
        raise JiraHttpError(400, ["The JQL query must be a string."])
    if not _bounded(jql):
        raise JiraHttpError(400, [UNBOUNDED])
    limit = _int(params.get("maxResults"), "maxResults", 50)
    limit = max(1, min(limit, CLOUD_MAX_RESULTS))
    token = params.get("nextPageToken")
    if token is not None and not isinstance(token, str):
        raise JiraHttpError(400, [INVALID_TOKEN])
    now = ctx.site.now().timestamp()
    start = _offset(token, jql, now) if token else 0
    reconcile = params.get("reconcileIssues")
    if reconcile is not None and not (isinstance(reconcile, list | str)):
        raise JiraHttpError(400, ["reconcileIssues must be a list of issue ids."])
    issues = run_search(ctx, jql)
    fields = _list(params.get("fields"), "fields")
    expand = _list(params.get("expand"), "expand")
    properties = _list(params.get("properties"), "properties")
    page = issues[start : start + limit]
    renderer = renderer_of(ctx)
    rendered: list[dict[str, Any]] = []
    if not fields and not expand:
        rendered = [{"id": str(i.id)} for i in page]
    else:
        mode, include, exclude = parse_field_selection(fields, default="id")
        include.discard("id")
        include.discard("key")
        for issue in page:
            data = renderer.issue(
                issue,
                mode=mode,
                include=include,
                exclude=exclude,
                expand=[e for e in expand if e not in ("names", "schema")],
                properties=properties,
            )
            rendered.append(data)
    out: dict[str, Any] = {"issues": rendered}
    _names_and_schema(ctx, out, rendered, expand)
    end = start + len(page)
    if end < len(issues):
        out["nextPageToken"] = _token(jql, end, now)
        out["isLast"] = False
    else:
        out["isLast"] = True
    return out


async def approximate_count(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    _check_keys(body, {"jql"}, "JQLCountRequestBean")
    jql = body.get("jql") or ""
    if not isinstance(jql, str):
        raise JiraHttpError(400, ["The JQL query must be a string."])
    if not _bounded(jql):
        raise JiraHttpError(400, [UNBOUNDED])
    return {"count": len(run_search(ctx, jql))}


async def issue_picker(ctx: Ctx) -> Any:
    """Issue suggestions for a query (key prefix or words of the summary)."""
    query = (ctx.query("query") or "").strip().lower()
    current = (ctx.query("currentJQL") or "").strip()
    issues = run_search(ctx, current) if current else run_search(ctx, "")
    found = [
        i
        for i in issues
        if not query
        or i.key.lower().startswith(query)
        or query in str(i.fields.get("summary", "")).lower()
    ]
    shown = found[:20]
    return {
        "sections": [
            {
                "label": "Current Search" if current else "History Search",
                "sub": f"Showing {len(shown)} of {len(found)} matching issues",
                "id": "cs" if current else "hs",
                "issues": [
                    {
                        "id": i.id,
                        "key": i.key,
                        "keyHtml": i.key,
                        "img": "",
                        "summary": i.fields.get("summary", ""),
                        "summaryText": i.fields.get("summary", ""),
                    }
                    for i in shown
                ],
            }
        ]
    }


ROUTES: list[RouteSpec] = [
    RouteSpec("GET", "/issue/picker", issue_picker, note="query, currentJQL"),
    RouteSpec(
        "GET",
        "/search",
        server_search,
        note="Server: startAt/maxResults/total, 10,000 window; Cloud: 410 Gone",
    ),
    RouteSpec(
        "POST",
        "/search",
        server_search,
        note="Server: startAt/maxResults/total, 10,000 window; Cloud: 410 Gone",
    ),
    RouteSpec(
        "GET", "/search/jql", cloud_search, server=False, note="nextPageToken; ids unless fields"
    ),
    RouteSpec(
        "POST", "/search/jql", cloud_search, server=False, note="nextPageToken; ids unless fields"
    ),
    RouteSpec("POST", "/search/approximate-count", approximate_count, server=False),
]
