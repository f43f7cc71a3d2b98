"""Site metadata routes: server info, users, groups, projects, components, versions, issue
types, priorities, statuses, resolutions, fields, link types, create and edit metadata."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from jirabridge.emulator.faces._context import Ctx
from jirabridge.emulator.faces._errors import JiraHttpError
from jirabridge.emulator.faces._render import (
    component_json,
    field_json,
    field_schema,
    group_json,
    issue_type_json,
    link_type_json,
    option_json,
    priority_json,
    project_json,
    resolution_json,
    status_category_json,
    status_json,
    user_json,
    version_json,
)
from jirabridge.emulator.faces._table import ROOT, RouteSpec
from jirabridge.emulator.faces._views import view_of
from jirabridge.emulator.faces._wire import format_datetime, is_number, parse_date
from jirabridge.emulator.model._records import FieldDef, IssueType, Project, StatusCategory, User

__all__ = ["ROUTES", "editmeta", "field_meta"]

SERVER_VERSION = (9, 12, 0)
CLOUD_VERSION = (1001, 0, 0)


def _page(
    values: list[Any], start_at: int, max_results: int, *, self_url: str | None = None
) -> dict[str, Any]:
    chunk = values[start_at : start_at + max_results]
    out: dict[str, Any] = {}
    if self_url is not None:
        out["self"] = self_url
    out.update(
        {
            "maxResults": max_results,
            "startAt": start_at,
            "total": len(values),
            "isLast": start_at + len(chunk) >= len(values),
            "values": chunk,
        }
    )
    return out


# -- server info / myself ------------------------------------------------------------------------


async def server_info(ctx: Ctx) -> Any:
    version = CLOUD_VERSION if ctx.cloud else SERVER_VERSION
    out: dict[str, Any] = {
        "baseUrl": ctx.face.base_url,
        "version": ".".join(str(v) for v in version) + ("-OD-001" if ctx.cloud else ""),
        "versionNumbers": list(version),
        "deploymentType": "Cloud" if ctx.cloud else "Server",
        "buildNumber": 100250 if ctx.cloud else 912000,
        "buildDate": "2026-01-01T00:00:00.000+0000",
        "serverTime": format_datetime(ctx.site.now()),
        "scmInfo": "0000000000000000000000000000000000000000",
        "serverTitle": "jirabridge emulator",
    }
    if ctx.cloud:
        out["serverTimeZone"] = "Etc/UTC"
    return out


def _user_detail(ctx: Ctx, user: User) -> dict[str, Any]:
    out = user_json(view_of(ctx), user)
    out["locale"] = user.locale
    groups = ctx.site.user_groups(user.key)
    items: list[dict[str, Any]] = []
    if "groups" in ctx.query_list("expand"):
        view = view_of(ctx)
        items = [group_json(view, ctx.site.groups[g]) for g in groups if g in ctx.site.groups]
    out["groups"] = {"size": len(groups), "items": items}
    out["applicationRoles"] = {"size": 1, "items": []}
    out["expand"] = "groups,applicationRoles"
    return out


async def myself(ctx: Ctx) -> Any:
    user = ctx.site.get_user(ctx.user_key)
    out = _user_detail(ctx, user)
    if user.email is not None and "emailAddress" not in out:
        # a hidden e-mail address is hidden from others, not from its owner
        out = {**out, "emailAddress": user.email}
    return out


# -- users ---------------------------------------------------------------------------------------


def _gdpr(ctx: Ctx, *names: str) -> None:
    for name in names:
        if ctx.query(name):
            raise JiraHttpError(
                400, [f"The query parameter '{name}' is not supported in GDPR strict mode."]
            )


async def get_user(ctx: Ctx) -> Any:
    site = ctx.site
    if ctx.cloud:
        _gdpr(ctx, "username", "key")
        account_id = ctx.query("accountId")
        if not account_id:
            raise JiraHttpError(400, ["The query parameter 'accountId' is required."])
        user = site.users.get(account_id)
        if user is None:
            raise JiraHttpError(
                404,
                [
                    "Specified user does not exist or you do not have required permissions: "
                    f"{account_id}"
                ],
            )
        return _user_detail(ctx, user)
    ref = ctx.query("username") or ctx.query("key")
    if not ref:
        raise JiraHttpError(404, ["The username query parameter was not provided"])
    found = site.users.get(ctx.query("key") or "") if ctx.query("key") else site.find_user(ref)
    if found is None:
        raise JiraHttpError(404, [f"The user named '{ref}' does not exist"])
    return _user_detail(ctx, found)


def _matches(user: User, query: str, *, cloud: bool) -> bool:
    """Whether ``query`` finds ``user``: a prefix of the display name (or of one of its
    words) or of the e-mail address; on Server also of the username, or the user key.
    Jira Cloud matches ``query`` against ``displayName`` and ``emailAddress`` only: an
    accountId is found through the ``accountId`` parameter, never through ``query``."""
    q = query.lower().strip()
    if not q or q in (".", "*"):
        return True
    hay = [user.display_name.lower(), (user.email or "").lower()]
    if not cloud:
        hay.append((user.name or "").lower())
        if q == user.key.lower():
            return True
    return any(h.startswith(q) or f" {q}" in h for h in hay)


def _search_users(ctx: Ctx) -> list[User]:
    if ctx.cloud:
        _gdpr(ctx, "username")
        query = ctx.query("query")
        account_id = ctx.query("accountId")
        if query is None and account_id is None:
            raise JiraHttpError(400, ["The query parameter 'query' or 'accountId' is required."])
        if account_id:
            found = ctx.site.users.get(account_id)
            return [found] if found is not None else []
        return [u for u in ctx.site.users.values() if _matches(u, query or "", cloud=True)]
    query = ctx.query("username")
    if query is None:
        raise JiraHttpError(400, ["The username query parameter was not provided"])
    include_inactive = ctx.query_bool("includeInactive", False)
    return [
        u
        for u in ctx.site.users.values()
        if _matches(u, query, cloud=False) and (u.active or include_inactive)
    ]


async def search_users(ctx: Ctx) -> Any:
    users = _search_users(ctx)
    start = ctx.query_int("startAt", 0)
    limit = ctx.query_int("maxResults", 50)
    view = view_of(ctx)
    return [user_json(view, u) for u in users[start : start + limit]]


async def assignable_users(ctx: Ctx) -> Any:
    if ctx.query("issueKey") is None and ctx.query("project") is None:
        raise JiraHttpError(
            400, ["The project or issue key must be provided to search assignable users."]
        )
    if ctx.query("issueKey"):
        ctx.site.get_issue(ctx.query("issueKey") or "")
    if ctx.query("project"):
        ctx.site.get_project(ctx.query("project") or "")
    return await search_users_lenient(ctx)


async def search_users_lenient(ctx: Ctx) -> Any:
    query = ctx.query("query") if ctx.cloud else ctx.query("username")
    view = view_of(ctx)
    start = ctx.query_int("startAt", 0)
    limit = ctx.query_int("maxResults", 50)
    users = [
        u for u in ctx.site.users.values() if u.active and _matches(u, query or "", cloud=ctx.cloud)
    ]
    return [user_json(view, u) for u in users[start : start + limit]]


async def bulk_users(ctx: Ctx) -> Any:
    ids = ctx.request.query_params.getlist("accountId")
    if not ids:
        raise JiraHttpError(400, ["The query parameter 'accountId' is required."])
    view = view_of(ctx)
    users = [user_json(view, ctx.site.users[a]) for a in ids if a in ctx.site.users]
    return _page(
        users,
        ctx.query_int("startAt", 0),
        ctx.query_int("maxResults", 10),
        self_url=str(ctx.request.url),
    )


# -- groups --------------------------------------------------------------------------------------


def _group(ctx: Ctx) -> Any:
    name = ctx.query("groupname")
    group_id = ctx.query("groupId")
    if group_id and ctx.cloud:
        for group in ctx.site.groups.values():
            if group.group_id == group_id:
                return group
        raise JiraHttpError(404, [f"Specified group does not exist: {group_id}"])
    if not name:
        raise JiraHttpError(400, ["You must specify a group name."])
    group = ctx.site.groups.get(name)
    if group is None:
        raise JiraHttpError(404, [f"Specified group does not exist: {name}"])
    return group


async def group_members(ctx: Ctx) -> Any:
    group = _group(ctx)
    include_inactive = ctx.query_bool("includeInactiveUsers", False)
    view = view_of(ctx)
    members = [
        user_json(view, ctx.site.users[k])
        for k in sorted(group.members)
        if k in ctx.site.users and (include_inactive or ctx.site.users[k].active)
    ]
    return _page(
        members,
        ctx.query_int("startAt", 0),
        ctx.query_int("maxResults", 50),
        self_url=str(ctx.request.url),
    )


async def get_group(ctx: Ctx) -> Any:
    group = _group(ctx)
    out = group_json(view_of(ctx), group)
    view = view_of(ctx)
    members = [
        user_json(view, ctx.site.users[k]) for k in sorted(group.members) if k in ctx.site.users
    ]
    out["users"] = {
        "size": len(members),
        "items": members,
        "max-results": 50,
        "start-index": 0,
        "end-index": max(0, len(members) - 1),
    }
    out["expand"] = "users"
    return out


async def bulk_groups(ctx: Ctx) -> Any:
    """Cloud's paged group list, optionally filtered by ``groupId``/``groupName``."""
    ids = set(ctx.request.query_params.getlist("groupId"))
    names = set(ctx.request.query_params.getlist("groupName"))
    view = view_of(ctx)
    values = [
        {"name": g.name, "groupId": g.group_id}
        for g in sorted(ctx.site.groups.values(), key=lambda g: g.name)
        if (not ids or g.group_id in ids) and (not names or g.name in names)
    ]
    out = _page(
        values,
        ctx.query_int("startAt", 0),
        ctx.query_int("maxResults", 50),
        self_url=str(ctx.request.url),
    )
    if not out["isLast"]:
        out["nextPage"] = view.api(
            f"group/bulk?startAt={out['startAt'] + out['maxResults']}"
            f"&maxResults={out['maxResults']}"
        )
    return out


