"""Jira Software's ``/rest/agile/1.0``: boards, board configuration, sprints, backlog, epics and
rank (both flavours; epics are Server "Epic Link" or Cloud ``parent`` underneath)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from jirabridge.emulator.faces._context import Ctx, JiraJSONResponse
from jirabridge.emulator.faces._errors import JiraHttpError
from jirabridge.emulator.faces._issues import parse_field_selection
from jirabridge.emulator.faces._render import board_json, sprint_json
from jirabridge.emulator.faces._routes_search import run_search
from jirabridge.emulator.faces._table import AGILE, RouteSpec
from jirabridge.emulator.faces._views import renderer_of, view_of
from jirabridge.emulator.faces._wire import parse_datetime
from jirabridge.emulator.model._records import Board, Issue, SprintState

__all__ = ["ROUTES"]


def _values_page(ctx: Ctx, values: list[Any], default_max: int = 50) -> dict[str, Any]:
    start = max(0, ctx.query_int("startAt", 0))
    limit = max(0, ctx.query_int("maxResults", default_max))
    chunk = values[start : start + limit]
    return {
        "maxResults": limit,
        "startAt": start,
        "total": len(values),
        "isLast": start + len(chunk) >= len(values),
        "values": chunk,
    }


def _issues_page(ctx: Ctx, issues: list[Issue]) -> dict[str, Any]:
    jql = ctx.query("jql")
    if jql:
        allowed = {i.id for i in run_search(ctx, jql)}
        issues = [i for i in issues if i.id in allowed]
    start = max(0, ctx.query_int("startAt", 0))
    limit = max(0, min(ctx.query_int("maxResults", 50), 1000))
    mode, include, exclude = parse_field_selection(ctx.query_list("fields"), default="*navigable")
    renderer = renderer_of(ctx)
    return {
        "expand": "schema,names",
        "startAt": start,
        "maxResults": limit,
        "total": len(issues),
        "issues": [
            renderer.issue(
                i, mode=mode, include=include, exclude=exclude, expand=ctx.query_list("expand")
            )
            for i in issues[start : start + limit]
        ],
    }


def _board(ctx: Ctx) -> Board:
    board: Board = ctx.site.get_board(ctx.path("boardId"))
    return board


def _board_json(ctx: Ctx, board: Board) -> dict[str, Any]:
    project = ctx.site.projects.get(board.project_id) if board.project_id is not None else None
    return board_json(view_of(ctx), board, project)


def _board_issues(ctx: Ctx, board: Board) -> list[Issue]:
    """The board's issues, by its filter (``... ORDER BY Rank ASC`` for project boards)."""
    return run_search(ctx, board.filter_jql)


async def list_boards(ctx: Ctx) -> Any:
    kind = ctx.query("type")
    name = (ctx.query("name") or "").lower()
    project_ref = ctx.query("projectKeyOrId")
    project_id = ctx.site.get_project(project_ref).id if project_ref else None
    values = [
        _board_json(ctx, b)
        for b in ctx.site.boards.values()
        if (not kind or b.type.value == kind)
        and (not name or name in b.name.lower())
        and (project_id is None or b.project_id == project_id)
    ]
    return _values_page(ctx, values)


async def get_board(ctx: Ctx) -> Any:
    return _board_json(ctx, _board(ctx))


async def board_configuration(ctx: Ctx) -> Any:
    board = _board(ctx)
    site = ctx.site
    view = view_of(ctx)
    base = _board_json(ctx, board)
    statuses_by_category: dict[str, list[dict[str, Any]]] = {}
    for status in site.statuses.values():
        statuses_by_category.setdefault(status.category.key, []).append(
            {"id": str(status.id), "self": view.api(f"status/{status.id}")}
        )
    columns = [
        {"name": "To Do", "statuses": statuses_by_category.get("new", [])},
        {"name": "In Progress", "statuses": statuses_by_category.get("indeterminate", [])},
        {"name": "Done", "statuses": statuses_by_category.get("done", [])},
    ]
    points = site.fields.get(site.agile.story_points)
    out: dict[str, Any] = {
        "id": board.id,
        "name": board.name,
        "type": board.type.value,
        "self": view.agile(f"board/{board.id}/configuration"),
    }
    if "location" in base:
        out["location"] = {"type": "project", "projectKeyOrId": base["location"]["projectKey"]}
    out["filter"] = {"id": str(board.filter_id), "self": view.api(f"filter/{board.filter_id}")}
    out["columnConfig"] = {"columns": columns, "constraintType": "none"}
    if points is not None:
        out["estimation"] = {
            "type": "field",
            "field": {"fieldId": points.id, "displayName": points.name},
        }
    rank = site.fields.get(site.agile.rank)
    if rank is not None and rank.custom_id is not None:
        out["ranking"] = {"rankCustomFieldId": rank.custom_id}
    return out


