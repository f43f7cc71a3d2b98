"""Turning the values a client sends for a field into the neutral stored form, and stored
values into the strings Jira writes into changelog items.

Accepted input per field kind (what a face passes through from the request JSON, after it has
turned rich text into the site's native form):

* references: ``{"id": ...}``, ``{"key": ...}``, ``{"name": ...}``, ``{"value": ...}``, or a bare
  id / name; users also ``{"accountId": ...}`` or a bare key/name/accountId; ``None`` clears.
* dates ``"YYYY-MM-DD"`` or :class:`date`; datetimes ISO 8601 (Jira's ``+0000`` offsets too) or
  an aware :class:`datetime`; numbers int/float; labels a list of strings without spaces.

Every refusal raises :class:`FieldError` with Jira's message; the caller keys it by field id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from jirabridge.emulator.model._ids import is_id
from jirabridge.emulator.model._records import FieldDef, Flavour, Issue, Project, User

if TYPE_CHECKING:
    from jirabridge.emulator.model._base import SiteBase

__all__ = [
    "FieldError",
    "FieldKind",
    "changelog_name",
    "display_value",
    "field_kind",
    "parse_field_value",
    "plain_text",
]

_CT = "com.atlassian.jira.plugin.system.customfieldtypes:"
_GH = "com.pyxis.greenhopper.jira:"


class FieldError(Exception):
    """A field value was refused; ``message`` is Jira's wording for the ``errors`` map (or,
    when ``general``, for ``errorMessages``, where Jira puts a few of them)."""

    def __init__(self, message: str, *, general: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.general = general


class FieldKind:
    STRING = "string"
    RICH = "rich"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    OPTION = "option"
    OPTIONS = "options"
    CASCADE = "cascade"
    USER = "user"
    USERS = "users"
    LABELS = "labels"
    SPRINT = "sprint"
    EPIC_LINK = "epic_link"
    PARENT = "parent"
    PROJECT = "project"
    ISSUETYPE = "issuetype"
    PRIORITY = "priority"
    RESOLUTION = "resolution"
    STATUS = "status"
    COMPONENTS = "components"
    VERSIONS = "versions"
    TIMETRACKING = "timetracking"
    READONLY = "readonly"


_SYSTEM_KINDS = {
    "summary": FieldKind.STRING,
    "description": FieldKind.RICH,
    "environment": FieldKind.RICH,
    "project": FieldKind.PROJECT,
    "issuetype": FieldKind.ISSUETYPE,
    "priority": FieldKind.PRIORITY,
    "resolution": FieldKind.RESOLUTION,
    "status": FieldKind.STATUS,
    "assignee": FieldKind.USER,
    "reporter": FieldKind.USER,
    "labels": FieldKind.LABELS,
    "components": FieldKind.COMPONENTS,
    "fixVersions": FieldKind.VERSIONS,
    "versions": FieldKind.VERSIONS,
    "duedate": FieldKind.DATE,
    "parent": FieldKind.PARENT,
    "timetracking": FieldKind.TIMETRACKING,
}

_CUSTOM_KINDS = {
    _CT + "textfield": FieldKind.STRING,
    _CT + "url": FieldKind.STRING,
    _CT + "textarea": FieldKind.RICH,
    _CT + "float": FieldKind.NUMBER,
    _CT + "datepicker": FieldKind.DATE,
    _CT + "datetime": FieldKind.DATETIME,
    _CT + "select": FieldKind.OPTION,
    _CT + "radiobuttons": FieldKind.OPTION,
    _CT + "multiselect": FieldKind.OPTIONS,
    _CT + "multicheckboxes": FieldKind.OPTIONS,
    _CT + "cascadingselect": FieldKind.CASCADE,
    _CT + "userpicker": FieldKind.USER,
    _CT + "multiuserpicker": FieldKind.USERS,
    _CT + "labels": FieldKind.LABELS,
    _GH + "gh-sprint": FieldKind.SPRINT,
    _GH + "gh-epic-link": FieldKind.EPIC_LINK,
    _GH + "gh-epic-label": FieldKind.STRING,
    _GH + "gh-epic-status": FieldKind.OPTION,
    _GH + "jsw-story-points": FieldKind.NUMBER,
}


def field_kind(fd: FieldDef) -> str:
    """How the model stores and validates ``fd`` (one of the :class:`FieldKind` names)."""
    if fd.custom is not None:
        return _CUSTOM_KINDS.get(fd.custom, FieldKind.READONLY)
    return _SYSTEM_KINDS.get(fd.id, FieldKind.READONLY)


_NOT_STRING = "Operation value must be a string"
_NOT_NUMBER = "Operation value must be a number"
_NOT_ADF = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
_JIRA_DT = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)([+-]\d{4})$")


def parse_field_value(
    site: SiteBase, fd: FieldDef, raw: Any, *, project: Project, issue: Issue | None = None
) -> Any:
    """The neutral value for ``raw`` (None clears the field). Raises :class:`FieldError`."""
    kind = field_kind(fd)
    if raw is None and kind not in (FieldKind.PROJECT, FieldKind.ISSUETYPE):
        return None
    match kind:
        case FieldKind.STRING:
            if not isinstance(raw, str):
                raise FieldError(_NOT_STRING)
            if fd.id == "summary":
                if "\n" in raw or "\r" in raw:
                    raise FieldError(
                        "The summary is invalid because it contains newline characters."
                    )
                if len(raw) > 255:
                    raise FieldError("Summary must be less than 255 characters.")
            return raw or None
        case FieldKind.RICH:
            return _parse_rich(site, raw)
        case FieldKind.NUMBER:
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                if isinstance(raw, str):
                    try:
                        return float(raw)
                    except ValueError:
                        raise FieldError(f"'{raw}' is an invalid number") from None
                raise FieldError(_NOT_NUMBER)
            return float(raw)
        case FieldKind.DATE:
            return _parse_date(raw)
        case FieldKind.DATETIME:
            return _parse_datetime(raw)
        case FieldKind.OPTION:
            return _parse_option(site, fd, raw, parent_id=None)
        case FieldKind.OPTIONS:
            return (
                _unique([_parse_option(site, fd, r, parent_id=None) for r in _as_list(raw)]) or None
            )
        case FieldKind.CASCADE:
            parent = _parse_option(site, fd, raw, parent_id=None)
            child_raw = raw.get("child") if isinstance(raw, Mapping) else None
            if child_raw is None:
                return [parent]
            return [parent, _parse_option(site, fd, child_raw, parent_id=parent)]
        case FieldKind.USER:
            user = _parse_user(site, raw, fd, project)
            return user.key if user is not None else None
        case FieldKind.USERS:
            keys = []
            for r in _as_list(raw):
                u = _parse_user(site, r, fd, project)
                if u is not None:
                    keys.append(u.key)
            return _unique(keys) or None
        case FieldKind.LABELS:
            return _parse_labels(raw) or None
        case FieldKind.SPRINT:
            return _parse_sprint(site, raw)
        case FieldKind.EPIC_LINK:
            return _parse_epic_link(site, raw)
        case FieldKind.PARENT:
            return _parse_parent(site, raw)
        case FieldKind.PROJECT:
            return _parse_project(site, raw).id
        case FieldKind.ISSUETYPE:
            return _parse_issuetype(site, raw, project)
        case FieldKind.PRIORITY:
            return _parse_priority(site, raw)
        case FieldKind.RESOLUTION:
            return _parse_resolution(site, raw)
        case FieldKind.COMPONENTS:
            return _unique([_parse_component(site, r, project) for r in _as_list(raw)]) or None
        case FieldKind.VERSIONS:
            return _unique([_parse_version(site, r, project) for r in _as_list(raw)]) or None
        case FieldKind.TIMETRACKING:
            return _parse_timetracking(raw)
    raise FieldError(
        f"Field '{fd.id}' cannot be set. It is not on the appropriate screen, or unknown."
    )


def _unique(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _as_list(raw: Any) -> list[Any]:
    if isinstance(raw, list | tuple):
        return list(raw)
    raise FieldError("data was not an array")


def _ref(raw: Any, *names: str) -> tuple[str, str]:
    """(which, value) of the first present reference attribute."""
    if isinstance(raw, Mapping):
        for name in names:
            if name in raw and raw[name] is not None:
                return name, str(raw[name])
        raise FieldError(f"Could not find valid 'id' or '{names[-1]}' in the object.")
    if isinstance(raw, bool):
        raise FieldError("expected Object")
    if isinstance(raw, int):
        return "id", str(raw)
    if isinstance(raw, str):
        return ("id" if is_id(raw) else names[-1]), raw
    raise FieldError("expected Object")


def _parse_rich(site: SiteBase, raw: Any) -> Any:
    if site.flavour is Flavour.SERVER:
        if not isinstance(raw, str):
            raise FieldError(_NOT_STRING)
        return raw or None
    if isinstance(raw, str):
        # a Cloud site stores ADF; a plain string only arrives from model-level callers
        return _adf_of_text(raw) if raw else None
    if not isinstance(raw, Mapping) or raw.get("type") != "doc":
        raise FieldError(_NOT_ADF)
    if not raw.get("content"):
        return None
    return dict(raw)


def _adf_of_text(text: str) -> dict[str, Any]:
    paragraphs = [p for p in text.split("\n\n")]
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": p}] if p else []}
            for p in paragraphs
        ],
    }


def _parse_date(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise FieldError(f"Error parsing date string: {raw}")


def _parse_datetime(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        if raw.tzinfo is None:
            raise FieldError(f"Error parsing date string: {raw}")
        return raw
    if isinstance(raw, str):
        text = raw
        m = _JIRA_DT.match(raw)
        if m:
            text = f"{m.group(1)}{m.group(2)[:3]}:{m.group(2)[3:]}"
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            value = None
        if value is not None:
            return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    raise FieldError(
        "Invalid date format. Please enter the date in the format \"yyyy-MM-dd'T'HH:mm:ss.SSSZ\"."
    )


def _parse_option(site: SiteBase, fd: FieldDef, raw: Any, *, parent_id: int | None) -> int:
    cloud = site.flavour is Flavour.CLOUD
    cloud_message = f"Specify a valid 'id' or 'name' for {fd.name}"
    if cloud and not (isinstance(raw, Mapping) and ("id" in raw or "value" in raw)):
        raise FieldError(cloud_message)
    which, value = _ref(raw, "id", "value")
    for opt in fd.options.values():
        if opt.parent_id != parent_id or opt.disabled:
            continue
        if (which == "id" and str(opt.id) == value) or (which == "value" and opt.value == value):
            return opt.id
    if cloud:
        raise FieldError(cloud_message)
    if which == "id":
        raise FieldError(f"Option id '{value}' is not valid")
    raise FieldError(f"Option value '{value}' is not valid")


def _user_ref(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, Mapping):
        for name in ("accountId", "name", "key", "id", "emailAddress"):
            value = raw.get(name)
            if isinstance(value, str):
                return value
    raise FieldError("expected Object")


def _parse_user(site: SiteBase, raw: Any, fd: FieldDef, project: Project) -> User | None:
    ref = _user_ref(raw)
    if ref == "-1" and fd.id == "assignee":
        ref = project.lead_key
    if ref == "":
        return None
    user = site.find_user(ref)
    assignee = fd.id == "assignee"
    if user is None:
        if site.flavour is Flavour.CLOUD:
            raise FieldError(f"Specify a valid value for {fd.id}")
        if assignee:
            raise FieldError(f"User '{ref}' cannot be assigned issues.")
        raise FieldError(f"User '{ref}' does not exist.")
    if assignee and not user.active:
        raise FieldError(f"User '{ref}' cannot be assigned issues.")
    return user


def _parse_labels(raw: Any) -> list[str]:
    out: list[str] = []
    for label in _as_list(raw):
        if not isinstance(label, str):
            raise FieldError(_NOT_STRING)
        _check_label(label)
        if label not in out:
            out.append(label)
    return out


def _check_label(label: str) -> None:
    if not label or any(ch.isspace() for ch in label):
        raise FieldError(f"The label '{label}' contains spaces which is invalid.")
    if len(label) > 255:
        raise FieldError(
            f"The label '{label}' exceeds the maximum length for a single label of 255 characters."
        )


def _parse_sprint(site: SiteBase, raw: Any) -> list[int]:
    """Jira takes one plain sprint id number; objects, lists and strings are refused with
    ``Number value expected as the Sprint id.`` (an ``errorMessages`` entry)."""
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise FieldError("Number value expected as the Sprint id.", general=True)
    sprint = site.sprints.get(raw)
    if sprint is None:
        raise FieldError(f"Sprint with id {raw} does not exist.")
    if sprint.state.value == "closed":
        raise FieldError("Issue can be assigned only active or future sprints.")
    return [raw]


def _issue_ref(site: SiteBase, raw: Any) -> Issue:
    ref = raw.get("key") or raw.get("id") if isinstance(raw, Mapping) else raw
    issue = (
        site.find_issue(ref) if isinstance(ref, str | int) and not isinstance(ref, bool) else None
    )
    if issue is None:
        raise FieldError("Could not find issue by id or key.")
    return issue


def _parse_epic_link(site: SiteBase, raw: Any) -> int:
    issue = _issue_ref(site, raw)
    if site.issue_types[issue.issue_type_id].hierarchy_level != 1:
        raise FieldError(f"Issue '{issue.key}' is not an epic.")
    return issue.id


def _parse_parent(site: SiteBase, raw: Any) -> int:
    return _issue_ref(site, raw).id


def _parse_project(site: SiteBase, raw: Any) -> Project:
    if raw is None:
        raise FieldError(
            "project is required"
            if site.flavour is Flavour.SERVER
            else "Specify a valid project ID or key"
        )
    try:
        which, value = _ref(raw, "id", "key")
    except FieldError:
        which, value = "", ""
    pid = site.projects_by_key.get(value.upper()) if which == "key" else None
    if which == "id" and is_id(value):
        pid = int(value)
    project = site.projects.get(pid) if pid is not None else None
    if project is None:
        raise FieldError(
            "valid project is required"
            if site.flavour is Flavour.SERVER
            else "Specify a valid project ID or key"
        )
    return project


def _parse_issuetype(site: SiteBase, raw: Any, project: Project) -> int:
    server = site.flavour is Flavour.SERVER
    if raw is None:
        raise FieldError("issue type is required" if server else "Specify an issue type")
    try:
        which, value = _ref(raw, "id", "name")
    except FieldError:
        which, value = "", ""
    for tid in project.issue_type_ids:
        it = site.issue_types[tid]
        if (which == "id" and str(it.id) == value) or (which == "name" and it.name == value):
            return it.id
    raise FieldError("valid issue type is required" if server else "Specify a valid issue type")


def _parse_priority(site: SiteBase, raw: Any) -> int:
    which, value = _ref(raw, "id", "name")
    for p in site.priorities.values():
        if (which == "id" and str(p.id) == value) or (which == "name" and p.name == value):
            return p.id
    if site.flavour is Flavour.CLOUD:
        raise FieldError("Specify a valid 'id' or 'name' for Priority")
    if which == "id":
        raise FieldError("The priority selected is invalid.")
    raise FieldError(f"Priority name '{value}' is not valid")


def _parse_resolution(site: SiteBase, raw: Any) -> int:
    which, value = _ref(raw, "id", "name")
    for r in site.resolutions.values():
        if (which == "id" and str(r.id) == value) or (which == "name" and r.name == value):
            return r.id
    if which == "id":
        raise FieldError(f"Resolution with id '{value}' does not exist")
    raise FieldError(f"Resolution name '{value}' is not valid")


def _parse_component(site: SiteBase, raw: Any, project: Project) -> int:
    which, value = _ref(raw, "id", "name")
    for c in site.components.values():
        if c.project_id != project.id:
            continue
        if (which == "id" and str(c.id) == value) or (which == "name" and c.name == value):
            return c.id
    if which == "id":
        raise FieldError(f"Component with id '{value}' does not exist.")
    raise FieldError(f"Component name '{value}' is not valid")


def _parse_version(site: SiteBase, raw: Any, project: Project) -> int:
    which, value = _ref(raw, "id", "name")
    for v in site.versions.values():
        if v.project_id != project.id:
            continue
        if (which == "id" and str(v.id) == value) or (which == "name" and v.name == value):
            return v.id
    if which == "id":
        raise FieldError(f"Version id '{value}' is not valid")
    raise FieldError(f"Version name '{value}' is not valid")


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhm])")
_UNIT = {"w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60}


def parse_duration(raw: Any) -> int:
    """Seconds in a Jira duration such as ``"1w 2d 3h 4m"`` (8 h days, 5 d weeks) or a number
    of minutes. (Jira's own unit rules, so no general duration library applies.)"""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw * 60
    if isinstance(raw, str):
        text = raw.strip()
        if is_id(text):
            return int(text) * 60
        parts = _DURATION.findall(text)
        if parts and _DURATION.sub("", text).strip() == "":
            return int(sum(float(n) * _UNIT[u] for n, u in parts))
    raise FieldError("Invalid time duration entered.")


def _parse_timetracking(raw: Any) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        raise FieldError("expected Object")
    out: dict[str, int] = {}
    if raw.get("originalEstimate") not in (None, ""):
        out["timeoriginalestimate"] = parse_duration(raw["originalEstimate"])
    if raw.get("remainingEstimate") not in (None, ""):
        out["timeestimate"] = parse_duration(raw["remainingEstimate"])
    return out


# -- changelog strings ----------------------------------------------------------------------

_CHANGELOG_NAMES = {
    "components": "Component",
    "fixVersions": "Fix Version",
    "versions": "Version",
    "parent": "Parent",
    "issuelinks": "Link",
    "attachment": "Attachment",
    "worklog": "WorklogId",
}


def changelog_name(site: SiteBase, fd: FieldDef) -> str:
    """The ``field`` of a changelog item: custom fields by name, system fields as Jira names
    them (``status``, ``Component``, ``Fix Version``, ``Parent`` on Cloud is
    ``IssueParentAssociation``)."""
    if fd.custom is not None:
        return fd.name
    if fd.id == "parent" and site.flavour is Flavour.CLOUD:
        return "IssueParentAssociation"
    return _CHANGELOG_NAMES.get(fd.id, fd.id)


def plain_text(value: Any) -> str:
    """Text of a native rich-text value (wiki string as is; ADF text nodes joined), for
    changelog strings."""
    if isinstance(value, str):
        return value
    blocks: list[str] = []

    def walk(node: Any, out: list[str]) -> None:
        if isinstance(node, Mapping):
            if node.get("type") == "text" and isinstance(node.get("text"), str):
                out.append(node["text"])
            elif node.get("type") == "mention":
                attrs = node.get("attrs") or {}
                out.append(str(attrs.get("text") or ""))
            elif node.get("type") == "hardBreak":
                out.append("\n")
            for child in node.get("content") or []:
                walk(child, out)

    if isinstance(value, Mapping):
        for block in value.get("content") or []:
            part: list[str] = []
            walk(block, part)
            blocks.append("".join(part))
    return "\n\n".join(blocks)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def display_value(site: SiteBase, fd: FieldDef, value: Any) -> tuple[str | None, str | None]:
    """``(from/to, fromString/toString)`` for one stored value of ``fd`` (None -> both None)."""
    if value is None:
        return None, None
    kind = field_kind(fd)
    if kind in (FieldKind.STRING,):
        return None, str(value)
    if kind == FieldKind.RICH:
        return None, plain_text(value)
    if kind == FieldKind.NUMBER:
        return None, _num(float(value))
    if kind == FieldKind.DATE:
        return value.isoformat(), f"{value.isoformat()} 00:00:00.0"
    if kind == FieldKind.DATETIME:
        return value.isoformat(), value.strftime("%Y-%m-%d %H:%M:%S.0")
    if kind == FieldKind.OPTION:
        opt = fd.options.get(value)
        return str(value), opt.value if opt else None
    if kind in (FieldKind.OPTIONS, FieldKind.CASCADE):
        names = [fd.options[v].value for v in value if v in fd.options]
        return "[" + ", ".join(str(v) for v in value) + "]", ",".join(names)
    if kind == FieldKind.USER:
        user = site.users.get(value)
        return str(value), user.display_name if user else None
    if kind == FieldKind.USERS:
        names = [site.users[k].display_name for k in value if k in site.users]
        return ", ".join(value), ", ".join(names)
    if kind == FieldKind.LABELS:
        return None, " ".join(value)
    if kind == FieldKind.SPRINT:
        names = [site.sprints[s].name for s in value if s in site.sprints]
        return ", ".join(str(s) for s in value), ", ".join(names)
    if kind in (FieldKind.EPIC_LINK, FieldKind.PARENT):
        issue = site.issues.get(value)
        return str(value), issue.key if issue else None
    if kind == FieldKind.PROJECT:
        return str(value), site.projects[value].name if value in site.projects else None
    if kind == FieldKind.ISSUETYPE:
        return str(value), site.issue_types[value].name if value in site.issue_types else None
    if kind == FieldKind.PRIORITY:
        return str(value), site.priorities[value].name if value in site.priorities else None
    if kind == FieldKind.RESOLUTION:
        return str(value), site.resolutions[value].name if value in site.resolutions else None
    if kind == FieldKind.STATUS:
        return str(value), site.statuses[value].name if value in site.statuses else None
    if kind == FieldKind.COMPONENTS:
        return str(value), site.components[value].name if value in site.components else None
    if kind == FieldKind.VERSIONS:
        return str(value), site.versions[value].name if value in site.versions else None
    return None, str(value)
