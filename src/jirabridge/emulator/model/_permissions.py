"""Permissions as ``GET /mypermissions`` reports them, and a way for tests to take one away.

The emulator's permission scheme grants every project permission to every active user in
every project, and the global ones to everyone but ``ADMINISTER`` / ``SYSTEM_ADMIN`` (Jira
administrators only). :func:`deny_permissions` takes project permissions away from one user
in one project (kept on :attr:`Project.denied`, so it is saved, loaded and cleared by a
reset like the rest of the site); :func:`has_permission` is what ``/mypermissions`` answers
and what :meth:`Site.can_browse` consults for ``BROWSE_PROJECTS``. Other operations do not
enforce a denial (yet): it makes ``jirabridge check`` see a missing permission.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from jirabridge.emulator.model._errors import NotFound, ValidationFailed

if TYPE_CHECKING:
    from jirabridge.emulator.model._records import Project
    from jirabridge.emulator.model._site import Site

__all__ = [
    "PERMISSIONS",
    "PermissionInfo",
    "deny_permissions",
    "has_permission",
    "permission_info",
    "restore_permissions",
]


@dataclass(frozen=True, slots=True)
class PermissionInfo:
    id: str
    key: str
    name: str
    description: str
    type: Literal["GLOBAL", "PROJECT"]


def _project(id_: int, key: str, name: str, description: str) -> PermissionInfo:
    return PermissionInfo(str(id_), key, name, description, "PROJECT")


def _global(id_: int, key: str, name: str, description: str) -> PermissionInfo:
    return PermissionInfo(str(id_), key, name, description, "GLOBAL")


PERMISSIONS: dict[str, PermissionInfo] = {
    p.key: p
    for p in (
        _global(0, "ADMINISTER", "Administer Jira", "Create and administer projects."),
        _global(44, "SYSTEM_ADMIN", "Administer Jira", "Ability to perform all admin tasks."),
        _global(27, "USER_PICKER", "Browse users and groups", "View and select users."),
        _global(22, "CREATE_SHARED_OBJECTS", "Share dashboards and filters", "Share them."),
        _global(33, "BULK_CHANGE", "Make bulk changes", "Modify collections of issues."),
        _project(10, "BROWSE_PROJECTS", "Browse Projects", "Ability to browse projects."),
        _project(11, "CREATE_ISSUES", "Create Issues", "Ability to create issues."),
        _project(12, "EDIT_ISSUES", "Edit Issues", "Ability to edit issues."),
        _project(13, "ASSIGN_ISSUES", "Assign Issues", "Ability to assign issues."),
        _project(14, "RESOLVE_ISSUES", "Resolve Issues", "Ability to resolve issues."),
        _project(15, "ADD_COMMENTS", "Add Comments", "Ability to comment on issues."),
        _project(16, "DELETE_ISSUES", "Delete Issues", "Ability to delete issues."),
        _project(17, "ASSIGNABLE_USER", "Assignable User", "Can be assigned issues."),
        _project(18, "CLOSE_ISSUES", "Close Issues", "Ability to close issues."),
        _project(19, "CREATE_ATTACHMENTS", "Create Attachments", "Ability to attach files."),
        _project(20, "WORK_ON_ISSUES", "Work On Issues", "Ability to log work."),
        _project(21, "LINK_ISSUES", "Link Issues", "Ability to link issues."),
        _project(23, "ADMINISTER_PROJECTS", "Administer Projects", "Administer the project."),
        _project(25, "MOVE_ISSUES", "Move Issues", "Ability to move issues."),
        _project(26, "SET_ISSUE_SECURITY", "Set Issue Security", "Set the security level."),
        _project(28, "SCHEDULE_ISSUES", "Schedule Issues", "Set due dates and sprints."),
        _project(30, "MODIFY_REPORTER", "Modify Reporter", "Change the reporter."),
        _project(31, "VIEW_VOTERS_AND_WATCHERS", "View Voters and Watchers", "See them."),
        _project(32, "MANAGE_WATCHERS", "Manage Watchers", "Manage the watcher list."),
        _project(34, "EDIT_ALL_COMMENTS", "Edit All Comments", "Edit any comment."),
        _project(35, "EDIT_OWN_COMMENTS", "Edit Own Comments", "Edit own comments."),
        _project(36, "DELETE_ALL_COMMENTS", "Delete All Comments", "Delete any comment."),
        _project(37, "DELETE_OWN_COMMENTS", "Delete Own Comments", "Delete own comments."),
        _project(38, "DELETE_ALL_ATTACHMENTS", "Delete All Attachments", "Delete any."),
        _project(39, "DELETE_OWN_ATTACHMENTS", "Delete Own Attachments", "Delete own."),
        _project(40, "EDIT_OWN_WORKLOGS", "Edit Own Worklogs", "Edit own worklogs."),
        _project(41, "EDIT_ALL_WORKLOGS", "Edit All Worklogs", "Edit any worklog."),
        _project(42, "DELETE_OWN_WORKLOGS", "Delete Own Worklogs", "Delete own worklogs."),
        _project(43, "DELETE_ALL_WORKLOGS", "Delete All Worklogs", "Delete any worklog."),
        _project(46, "TRANSITION_ISSUES", "Transition Issues", "Ability to transition issues."),
    )
}


def permission_info(key: str) -> PermissionInfo:
    """The permission ``key`` names; :class:`ValidationFailed` for a key Jira does not know."""
    info = PERMISSIONS.get(key)
    if info is None:
        raise ValidationFailed(f"Permission key '{key}' does not exist.")
    return info


def has_permission(site: Site, user_key: str, key: str, project: Project | None) -> bool:
    """Whether the user holds ``key``: in ``project``, or (None) in any project / globally."""
    info = permission_info(key)
    user = site.find_user(user_key)
    if user is None or not user.active:
        return False
    if info.type == "GLOBAL":
        return key not in ("ADMINISTER", "SYSTEM_ADMIN") or site.is_admin(user.key)
    projects = [project] if project is not None else list(site.projects.values())
    return any(key not in p.denied.get(user.key, ()) for p in projects)


def _target(site: Site, project_ref: str, user_ref: str) -> tuple[Project, str]:
    project = site.get_project(project_ref)
    user = site.find_user(user_ref)
    if user is None:
        raise NotFound(f"The user '{user_ref}' does not exist.")
    return project, user.key


def _project_keys(keys: Iterable[str]) -> set[str]:
    wanted = set(keys)
    for key in wanted:
        if permission_info(key).type != "PROJECT":
            raise ValidationFailed(f"'{key}' is a global permission, not a project one.")
    return wanted


def deny_permissions(
    site: Site, project_ref: str, user_ref: str, keys: Iterable[str]
) -> frozenset[str]:
    """Take project permissions away from a user (key, name or e-mail) in one project;
    returns everything now denied to them there. An unknown or a global key is refused
    (:class:`ValidationFailed`) and nothing changes."""
    project, user_key = _target(site, project_ref, user_ref)
    wanted = _project_keys(keys)
    denied = project.denied.setdefault(user_key, set())
    denied.update(wanted)
    return frozenset(denied)


def restore_permissions(
    site: Site, project_ref: str, user_ref: str, keys: Iterable[str] | None = None
) -> frozenset[str]:
    """Give back denied permissions (``None``: all of them); returns what is still denied."""
    project, user_key = _target(site, project_ref, user_ref)
    denied = project.denied.get(user_key, set())
    if keys is None:
        denied.clear()
    else:
        denied.difference_update(_project_keys(keys))
    if not denied:
        project.denied.pop(user_key, None)
    return frozenset(denied)
