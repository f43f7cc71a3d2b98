"""Issues: create, edit (``fields`` + ``update`` operations), assign, transition, delete, and
the changelog each change leaves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jirabridge.emulator.model._errors import PermissionDenied, ValidationFailed
from jirabridge.emulator.model._events import (
    IssueCreated,
    IssueDeleted,
    IssueEventType,
    IssueUpdated,
)
from jirabridge.emulator.model._records import (
    ChangeHistory,
    ChangeItem,
    FieldDef,
    Flavour,
    Issue,
    IssueType,
    Project,
    ResolutionRule,
    SprintState,
    Transition,
    User,
    Visibility,
)
from jirabridge.emulator.model._social import SocialMixin
from jirabridge.emulator.model._values import (
    FieldError,
    FieldKind,
    changelog_name,
    display_value,
    field_kind,
    parse_field_value,
)

__all__ = ["IssuesMixin", "parse_visibility"]

_ARRAY_KINDS = {
    FieldKind.LABELS,
    FieldKind.COMPONENTS,
    FieldKind.VERSIONS,
    FieldKind.OPTIONS,
    FieldKind.USERS,
}
_SIDE_EFFECT_FIELDS = {"comment", "issuelinks", "worklog"}
_TRANSITION_SCREEN = {"resolution", "fixVersions", "assignee", "comment"}


def not_on_screen(field_id: str) -> str:
    return f"Field '{field_id}' cannot be set. It is not on the appropriate screen, or unknown."


def parse_visibility(raw: Any) -> Visibility | None:
    """``{"type": "group"|"role", "value": ..., "identifier": ...}`` -> :class:`Visibility`."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValidationFailed(errors={"commentLevel": "Invalid visibility."})
    vtype = raw.get("type")
    value = raw.get("value")
    identifier = raw.get("identifier")
    if vtype not in ("group", "role") or not isinstance(value or identifier, str):
        raise ValidationFailed(errors={"commentLevel": "Invalid visibility."})
    return Visibility(
        str(vtype),
        str(value or identifier),
        identifier if isinstance(identifier, str) else None,
    )