async def groups_picker(ctx: Ctx) -> Any:
    query = (ctx.query("query") or "").lower()
    limit = ctx.query_int("maxResults", 20)
    found = [g for g in ctx.site.groups.values() if query in g.name.lower()]
    groups: list[dict[str, Any]] = []
    for group in found[:limit]:
        entry: dict[str, Any] = {"name": group.name, "html": group.name, "labels": []}
        if ctx.cloud:
            entry["groupId"] = group.group_id
        groups.append(entry)
    return {
        "header": f"Showing {len(groups)} of {len(found)} matching groups",
        "total": len(found),
        "groups": groups,
    }


# -- projects ------------------------------------------------------------------------------------


def _project_detail(ctx: Ctx, project: Project) -> dict[str, Any]:
    view = view_of(ctx)
    site = ctx.site
    out = project_json(view, project, brief=False)
    out["expand"] = "description,lead,issueTypes,url,projectKeys,permissions,insight"
    lead = site.users.get(project.lead_key)
    if lead is not None:
        out["lead"] = user_json(view, lead, with_email=False)
    out["components"] = [component_json(view, c) for c in site.project_components(project.id)]
    out["issueTypes"] = [issue_type_json(view, t) for t in site.project_issue_types(project.id)]
    out["assigneeType"] = "UNASSIGNED"
    out["versions"] = [version_json(view, v) for v in site.project_versions(project.id)]
    out["roles"] = {
        role: view.api(f"project/{project.id}/role/{rid}")
        for rid, role in _role_ids(project).items()
    }
    if ctx.cloud:
        out["style"] = "classic"
        out["isPrivate"] = False
        out["properties"] = {}
    return out


