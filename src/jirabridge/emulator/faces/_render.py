"""Render the model's reference records (users, projects, statuses, ...) as Jira JSON.

Pure functions of a record and a :class:`~._context.Ctx`-like ``View`` (base URL, flavour,
API version). Users are the main flavour difference: Server presents ``name``/``key``/
``emailAddress``; Cloud presents ``accountId``/``accountType`` and ``emailAddress`` only when
the user lets it be seen, never ``name``/``key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jirabridge.emulator.faces._wire import format_date, format_datetime
from jirabridge.emulator.model._records import (
    Board,
    Component,
    FieldDef,
    FieldOption,
    Group,
    IssueLinkType,
    IssueType,
    Priority,
    Project,
    Resolution,
    Sprint,
    Status,
    StatusCategory,
    Transition,
    User,
    Version,
)

__all__ = [
    "View",
    "board_json",
    "component_json",
    "field_json",
    "field_schema",
    "group_json",
    "issue_type_json",
    "link_type_json",
    "option_json",
    "priority_json",
    "project_json",
    "resolution_json",
    "sprint_json",
    "status_category_json",
    "status_json",
    "transition_json",
    "user_json",
    "version_json",
]


@dataclass(frozen=True, slots=True)
class View:
    """How to render: base URL, flavour and REST version used in ``self`` links."""

    base_url: str
    cloud: bool
    rest: str = "2"  # "2" or "3"

    def api(self, path: str) -> str:
        return f"{self.base_url}/rest/api/{self.rest}/{path}"

    def agile(self, path: str) -> str:
        return f"{self.base_url}/rest/agile/1.0/{path}"


def _avatar_urls(base: str, kind: str, ident: str) -> dict[str, str]:
    return {
        "48x48": f"{base}/secure/{kind}avatar?avatarId={ident}",
        "24x24": f"{base}/secure/{kind}avatar?size=small&avatarId={ident}",
        "16x16": f"{base}/secure/{kind}avatar?size=xsmall&avatarId={ident}",
        "32x32": f"{base}/secure/{kind}avatar?size=medium&avatarId={ident}",
    }


def user_json(view: View, user: User, *, with_email: bool = True) -> dict[str, Any]:
    """A user as the flavour presents it (``with_email=False`` for the smallest forms)."""
    if view.cloud:
        account_id = user.account_id or user.key
        out: dict[str, Any] = {
            "self": view.api(f"user?accountId={quote(account_id, safe=':')}"),
            "accountId": account_id,
            "accountType": user.account_type,
        }
        if with_email and user.email_visible and user.email is not None:
            out["emailAddress"] = user.email
        out["avatarUrls"] = _avatar_urls(view.base_url, "user", "10122")
        out["displayName"] = user.display_name
        out["active"] = user.active
        out["timeZone"] = user.time_zone
        return out
    name = user.name or user.key
    out = {
        "self": view.api(f"user?username={quote(name)}"),
        "name": name,
        "key": user.key,
    }
    if with_email and user.email is not None:
        out["emailAddress"] = user.email
    out["avatarUrls"] = _avatar_urls(view.base_url, "user", "10122")
    out["displayName"] = user.display_name
    out["active"] = user.active
    out["timeZone"] = user.time_zone
    return out


def group_json(view: View, group: Group) -> dict[str, Any]:
    out: dict[str, Any] = {"name": group.name}
    if view.cloud:
        out["groupId"] = group.group_id
    out["self"] = view.api(f"group?groupname={quote(group.name)}")
    return out


def status_category_json(view: View, category: StatusCategory) -> dict[str, Any]:
    return {
        "self": view.api(f"statuscategory/{category.id}"),
        "id": category.id,
        "key": category.key,
        "colorName": category.color_name,
        "name": category.display_name,
    }


def status_json(view: View, status: Status) -> dict[str, Any]:
    return {
        "self": view.api(f"status/{status.id}"),
        "description": status.description,
        "iconUrl": f"{view.base_url}/",
        "name": status.name,
        "id": str(status.id),
        "statusCategory": status_category_json(view, status.category),
    }


def priority_json(view: View, priority: Priority, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "self": view.api(f"priority/{priority.id}"),
        "iconUrl": f"{view.base_url}/images/icons/priorities/{priority.name.lower()}.svg",
        "name": priority.name,
        "id": str(priority.id),
    }
    if full:
        out["statusColor"] = priority.color
        out["description"] = priority.name
        if view.cloud:
            out["isDefault"] = priority.is_default
    return out


def resolution_json(view: View, resolution: Resolution) -> dict[str, Any]:
    return {
        "self": view.api(f"resolution/{resolution.id}"),
        "id": str(resolution.id),
        "description": resolution.description,
        "name": resolution.name,
    }


def issue_type_json(view: View, issue_type: IssueType) -> dict[str, Any]:
    avatar = 10300 + issue_type.id % 100
    out: dict[str, Any] = {
        "self": view.api(f"issuetype/{issue_type.id}"),
        "id": str(issue_type.id),
        "description": issue_type.description,
        "iconUrl": (
            f"{view.base_url}/secure/viewavatar?size=xsmall&avatarId={avatar}&avatarType=issuetype"
        ),
        "name": issue_type.name,
        "subtask": issue_type.subtask,
        "avatarId": avatar,
    }
    if view.cloud:
        out["hierarchyLevel"] = issue_type.hierarchy_level
    return out


def project_json(view: View, project: Project, *, brief: bool = True) -> dict[str, Any]:
    """The project reference (``brief``) as embedded in issues; callers add detail."""
    out: dict[str, Any] = {
        "self": view.api(f"project/{project.id}"),
        "id": str(project.id),
        "key": project.key,
        "name": project.name,
        "projectTypeKey": project.project_type,
        "avatarUrls": _avatar_urls(view.base_url, "project", "10324"),
    }
    if view.cloud:
        out["simplified"] = False
    if not brief:
        out["description"] = project.description
        out["archived"] = project.archived
    return out


def component_json(view: View, component: Component) -> dict[str, Any]:
    out: dict[str, Any] = {
        "self": view.api(f"component/{component.id}"),
        "id": str(component.id),
        "name": component.name,
    }
    if component.description:
        out["description"] = component.description
    return out


def version_json(view: View, version: Version) -> dict[str, Any]:
    out: dict[str, Any] = {
        "self": view.api(f"version/{version.id}"),
        "id": str(version.id),
        "name": version.name,
        "archived": version.archived,
        "released": version.released,
        "projectId": version.project_id,
    }
    if version.description:
        out["description"] = version.description
    if version.release_date is not None:
        out["releaseDate"] = format_date(version.release_date)
    if version.start_date is not None:
        out["startDate"] = format_date(version.start_date)
    return out


def link_type_json(view: View, link_type: IssueLinkType) -> dict[str, Any]:
    return {
        "id": str(link_type.id),
        "name": link_type.name,
        "inward": link_type.inward,
        "outward": link_type.outward,
        "self": view.api(f"issueLinkType/{link_type.id}"),
    }


def option_json(view: View, option: FieldOption) -> dict[str, Any]:
    return {
        "self": view.api(f"customFieldOption/{option.id}"),
        "value": option.value,
        "id": str(option.id),
        "disabled": option.disabled,
    }


def field_schema(field: FieldDef) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": field.schema_type}
    if field.items is not None:
        schema["items"] = field.items
    if field.system is not None:
        schema["system"] = field.system
    if field.custom is not None:
        schema["custom"] = field.custom
    if field.custom_id is not None:
        schema["customId"] = field.custom_id
    return schema


def field_json(view: View, field: FieldDef) -> dict[str, Any]:
    """An entry of ``GET /field``."""
    out: dict[str, Any] = {
        "id": field.id,
        "key": field.id,
        "name": field.name,
        "custom": field.is_custom,
        "orderable": field.orderable,
        "navigable": field.navigable,
        "searchable": field.searchable,
        "clauseNames": field.clause_names,
        "schema": field_schema(field),
    }
    if field.id in {"issuekey", "thumbnail"}:
        del out["schema"]
    return out


def transition_json(
    view: View, transition: Transition, status: Status, fields: dict[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(transition.id),
        "name": transition.name,
        "to": status_json(view, status),
    }
    if view.cloud:
        out.update(
            {
                "hasScreen": transition.has_screen,
                "isGlobal": transition.is_global,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "isLooped": False,
            }
        )
    if fields is not None:
        out["fields"] = fields
    return out


def sprint_json(view: View, sprint: Sprint) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": sprint.id,
        "self": view.agile(f"sprint/{sprint.id}"),
        "state": sprint.state.value,
        "name": sprint.name,
    }
    if sprint.start_date is not None:
        out["startDate"] = _iso(sprint.start_date)
    if sprint.end_date is not None:
        out["endDate"] = _iso(sprint.end_date)
    if sprint.complete_date is not None:
        out["completeDate"] = _iso(sprint.complete_date)
    if sprint.created is not None and view.cloud:
        out["createdDate"] = _iso(sprint.created)
    out["originBoardId"] = sprint.board_id
    out["goal"] = sprint.goal
    return out


def board_json(view: View, board: Board, project: Project | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": board.id,
        "self": view.agile(f"board/{board.id}"),
        "name": board.name,
        "type": board.type.value,
    }
    if project is not None:
        out["location"] = {
            "projectId": project.id,
            "displayName": f"{project.name} ({project.key})",
            "projectName": project.name,
            "projectKey": project.key,
            "projectTypeKey": project.project_type,
            "avatarURI": f"{view.base_url}/secure/projectavatar?size=small&avatarId=10324",
            "name": f"{project.name} ({project.key})",
        }
    return out


def _iso(value: Any) -> str | None:
    """Agile dates use ISO 8601 with a colon offset and milliseconds."""
    text = format_datetime(value)
    if text is None:
        return None
    return text[:-2] + ":" + text[-2:] if text[-5] in "+-" else text