async def board_sprints(ctx: Ctx) -> Any:
    board = _board(ctx)
    states = ctx.query_list("state")
    for state in states:
        if state not in {s.value for s in SprintState}:
            raise JiraHttpError(400, [f"The sprint state '{state}' is not valid."])
    if board.type.value != "scrum":
        raise JiraHttpError(400, ["The board does not support sprints"])
    view = view_of(ctx)
    values = [sprint_json(view, s) for s in ctx.site.board_sprints(board.id, states or None)]
    return _values_page(ctx, values)


async def board_issues(ctx: Ctx) -> Any:
    board = _board(ctx)
    return _issues_page(ctx, _board_issues(ctx, board))


async def board_backlog(ctx: Ctx) -> Any:
    board = _board(ctx)
    return _issues_page(ctx, ctx.site.backlog_issues(board.id))


def _epic_json(ctx: Ctx, epic: Issue) -> dict[str, Any]:
    site = ctx.site
    name_field = site.agile.epic_name
    name = epic.fields.get(name_field) if name_field else None
    done = site.statuses[epic.status_id].category.key == "done"
    return {
        "id": epic.id,
        "key": epic.key,
        "self": view_of(ctx).agile(f"epic/{epic.id}"),
        "name": name or epic.fields.get("summary", ""),
        "summary": epic.fields.get("summary", ""),
        "color": {"key": f"color_{epic.id % 9 + 1}"},
        "done": done,
    }


async def board_epics(ctx: Ctx) -> Any:
    board = _board(ctx)
    site = ctx.site
    epics = [
        i
        for i in _board_issues(ctx, board)
        if site.issue_types[i.issue_type_id].hierarchy_level == 1
    ]
    return _values_page(ctx, [_epic_json(ctx, e) for e in epics])