async def list_projects(ctx: Ctx) -> Any:
    view = view_of(ctx)
    out = []
    for project in ctx.site.projects.values():
        entry = project_json(view, project)
        entry["expand"] = "description,lead,url,projectKeys"
        out.append(entry)
    return out


async def search_projects(ctx: Ctx) -> Any:
    query = (ctx.query("query") or "").lower()
    keys = set(ctx.query_list("keys"))
    view = view_of(ctx)
    values = []
    for project in ctx.site.projects.values():
        if query and query not in project.key.lower() and query not in project.name.lower():
            continue
        if keys and project.key not in keys:
            continue
        entry = project_json(view, project)
        entry["expand"] = "description,lead,issueTypes,url,projectKeys,permissions,insight"
        values.append(entry)
    out = _page(
        values,
        ctx.query_int("startAt", 0),
        ctx.query_int("maxResults", 50),
        self_url=str(ctx.request.url),
    )
    return out


async def get_project(ctx: Ctx) -> Any:
    return _project_detail(ctx, ctx.site.get_project(ctx.path("projectIdOrKey")))


def _role_ids(project: Project) -> dict[int, str]:
    return {10000 + i: role for i, role in enumerate(sorted(project.roles))}


async def project_roles(ctx: Ctx) -> Any:
    project = ctx.site.get_project(ctx.path("projectIdOrKey"))
    view = view_of(ctx)
    return {
        role: view.api(f"project/{project.id}/role/{rid}")
        for rid, role in _role_ids(project).items()
    }


