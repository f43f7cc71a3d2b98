"""``GET /mypermissions``: which permissions the caller holds, globally, in a project or
for an issue (what the emulator's permission scheme and ``deny_permissions`` say)."""

from __future__ import annotations

from typing import Any

from jirabridge.emulator.faces._context import Ctx
from jirabridge.emulator.faces._errors import JiraHttpError
from jirabridge.emulator.faces._table import RouteSpec
from jirabridge.emulator.model._permissions import PERMISSIONS, has_permission
from jirabridge.emulator.model._records import Project

__all__ = ["ROUTES"]


def _context_project(ctx: Ctx) -> Project | None:
    """The project the question is asked in (``projectId`` over ``projectKey``, ``issueId``
    over ``issueKey``); 404 when it does not exist or the caller may not browse it."""
    site = ctx.site
    project: Project | None = None
    project_ref = ctx.query("projectId") or ctx.query("projectKey")
    issue_ref = ctx.query("issueId") or ctx.query("issueKey")
    if project_ref:
        project = site.get_project(project_ref)
        if not site.can_browse(ctx.user_key, project.id):
            raise JiraHttpError(404, [f"No project could be found with key '{project_ref}'."])
    elif issue_ref:
        issue = site.get_issue(issue_ref)
        if not site.can_browse(ctx.user_key, issue.project_id):
            raise JiraHttpError(
                404, ["Issue does not exist or you do not have permission to see it."]
            )
        project = site.projects[issue.project_id]
    return project


async def my_permissions(ctx: Ctx) -> Any:
    keys = ctx.query_list("permissions")
    if not keys:
        if ctx.cloud:
            raise JiraHttpError(400, ["The 'permissions' query parameter is required."])
        keys = list(PERMISSIONS)  # Server still answers every permission (deprecated)
    unknown = [k for k in keys if k not in PERMISSIONS]
    if unknown:
        raise JiraHttpError(400, [f"Permission key '{k}' does not exist." for k in unknown])
    project = _context_project(ctx)
    out: dict[str, Any] = {}
    for key in keys:
        info = PERMISSIONS[key]
        out[key] = {
            "id": info.id,
            "key": info.key,
            "name": info.name,
            "type": info.type,
            "description": info.description,
            "havePermission": has_permission(ctx.site, ctx.user_key, key, project),
        }
    return {"permissions": out}


ROUTES: list[RouteSpec] = [
    RouteSpec(
        "GET",
        "/mypermissions",
        my_permissions,
        note="projectKey/projectId/issueKey/issueId; permissions= (Cloud: required)",
    ),
]