def _sprint_body(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("name", "goal"):
        if body.get(name) is not None:
            if not isinstance(body[name], str):
                raise JiraHttpError(400, errors={name: f"The {name} must be a string."})
            out[name] = body[name]
    for wire, attr in (("startDate", "start_date"), ("endDate", "end_date")):
        raw = body.get(wire)
        if raw is not None:
            if not isinstance(raw, str):
                raise JiraHttpError(400, errors={wire: "Invalid date format."})
            try:
                out[attr] = parse_datetime(raw)
            except ValueError as exc:
                raise JiraHttpError(400, errors={wire: "Invalid date format."}) from exc
    return out


async def create_sprint(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    board_id = body.get("originBoardId")
    if isinstance(board_id, bool) or not isinstance(board_id, int | str):
        raise JiraHttpError(400, errors={"originBoardId": "The board id is required."})
    args = _sprint_body(body)
    name = args.pop("name", "")
    sprint = ctx.site.create_sprint(ctx.user_key, board_id, name, **args)
    return JiraJSONResponse(sprint_json(view_of(ctx), sprint), status_code=201)


async def get_sprint(ctx: Ctx) -> Any:
    return sprint_json(view_of(ctx), ctx.site.get_sprint(ctx.path("sprintId")))


async def update_sprint(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    args = _sprint_body(body)
    state = body.get("state")
    if state is not None:
        if state not in {s.value for s in SprintState}:
            raise JiraHttpError(400, errors={"state": f"The sprint state '{state}' is not valid."})
        args["state"] = state
    sprint = ctx.site.update_sprint(ctx.user_key, ctx.path("sprintId"), **args)
    return sprint_json(view_of(ctx), sprint)


async def delete_sprint(ctx: Ctx) -> Any:
    ctx.site.delete_sprint(ctx.user_key, ctx.path("sprintId"))
    return None


async def sprint_issues(ctx: Ctx) -> Any:
    return _issues_page(ctx, ctx.site.sprint_issues(ctx.path("sprintId")))


def _issue_list(body: dict[str, Any]) -> list[str]:
    issues = body.get("issues")
    if not isinstance(issues, list) or not all(isinstance(i, str | int) for i in issues):
        raise JiraHttpError(400, errors={"issues": "The issues must be a list of keys or ids."})
    return [str(i) for i in issues]


async def _rank_after_move(ctx: Ctx, body: dict[str, Any], issues: list[str]) -> None:
    before = body.get("rankBeforeIssue")
    after = body.get("rankAfterIssue")
    if before is not None or after is not None:
        ctx.site.rank_issues(ctx.user_key, issues, before=before, after=after)


async def move_to_sprint(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    issues = _issue_list(body)
    ctx.site.move_to_sprint(ctx.user_key, ctx.path("sprintId"), issues)
    await _rank_after_move(ctx, body, issues)
    return None


async def move_to_backlog(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    issues = _issue_list(body)
    ctx.site.move_to_backlog(ctx.user_key, issues)
    return None


async def get_epic(ctx: Ctx) -> Any:
    epic = ctx.site.get_issue(ctx.path("epicIdOrKey"))
    if ctx.site.issue_types[epic.issue_type_id].hierarchy_level != 1:
        raise JiraHttpError(404, [f"Issue {epic.key} is not an epic."])
    return _epic_json(ctx, epic)


async def epic_issues(ctx: Ctx) -> Any:
    return _issues_page(ctx, ctx.site.epic_issues(ctx.path("epicIdOrKey")))


async def move_to_epic(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    ctx.site.set_epic(ctx.user_key, ctx.path("epicIdOrKey"), _issue_list(body))
    return None


async def remove_from_epic(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    ctx.site.set_epic(ctx.user_key, None, _issue_list(body))
    return None


async def rank(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    issues = _issue_list(body)
    before, after = body.get("rankBeforeIssue"), body.get("rankAfterIssue")
    for name, value in (("rankBeforeIssue", before), ("rankAfterIssue", after)):
        if value is not None and not isinstance(value, str | int):
            raise JiraHttpError(400, errors={name: "The issue must be a key or an id."})
    ctx.site.rank_issues(ctx.user_key, issues, before=before, after=after)
    return Response(status_code=204)


def _agile(method: str, path: str, handler: Any, note: str = "") -> RouteSpec:
    return RouteSpec(method, path, handler, family=AGILE, note=note)


ROUTES: list[RouteSpec] = [
    _agile("GET", "/board", list_boards, "type, name, projectKeyOrId"),
    _agile("GET", "/board/{boardId}", get_board),
    _agile("GET", "/board/{boardId}/configuration", board_configuration),
    _agile("GET", "/board/{boardId}/sprint", board_sprints, "state=future,active,closed"),
    _agile("GET", "/board/{boardId}/issue", board_issues, "jql, fields"),
    _agile("GET", "/board/{boardId}/backlog", board_backlog),
    _agile("GET", "/board/{boardId}/epic", board_epics),
    _agile("POST", "/sprint", create_sprint),
    _agile("GET", "/sprint/{sprintId}", get_sprint),
    _agile("PUT", "/sprint/{sprintId}", update_sprint, "state=active starts, closed completes"),
    _agile("POST", "/sprint/{sprintId}", update_sprint, "partial update"),
    _agile("DELETE", "/sprint/{sprintId}", delete_sprint),
    _agile("GET", "/sprint/{sprintId}/issue", sprint_issues),
    _agile("POST", "/sprint/{sprintId}/issue", move_to_sprint, "≤50; open sprints only"),
    _agile("POST", "/backlog/issue", move_to_backlog, "≤50"),
    _agile("GET", "/epic/{epicIdOrKey}", get_epic),
    _agile("GET", "/epic/{epicIdOrKey}/issue", epic_issues),
    _agile("POST", "/epic/none/issue", remove_from_epic, "≤50"),
    _agile("POST", "/epic/{epicIdOrKey}/issue", move_to_epic, "≤50"),
    _agile("PUT", "/issue/rank", rank, "≤50; rankBeforeIssue | rankAfterIssue"),
]