async def project_role(ctx: Ctx) -> Any:
    site = ctx.site
    project = site.get_project(ctx.path("projectIdOrKey"))
    raw = ctx.path("id")
    roles = _role_ids(project)
    role = roles.get(int(raw)) if is_number(raw) else None
    if role is None:
        raise JiraHttpError(404, ["Can not retrieve a role actor for a null project role."])
    view = view_of(ctx)
    actors: list[dict[str, Any]] = []
    for member in sorted(project.roles[role]):
        if member.startswith("group:"):
            name = member[len("group:") :]
            group = site.groups.get(name)
            actor: dict[str, Any] = {
                "id": 10000 + len(actors),
                "displayName": name,
                "type": "atlassian-group-role-actor",
                "name": name,
            }
            if ctx.cloud and group is not None:
                actor["actorGroup"] = {"name": name, "displayName": name, "groupId": group.group_id}
            actors.append(actor)
            continue
        user = site.users.get(member)
        if user is None:
            continue
        entry: dict[str, Any] = {
            "id": 10000 + len(actors),
            "displayName": user.display_name,
            "type": "atlassian-user-role-actor",
        }
        if ctx.cloud:
            entry["actorUser"] = {"accountId": user.key}
        else:
            entry["name"] = user.name or user.key
        actors.append(entry)
    return {
        "self": view.api(f"project/{project.id}/role/{raw}"),
        "name": role,
        "id": int(raw),
        "description": f"Project role {role}",
        "actors": actors,
    }


async def project_components(ctx: Ctx) -> Any:
    view = view_of(ctx)
    project = ctx.site.get_project(ctx.path("projectIdOrKey"))
    out = []
    for comp in ctx.site.project_components(project.id):
        entry = component_json(view, comp)
        entry["project"] = project.key
        entry["projectId"] = project.id
        entry["assigneeType"] = "PROJECT_DEFAULT"
        entry["isAssigneeTypeValid"] = False
        out.append(entry)
    return out


async def project_versions(ctx: Ctx) -> Any:
    view = view_of(ctx)
    project = ctx.site.get_project(ctx.path("projectIdOrKey"))
    return [version_json(view, v) for v in ctx.site.project_versions(project.id)]


async def project_statuses(ctx: Ctx) -> Any:
    view = view_of(ctx)
    site = ctx.site
    project = site.get_project(ctx.path("projectIdOrKey"))
    out = []
    for itype in site.project_issue_types(project.id):
        workflow = site.workflow_for(project.id, itype.id)
        out.append(
            {
                "self": view.api(f"issuetype/{itype.id}"),
                "id": str(itype.id),
                "name": itype.name,
                "subtask": itype.subtask,
                "statuses": [
                    status_json(view, site.statuses[s])
                    for s in workflow.status_ids
                    if s in site.statuses
                ],
            }
        )
    return out


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise JiraHttpError(400, errors={name: f"The {name} must be specified."})
        return None
    if not isinstance(value, str):
        raise JiraHttpError(400, errors={name: f"The {name} must be a string."})
    return value


def _project_of_body(ctx: Ctx, body: dict[str, Any]) -> Project:
    ref = body.get("project", body.get("projectId"))
    if ref is None:
        raise JiraHttpError(400, errors={"project": "The project must be specified."})
    if not isinstance(ref, str | int) or isinstance(ref, bool):
        raise JiraHttpError(400, errors={"project": "The project must be a key or an id."})
    project: Project = ctx.site.get_project(ref)
    return project


