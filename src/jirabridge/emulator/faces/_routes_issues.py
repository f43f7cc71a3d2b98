"""Issues: create (single and bulk), get (single and Cloud's bulk fetch), edit, delete,
transitions, assignee, changelog (per issue and Cloud's bulk fetch)."""

from __future__ import annotations

from typing import Any

from jirabridge.emulator.faces._context import Ctx, JiraJSONResponse
from jirabridge.emulator.faces._errors import JiraHttpError
from jirabridge.emulator.faces._inputs import rich_in
from jirabridge.emulator.faces._issues import TEXTAREA, parse_field_selection
from jirabridge.emulator.faces._render import transition_json
from jirabridge.emulator.faces._routes_meta import editmeta, field_meta
from jirabridge.emulator.faces._table import RouteSpec
from jirabridge.emulator.faces._views import renderer_of, view_of
from jirabridge.emulator.faces._wire import is_number
from jirabridge.emulator.model._records import Issue, ResolutionRule

__all__ = ["ROUTES"]

BULK_LIMIT = 50
BULKFETCH_ISSUES = 1000
BULKFETCH_FIELDS = 10
_RICH_SYSTEM = {"description", "environment"}
_TRANSITION_SCREEN = ("assignee", "fixVersions", "resolution")


def _is_rich(ctx: Ctx, field_id: str) -> bool:
    if field_id in _RICH_SYSTEM:
        return True
    fd = ctx.site.fields.get(field_id)
    return fd is not None and fd.custom == TEXTAREA


