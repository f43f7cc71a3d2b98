"""The :class:`Site`: the whole state of one emulated Jira site."""

from __future__ import annotations

import os
from typing import Any

from jirabridge.emulator.model._agile import AgileMixin
from jirabridge.emulator.model._clock import Clock
from jirabridge.emulator.model._defaults import (
    agile_field_ids,
    default_fields,
    default_issue_types,
    default_link_types,
    default_priorities,
    default_resolutions,
    default_statuses,
    default_workflows,
)
from jirabridge.emulator.model._errors import StateFileError, enum_value
from jirabridge.emulator.model._ids import IdSource
from jirabridge.emulator.model._persist import (
    dump_state,
    load_state_file,
    peek_flavour,
    restore_state,
    write_state_file,
)
from jirabridge.emulator.model._records import FieldConfiguration, Flavour

__all__ = ["DEFAULT_ADMIN_EMAIL", "DEFAULT_ADMIN_PASSWORD", "Site"]

DEFAULT_ADMIN_EMAIL = "admin@jirabridge.test"
DEFAULT_ADMIN_PASSWORD = "admin"  # noqa: S105 - the emulator's documented default login

_SERVER_GROUPS = ("jira-administrators", "jira-software-users", "jira-users")
_CLOUD_GROUPS = ("site-admins", "jira-admins", "jira-software-users", "jira-users")


