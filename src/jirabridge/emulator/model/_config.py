"""Site configuration: projects, components, versions, custom fields and options, field
configurations (screens, required flags, defaults) and workflow schemes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from jirabridge.emulator.model._directory import DirectoryMixin
from jirabridge.emulator.model._errors import NotFound, ValidationFailed
from jirabridge.emulator.model._ids import by_id
from jirabridge.emulator.model._records import (
    Component,
    FieldConfiguration,
    FieldDef,
    FieldOption,
    Flavour,
    IssueType,
    Project,
    Status,
    StatusCategory,
    Transition,
    Version,
    Workflow,
)

__all__ = ["ConfigMixin"]

_CT = "com.atlassian.jira.plugin.system.customfieldtypes:"

_CUSTOM_SCHEMAS: dict[str, tuple[str, str | None]] = {
    "textfield": ("string", None),
    "textarea": ("string", None),
    "url": ("string", None),
    "float": ("number", None),
    "datepicker": ("date", None),
    "datetime": ("datetime", None),
    "select": ("option", None),
    "radiobuttons": ("option", None),
    "multiselect": ("array", "option"),
    "multicheckboxes": ("array", "option"),
    "cascadingselect": ("option-with-child", None),
    "userpicker": ("user", None),
    "multiuserpicker": ("array", "user"),
    "labels": ("array", "string"),
}


class ConfigMixin(DirectoryMixin):
    # -- projects ---------------------------------------------------------------------------

    def create_project(
        self,
        key: str,
        name: str,
        lead_key: str,
        *,
        project_type: str = "software",
        description: str = "",
        workflow: str = "simplified",
        issue_type_names: Sequence[str] | None = None,
        project_id: int | None = None,
    ) -> Project:
        """Add a project using ``workflow`` ("classic" or "simplified") for all issue types.
        The lead joins the Administrators role; jira users join Users."""
        errors: dict[str, str] = {}
        if not key or not key.isalnum() or not key[0].isalpha() or not key.isupper():
            errors["projectKey"] = (
                "Project keys must start with an uppercase letter, followed by one or more "
                "uppercase alphanumeric characters."
            )
        elif key in self.projects_by_key:
            errors["projectKey"] = (
                f"Project '{self.projects[self.projects_by_key[key]].name}' uses this project key."
            )
        if not name:
            errors["projectName"] = "You must specify a valid project name."
        elif any(p.name == name for p in self.projects.values()):
            errors["projectName"] = "A project with that name already exists."
        lead = self.find_user(lead_key)
        if lead is None:
            errors["projectLead"] = "The project lead specified does not exist."
        if workflow not in self.workflows:
            errors["workflowScheme"] = f"Workflow '{workflow}' does not exist."
        if errors:
            raise ValidationFailed(errors=errors)
        assert lead is not None
        names = issue_type_names or [it.name for it in self.issue_types.values()]
        type_ids = [it.id for it in self.issue_types.values() if it.name in names]
        pid = project_id if project_id is not None else self.ids.next("project")
        self.ids.bump("project", pid)
        project = Project(
            id=pid,
            key=key,
            name=name,
            lead_key=lead.key,
            project_type=project_type,
            description=description,
            default_workflow=workflow,
            issue_type_ids=type_ids,
            roles={"Administrators": {lead.key}, "Developers": set(), "Users": set()},
        )
        users_group = (
            "jira-software-users" if "jira-software-users" in self.groups else "jira-users"
        )
        project.roles["Users"].add(f"group:{users_group}")
        admin_group = "jira-administrators" if self.flavour is Flavour.SERVER else "jira-admins"
        project.roles["Administrators"].add(f"group:{admin_group}")
        self.projects[pid] = project
        self.projects_by_key[key] = pid
        self.issues_by_project[pid] = {}
        return project

    def workflow_for(self, project_id: int, issue_type_id: int) -> Workflow:
        project = self.projects[project_id]
        name = project.workflow_scheme.get(issue_type_id, project.default_workflow)
        return self.workflows[name]

    def create_status(
        self, name: str, category: StatusCategory, *, description: str = ""
    ) -> Status:
        """Add a status (ids from 10002 up, after the shipped To Do/Done)."""
        if not name or any(st.name.lower() == name.lower() for st in self.statuses.values()):
            raise ValidationFailed(errors={"name": "A status with this name already exists."})
        self.ids.bump("status", max(self.statuses))
        status = Status(self.ids.next("status"), name, category, description)
        self.statuses[status.id] = status
        return status

    def create_workflow(
        self,
        name: str,
        initial_status_id: int,
        transitions: Sequence[Transition],
        *,
        description: str = "",
    ) -> Workflow:
        """Add a workflow. Statuses are the initial one plus every transition target and
        source; transition ids must be unique; all statuses must exist."""
        errors: dict[str, str] = {}
        if not name or name in self.workflows:
            errors["name"] = f"A workflow with the name '{name}' already exists."
        status_ids = [initial_status_id]
        for t in transitions:
            for sid in (*t.from_status_ids, t.to_status_id):
                if sid not in status_ids:
                    status_ids.append(sid)
        missing = [sid for sid in status_ids if sid not in self.statuses]
        if missing:
            errors["statuses"] = f"Statuses {missing} do not exist."
        if len({t.id for t in transitions}) != len(transitions):
            errors["transitions"] = "Transition ids must be unique in a workflow."
        if errors:
            raise ValidationFailed(errors=errors)
        workflow = Workflow(name, description, initial_status_id, status_ids, list(transitions))
        self.workflows[name] = workflow
        return workflow

    def create_issue_type(
        self,
        name: str,
        *,
        subtask: bool = False,
        hierarchy_level: int | None = None,
        description: str = "",
        projects: Sequence[int | str] = (),
    ) -> IssueType:
        """Add an issue type and offer it in ``projects`` (all projects when empty)."""
        if not name or any(it.name == name for it in self.issue_types.values()):
            raise ValidationFailed(errors={"name": "An issue type with this name already exists."})
        self.ids.bump("issuetype", max(self.issue_types))
        level = hierarchy_level if hierarchy_level is not None else (-1 if subtask else 0)
        itype = IssueType(
            self.ids.next("issuetype"),
            name,
            description,
            subtask,
            level,
            "subtask" if subtask else "task",
        )
        self.issue_types[itype.id] = itype
        targets = [self.get_project(p) for p in projects] or list(self.projects.values())
        for project in targets:
            project.issue_type_ids.append(itype.id)
        return itype

    def set_workflow(
        self, project_ref: int | str, workflow: str, issue_type_id: int | None = None
    ) -> None:
        """Assign ``workflow`` to one issue type of the project (or make it the default)."""
        project = self.get_project(project_ref)
        if workflow not in self.workflows:
            raise NotFound(f"Workflow '{workflow}' does not exist.")
        if issue_type_id is None:
            project.default_workflow = workflow
        else:
            project.workflow_scheme[issue_type_id] = workflow

    def project_issue_types(self, project_ref: int | str) -> list[IssueType]:
        project = self.get_project(project_ref)
        return [self.issue_types[t] for t in project.issue_type_ids]

    def issue_type_by_name(self, name: str) -> IssueType:
        for it in self.issue_types.values():
            if it.name == name:
                return it
        raise NotFound(f"Issue type '{name}' does not exist.")

    def create_component(
        self,
        project_ref: int | str,
        name: str,
        *,
        description: str = "",
        lead_key: str | None = None,
    ) -> Component:
        project = self.get_project(project_ref)
        if not name:
            raise ValidationFailed(errors={"name": "The component name specified is invalid."})
        if any(c.project_id == project.id and c.name == name for c in self.components.values()):
            raise ValidationFailed(
                errors={
                    "name": "A component with the name " + name + " already exists in this project."
                }
            )
        comp = Component(self.ids.next("component"), project.id, name, description, lead_key)
        self.components[comp.id] = comp
        return comp

    def get_component(self, component_id: int | str) -> Component:
        comp = by_id(self.components, component_id)
        if comp is None:
            raise NotFound(f"The component with id {component_id} does not exist.")
        return comp

    def update_component(
        self,
        component_id: int | str,
        *,
        name: str | None = None,
        description: str | None = None,
        lead_key: str | None = None,
    ) -> Component:
        comp = self.get_component(component_id)
        if name is not None:
            if not name or any(
                c.project_id == comp.project_id and c.name == name and c.id != comp.id
                for c in self.components.values()
            ):
                raise ValidationFailed(errors={"name": "The component name specified is invalid."})
            comp.name = name
        if description is not None:
            comp.description = description
        if lead_key is not None:
            comp.lead_key = self.get_user(lead_key).key
        return comp

    def delete_component(self, component_id: int | str) -> Component:
        """Delete a component and take it off every issue (no history, as Jira)."""
        comp = self.get_component(component_id)
        del self.components[comp.id]
        self._drop_value("components", comp.project_id, comp.id)
        return comp

    def delete_version(self, version_id: int | str) -> Version:
        """Delete a version and take it off every issue's fix and affects versions."""
        version = by_id(self.versions, version_id)
        if version is None:
            raise NotFound(f"Could not find version for id '{version_id}'")
        del self.versions[version.id]
        for fid in ("fixVersions", "versions"):
            self._drop_value(fid, version.project_id, version.id)
        return version

    def _drop_value(self, field_id: str, project_id: int, value: int) -> None:
        for iid in self.issues_by_project.get(project_id, ()):
            fields = self.issues[iid].fields
            current = fields.get(field_id)
            if current and value in current:
                rest = [v for v in current if v != value]
                if rest:
                    fields[field_id] = rest
                else:
                    del fields[field_id]

    def project_components(self, project_ref: int | str) -> list[Component]:
        project = self.get_project(project_ref)
        return [c for c in self.components.values() if c.project_id == project.id]

    def create_version(
        self,
        project_ref: int | str,
        name: str,
        *,
        description: str = "",
        released: bool = False,
        archived: bool = False,
        release_date: date | None = None,
        start_date: date | None = None,
    ) -> Version:
        project = self.get_project(project_ref)
        if not name:
            raise ValidationFailed(errors={"name": "You must specify a valid version name"})
        if any(v.project_id == project.id and v.name == name for v in self.versions.values()):
            raise ValidationFailed(
                errors={"name": "A version with this name already exists in this project."}
            )
        version = Version(
            self.ids.next("version"),
            project.id,
            name,
            description,
            released,
            archived,
            release_date,
            start_date,
        )
        self.versions[version.id] = version
        return version

    def update_version(self, version_id: int, **changes: Any) -> Version:
        version = self.versions.get(version_id)
        if version is None:
            raise NotFound(f"Could not find version for id '{version_id}'")
        for attr, value in changes.items():
            if attr not in (
                "name",
                "description",
                "released",
                "archived",
                "release_date",
                "start_date",
            ):
                raise ValidationFailed(f"Unknown version attribute '{attr}'")
            setattr(version, attr, value)
        return version

    def project_versions(self, project_ref: int | str) -> list[Version]:
        project = self.get_project(project_ref)
        return [v for v in self.versions.values() if v.project_id == project.id]

    # -- fields -----------------------------------------------------------------------------

    def create_custom_field(
        self,
        name: str,
        type_key: str,
        *,
        options: Iterable[str] = (),
        field_id: str | None = None,
        on_screens: bool = True,
        description: str = "",
    ) -> FieldDef:
        """Add a custom field. ``type_key`` is Jira's full key or the short name after
        ``customfieldtypes:`` (textfield, textarea, float, datepicker, datetime, select,
        radiobuttons, multiselect, multicheckboxes, cascadingselect, userpicker,
        multiuserpicker, labels, url). ``on_screens`` adds it to the default create/edit
        screens."""
        short = type_key.rsplit(":", 1)[-1]
        if short not in _CUSTOM_SCHEMAS:
            raise ValidationFailed(
                errors={"type": f"Custom field type '{type_key}' is not supported."}
            )
        schema_type, items = _CUSTOM_SCHEMAS[short]
        if field_id is None:
            cid = self.ids.next("customfield")
            while f"customfield_{cid}" in self.fields:
                cid = self.ids.next("customfield")
            field_id = f"customfield_{cid}"
        else:
            cid = int(field_id.rsplit("_", 1)[1])
            if field_id in self.fields:
                raise ValidationFailed(errors={"id": f"Field '{field_id}' already exists."})
        fd = FieldDef(
            id=field_id,
            name=name,
            schema_type=schema_type,
            items=items,
            custom=_CT + short,
            custom_id=cid,
            flavours=(self.flavour,),
            description=description,
        )
        self.fields[field_id] = fd
        for value in options:
            self.add_field_option(field_id, value)
        if on_screens:
            self.default_field_config.create_fields.append(field_id)
            self.default_field_config.edit_fields.append(field_id)
        return fd

    def add_field_option(
        self, field_id: str, value: str, *, parent_id: int | None = None, disabled: bool = False
    ) -> FieldOption:
        fd = self.get_field(field_id)
        if any(o.value == value and o.parent_id == parent_id for o in fd.options.values()):
            raise ValidationFailed(f"The option '{value}' already exists.")
        opt = FieldOption(self.ids.next("option"), value, disabled, parent_id)
        fd.options[opt.id] = opt
        return opt

    def field_configuration(self, project_id: int, issue_type_id: int) -> FieldConfiguration:
        """The screens, required flags and defaults for one project and issue type."""
        return (
            self.field_configs.get((project_id, issue_type_id))
            or self.field_configs.get((project_id, None))
            or self.default_field_config
        )

    def set_field_configuration(
        self, project_ref: int | str, config: FieldConfiguration, issue_type_id: int | None = None
    ) -> None:
        project = self.get_project(project_ref)
        for fid in [*config.create_fields, *config.edit_fields]:
            if fid not in self.fields:
                raise ValidationFailed(errors={fid: f"Field '{fid}' does not exist."})
        self.field_configs[(project.id, issue_type_id)] = config

    def create_fields_for(self, project_id: int, issue_type_id: int) -> list[str]:
        """Field ids on the create screen of this project/issue type (flavour rules applied:
        Epic Name only for epics, Epic Link and parent by hierarchy)."""
        return self._screen(project_id, issue_type_id, create=True)

    def edit_fields_for(self, project_id: int, issue_type_id: int) -> list[str]:
        return self._screen(project_id, issue_type_id, create=False)

    def required_fields_for(self, project_id: int, issue_type_id: int) -> set[str]:
        config = self.field_configuration(project_id, issue_type_id)
        required = set(config.required)
        it = self.issue_types[issue_type_id]
        if it.subtask:
            required.add("parent")
        if it.hierarchy_level == 1 and self.agile.epic_name:
            required.add(self.agile.epic_name)
        return required

    def _screen(self, project_id: int, issue_type_id: int, *, create: bool) -> list[str]:
        config = self.field_configuration(project_id, issue_type_id)
        it = self.issue_types[issue_type_id]
        out: list[str] = []
        for fid in config.create_fields if create else config.edit_fields:
            if fid not in self.fields:
                continue
            if fid == self.agile.epic_name and it.hierarchy_level != 1:
                continue
            if fid == self.agile.epic_link and it.hierarchy_level != 0:
                continue
            if (
                fid == "parent"
                and not it.subtask
                and (self.flavour is Flavour.SERVER or it.hierarchy_level != 0)
            ):
                continue
            out.append(fid)
        if it.subtask and "parent" not in out and create:
            out.append("parent")
        return out

    def default_value(self, project_id: int, issue_type_id: int, field_id: str) -> Any:
        config = self.field_configuration(project_id, issue_type_id)
        if field_id in config.defaults:
            return config.defaults[field_id]
        if field_id == "priority":
            for p in self.priorities.values():
                if p.is_default:
                    return p.id
        return None