@dataclass
class _Plan:
    """What one create/edit/transition will change, collected before anything is applied."""

    values: dict[str, Any] = field(default_factory=dict)
    comments: list[Mapping[str, Any]] = field(default_factory=list)
    links: list[Mapping[str, Any]] = field(default_factory=list)
    worklogs: list[Mapping[str, Any]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    def refuse(self) -> None:
        if self.errors or self.messages:
            raise ValidationFailed(self.messages, self.errors)


class IssuesMixin(SocialMixin):
    # -- reading ----------------------------------------------------------------------------

    def project_issues(self, project_ref: int | str) -> list[Issue]:
        project = self.get_project(project_ref)
        return [self.issues[i] for i in self.issues_by_project.get(project.id, ())]

    def issue_subtasks(self, issue_ref: int | str) -> list[Issue]:
        issue = self.get_issue(issue_ref)
        return [self.issues[i] for i in self.subtasks.get(issue.id, ())]

    def issue_changelog(self, issue_ref: int | str) -> list[ChangeHistory]:
        """Histories of an issue, oldest first."""
        return list(self.changelog.get(self.get_issue(issue_ref).id, ()))

    def issue_type_of(self, issue: Issue) -> IssueType:
        return self.issue_types[issue.issue_type_id]

    # -- create -----------------------------------------------------------------------------

    def create_issue(
        self,
        actor_key: str,
        fields: Mapping[str, Any],
        update: Mapping[str, Any] | None = None,
        *,
        properties: Mapping[str, Any] | Any = None,
        created: datetime | None = None,
    ) -> Issue:
        """Create an issue from Jira-style ``fields`` and ``update`` (see ``_values`` for the
        accepted value forms). ``properties`` is a mapping or Jira's ``[{"key", "value"}]``
        list. Raises :class:`ValidationFailed` with errors keyed by field id; nothing is
        created then."""
        actor = self._actor(actor_key)
        if not actor.active:
            raise PermissionDenied("You do not have permission to create issues in this project.")
        if not isinstance(fields, Mapping):
            raise ValidationFailed(
                "Can not deserialize instance of fields out of START_ARRAY token"
            )
        update = update or {}
        try:
            project_id = parse_field_value(
                self, self.fields["project"], fields.get("project"), project=_NO_PROJECT
            )
        except FieldError as exc:
            raise ValidationFailed(errors={"project": exc.message}) from exc
        project = self.projects[project_id]
        try:
            type_id = parse_field_value(
                self, self.fields["issuetype"], fields.get("issuetype"), project=project
            )
        except FieldError as exc:
            raise ValidationFailed(errors={"issuetype": exc.message}) from exc
        itype = self.issue_types[type_id]
        allowed = set(self.create_fields_for(project.id, type_id)) | {"project", "issuetype"}
        if self.flavour is Flavour.CLOUD and itype.hierarchy_level == 0:
            allowed.add("parent")
        plan = self._plan(
            project, itype, None, fields, update, allowed, skip={"project", "issuetype"}
        )
        values = plan.values
        values["project"] = project.id
        values["issuetype"] = type_id
        for fid in self.create_fields_for(project.id, type_id):
            if fid not in values:
                default = self.default_value(project.id, type_id, fid)
                if default is not None:
                    values[fid] = default
        values.setdefault("reporter", actor.key)
        if values.get("reporter") is None:
            values.pop("reporter")
        self._check_required(project, itype, values, plan.errors)
        self._check_parent(project, itype, values, plan.errors, None)
        self._prevalidate(plan, None, project)
        props = _properties(properties)
        plan.refuse()
        now = created or self.now()
        number = project.next_number
        project.next_number += 1
        issue = Issue(
            id=self.ids.next("issue"),
            key=f"{project.key}-{number}",
            project_id=project.id,
            fields={"project": project.id, "issuetype": type_id},
            created=now,
            updated=now,
            rank=self._next_rank(),
            properties=props,
        )
        workflow = self.workflow_for(project.id, type_id)
        issue.fields["status"] = workflow.initial_status_id
        issue.status_category_changed = now
        issue.fields["creator"] = actor.key
        for fid, value in values.items():
            if value is not None:
                self._store(issue, fid, value)
        issue.watchers.add(values.get("reporter", actor.key))
        self.issues[issue.id] = issue
        self.issues_by_key[issue.key] = issue.id
        self.issues_by_project.setdefault(project.id, {})[issue.id] = None
        parent = issue.fields.get("parent")
        if parent is not None and itype.subtask:
            self.subtasks.setdefault(parent, {})[issue.id] = None
        self._emit(IssueCreated(now, actor.key, issue, self._creation_history(issue, actor.key)))
        self._side_effects(actor, issue, plan)
        return issue

    def _creation_history(self, issue: Issue, actor_key: str) -> ChangeHistory | None:
        """Cloud only: the initial values as changelog items (not stored)."""
        if self.flavour is not Flavour.CLOUD:
            return None
        items: list[ChangeItem] = []
        for fid, value in sorted(issue.fields.items()):
            fd = self.fields.get(fid)
            if fd is None or fid in ("project", "issuetype", "creator"):
                continue
            items.extend(self.change_items(fd, None, value))
        return ChangeHistory(self.ids.next("changelog"), issue.id, actor_key, issue.created, items)

    def _next_rank(self) -> int:
        rank = self.next_rank
        self.next_rank += 1 << 10
        return rank

    def _store(self, issue: Issue, fid: str, value: Any) -> None:
        if fid == "timetracking":
            for sub, seconds in value.items():
                issue.fields[sub] = seconds
            if "timeoriginalestimate" in value and "timeestimate" not in issue.fields:
                issue.fields["timeestimate"] = value["timeoriginalestimate"]
        elif value is None:
            issue.fields.pop(fid, None)
        else:
            issue.fields[fid] = value

    # -- edit -------------------------------------------------------------------------------

    def edit_issue(
        self,
        actor_key: str,
        issue_ref: int | str,
        fields: Mapping[str, Any] | None = None,
        update: Mapping[str, Any] | None = None,
    ) -> ChangeHistory | None:
        """Edit with Jira's ``fields`` (replace) and ``update`` (``set``/``add``/``remove``/
        ``edit`` operations; ``comment``/``issuelinks``/``worklog`` ``add`` too). Returns the
        recorded history (None when nothing changed). Emits :class:`IssueUpdated` with
        ``issue_assigned`` when only the assignee changed, else ``issue_updated``."""
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        project = self.projects[issue.project_id]
        itype = self.issue_types[issue.issue_type_id]
        allowed = set(self.edit_fields_for(project.id, itype.id))
        if self.flavour is Flavour.CLOUD and itype.hierarchy_level == 0:
            allowed.add("parent")
        plan = self._plan(project, itype, issue, fields or {}, update or {}, allowed, skip=set())
        if "issuetype" in plan.values:
            itype = self._check_type_change(issue, plan.values, plan.errors) or itype
        merged = {fid: v for fid, v in issue.fields.items()}
        merged.update(plan.values)
        self._check_required(project, itype, merged, plan.errors, only=set(plan.values))
        self._check_parent(project, itype, merged, plan.errors, issue)
        self._prevalidate(plan, issue)
        plan.refuse()
        items = self._apply(issue, plan.values)
        history = None
        if items:
            history = self._record(issue, actor.key, items)
            only_assignee = all(i.field_id == "assignee" for i in items)
            event = IssueEventType.ASSIGNED if only_assignee else IssueEventType.UPDATED
            self._finish(actor, issue, plan, event, history)
        else:
            self._side_effects(actor, issue, plan)
        return history

    def assign_issue(
        self, actor_key: str, issue_ref: int | str, assignee: Any
    ) -> ChangeHistory | None:
        """Assign (``assignee`` a user reference, ``"-1"`` for automatic, None to unassign),
        whatever the edit screen holds. Emits ``issue_assigned``."""
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        project = self.projects[issue.project_id]
        try:
            key = parse_field_value(self, self.fields["assignee"], assignee, project=project)
        except FieldError as exc:
            raise ValidationFailed(errors={"assignee": exc.message}) from exc
        items = self._apply(issue, {"assignee": key})
        if not items:
            return None
        history = self._record(issue, actor.key, items)
        issue.updated = history.created
        self._emit(
            IssueUpdated(history.created, actor.key, issue, IssueEventType.ASSIGNED, history)
        )
        return history

    def _check_type_change(
        self, issue: Issue, values: dict[str, Any], errors: dict[str, str]
    ) -> IssueType | None:
        new_type = self.issue_types[values["issuetype"]]
        old_type = self.issue_types[issue.issue_type_id]
        if new_type.id == old_type.id:
            values.pop("issuetype")
            return None
        old_wf = self.workflow_for(issue.project_id, old_type.id)
        new_wf = self.workflow_for(issue.project_id, new_type.id)
        if (
            new_type.subtask != old_type.subtask
            or old_type.hierarchy_level != new_type.hierarchy_level
        ):
            errors["issuetype"] = "The issue type selected is invalid."
        elif old_wf.name != new_wf.name:
            errors["issuetype"] = (
                "The issue type selected is invalid: it uses a different workflow, "
                "move the issue instead."
            )
        return new_type

    # -- planning ---------------------------------------------------------------------------

    def _plan(
        self,
        project: Project,
        itype: IssueType,
        issue: Issue | None,
        fields: Mapping[str, Any],
        update: Any,
        allowed: set[str],
        *,
        skip: set[str],
    ) -> _Plan:
        plan = _Plan()
        if not isinstance(update, Mapping):
            plan.errors["update"] = "update must be an object"
            return plan
        for fid, raw in fields.items():
            if fid in skip:
                continue
            fd = self.fields.get(fid)
            if fd is None or fid not in allowed or field_kind(fd) == FieldKind.READONLY:
                plan.errors[fid] = not_on_screen(fid)
                continue
            self._parse_into(plan, fd, raw, project, issue)
        for fid, ops in update.items():
            if fid in _SIDE_EFFECT_FIELDS:
                self._plan_side_effect(plan, fid, ops)
                continue
            fd = self.fields.get(fid)
            if fd is None or fid not in allowed or field_kind(fd) == FieldKind.READONLY:
                plan.errors[fid] = not_on_screen(fid)
                continue
            if fid in fields:
                plan.errors[fid] = (
                    f"Field '{fid}' cannot be set in both 'fields' and 'update' at the same time."
                )
                continue
            if not isinstance(ops, list):
                plan.errors[fid] = "Operations must be a list."
                continue
            for op in ops:
                if fid in plan.errors:
                    break
                self._apply_op(plan, fd, op, project, issue)
        return plan

    def _parse_into(
        self, plan: _Plan, fd: FieldDef, raw: Any, project: Project, issue: Issue | None
    ) -> None:
        try:
            value = parse_field_value(self, fd, raw, project=project, issue=issue)
        except FieldError as exc:
            if exc.general:
                plan.messages.append(exc.message)
            else:
                plan.errors[fd.id] = exc.message
            return
        if field_kind(fd) == FieldKind.SPRINT and issue is not None:
            value = self._merge_sprints(issue.fields.get(fd.id), value)
        plan.values[fd.id] = value

    def _merge_sprints(self, old: list[int] | None, new: list[int] | None) -> list[int] | None:
        kept = [s for s in old or () if self.sprints[s].state is SprintState.CLOSED]
        merged = kept + [s for s in new or () if s not in kept]
        return merged or None

    def _apply_op(
        self, plan: _Plan, fd: FieldDef, op: Any, project: Project, issue: Issue | None
    ) -> None:
        if not isinstance(op, Mapping) or len(op) != 1:
            plan.errors[fd.id] = "Each operation must be an object with exactly one operation."
            return
        ((name, raw),) = op.items()
        kind = field_kind(fd)
        if name == "set" or (name == "edit" and kind == FieldKind.TIMETRACKING):
            self._parse_into(plan, fd, raw, project, issue)
            return
        if name in ("add", "remove") and kind in _ARRAY_KINDS:
            try:
                parsed = parse_field_value(self, fd, [raw], project=project, issue=issue) or []
            except FieldError as exc:
                plan.errors[fd.id] = exc.message
                return
            if fd.id in plan.values:
                current = list(plan.values[fd.id] or [])
            else:
                current = list(issue.fields.get(fd.id, [])) if issue is not None else []
            if name == "add":
                current.extend(v for v in parsed if v not in current)
            else:
                current = [v for v in current if v not in parsed]
            plan.values[fd.id] = current or None
            return
        plan.errors[fd.id] = (
            f"Field with id' {fd.id}' and name '{fd.name}' does not support operation "
            f"'{name}' Supported operation(s) are: '{_ops(kind)}'"
        )

    def _plan_side_effect(self, plan: _Plan, fid: str, ops: Any) -> None:
        if not isinstance(ops, list):
            plan.errors[fid] = "Operations must be a list."
            return
        for op in ops:
            if (
                not isinstance(op, Mapping)
                or set(op) != {"add"}
                or not isinstance(op["add"], Mapping)
            ):
                plan.errors[fid] = f"Field '{fid}' only supports the 'add' operation here."
                return
            body = op["add"]
            if fid == "comment":
                if body.get("body") in (None, "", {}):
                    plan.errors["comment"] = "Comment body can not be empty!"
                    return
                plan.comments.append(body)
            elif fid == "issuelinks":
                plan.links.append(body)
            else:
                plan.worklogs.append(body)

    def _prevalidate(
        self, plan: _Plan, issue: Issue | None, project: Project | None = None
    ) -> None:
        """Check planned comments, links and worklogs before anything changes, so a bad one
        refuses the whole request."""
        probe = issue
        if probe is None and project is not None:
            probe = Issue(-1, "", project.id, {}, self.now(), self.now())
        for body in plan.comments:
            try:
                visibility = parse_visibility(body.get("visibility"))
                if probe is not None:
                    self._validate_comment(probe, body.get("body"), visibility)
            except ValidationFailed as exc:
                plan.errors["comment"] = next(
                    iter(exc.errors.values()), "; ".join(exc.error_messages)
                )
        for link in plan.links:
            ltype = link.get("type")
            type_ref = (
                (ltype.get("id") or ltype.get("name")) if isinstance(ltype, Mapping) else None
            )
            other = link.get("outwardIssue") or link.get("inwardIssue")
            other_ref = (
                (other.get("key") or other.get("id")) if isinstance(other, Mapping) else None
            )
            if type_ref is None or not any(
                str(lt.id) == str(type_ref) or lt.name == type_ref
                for lt in self.link_types.values()
            ):
                plan.errors["issuelinks"] = f"No issue link type with name '{type_ref}' found."
            elif not isinstance(other_ref, str | int) or self.find_issue(other_ref) is None:
                plan.errors["issuelinks"] = "Could not find issue by id or key."
        for wl in plan.worklogs:
            spent = wl.get("timeSpentSeconds") or wl.get("timeSpent")
            try:
                self._duration(spent if isinstance(spent, int | str) else 0)
            except ValidationFailed as exc:
                plan.errors["worklog"] = next(iter(exc.errors.values()), "Invalid time.")

    def _finish(
        self, actor: User, issue: Issue, plan: _Plan, event_type: str, history: ChangeHistory
    ) -> None:
        """After a recorded change: add planned comments quietly, then emit ONE
        :class:`IssueUpdated` carrying the changelog and the (first) comment, as Jira does;
        then links and worklogs."""
        issue.updated = history.created
        first = None
        for body in plan.comments:
            comment = self._insert_comment(
                actor.key, issue, body["body"], parse_visibility(body.get("visibility"))
            )
            first = first or comment
        plan.comments = []
        self._emit(IssueUpdated(history.created, actor.key, issue, event_type, history, first))
        self._side_effects(actor, issue, plan)

    def _side_effects(self, actor: User, issue: Issue, plan: _Plan) -> None:
        for body in plan.comments:
            self.add_comment(
                actor.key,
                issue.id,
                body["body"],
                visibility=parse_visibility(body.get("visibility")),
            )
        for link in plan.links:
            ltype = link.get("type") or {}
            type_ref = ltype.get("id") or ltype.get("name") if isinstance(ltype, Mapping) else None
            if type_ref is None:
                raise ValidationFailed(errors={"issuelinks": "Issue link type is required."})
            outward = link.get("outwardIssue")
            inward = link.get("inwardIssue")
            other_ref = (outward or inward or {}).get("key") or (outward or inward or {}).get("id")
            if other_ref is None:
                raise ValidationFailed(errors={"issuelinks": "Linked issue is required."})
            if outward is not None:
                self.create_link(actor.key, type_ref, issue.id, other_ref)
            else:
                self.create_link(actor.key, type_ref, other_ref, issue.id)
        for wl in plan.worklogs:
            spent = wl.get("timeSpentSeconds") or wl.get("timeSpent")
            self.add_worklog(actor.key, issue.id, spent if spent is not None else 0)

    # -- checks -----------------------------------------------------------------------------

    def _check_required(
        self,
        project: Project,
        itype: IssueType,
        values: Mapping[str, Any],
        errors: dict[str, str],
        only: set[str] | None = None,
    ) -> None:
        for fid in self.required_fields_for(project.id, itype.id):
            if only is not None and fid not in only:
                continue
            if values.get(fid) in (None, [], "") and fid not in errors:
                errors[fid] = self._required_message(fid)

    def _required_message(self, fid: str) -> str:
        if fid == "summary":
            return "You must specify a summary of the issue."
        if fid == "parent":
            return "Issue type is a sub-task but parent issue key or id not specified."
        return f"{self.fields[fid].name} is required."

    def _check_parent(
        self,
        project: Project,
        itype: IssueType,
        values: Mapping[str, Any],
        errors: dict[str, str],
        issue: Issue | None,
    ) -> None:
        parent_id = values.get("parent")
        if parent_id is None or "parent" in errors:
            return
        parent = self.issues[parent_id]
        ptype = self.issue_types[parent.issue_type_id]
        if issue is not None and parent.id == issue.id:
            errors["parent"] = "An issue cannot be its own parent."
        elif itype.subtask:
            if ptype.hierarchy_level != 0:
                errors["parent"] = (
                    "Given parent work item does not belong to appropriate hierarchy."
                )
            elif parent.project_id != project.id:
                errors["parent"] = "Sub-task must be in the same project as its parent."
        elif ptype.hierarchy_level != itype.hierarchy_level + 1:
            errors["parent"] = "Given parent work item does not belong to appropriate hierarchy."

    # -- applying ---------------------------------------------------------------------------

    def _apply(self, issue: Issue, values: Mapping[str, Any]) -> list[ChangeItem]:
        """Store ``values`` and return the changelog items (unchanged fields leave none)."""
        items: list[ChangeItem] = []
        for fid, new in values.items():
            if fid == "timetracking":
                for sub, seconds in (new or {}).items():
                    old = issue.fields.get(sub)
                    if old != seconds:
                        issue.fields[sub] = seconds
                        items.append(
                            ChangeItem(
                                sub, "jira", sub, _s(old), _s(old), str(seconds), str(seconds)
                            )
                        )
                continue
            old = issue.fields.get(fid)
            if old == new:
                continue
            fd = self.fields[fid]
            self._store(issue, fid, new)
            if fid == "parent" and self.issue_types[issue.issue_type_id].subtask:
                if old is not None:
                    self.subtasks.get(old, {}).pop(issue.id, None)
                if new is not None:
                    self.subtasks.setdefault(new, {})[issue.id] = None
            items.extend(self.change_items(fd, old, new))
        return items

    def change_items(self, fd: FieldDef, old: Any, new: Any) -> list[ChangeItem]:
        """Changelog items for one field going from ``old`` to ``new`` (neutral values):
        components and versions get one item per added/removed element, as Jira records."""
        name = changelog_name(self, fd)
        ftype = "custom" if fd.is_custom else "jira"
        if field_kind(fd) in (FieldKind.COMPONENTS, FieldKind.VERSIONS):
            items = []
            for gone in [v for v in old or () if v not in (new or ())]:
                f, fs = display_value(self, fd, gone)
                items.append(ChangeItem(name, ftype, fd.id, f, fs, None, None))
            for added in [v for v in new or () if v not in (old or ())]:
                t, ts = display_value(self, fd, added)
                items.append(ChangeItem(name, ftype, fd.id, None, None, t, ts))
            return items
        f, fs = display_value(self, fd, old)
        t, ts = display_value(self, fd, new)
        return [ChangeItem(name, ftype, fd.id, f, fs, t, ts)]

    # -- transitions ------------------------------------------------------------------------

    def available_transitions(self, issue_ref: int | str) -> list[Transition]:
        """Transitions offered from the issue's current status, in workflow order."""
        issue = self.get_issue(issue_ref)
        return self.workflow_for(issue.project_id, issue.issue_type_id).available_from(
            issue.status_id
        )

    def transition_issue(
        self,
        actor_key: str,
        issue_ref: int | str,
        transition_id: int | str,
        fields: Mapping[str, Any] | None = None,
        update: Mapping[str, Any] | None = None,
    ) -> ChangeHistory:
        """Move the issue along a transition available from its status. A screen transition
        takes ``resolution`` (default: the default resolution), ``fixVersions``,
        ``assignee`` and a comment; others refuse fields. Resolution is set or cleared by the
        transition's rule. Emits :class:`IssueUpdated` with the transition's event type."""
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        tid = str(transition_id)
        transition = next(
            (t for t in self.available_transitions(issue.id) if str(t.id) == tid), None
        )
        if transition is None:
            raise ValidationFailed(f"Transition id '{tid}' is not valid for this issue.")
        project = self.projects[issue.project_id]
        itype = self.issue_types[issue.issue_type_id]
        allowed = set(_TRANSITION_SCREEN) if transition.has_screen else set()
        if transition.resolution is not ResolutionRule.SCREEN:
            allowed.discard("resolution")
        plan = self._plan(project, itype, issue, fields or {}, update or {}, allowed, skip=set())
        self._prevalidate(plan, issue)
        plan.refuse()
        old_res = issue.fields.get("resolution")
        new_res = old_res
        if transition.resolution is ResolutionRule.SCREEN:
            new_res = plan.values.pop("resolution", None) or self.default_resolution_id()
        elif transition.resolution is ResolutionRule.SET_DONE:
            new_res = self.default_resolution_id()
        elif transition.resolution is ResolutionRule.CLEAR:
            new_res = None
        now = self.now()
        old_status = issue.status_id
        status_item = self.change_items(self.fields["status"], old_status, transition.to_status_id)
        if (
            self.statuses[old_status].category
            is not self.statuses[transition.to_status_id].category
        ):
            issue.status_category_changed = now
        items: list[ChangeItem] = []
        issue.fields["status"] = transition.to_status_id
        if new_res != old_res:
            res_items = self.change_items(self.fields["resolution"], old_res, new_res)
            items = status_item + res_items if new_res is not None else res_items + status_item
            self._store(issue, "resolution", new_res)
            issue.resolution_date = now if new_res is not None else None
        elif old_status != transition.to_status_id:
            items = status_item
        items.extend(self._apply(issue, plan.values))
        history = self._record(issue, actor.key, items)
        self._finish(actor, issue, plan, transition.event_type, history)
        return history

    def default_resolution_id(self) -> int:
        for r in self.resolutions.values():
            if r.is_default:
                return r.id
        return next(iter(self.resolutions))

    # -- move -------------------------------------------------------------------------------

    def move_issue(
        self,
        actor_key: str,
        issue_ref: int | str,
        project_ref: int | str,
        *,
        issue_type_id: int | None = None,
    ) -> ChangeHistory:
        """Move an issue (with its sub-tasks) to another project: it gets a new key (the old
        one still finds it), loses components and versions of the old project, and starts
        at the new workflow's first status when its status is not in the new workflow.
        Records ``project``, ``Key`` (and ``Workflow``/``status``) items; event
        ``issue_moved``."""
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        target = self.get_project(project_ref)
        if self.issue_types[issue.issue_type_id].subtask:
            raise ValidationFailed("A sub-task moves with its parent.")
        if target.id == issue.project_id:
            raise ValidationFailed(f"The issue is already in project {target.key}.")
        type_id = issue_type_id if issue_type_id is not None else issue.issue_type_id
        if type_id not in target.issue_type_ids:
            raise ValidationFailed(
                errors={"issuetype": f"The issue type is not valid in project {target.key}."}
            )
        if (
            self.issue_types[type_id].hierarchy_level
            != self.issue_types[issue.issue_type_id].hierarchy_level
        ):
            raise ValidationFailed(errors={"issuetype": "The issue type selected is invalid."})
        children = self.issue_subtasks(issue.id)
        history = self._move_one(actor.key, issue, target, type_id)
        for child in children:
            self._move_one(actor.key, child, target, child.issue_type_id)
        return history

    def _move_one(
        self, actor_key: str, issue: Issue, target: Project, type_id: int
    ) -> ChangeHistory:
        source = self.projects[issue.project_id]
        old_key = issue.key
        old_wf = self.workflow_for(source.id, issue.issue_type_id)
        new_wf = self.workflow_for(target.id, type_id)
        items = [
            *self.change_items(self.fields["project"], source.id, target.id),
        ]
        new_key = f"{target.key}-{target.next_number}"
        target.next_number += 1
        items.append(ChangeItem("Key", "jira", None, None, old_key, None, new_key))
        issue.fields["project"] = target.id
        values: dict[str, Any] = {"issuetype": type_id}
        for fid in ("components", "fixVersions", "versions"):
            if fid in issue.fields:
                values[fid] = None
        if old_wf.name != new_wf.name:
            items.append(ChangeItem("Workflow", "jira", None, None, old_wf.name, None, new_wf.name))
        if issue.status_id not in new_wf.status_ids:
            values["status"] = new_wf.initial_status_id
            if (
                self.statuses[issue.status_id].category
                is not self.statuses[new_wf.initial_status_id].category
            ):
                issue.status_category_changed = self.now()
        items.extend(self._apply(issue, values))
        self.issues_by_project[source.id].pop(issue.id, None)
        self.issues_by_project.setdefault(target.id, {})[issue.id] = None
        issue.project_id = target.id
        del self.issues_by_key[old_key]
        issue.key = new_key
        self.issues_by_key[new_key] = issue.id
        self.moved_keys[old_key] = issue.id
        history = self._record(issue, actor_key, items)
        issue.updated = history.created
        self._emit(IssueUpdated(history.created, actor_key, issue, IssueEventType.MOVED, history))
        return history

    # -- delete -----------------------------------------------------------------------------

    def delete_issue(
        self, actor_key: str, issue_ref: int | str, *, delete_subtasks: bool = False
    ) -> list[Issue]:
        """Delete an issue (and its sub-tasks when ``delete_subtasks``); returns the deleted
        records, sub-tasks first. Emits :class:`IssueDeleted` for each."""
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        children = self.issue_subtasks(issue.id)
        if children and not delete_subtasks:
            raise ValidationFailed(
                f"The issue '{issue.key}' has subtasks.  You must specify the 'deleteSubtasks' "
                "parameter to delete this issue and all its subtasks."
            )
        deleted = [*children, issue]
        for item in deleted:
            self._forget(item)
            self._emit(IssueDeleted(self.now(), actor.key, item))
        return deleted

    def _forget(self, issue: Issue) -> None:
        for cid in self.comments_by_issue.pop(issue.id, ()):
            self.comments.pop(cid, None)
        for wid in self.worklogs_by_issue.pop(issue.id, ()):
            self.worklogs.pop(wid, None)
        for aid in self.attachments_by_issue.pop(issue.id, ()):
            self.attachments.pop(aid, None)
        for rid in self.remote_links_by_issue.pop(issue.id, ()):
            self.remote_links.pop(rid, None)
        for lid in list(self.links_by_issue.get(issue.id, ())):
            self._unlink(self.links[lid])
        self.links_by_issue.pop(issue.id, None)
        self.changelog.pop(issue.id, None)
        self.subtasks.pop(issue.id, None)
        parent = issue.fields.get("parent")
        if parent is not None:
            self.subtasks.get(parent, {}).pop(issue.id, None)
        epic_link = self.agile.epic_link
        if self.issue_types[issue.issue_type_id].hierarchy_level == 1:
            for other in self.issues.values():
                if epic_link and other.fields.get(epic_link) == issue.id:
                    del other.fields[epic_link]
                if (
                    other.fields.get("parent") == issue.id
                    and not self.issue_types[other.issue_type_id].subtask
                ):
                    del other.fields["parent"]
        self.issues.pop(issue.id, None)
        self.issues_by_key.pop(issue.key, None)
        self.issues_by_project.get(issue.project_id, {}).pop(issue.id, None)
        for old_key, iid in list(self.moved_keys.items()):
            if iid == issue.id:
                del self.moved_keys[old_key]


def _ops(kind: str) -> str:
    if kind in _ARRAY_KINDS:
        return "add,set,remove"
    if kind == FieldKind.TIMETRACKING:
        return "edit,set"
    return "set"


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


def _properties(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, list):
        out: dict[str, Any] = {}
        for entry in raw:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
                raise ValidationFailed("Property key and value are required.")
            out[entry["key"]] = entry.get("value")
        return out
    raise ValidationFailed("properties must be a list of {key, value} objects")


_NO_PROJECT = Project(id=-1, key="", name="", lead_key="")