async def create_component(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    project = _project_of_body(ctx, body)
    name = _text(body, "name", required=True) or ""
    lead_ref = _text(body, "leadAccountId" if ctx.cloud else "leadUserName")
    lead_key = ctx.site.get_user(lead_ref).key if lead_ref else None
    comp = ctx.site.create_component(
        project.id, name, description=_text(body, "description") or "", lead_key=lead_key
    )
    out = component_json(view_of(ctx), comp)
    out["project"] = project.key
    out["projectId"] = project.id
    return _created(out)


async def get_component(ctx: Ctx) -> Any:
    raw = ctx.path("id")
    comp = ctx.site.components.get(int(raw)) if is_number(raw) else None
    if comp is None:
        raise JiraHttpError(404, [f"The component with id {raw} does not exist."])
    out = component_json(view_of(ctx), comp)
    project = ctx.site.projects[comp.project_id]
    out["project"] = project.key
    out["projectId"] = project.id
    return out


async def create_version(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    project = _project_of_body(ctx, body)
    name = _text(body, "name", required=True) or ""
    kwargs: dict[str, Any] = {"description": _text(body, "description") or ""}
    for flag in ("released", "archived"):
        value = body.get(flag, False)
        if not isinstance(value, bool):
            raise JiraHttpError(400, errors={flag: f"The {flag} flag must be true or false."})
        kwargs[flag] = value
    for wire_name, attr in (("releaseDate", "release_date"), ("startDate", "start_date")):
        text = _text(body, wire_name)
        if text:
            try:
                kwargs[attr] = parse_date(text)
            except ValueError as exc:
                raise JiraHttpError(
                    400,
                    errors={
                        wire_name: "Invalid date format. Please enter the date in the format "
                        '"yyyy-MM-dd".'
                    },
                ) from exc
    version = ctx.site.create_version(project.id, name, **kwargs)
    return _created(version_json(view_of(ctx), version))


async def get_version(ctx: Ctx) -> Any:
    raw = ctx.path("id")
    version = ctx.site.versions.get(int(raw)) if is_number(raw) else None
    if version is None:
        raise JiraHttpError(404, [f"Could not find version for id '{raw}'"])
    return version_json(view_of(ctx), version)


def _created(body: dict[str, Any]) -> Any:
    from jirabridge.emulator.faces._context import JiraJSONResponse

    return JiraJSONResponse(body, status_code=201)


# -- reference data --------------------------------------------------------------------------------


def _by_id(store: dict[int, Any], raw: str, what: str) -> Any:
    item = store.get(int(raw)) if is_number(raw) else None
    if item is None:
        for candidate in store.values():
            if getattr(candidate, "name", None) == raw:
                return candidate
        raise JiraHttpError(404, [f"The {what} with id '{raw}' does not exist"])
    return item


async def list_issue_types(ctx: Ctx) -> Any:
    view = view_of(ctx)
    return [issue_type_json(view, t) for t in ctx.site.issue_types.values()]


async def get_issue_type(ctx: Ctx) -> Any:
    return issue_type_json(view_of(ctx), _by_id(ctx.site.issue_types, ctx.path("id"), "issue type"))


async def list_priorities(ctx: Ctx) -> Any:
    view = view_of(ctx)
    return [priority_json(view, p, full=True) for p in ctx.site.priorities.values()]


async def get_priority(ctx: Ctx) -> Any:
    return priority_json(
        view_of(ctx), _by_id(ctx.site.priorities, ctx.path("id"), "priority"), full=True
    )


async def list_statuses(ctx: Ctx) -> Any:
    view = view_of(ctx)
    return [status_json(view, s) for s in ctx.site.statuses.values()]


async def get_status(ctx: Ctx) -> Any:
    return status_json(view_of(ctx), _by_id(ctx.site.statuses, ctx.path("idOrName"), "status"))


async def list_status_categories(ctx: Ctx) -> Any:
    view = view_of(ctx)
    return [status_category_json(view, c) for c in StatusCategory]


async def get_status_category(ctx: Ctx) -> Any:
    raw = ctx.path("idOrKey")
    for category in StatusCategory:
        if raw in (str(category.id), category.key):
            return status_category_json(view_of(ctx), category)
    raise JiraHttpError(404, [f"The status category with id or key '{raw}' does not exist"])


async def get_filter(ctx: Ctx) -> Any:
    """A board's saved filter (the only filters the emulator has)."""
    raw = ctx.path("id")
    view = view_of(ctx)
    for board in ctx.site.boards.values():
        if str(board.filter_id) == raw:
            owner = ctx.site.users.get(ctx.site.admin_key)
            out: dict[str, Any] = {
                "self": view.api(f"filter/{board.filter_id}"),
                "id": str(board.filter_id),
                "name": f"Filter for {board.name}",
                "jql": board.filter_jql,
                "favourite": False,
            }
            if owner is not None:
                out["owner"] = user_json(view, owner, with_email=False)
            return out
    raise JiraHttpError(
        400,
        [
            "The selected filter is not available to you, perhaps it has been deleted or had "
            "its permissions changed."
        ],
    )


async def list_resolutions(ctx: Ctx) -> Any:
    view = view_of(ctx)
    return [resolution_json(view, r) for r in ctx.site.resolutions.values()]


async def get_resolution(ctx: Ctx) -> Any:
    return resolution_json(view_of(ctx), _by_id(ctx.site.resolutions, ctx.path("id"), "resolution"))


async def list_link_types(ctx: Ctx) -> Any:
    view = view_of(ctx)
    return {"issueLinkTypes": [link_type_json(view, t) for t in ctx.site.link_types.values()]}


async def get_link_type(ctx: Ctx) -> Any:
    return link_type_json(
        view_of(ctx), _by_id(ctx.site.link_types, ctx.path("issueLinkTypeId"), "issue link type")
    )


async def list_fields(ctx: Ctx) -> Any:
    view = view_of(ctx)
    return [field_json(view, f) for f in ctx.site.fields.values()]


def _custom_field(ctx: Ctx, field_id: str) -> FieldDef:
    fd: FieldDef | None = ctx.site.fields.get(field_id)
    if fd is None or not fd.is_custom:
        raise JiraHttpError(404, ["The custom field was not found."])
    return fd


async def field_contexts(ctx: Ctx) -> Any:
    fd = _custom_field(ctx, ctx.path("fieldId"))
    values = [
        {
            "id": str(10100 + (fd.custom_id or 0)),
            "name": f"Default Configuration Scheme for {fd.name}",
            "description": "",
            "isGlobalContext": True,
            "isAnyIssueType": True,
        }
    ]
    return _page(values, ctx.query_int("startAt", 0), ctx.query_int("maxResults", 50))


async def field_context_options(ctx: Ctx) -> Any:
    fd = _custom_field(ctx, ctx.path("fieldId"))
    expected = str(10100 + (fd.custom_id or 0))
    if ctx.path("contextId") != expected:
        raise JiraHttpError(404, ["The context was not found."])
    values = [
        {"id": str(o.id), "value": o.value, "disabled": o.disabled}
        | ({"optionId": str(o.parent_id)} if o.parent_id is not None else {})
        for o in fd.options.values()
    ]
    return _page(values, ctx.query_int("startAt", 0), ctx.query_int("maxResults", 100))


async def get_custom_field_option(ctx: Ctx) -> Any:
    raw = ctx.path("id")
    if is_number(raw):
        for fd in ctx.site.fields.values():
            option = fd.options.get(int(raw))
            if option is not None:
                return option_json(view_of(ctx), option)
    raise JiraHttpError(404, [f"A custom field option with id '{raw}' does not exist"])


# -- create / edit metadata ------------------------------------------------------------------------

_OPERATIONS = {
    "labels": ["add", "set", "remove"],
    "components": ["add", "set", "remove"],
    "fixVersions": ["set", "add", "remove"],
    "versions": ["set", "add", "remove"],
    "issuelinks": ["add"],
    "comment": ["add", "edit", "remove"],
    "timetracking": ["set", "edit"],
    "attachment": [],
    "issuetype": [],
    "worklog": ["add"],
}


def field_meta(
    ctx: Ctx,
    fd: FieldDef,
    project: Project,
    itype: IssueType,
    *,
    required: bool,
    with_field_id: bool,
    default: Any = None,
) -> dict[str, Any]:
    """One entry of create/edit metadata, shaped like Jira's (see the createmeta fixtures)."""
    view = view_of(ctx)
    site = ctx.site
    out: dict[str, Any] = {"required": required, "schema": field_schema(fd), "name": fd.name}
    if with_field_id:
        out["fieldId"] = fd.id
    if ctx.cloud:
        out["key"] = fd.id
    allowed: list[Any] | None = None
    if fd.id == "project":
        allowed = [project_json(view, project)]
    elif fd.id == "issuetype":
        allowed = [issue_type_json(view, itype)]
    elif fd.id == "priority":
        allowed = [priority_json(view, p) for p in site.priorities.values()]
    elif fd.id == "resolution":
        allowed = [resolution_json(view, r) for r in site.resolutions.values()]
    elif fd.id == "components":
        allowed = [component_json(view, c) for c in site.project_components(project.id)]
    elif fd.id in ("fixVersions", "versions"):
        allowed = [version_json(view, v) for v in site.project_versions(project.id)]
    elif fd.options and fd.schema_type in ("option", "array", "option-with-child"):
        allowed = [option_json(view, o) for o in fd.options.values() if o.parent_id is None]
        if fd.schema_type == "option-with-child":  # a cascading field lists its children
            for parent in allowed:
                children = [
                    option_json(view, o)
                    for o in fd.options.values()
                    if o.parent_id is not None and str(o.parent_id) == parent["id"]
                ]
                if children:
                    parent["children"] = children
    if fd.schema_type == "user" or fd.items == "user":
        param = "query" if ctx.cloud else "username"
        out["autoCompleteUrl"] = view.api(f"user/search?{param}=")
    elif fd.id == "labels":
        out["autoCompleteUrl"] = f"{view.base_url}/rest/api/1.0/labels/suggest?query="
    elif fd.custom is not None and fd.custom.endswith(":labels"):
        out["autoCompleteUrl"] = (
            f"{view.base_url}/rest/api/1.0/labels/suggest?customFieldId={fd.custom_id}&query="
        )
    elif fd.id == "issuelinks":
        out["autoCompleteUrl"] = view.api(
            "issue/picker?currentProjectId=&showSubTaskParent=true&showSubTasks=true"
            "&currentIssueKey=null&query="
        )
    out["hasDefaultValue"] = default is not None
    ops = _OPERATIONS.get(fd.id)
    if ops is None and fd.custom is not None and fd.custom.endswith(":gh-sprint"):
        ops = ["set"]
    if ops is None:
        ops = ["add", "set", "remove"] if fd.schema_type == "array" else ["set"]
    out["operations"] = list(ops)
    if allowed is not None:
        out["allowedValues"] = allowed
    if default is not None and fd.id == "priority" and default in site.priorities:
        out["defaultValue"] = priority_json(view, site.priorities[default])
    return out


def _create_fields(
    ctx: Ctx, project: Project, itype: IssueType
) -> list[tuple[FieldDef, bool, Any]]:
    site = ctx.site
    required = site.required_fields_for(project.id, itype.id)
    out: list[tuple[FieldDef, bool, Any]] = []
    ids = site.create_fields_for(project.id, itype.id)
    for fid in ("project", "issuetype"):
        if fid not in ids:
            ids = [fid, *ids]
    for fid in ids:
        fd = site.fields.get(fid)
        if fd is None:
            continue
        default = site.default_value(project.id, itype.id, fid)
        out.append((fd, fid in required or fid in ("project", "issuetype"), default))
    return out


async def createmeta_legacy(ctx: Ctx) -> Any:
    site = ctx.site
    view = view_of(ctx)
    keys = set(ctx.query_list("projectKeys"))
    ids = set(ctx.query_list("projectIds"))
    type_ids = set(ctx.query_list("issuetypeIds"))
    type_names = set(ctx.query_list("issuetypeNames"))
    expand = set(ctx.query_list("expand"))
    with_fields = "projects.issuetypes.fields" in expand
    projects = []
    for project in site.projects.values():
        if keys and project.key not in keys:
            continue
        if ids and str(project.id) not in ids:
            continue
        entry = project_json(view, project)
        entry.pop("projectTypeKey", None)
        entry.pop("simplified", None)
        entry["expand"] = "issuetypes"
        types = []
        for itype in site.project_issue_types(project.id):
            if type_ids and str(itype.id) not in type_ids:
                continue
            if type_names and itype.name not in type_names:
                continue
            tj = issue_type_json(view, itype)
            tj.pop("avatarId", None)
            tj.pop("hierarchyLevel", None)
            tj["expand"] = "fields"
            if with_fields:
                tj["fields"] = {
                    fd.id: field_meta(
                        ctx, fd, project, itype, required=req, with_field_id=False, default=d
                    )
                    for fd, req, d in _create_fields(ctx, project, itype)
                }
            types.append(tj)
        entry["issuetypes"] = types
        projects.append(entry)
    return {"expand": "projects", "projects": projects}


async def createmeta_issuetypes(ctx: Ctx) -> Any:
    site = ctx.site
    view = view_of(ctx)
    project = site.get_project(ctx.path("projectIdOrKey"))
    values = [issue_type_json(view, t) for t in site.project_issue_types(project.id)]
    return _createmeta_page(ctx, "issueTypes", values)


def _createmeta_page(ctx: Ctx, key: str, values: list[Any]) -> dict[str, Any]:
    """One page of the paged create metadata: Cloud names the list after what it holds and
    has no ``isLast``; Server answers the usual ``values`` page."""
    start = ctx.query_int("startAt", 0)
    limit = ctx.query_int("maxResults", 50)
    if ctx.cloud:
        return {
            key: values[start : start + limit],
            "maxResults": limit,
            "startAt": start,
            "total": len(values),
        }
    return _page(values, start, limit)


async def createmeta_fields(ctx: Ctx) -> Any:
    site = ctx.site
    project = site.get_project(ctx.path("projectIdOrKey"))
    raw = ctx.path("issueTypeId")
    itype = site.issue_types.get(int(raw)) if is_number(raw) else None
    if itype is None or itype.id not in project.issue_type_ids:
        raise JiraHttpError(
            404 if ctx.cloud else 400,
            ["The issue type ID is invalid or the project does not contain this issue type."],
        )
    values = [
        field_meta(ctx, fd, project, itype, required=req, with_field_id=True, default=d)
        for fd, req, d in _create_fields(ctx, project, itype)
    ]
    return _createmeta_page(ctx, "fields", values)


async def editmeta(ctx: Ctx) -> Any:
    site = ctx.site
    issue = site.get_issue(ctx.path("issueIdOrKey"))
    project = site.projects[issue.project_id]
    itype = site.issue_types[issue.issue_type_id]
    required = site.required_fields_for(project.id, itype.id)
    fields: dict[str, Any] = {}
    for fid in site.edit_fields_for(project.id, itype.id):
        fd = site.fields.get(fid)
        if fd is not None:
            fields[fid] = field_meta(
                ctx, fd, project, itype, required=fid in required, with_field_id=False
            )
    return {"fields": fields}


_AVATAR_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48" viewBox="0 0 48 48">'
    b'<rect width="48" height="48" rx="8" fill="#0052cc"/></svg>'
)


async def avatar(ctx: Ctx) -> Any:
    """Every avatar and icon URL in the answers resolves (to one small SVG)."""
    return Response(_AVATAR_SVG, media_type="image/svg+xml")


ROUTES: list[RouteSpec] = [
    RouteSpec("GET", "/secure/useravatar", avatar, family=ROOT, note="avatar image"),
    RouteSpec("GET", "/secure/projectavatar", avatar, family=ROOT, note="avatar image"),
    RouteSpec("GET", "/secure/viewavatar", avatar, family=ROOT, note="issue type icon"),
    RouteSpec("GET", "/images/icons/priorities/{name}", avatar, family=ROOT, note="priority icon"),
    RouteSpec("GET", "/serverInfo", server_info),
    RouteSpec("GET", "/myself", myself),
    RouteSpec("GET", "/user", get_user, note="Server ?username=/?key=; Cloud ?accountId="),
    RouteSpec("GET", "/user/search", search_users, note="Server ?username=; Cloud ?query="),
    RouteSpec("GET", "/user/assignable/search", assignable_users),
    RouteSpec("GET", "/user/bulk", bulk_users, server=False),
    RouteSpec("GET", "/group", get_group, note="expand=users"),
    RouteSpec("GET", "/group/member", group_members),
    RouteSpec("GET", "/group/bulk", bulk_groups, server=False),
    RouteSpec("GET", "/groups/picker", groups_picker),
    RouteSpec("GET", "/project", list_projects),
    RouteSpec("GET", "/project/search", search_projects, server=False),
    RouteSpec("GET", "/project/{projectIdOrKey}", get_project),
    RouteSpec("GET", "/project/{projectIdOrKey}/components", project_components),
    RouteSpec("GET", "/project/{projectIdOrKey}/versions", project_versions),
    RouteSpec("GET", "/project/{projectIdOrKey}/statuses", project_statuses),
    RouteSpec("GET", "/project/{projectIdOrKey}/role", project_roles),
    RouteSpec("GET", "/project/{projectIdOrKey}/role/{id}", project_role),
    RouteSpec("POST", "/component", create_component),
    RouteSpec("GET", "/component/{id}", get_component),
    RouteSpec("POST", "/version", create_version),
    RouteSpec("GET", "/version/{id}", get_version),
    RouteSpec("GET", "/issuetype", list_issue_types),
    RouteSpec("GET", "/issuetype/{id}", get_issue_type),
    RouteSpec("GET", "/priority", list_priorities),
    RouteSpec("GET", "/priority/{id}", get_priority),
    RouteSpec("GET", "/status", list_statuses),
    RouteSpec("GET", "/status/{idOrName}", get_status),
    RouteSpec("GET", "/statuscategory", list_status_categories),
    RouteSpec("GET", "/statuscategory/{idOrKey}", get_status_category),
    RouteSpec("GET", "/filter/{id}", get_filter, note="boards' saved filters"),
    RouteSpec("GET", "/resolution", list_resolutions),
    RouteSpec("GET", "/resolution/{id}", get_resolution),
    RouteSpec("GET", "/issueLinkType", list_link_types),
    RouteSpec("GET", "/issueLinkType/{issueLinkTypeId}", get_link_type),
    RouteSpec("GET", "/field", list_fields),
    RouteSpec("GET", "/field/{fieldId}/context", field_contexts, server=False),
    RouteSpec(
        "GET", "/field/{fieldId}/context/{contextId}/option", field_context_options, server=False
    ),
    RouteSpec("GET", "/customFieldOption/{id}", get_custom_field_option),
    RouteSpec(
        "GET", "/issue/createmeta", createmeta_legacy, note="expand=projects.issuetypes.fields"
    ),
    RouteSpec("GET", "/issue/createmeta/{projectIdOrKey}/issuetypes", createmeta_issuetypes),
    RouteSpec(
        "GET", "/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}", createmeta_fields
    ),
    RouteSpec("GET", "/issue/{issueIdOrKey}/editmeta", editmeta),
]