class Site(AgileMixin):
    """One emulated Jira site of one :class:`Flavour`.

    Reading: the stores are public dicts (``site.issues[id]``, ``site.users[key]``, ...) plus
    ``get_*`` lookups that raise :class:`NotFound`. Writing: only through methods, which take
    the acting user's key first, validate (raising :class:`ModelError` subclasses with Jira's
    messages), record changelog and emit events to :meth:`subscribe` listeners.

    A fresh site holds Jira's shipped configuration (statuses, priorities, resolutions, issue
    types, link types, the classic and simplified workflows, system and agile fields) and
    the default administrator: Server ``admin``/``admin`` (key ``admin``), Cloud
    ``admin@jirabridge.test`` with API token ``admin``.

    API map (``actor`` is the acting user's key; ``ref`` an id or key):

    * users: ``create_user``, ``update_user``, ``set_user_active``, ``get_user``/``find_user``
      (key, username or email), ``create_group``, ``add_to_group``, ``user_groups``,
      ``add_role_member``, ``is_admin``, ``can_browse``; credentials ``check_password``,
      ``check_api_token``, ``create_api_token``, ``create_personal_token``,
      ``user_for_personal_token``.
    * configuration: ``create_project``, ``update_project``, ``delete_project``,
      ``create_component``/``update_component``/``delete_component``, ``create_version``/
      ``update_version``/``delete_version``,
      ``create_custom_field``, ``add_field_option``, ``set_field_configuration``,
      ``create_fields_for``/``edit_fields_for``/``required_fields_for``/``default_value``,
      ``create_status``, ``create_workflow``, ``set_workflow``, ``workflow_for``,
      ``create_issue_type``, ``project_issue_types``, ``project_components``,
      ``project_versions``.
    * issues: ``create_issue(actor, fields, update, properties=)``, ``edit_issue``,
      ``assign_issue``, ``available_transitions``, ``transition_issue``, ``move_issue``,
      ``delete_issue``, ``issue_changelog``, ``issue_subtasks``, ``project_issues``,
      ``change_items`` (changelog items for a value change).
    * around issues: ``add_comment``/``update_comment``/``delete_comment``/
      ``issue_comments(ref, viewer_key=)``, ``can_see``, ``add_worklog``/``update_worklog``/
      ``delete_worklog``, ``add_attachment``/``delete_attachment``, ``create_link``/
      ``delete_link``/``issue_links``, ``add_remote_link``/``delete_remote_link``,
      ``set_property``/``get_property``/``property_keys``/``delete_property`` (entity
      issue|comment|worklog|project|user), ``add_watcher``, ``vote``.
    * agile: ``create_board``, ``create_sprint``/``update_sprint``/``start_sprint``/
      ``close_sprint``/``delete_sprint``, ``move_to_sprint``/``move_to_backlog`` (<= 50),
      ``sprint_issues``, ``backlog_issues``, ``current_sprint``, ``rank_issues``,
      ``lexo_rank``, ``epic_of``, ``epic_issues``, ``set_epic``, ``set_epic_done``.
    * site: ``subscribe``, ``reset``, ``save``/``load``/``load_into``, ``to_state``/``restore``,
      ``clock``, ``now``, ``admin_key``, ``agile`` (the flavour's agile field ids).
    """

    def __init__(
        self, flavour: Flavour | str, *, seed: int = 1, clock: Clock | None = None
    ) -> None:
        self.flavour = enum_value(Flavour, flavour, "flavour")
        self.clock = clock or Clock()
        self.seed = seed
        self._init_stores()
        self._bootstrap(seed)

    @property
    def admin_key(self) -> str:
        """Key of the default administrator."""
        return self._admin_key

    def reset(self, *, seed: int | None = None) -> None:
        """Back to a fresh site (same flavour, clock and listeners; ``seed`` if given)."""
        listeners = list(self._listeners)
        if seed is not None:
            self.seed = seed
        self._init_stores()
        self._listeners = listeners
        self._bootstrap(self.seed)

    # -- persistence ------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the whole state to ``path`` (gzip JSON, versioned; written atomically)."""
        write_state_file(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, clock: Clock | None = None) -> Site:
        """A site read from a file written by :meth:`save`; :class:`StateFileError` if the
        file is not one, is corrupt or comes from a newer version."""
        flavour = peek_flavour(path)
        if flavour not in {f.value for f in Flavour}:
            raise StateFileError(f"The state file holds an unknown flavour '{flavour}'.")
        site = cls(Flavour(flavour), clock=clock)
        load_state_file(site, path)
        return site

    def load_into(self, path: str | os.PathLike[str]) -> None:
        """Replace this site's state with a file's (listeners and clock stay); all or nothing."""
        load_state_file(self, path)

    def to_state(self) -> dict[str, Any]:
        """The whole state as JSON-ready data (what :meth:`save` writes)."""
        return dump_state(self)

    def restore(self, state: Any) -> None:
        """Replace this site's state with :meth:`to_state` data; all or nothing."""
        restore_state(self, state)

    def _bootstrap(self, seed: int) -> None:
        self.ids = IdSource(seed)
        self.agile = agile_field_ids(self.flavour)
        for st in default_statuses():
            self.statuses[st.id] = st
        for p in default_priorities():
            self.priorities[p.id] = p
        for r in default_resolutions():
            self.resolutions[r.id] = r
        for it in default_issue_types(self.flavour):
            self.issue_types[it.id] = it
        for lt in default_link_types():
            self.link_types[lt.id] = lt
        for wf in default_workflows():
            self.workflows[wf.name] = wf
        for fd in default_fields(self.flavour):
            self.fields[fd.id] = fd
            if fd.custom_id is not None:
                self.ids.bump("customfield", fd.custom_id)
        for oid in (o for fd in self.fields.values() for o in fd.options):
            self.ids.bump("option", oid)
        for lt_id in self.link_types:
            self.ids.bump("linktype", lt_id)
        server = self.flavour is Flavour.SERVER
        for name in _SERVER_GROUPS if server else _CLOUD_GROUPS:
            self.create_group(name)
        if server:
            admin = self.create_user(
                "Administrator",
                name="admin",
                key="admin",
                email=DEFAULT_ADMIN_EMAIL,
                password=DEFAULT_ADMIN_PASSWORD,
                groups=_SERVER_GROUPS,
            )
        else:
            admin = self.create_user(
                "Administrator",
                email=DEFAULT_ADMIN_EMAIL,
                password=DEFAULT_ADMIN_PASSWORD,
                api_token=DEFAULT_ADMIN_PASSWORD,
                groups=_CLOUD_GROUPS,
            )
        self._admin_key = admin.key
        a = self.agile
        create = [
            "project",
            "issuetype",
            "summary",
            "reporter",
            "components",
            "description",
            "fixVersions",
            "versions",
            "priority",
            "labels",
            "environment",
            "duedate",
            "assignee",
            "attachment" if not server else "timetracking",
            "issuelinks",
            a.epic_name,
            a.epic_link,
            a.sprint,
            a.story_points,
            "parent",
        ]
        fields = [f for f in create if f is not None]
        edit = [f for f in fields if f != "project"]
        self.default_field_config = FieldConfiguration(
            create_fields=fields,
            edit_fields=edit,
            required={"summary", "issuetype", "project", "reporter"},
        )
