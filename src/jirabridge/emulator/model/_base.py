"""The stores of a site and the lookups every part of the model shares."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from jirabridge.emulator.model._clock import Clock
from jirabridge.emulator.model._defaults import AgileFieldIds
from jirabridge.emulator.model._errors import ISSUE_NOT_FOUND, NotFound, ValidationFailed
from jirabridge.emulator.model._events import DomainEvent, EventListener
from jirabridge.emulator.model._ids import IdSource, is_id
from jirabridge.emulator.model._records import (
    Attachment,
    Board,
    ChangeHistory,
    ChangeItem,
    Comment,
    Component,
    FieldConfiguration,
    FieldDef,
    Flavour,
    Group,
    Issue,
    IssueLink,
    IssueLinkType,
    IssueType,
    Priority,
    Project,
    RemoteLink,
    Resolution,
    Sprint,
    Status,
    User,
    Version,
    Workflow,
    Worklog,
)

__all__ = ["SiteBase"]

_log = logging.getLogger("jirabridge.emulator.model")


class SiteBase:
    """All stores (plain dicts keyed by id) plus shared lookups; see :class:`Site` for the API."""

    flavour: Flavour
    clock: Clock
    ids: IdSource
    agile: AgileFieldIds

    def _init_stores(self) -> None:
        self.users: dict[str, User] = {}
        self.users_by_name: dict[str, str] = {}  # lower-case username or email -> key
        self.groups: dict[str, Group] = {}
        self.projects: dict[int, Project] = {}
        self.projects_by_key: dict[str, int] = {}
        self.components: dict[int, Component] = {}
        self.versions: dict[int, Version] = {}
        self.issue_types: dict[int, IssueType] = {}
        self.priorities: dict[int, Priority] = {}
        self.statuses: dict[int, Status] = {}
        self.resolutions: dict[int, Resolution] = {}
        self.workflows: dict[str, Workflow] = {}
        self.fields: dict[str, FieldDef] = {}
        self.field_configs: dict[tuple[int, int | None], FieldConfiguration] = {}
        self.default_field_config: FieldConfiguration = FieldConfiguration([], [])
        self.issues: dict[int, Issue] = {}
        self.issues_by_key: dict[str, int] = {}
        self.moved_keys: dict[str, int] = {}  # old key -> issue id (after a move)
        self.issues_by_project: dict[int, dict[int, None]] = {}  # ordered set of issue ids
        self.subtasks: dict[int, dict[int, None]] = {}  # parent id -> sub-task ids
        self.comments: dict[int, Comment] = {}
        self.comments_by_issue: dict[int, list[int]] = {}
        self.changelog: dict[int, list[ChangeHistory]] = {}  # issue id -> histories
        self.link_types: dict[int, IssueLinkType] = {}
        self.links: dict[int, IssueLink] = {}
        self.links_by_issue: dict[int, list[int]] = {}
        self.remote_links: dict[int, RemoteLink] = {}
        self.remote_links_by_issue: dict[int, list[int]] = {}
        self.attachments: dict[int, Attachment] = {}
        self.attachments_by_issue: dict[int, list[int]] = {}
        self._media_index: dict[str, int] = {}  # Cloud media id -> attachment id (a cache)
        self.worklogs: dict[int, Worklog] = {}
        self.worklogs_by_issue: dict[int, list[int]] = {}
        self.boards: dict[int, Board] = {}
        self.sprints: dict[int, Sprint] = {}
        self.properties: dict[str, dict[str, Any]] = {}  # "user:<key>" etc. -> properties
        self.next_rank: int = 1 << 20
        self._listeners: list[EventListener] = []

    # -- events -----------------------------------------------------------------------------

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener(event)`` after every change; returns a function that unsubscribes.

        Listeners run synchronously inside the mutating call; an exception in a listener is
        logged and swallowed so it can never undo or half-apply a change."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, event: DomainEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                _log.exception("event listener failed on %s", type(event).__name__)

    def now(self) -> datetime:
        return self.clock.now()

    # -- lookups ----------------------------------------------------------------------------

    def get_user(self, ref: str) -> User:
        """A user by key (Server key / Cloud accountId), username or email (any case)."""
        user = self.find_user(ref)
        if user is None:
            raise NotFound(
                f"The user with the key '{ref}' does not exist"
                if self.flavour is Flavour.SERVER
                else f"Specified user does not exist or you do not have required permissions: {ref}"
            )
        return user

    def find_user(self, ref: str) -> User | None:
        user = self.users.get(ref)
        if user is not None:
            return user
        key = self.users_by_name.get(ref.lower())
        return self.users.get(key) if key is not None else None

    def get_project(self, ref: int | str) -> Project:
        """A project by id (int or digits) or key (any case)."""
        pid: int | None
        if isinstance(ref, int):
            pid = ref
        elif is_id(ref):
            pid = int(ref)
        else:
            pid = self.projects_by_key.get(ref.upper())
        project = self.projects.get(pid) if pid is not None else None
        if project is None:
            raise NotFound(f"No project could be found with key '{ref}'.")
        return project

    def get_issue(self, ref: int | str) -> Issue:
        """An issue by id (int or digits) or key (any case; old keys of moved issues work)."""
        issue = self.find_issue(ref)
        if issue is None:
            raise NotFound(ISSUE_NOT_FOUND)
        return issue

    def find_issue(self, ref: int | str) -> Issue | None:
        if isinstance(ref, int):
            return self.issues.get(ref)
        if is_id(ref):
            return self.issues.get(int(ref))
        up = ref.upper()
        iid = self.issues_by_key.get(up)
        if iid is None:
            iid = self.moved_keys.get(up)
        return self.issues.get(iid) if iid is not None else None

    def get_field(self, field_id: str) -> FieldDef:
        fd = self.fields.get(field_id)
        if fd is None:
            raise NotFound(f"Field '{field_id}' does not exist.")
        return fd

    def is_admin(self, user_key: str) -> bool:
        """Jira administrators: Server ``jira-administrators``; Cloud ``site-admins`` or
        ``jira-admins``."""
        for name in ("jira-administrators", "site-admins", "jira-admins"):
            group = self.groups.get(name)
            if group is not None and user_key in group.members:
                return True
        return False

    def in_group(self, user_key: str, group_name: str) -> bool:
        group = self.groups.get(group_name)
        return group is not None and user_key in group.members

    def in_role(self, user_key: str, project_id: int, role: str) -> bool:
        project = self.projects.get(project_id)
        if project is None:
            return False
        members = project.roles.get(role)
        if members is None:
            return False
        if user_key in members:
            return True
        return any(self.in_group(user_key, m[6:]) for m in members if m.startswith("group:"))

    def _actor(self, actor_key: str) -> User:
        user = self.find_user(actor_key)
        if user is None:
            raise ValidationFailed(f"The acting user '{actor_key}' does not exist.")
        return user

    # -- changelog --------------------------------------------------------------------------

    def _record(self, issue: Issue, actor_key: str, items: list[ChangeItem]) -> ChangeHistory:
        history = ChangeHistory(
            id=self.ids.next("changelog"),
            issue_id=issue.id,
            author_key=actor_key,
            created=self.now(),
            items=items,
        )
        self.changelog.setdefault(issue.id, []).append(history)
        return history