def _fields_in(ctx: Ctx, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise JiraHttpError(
            400,
            ["Can not deserialize instance of java.util.LinkedHashMap out of START_ARRAY token"],
        )
    out: dict[str, Any] = {}
    for fid, value in raw.items():
        out[fid] = rich_in(ctx, value, fid) if _is_rich(ctx, fid) else value
    return out


def _update_in(ctx: Ctx, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise JiraHttpError(400, ["The 'update' value must be an object of field operations."])
    out: dict[str, Any] = {}
    for fid, ops in raw.items():
        if not isinstance(ops, list):
            raise JiraHttpError(400, errors={fid: f"Operations of field '{fid}' must be a list."})
        converted: list[Any] = []
        for op in ops:
            if not isinstance(op, dict):
                raise JiraHttpError(
                    400, errors={fid: f"Operations of field '{fid}' must be objects."}
                )
            new_op: dict[str, Any] = {}
            for verb, value in op.items():
                if fid == "comment" and verb in ("add", "edit") and isinstance(value, dict):
                    value = dict(value)
                    if value.get("body") is not None:
                        value["body"] = rich_in(ctx, value["body"], "comment")
                elif _is_rich(ctx, fid) and verb == "set":
                    value = rich_in(ctx, value, fid)
                new_op[verb] = value
            converted.append(new_op)
        out[fid] = converted
    return out


def _ref(ctx: Ctx, issue: Issue) -> dict[str, Any]:
    return {"id": str(issue.id), "key": issue.key, "self": view_of(ctx).api(f"issue/{issue.id}")}


_CREATE_KEYS = {"fields", "update", "properties", "transition", "historyMetadata"}


def _create_one(ctx: Ctx, body: Any) -> Issue:
    if not isinstance(body, dict):
        raise JiraHttpError(400, ["The issue to create must be a JSON object."])
    fields = _fields_in(ctx, body.get("fields"))
    update = _update_in(ctx, body.get("update"))
    if not fields and not update:
        raise JiraHttpError(
            400,
            errors={
                "project": "Specify a valid project ID or key",
                "issuetype": "Specify an issue type",
            },
        )
    issue: Issue = ctx.site.create_issue(
        ctx.user_key, fields, update, properties=body.get("properties")
    )
    transition = body.get("transition")
    if isinstance(transition, dict) and transition.get("id") is not None:
        ctx.site.transition_issue(ctx.user_key, issue.id, transition["id"])
    return issue


async def create_issue(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    issue = _create_one(ctx, body)
    return JiraJSONResponse(_ref(ctx, issue), status_code=201)


async def bulk_create(ctx: Ctx) -> Any:
    """Create up to 50 issues; failures are reported per element (``failedElementNumber`` is
    the position in the request). A request Jira refuses as a whole answers in the same
    ``{"issues": [], "errors": [...]}`` form, as Jira's bulk resource does."""
    try:
        body = await ctx.json_object()
        updates = body.get("issueUpdates")
        if not isinstance(updates, list):
            raise JiraHttpError(400, ["The 'issueUpdates' list is required."])
        if len(updates) > BULK_LIMIT:
            raise JiraHttpError(
                400, [f"Bulk create is limited to {BULK_LIMIT} issues in one request."]
            )
    except JiraHttpError as exc:
        if exc.status != 400:
            # refused before the bulk resource runs (XSRF check, media type, size): Jira's
            # filters answer with the plain error, not the bulk form
            raise
        error = {
            "status": exc.status,
            "elementErrors": {"errorMessages": exc.error_messages, "errors": exc.errors},
        }
        return JiraJSONResponse({"issues": [], "errors": [error]}, status_code=exc.status)
    created: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for number, item in enumerate(updates):
        try:
            created.append(_ref(ctx, _create_one(ctx, item)))
        except Exception as exc:
            status = getattr(exc, "status", 400)
            messages = list(getattr(exc, "error_messages", []) or [])
            field_errors = dict(getattr(exc, "errors", {}) or {})
            if not isinstance(status, int) or not (messages or field_errors):
                raise
            errors.append(
                {
                    "status": status,
                    "elementErrors": {"errorMessages": messages, "errors": field_errors},
                    "failedElementNumber": number,
                }
            )
    status_code = 201 if created or not errors else 400
    return JiraJSONResponse({"issues": created, "errors": errors}, status_code=status_code)


async def get_issue(ctx: Ctx) -> Any:
    issue = ctx.site.get_issue(ctx.path("issueIdOrKey"))
    mode, include, exclude = parse_field_selection(ctx.query_list("fields"), default="*all")
    expand = ctx.query_list("expand")
    out = renderer_of(ctx).issue(
        issue,
        mode=mode,
        include=include,
        exclude=exclude,
        expand=expand,
        properties=ctx.query_list("properties"),
    )
    if "transitions" in expand:
        view = view_of(ctx)
        out["transitions"] = [
            transition_json(view, t, ctx.site.statuses[t.to_status_id])
            for t in ctx.site.available_transitions(issue.id)
        ]
    if "editmeta" in expand:
        out["editmeta"] = await editmeta(ctx)
    return out


async def edit_issue(ctx: Ctx) -> Any:
    issue = ctx.site.get_issue(ctx.path("issueIdOrKey"))
    body = await ctx.json_object()
    fields = _fields_in(ctx, body.get("fields"))
    update = _update_in(ctx, body.get("update"))
    ctx.site.edit_issue(ctx.user_key, issue.id, fields, update)
    props = body.get("properties")
    if isinstance(props, list):
        for prop in props:
            if isinstance(prop, dict) and isinstance(prop.get("key"), str):
                ctx.site.set_property("issue", issue.id, prop["key"], prop.get("value"))
    if ctx.cloud and ctx.query_bool("returnIssue", False):
        return renderer_of(ctx).issue(issue)
    return None


async def delete_issue(ctx: Ctx) -> Any:
    ctx.site.delete_issue(
        ctx.user_key,
        ctx.path("issueIdOrKey"),
        delete_subtasks=ctx.query_bool("deleteSubtasks", False),
    )
    return None


async def assign(ctx: Ctx) -> Any:
    issue = ctx.site.get_issue(ctx.path("issueIdOrKey"))
    body = await ctx.json()
    if body is not None and not isinstance(body, dict):
        raise JiraHttpError(400, ["The assignee must be a user object."])
    if body is None:
        ref: Any = None
    elif ctx.cloud:
        ref = body.get("accountId")
    else:
        ref = body.get("name", body.get("key"))
    if ref is not None and not isinstance(ref, str):
        raise JiraHttpError(400, errors={"assignee": "The assignee must be given as a string."})
    ctx.site.assign_issue(ctx.user_key, issue.id, ref)
    return None


async def list_transitions(ctx: Ctx) -> Any:
    site = ctx.site
    issue = site.get_issue(ctx.path("issueIdOrKey"))
    view = view_of(ctx)
    with_fields = "transitions.fields" in ctx.query_list("expand")
    wanted = ctx.query("transitionId")
    project = site.projects[issue.project_id]
    itype = site.issue_types[issue.issue_type_id]
    out = []
    for transition in site.available_transitions(issue.id):
        if wanted is not None and str(transition.id) != wanted:
            continue
        status = site.statuses[transition.to_status_id]
        fields: dict[str, Any] | None = None
        if with_fields:
            fields = {}
            if transition.has_screen:
                for fid in _TRANSITION_SCREEN:
                    if fid == "resolution" and transition.resolution is not ResolutionRule.SCREEN:
                        continue
                    fd = site.fields.get(fid)
                    if fd is not None:
                        fields[fid] = field_meta(
                            ctx,
                            fd,
                            project,
                            itype,
                            required=fid == "resolution",
                            with_field_id=False,
                        )
        out.append(transition_json(view, transition, status, fields))
    return {"expand": "transitions", "transitions": out}


async def do_transition(ctx: Ctx) -> Any:
    issue = ctx.site.get_issue(ctx.path("issueIdOrKey"))
    body = await ctx.json_object()
    transition = body.get("transition")
    if not isinstance(transition, dict) or transition.get("id") is None:
        raise JiraHttpError(400, ["Missing 'transition' identifier"])
    tid = transition["id"]
    if isinstance(tid, bool) or not isinstance(tid, str | int):
        raise JiraHttpError(400, ["Missing 'transition' identifier"])
    ctx.site.transition_issue(
        ctx.user_key,
        issue.id,
        tid,
        _fields_in(ctx, body.get("fields")),
        _update_in(ctx, body.get("update")),
    )
    return None


async def issue_changelog(ctx: Ctx) -> Any:
    site = ctx.site
    issue = site.get_issue(ctx.path("issueIdOrKey"))
    renderer = renderer_of(ctx)
    histories = site.issue_changelog(issue.id)
    start = max(0, ctx.query_int("startAt", 0))
    limit = max(1, min(ctx.query_int("maxResults", 100), 100))
    page = histories[start : start + limit]
    out: dict[str, Any] = {
        "self": str(ctx.request.url),
        "maxResults": limit,
        "startAt": start,
        "total": len(histories),
        "isLast": start + len(page) >= len(histories),
        "values": [renderer.history(h) for h in page],
    }
    if not out["isLast"]:
        out["nextPage"] = view_of(ctx).api(
            f"issue/{issue.key}/changelog?maxResults={limit}&startAt={start + limit}"
        )
    return out


def _bulkfetch_token(offset: int) -> str:
    return f"bf{offset}"


async def changelog_bulkfetch(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    refs = body.get("issueIdsOrKeys")
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str | int) for r in refs):
        raise JiraHttpError(400, ["issueIdsOrKeys must be a non-empty list of issue ids or keys."])
    if len(refs) > BULKFETCH_ISSUES:
        raise JiraHttpError(400, [f"The number of issues must not exceed {BULKFETCH_ISSUES}."])
    field_ids = body.get("fieldIds") or []
    if not isinstance(field_ids, list) or not all(isinstance(f, str) for f in field_ids):
        raise JiraHttpError(400, ["fieldIds must be a list of field ids."])
    if len(field_ids) > BULKFETCH_FIELDS:
        raise JiraHttpError(400, [f"The number of field ids must not exceed {BULKFETCH_FIELDS}."])
    limit = body.get("maxResults", 1000)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise JiraHttpError(400, ["maxResults must be a positive number."])
    limit = min(limit, 10000)
    token = body.get("nextPageToken")
    start = 0
    if token is not None:
        if not isinstance(token, str) or not token.startswith("bf") or not is_number(token[2:]):
            raise JiraHttpError(400, ["The provided next page token is invalid."])
        start = int(token[2:])
    site = ctx.site
    renderer = renderer_of(ctx)
    wanted = set(field_ids)
    entries: list[tuple[int, Any]] = []
    for ref in refs:
        issue = site.find_issue(ref if isinstance(ref, int) else str(ref))
        if issue is None:
            continue
        for history in site.changelog.get(issue.id, ()):
            if wanted and not any(i.field_id in wanted for i in history.items):
                continue
            entries.append((issue.id, history))
    page = entries[start : start + limit]
    grouped: dict[int, list[Any]] = {}
    for issue_id, history in page:
        rendered = renderer.history(history)
        if wanted:
            rendered["items"] = [
                i for i in rendered["items"] if i.get("fieldId") in wanted or i["field"] in wanted
            ]
        grouped.setdefault(issue_id, []).append(rendered)
    out: dict[str, Any] = {
        "issueChangeLogs": [
            {"issueId": str(iid), "changeHistories": hs} for iid, hs in grouped.items()
        ]
    }
    if start + len(page) < len(entries):
        out["nextPageToken"] = _bulkfetch_token(start + len(page))
    return out


ISSUE_BULKFETCH_LIMIT = 100
BULKFETCH_PROPERTIES = 5
BULKFETCH_CHANGELOG = 40
"""Cloud's bulk fetch gives at most the 40 latest changelog entries of an issue."""
_BULKFETCH_KEYS = {"issueIdsOrKeys", "fields", "expand", "properties", "fieldsByKeys"}


async def issue_bulkfetch(ctx: Ctx) -> Any:
    """Cloud ``POST /issue/bulkfetch``: up to 100 issues by id or key (a key in any letter
    case or a moved key finds its issue), each at most once and in ascending id order, in the
    representation of GET issue except that the changelog holds the latest 40 entries (its
    ``total`` says how many there are). Unknown or hidden issues are left out, as Jira does;
    ``issueErrors`` is for issues Jira could not read for the moment (never here)."""
    body = await ctx.json_object()
    for name in body:
        if name not in _BULKFETCH_KEYS:
            raise JiraHttpError(
                400,
                [
                    f'Unrecognized field "{name}" (Class BulkFetchIssueRequestBean),'
                    " not marked as ignorable"
                ],
            )
    refs = body.get("issueIdsOrKeys")
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
        raise JiraHttpError(400, ["issueIdsOrKeys must be a non-empty list of issue ids or keys."])
    if len(refs) > ISSUE_BULKFETCH_LIMIT:
        raise JiraHttpError(400, [f"The number of issues must not exceed {ISSUE_BULKFETCH_LIMIT}."])
    fields = body.get("fields", ["*navigable"])
    expand = body.get("expand", [])
    properties = body.get("properties", [])
    for name, value in (("fields", fields), ("expand", expand), ("properties", properties)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise JiraHttpError(400, [f"{name} must be a list of strings."])
    if len(properties) > BULKFETCH_PROPERTIES:
        raise JiraHttpError(
            400, [f"The number of property keys must not exceed {BULKFETCH_PROPERTIES}."]
        )
    mode, include, exclude = parse_field_selection(fields, default="*navigable")
    renderer = renderer_of(ctx)
    found: dict[int, Issue] = {}
    for ref in refs:
        issue = ctx.site.find_issue(ref)
        if issue is None or not ctx.site.can_browse(ctx.user_key, issue.project_id):
            continue
        found.setdefault(issue.id, issue)
    issues = []
    for issue_id in sorted(found):
        out = renderer.issue(
            found[issue_id],
            mode=mode,
            include=include,
            exclude=exclude,
            expand=expand,
            properties=properties,
        )
        block = out.get("changelog")
        if isinstance(block, dict) and len(block["histories"]) > BULKFETCH_CHANGELOG:
            block["histories"] = block["histories"][-BULKFETCH_CHANGELOG:]
            block["maxResults"] = BULKFETCH_CHANGELOG
        issues.append(out)
    return {"issues": issues, "issueErrors": []}


_I = "/issue/{issueIdOrKey}"

ROUTES: list[RouteSpec] = [
    RouteSpec("POST", "/issue", create_issue, note="fields + update + properties"),
    RouteSpec("POST", "/issue/bulk", bulk_create, note="≤50; errors[].failedElementNumber"),
    RouteSpec("POST", "/issue/bulkfetch", issue_bulkfetch, server=False, note="≤100 issues"),
    RouteSpec(
        "GET",
        _I,
        get_issue,
        note="fields, expand=changelog,renderedFields,names,schema, properties",
    ),
    RouteSpec("PUT", _I, edit_issue, note="fields + update; notifyUsers accepted"),
    RouteSpec("DELETE", _I, delete_issue, note="deleteSubtasks"),
    RouteSpec("PUT", f"{_I}/assignee", assign),
    RouteSpec("GET", f"{_I}/transitions", list_transitions, note="expand=transitions.fields"),
    RouteSpec("POST", f"{_I}/transitions", do_transition, note="fields/update on the transition"),
    RouteSpec("GET", f"{_I}/changelog", issue_changelog, note="paged"),
    RouteSpec(
        "POST",
        "/changelog/bulkfetch",
        changelog_bulkfetch,
        server=False,
        note="≤1,000 issues, ≤10 fields",
    ),
]
