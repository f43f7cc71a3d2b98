"""Render issues, comments, changelogs, links, attachments and worklogs as Jira JSON.

One :class:`IssueRenderer` per answer: it knows the site, the viewer, the REST flavour/version
(``View``) and whether rich text travels as ADF; it turns the model's neutral field values
(ids, user keys, dates, opaque rich text) into each flavour's JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from html import escape
from typing import Any

from jirabridge.emulator.faces._render import (
    View,
    component_json,
    issue_type_json,
    option_json,
    priority_json,
    project_json,
    resolution_json,
    status_json,
    user_json,
    version_json,
)
from jirabridge.emulator.faces._richtext import to_wire
from jirabridge.emulator.faces._wire import format_date, format_datetime, is_number
from jirabridge.emulator.model._records import (
    Attachment,
    ChangeHistory,
    Comment,
    FieldDef,
    Issue,
    IssueLink,
    RemoteLink,
    Sprint,
    User,
    Visibility,
    Worklog,
)

__all__ = ["IssueRenderer", "parse_field_selection"]

RICH_TEXT_SYSTEM = {"description", "environment"}
TEXTAREA = "com.atlassian.jira.plugin.system.customfieldtypes:textarea"
#: Fields the issue answer always carries beside the model's own (computed by Jira).
COMPUTED = (
    "aggregatetimeoriginalestimate",
    "aggregatetimeestimate",
    "aggregatetimespent",
    "progress",
    "aggregateprogress",
    "workratio",
    "lastViewed",
)
#: Computed fields only Cloud answers with.
CLOUD_COMPUTED = ("statuscategorychangedate",)
_NOT_NAVIGABLE = {"timetracking", "comment", "worklog", "attachment"}
#: Fields rendered from more than their stored value (see ``IssueRenderer.issue_fields``).
_SPECIAL = {
    "comment",
    "worklog",
    "attachment",
    "issuelinks",
    "subtasks",
    "timetracking",
    "watches",
    "votes",
    "created",
    "updated",
    "resolutiondate",
    "labels",
    "components",
    "fixVersions",
    "versions",
    "project",
    *COMPUTED,
    *CLOUD_COMPUTED,
}


def parse_field_selection(
    requested: Iterable[str], *, default: str
) -> tuple[str, set[str], set[str]]:
    """``fields`` parameter -> (mode, included ids, excluded ids); mode is ``*all``,
    ``*navigable`` or ``list``."""
    items = [f.strip() for f in requested if f.strip()]
    if not items:
        items = [default]
    mode = "list"
    include: set[str] = set()
    exclude: set[str] = set()
    for item in items:
        if item in ("*all", "*navigable"):
            if mode != "*all":
                mode = item
        elif item.startswith("-"):
            exclude.add(item[1:])
        else:
            include.add(item)
    if mode == "list" and not include and exclude and default in ("*all", "*navigable"):
        mode = default  # "-description" alone means the default fields but description
    return mode, include, exclude


def sprint_string(sprint: Sprint) -> str:
    """The legacy string form of a sprint (Server REST v2 and all webhooks)."""

    def when(value: datetime | None) -> str:
        if value is None:
            return "<null>"
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"

    return (
        f"com.atlassian.greenhopper.service.sprint.Sprint@{sprint.id:08x}[id={sprint.id},"
        f"rapidViewId={sprint.board_id},state={sprint.state.value.upper()},name={sprint.name},"
        f"goal={sprint.goal},startDate={when(sprint.start_date)},"
        f"endDate={when(sprint.end_date)},completeDate={when(sprint.complete_date)},"
        f"sequence={sprint.id}]"
    )


class IssueRenderer:
    """Renders records of one site for one viewer and one API version."""

    def __init__(
        self,
        site: Any,
        view: View,
        viewer_key: str,
        *,
        adf: bool,
        legacy_sprints: bool | None = None,
        see_all: bool = False,
    ) -> None:
        self.site = site
        self.view = view
        self.viewer_key = viewer_key
        self.adf = adf
        self.legacy_sprints = (not view.cloud) if legacy_sprints is None else legacy_sprints
        self.see_all = see_all
        self._users: dict[str, dict[str, Any] | None] = {}
        self._field_ids: dict[tuple[str, frozenset[str], frozenset[str]], list[str]] = {}

    # -- small values ------------------------------------------------------------------------

    def user(self, key: str | None) -> dict[str, Any] | None:
        if key is None:
            return None
        if key in self._users:
            return self._users[key]
        found: User | None = self.site.users.get(key)
        rendered = user_json(self.view, found) if found is not None else None
        if rendered is None and key:
            rendered = self._unknown_user(key)
        self._users[key] = rendered
        return rendered

    def _unknown_user(self, key: str) -> dict[str, Any]:
        if self.view.cloud:
            return {
                "self": self.view.api(f"user?accountId={key}"),
                "accountId": key,
                "accountType": "unknown",
                "displayName": "Former user",
                "active": False,
                "timeZone": "UTC",
                "avatarUrls": {},
            }
        return {
            "self": self.view.api(f"user?username={key}"),
            "name": key,
            "key": key,
            "displayName": key,
            "active": False,
            "timeZone": "UTC",
            "avatarUrls": {},
        }

    def rich(self, value: Any) -> Any:
        return to_wire(value, adf_api=self.adf, site=self.site)

    def issue_ref(self, issue: Issue) -> dict[str, Any]:
        """The small issue form used for parents, sub-tasks and links."""
        fields: dict[str, Any] = {"summary": issue.fields.get("summary", "")}
        status = self.site.statuses.get(issue.fields.get("status"))
        if status is not None:
            fields["status"] = status_json(self.view, status)
        priority = self.site.priorities.get(issue.fields.get("priority"))
        if priority is not None:
            fields["priority"] = priority_json(self.view, priority)
        itype = self.site.issue_types.get(issue.fields.get("issuetype"))
        if itype is not None:
            fields["issuetype"] = issue_type_json(self.view, itype)
        return {
            "id": str(issue.id),
            "key": issue.key,
            "self": self.view.api(f"issue/{issue.id}"),
            "fields": fields,
        }

    # -- field values --------------------------------------------------------------------------

    def value(self, fd: FieldDef | None, field_id: str, raw: Any) -> Any:
        """A neutral stored value -> the JSON value of the field."""
        if raw is None:
            return None
        site = self.site
        view = self.view
        agile = site.agile
        if field_id in RICH_TEXT_SYSTEM or (fd is not None and fd.custom == TEXTAREA):
            return self.rich(raw)
        if field_id == "project":
            project = site.projects.get(raw)
            return project_json(view, project) if project is not None else None
        if field_id == "issuetype":
            itype = site.issue_types.get(raw)
            return issue_type_json(view, itype) if itype is not None else None
        if field_id == "status":
            status = site.statuses.get(raw)
            return status_json(view, status) if status is not None else None
        if field_id == "priority":
            priority = site.priorities.get(raw)
            return priority_json(view, priority) if priority is not None else None
        if field_id == "resolution":
            resolution = site.resolutions.get(raw)
            return resolution_json(view, resolution) if resolution is not None else None
        if field_id == "components":
            return [component_json(view, site.components[c]) for c in raw if c in site.components]
        if field_id in ("fixVersions", "versions"):
            return [version_json(view, site.versions[v]) for v in raw if v in site.versions]
        if field_id == "parent":
            parent = site.issues.get(raw)
            return self.issue_ref(parent) if parent is not None else None
        if field_id == agile.sprint:
            sprints = [site.sprints[s] for s in raw if s in site.sprints]
            if self.legacy_sprints:
                return [sprint_string(s) for s in sprints]
            return [
                {
                    "id": s.id,
                    "name": s.name,
                    "state": s.state.value,
                    "boardId": s.board_id,
                    "goal": s.goal,
                    **(
                        {"startDate": format_datetime(s.start_date)}
                        if s.start_date is not None
                        else {}
                    ),
                    **({"endDate": format_datetime(s.end_date)} if s.end_date is not None else {}),
                }
                for s in sprints
            ]
        if agile.epic_link is not None and field_id == agile.epic_link:
            epic = site.issues.get(raw)
            return epic.key if epic is not None else None
        if field_id == agile.rank:
            return f"0|i{int(raw):06x}:"
        if fd is None:
            return _plain(raw)
        kind = fd.schema_type
        if kind == "user":
            return self.user(raw)
        if kind == "array" and fd.items == "user":
            return [self.user(k) for k in raw]
        if kind == "option":
            option = fd.options.get(raw)
            return option_json(view, option) if option is not None else None
        if kind == "array" and fd.items == "option":
            return [option_json(view, fd.options[o]) for o in raw if o in fd.options]
        if kind == "option-with-child":
            ids = list(raw)
            if not ids or ids[0] not in fd.options:
                return None
            out = option_json(view, fd.options[ids[0]])
            if len(ids) > 1 and ids[1] in fd.options:
                out["child"] = option_json(view, fd.options[ids[1]])
            return out
        if kind == "date":
            return format_date(raw)
        if kind == "datetime":
            return format_datetime(raw)
        return _plain(raw)

    # -- composite fields ------------------------------------------------------------------------

    def visible_comments(self, issue: Issue) -> list[Comment]:
        site = self.site
        out: list[Comment] = []
        for cid in site.comments_by_issue.get(issue.id, ()):
            comment = site.comments.get(cid)
            if comment is None:
                continue
            if self.see_all or site.can_see(self.viewer_key, issue, comment.visibility):
                out.append(comment)
        return out

    def visibility(self, visibility: Visibility) -> dict[str, Any]:
        out: dict[str, Any] = {"type": visibility.type, "value": visibility.value}
        if self.view.cloud and visibility.identifier is not None:
            out["identifier"] = visibility.identifier
        return out

    def comment(
        self, comment: Comment, *, rendered: bool = False, properties: bool = False
    ) -> dict[str, Any]:
        """A comment; ``rendered`` adds ``renderedBody`` (``expand=renderedBody``),
        ``properties`` its entity properties as ``[{key, value}]`` (``expand=properties``)."""
        out: dict[str, Any] = {
            "self": self.view.api(f"issue/{comment.issue_id}/comment/{comment.id}"),
            "id": str(comment.id),
            "author": self.user(comment.author_key),
            "body": self.rich(comment.body),
            "updateAuthor": self.user(comment.update_author_key),
            "created": format_datetime(comment.created),
            "updated": format_datetime(comment.updated),
        }
        if rendered:
            out["renderedBody"] = self.html(comment.body)
        if properties:
            out["properties"] = [{"key": k, "value": v} for k, v in comment.properties.items()]
        if comment.visibility is not None:
            out["visibility"] = self.visibility(comment.visibility)
        if self.view.cloud:
            out["jsdPublic"] = comment.jsd_public
        return out

    def html(self, stored: Any) -> str | None:
        """A plain HTML rendering of rich text (escaped wiki text in paragraphs)."""
        if stored is None:
            return None
        text = to_wire(stored, adf_api=False, site=self.site)
        paragraphs = [p for p in str(text).split("\n\n") if p.strip()]
        return "".join(f"<p>{escape(p).replace(chr(10), '<br/>')}</p>" for p in paragraphs)

    def comments_page(self, issue: Issue) -> dict[str, Any]:
        comments = self.visible_comments(issue)
        return {
            "comments": [self.comment(c) for c in comments],
            "maxResults": len(comments),
            "total": len(comments),
            "startAt": 0,
        }

    def worklog(self, worklog: Worklog) -> dict[str, Any]:
        out: dict[str, Any] = {
            "self": self.view.api(f"issue/{worklog.issue_id}/worklog/{worklog.id}"),
            "author": self.user(worklog.author_key),
            "updateAuthor": self.user(worklog.update_author_key),
            "created": format_datetime(worklog.created),
            "updated": format_datetime(worklog.updated),
            "started": format_datetime(worklog.started),
            "timeSpent": duration_text(worklog.time_spent_seconds),
            "timeSpentSeconds": worklog.time_spent_seconds,
            "id": str(worklog.id),
            "issueId": str(worklog.issue_id),
        }
        if worklog.comment is not None:
            out["comment"] = self.rich(worklog.comment)
        if worklog.visibility is not None:
            out["visibility"] = self.visibility(worklog.visibility)
        return out

    def worklogs_page(self, issue: Issue) -> dict[str, Any]:
        logs = [
            self.site.worklogs[w]
            for w in self.site.worklogs_by_issue.get(issue.id, ())
            if w in self.site.worklogs
        ]
        return {
            "startAt": 0,
            "maxResults": max(20, len(logs)),
            "total": len(logs),
            "worklogs": [self.worklog(w) for w in logs],
        }

    def attachment(self, attachment: Attachment) -> dict[str, Any]:
        return {
            "self": self.view.api(f"attachment/{attachment.id}"),
            "id": str(attachment.id),
            "filename": attachment.filename,
            "author": self.user(attachment.author_key),
            "created": format_datetime(attachment.created),
            "size": attachment.size,
            "mimeType": attachment.mime_type,
            "content": (
                f"{self.view.base_url}/secure/attachment/{attachment.id}/{attachment.filename}"
            ),
        }

    def link(self, link: IssueLink, from_issue_id: int) -> dict[str, Any] | None:
        link_type = self.site.link_types.get(link.type_id)
        if link_type is None:
            return None
        out: dict[str, Any] = {
            "id": str(link.id),
            "self": self.view.api(f"issueLink/{link.id}"),
            "type": {
                "id": str(link_type.id),
                "name": link_type.name,
                "inward": link_type.inward,
                "outward": link_type.outward,
                "self": self.view.api(f"issueLinkType/{link_type.id}"),
            },
        }
        if link.source_issue_id == from_issue_id:
            other = self.site.issues.get(link.destination_issue_id)
            if other is None:
                return None
            out["outwardIssue"] = self.issue_ref(other)
        else:
            other = self.site.issues.get(link.source_issue_id)
            if other is None:
                return None
            out["inwardIssue"] = self.issue_ref(other)
        return out

    def remote_link(self, link: RemoteLink) -> dict[str, Any]:
        obj: dict[str, Any] = {"url": link.url, "title": link.title}
        if link.summary:
            obj["summary"] = link.summary
        if link.icon_url:
            obj["icon"] = {"url16x16": link.icon_url}
        out: dict[str, Any] = {
            "id": link.id,
            "self": self.view.api(f"issue/{link.issue_id}/remotelink/{link.id}"),
        }
        if link.global_id is not None:
            out["globalId"] = link.global_id
        if link.application:
            out["application"] = dict(link.application)
        if link.relationship is not None:
            out["relationship"] = link.relationship
        out["object"] = obj
        return out

    def history(self, history: ChangeHistory, *, keep_nulls: bool | None = None) -> dict[str, Any]:
        """A change history; Cloud REST leaves out null values (its spec has no nullable
        change values), Server and webhooks keep them as ``null``."""
        if keep_nulls is None:
            keep_nulls = not self.view.cloud
        items: list[dict[str, Any]] = []
        for item in history.items:
            entry: dict[str, Any] = {"field": item.field, "fieldtype": item.fieldtype}
            if item.field_id is not None and self.view.cloud:
                entry["fieldId"] = item.field_id
            values = {
                "from": item.from_value,
                "fromString": item.from_string,
                "to": item.to_value,
                "toString": item.to_string,
            }
            for name, value in values.items():
                if value is not None or keep_nulls:
                    entry[name] = value
            items.append(entry)
        return {
            "id": str(history.id),
            "author": self.user(history.author_key),
            "created": format_datetime(history.created),
            "items": items,
        }

    def timetracking(self, issue: Issue) -> dict[str, Any]:
        out: dict[str, Any] = {}
        pairs = (
            ("timeoriginalestimate", "originalEstimate"),
            ("timeestimate", "remainingEstimate"),
            ("timespent", "timeSpent"),
        )
        for fid, name in pairs:
            seconds = issue.fields.get(fid)
            if seconds is not None:
                out[name] = duration_text(int(seconds))
        for fid, name in pairs:
            seconds = issue.fields.get(fid)
            if seconds is not None:
                out[f"{name}Seconds"] = int(seconds)
        return out

    # -- the issue -------------------------------------------------------------------------------

    def field_ids(self, mode: str, include: set[str], exclude: set[str]) -> list[str]:
        """The field ids an answer shows (computed once per renderer and selection)."""
        key = (mode, frozenset(include), frozenset(exclude))
        cached = self._field_ids.get(key)
        if cached is None:
            cached = self._field_ids[key] = self._select_fields(mode, include, exclude)
        return cached

    def _select_fields(self, mode: str, include: set[str], exclude: set[str]) -> list[str]:
        site_fields: dict[str, FieldDef] = self.site.fields
        computed = [*COMPUTED, *CLOUD_COMPUTED] if self.view.cloud else list(COMPUTED)
        if mode == "*all":
            ids = list(site_fields) + [c for c in computed if c not in site_fields]
        elif mode == "*navigable":
            ids = [f.id for f in site_fields.values() if f.navigable and f.id not in _NOT_NAVIGABLE]
            ids += [c for c in computed if c not in site_fields]
        else:
            ids = []
        for fid in include:
            if fid not in ids:
                ids.append(fid)
        return [f for f in ids if f not in exclude] if exclude else ids

    def issue_fields(self, issue: Issue, field_ids: Iterable[str]) -> dict[str, Any]:
        site = self.site
        site_fields = site.fields
        stored = issue.fields
        out: dict[str, Any] = {}
        for fid in field_ids:
            if fid not in _SPECIAL:  # the common case: a plain stored value, mostly unset
                raw = stored.get(fid)
                if raw is not None:
                    out[fid] = self.value(site_fields.get(fid), fid, raw)
                elif fid != "parent" and fid in site_fields:
                    out[fid] = None  # Jira leaves an unset parent out rather than null
                continue
            fd = site_fields.get(fid)
            if fid == "comment":
                out[fid] = self.comments_page(issue)
            elif fid == "worklog":
                out[fid] = self.worklogs_page(issue)
            elif fid == "attachment":
                out[fid] = [
                    self.attachment(site.attachments[a])
                    for a in site.attachments_by_issue.get(issue.id, ())
                    if a in site.attachments
                ]
            elif fid == "issuelinks":
                links = []
                for lid in site.links_by_issue.get(issue.id, ()):
                    link = site.links.get(lid)
                    rendered = self.link(link, issue.id) if link is not None else None
                    if rendered is not None:
                        links.append(rendered)
                out[fid] = links
            elif fid == "subtasks":
                out[fid] = [
                    self.issue_ref(site.issues[s])
                    for s in site.subtasks.get(issue.id, ())
                    if s in site.issues
                ]
            elif fid == "timetracking":
                out[fid] = self.timetracking(issue)
            elif fid == "watches":
                out[fid] = {
                    "self": self.view.api(f"issue/{issue.key}/watchers"),
                    "watchCount": len(issue.watchers),
                    "isWatching": self.viewer_key in issue.watchers,
                }
            elif fid == "votes":
                out[fid] = {
                    "self": self.view.api(f"issue/{issue.key}/votes"),
                    "votes": len(issue.voters),
                    "hasVoted": self.viewer_key in issue.voters,
                }
            elif fid in ("created", "updated", "resolutiondate"):
                out[fid] = format_datetime(issue.value(fid))
            elif fid == "labels":
                out[fid] = list(issue.fields.get("labels", []))
            elif fid in ("components", "fixVersions", "versions"):
                out[fid] = self.value(fd, fid, issue.fields.get(fid, []))
            elif fid == "project":
                out[fid] = self.value(fd, fid, issue.project_id)
            elif fid in COMPUTED or fid in CLOUD_COMPUTED:
                out[fid] = self._computed(issue, fid)
            elif fid not in issue.fields and (fd is None or fid == "parent"):
                continue  # Jira leaves an unset parent out rather than null
            else:
                out[fid] = self.value(fd, fid, issue.fields.get(fid))
        return out

    def _status_category_change(self, issue: Issue) -> str | None:
        """When the issue last moved to a status of another category (else its creation)."""
        statuses = self.site.statuses
        for history in reversed(self.site.changelog.get(issue.id, ())):
            for item in history.items:
                if item.field_id != "status" and item.field != "status":
                    continue
                before = statuses.get(int(item.from_value)) if is_number(item.from_value) else None
                after = statuses.get(int(item.to_value)) if is_number(item.to_value) else None
                if before is None or after is None or before.category is not after.category:
                    return format_datetime(history.created)
        return format_datetime(issue.created)

    def _computed(self, issue: Issue, fid: str) -> Any:
        if fid == "statuscategorychangedate":
            return self._status_category_change(issue)
        spent = int(issue.fields.get("timespent", 0) or 0)
        remaining = int(issue.fields.get("timeestimate", 0) or 0)
        if fid in ("progress", "aggregateprogress"):
            total = spent + remaining
            out: dict[str, Any] = {"progress": spent, "total": total}
            if total:
                out["percent"] = int(spent * 100 / total)
            return out
        if fid == "workratio":
            original = int(issue.fields.get("timeoriginalestimate", 0) or 0)
            return int(spent * 100 / original) if original else -1
        if fid == "lastViewed":
            return None
        mapping = {
            "aggregatetimeoriginalestimate": "timeoriginalestimate",
            "aggregatetimeestimate": "timeestimate",
            "aggregatetimespent": "timespent",
        }
        return issue.fields.get(mapping[fid])

    def issue(
        self,
        issue: Issue,
        *,
        mode: str = "*all",
        include: set[str] | None = None,
        exclude: set[str] | None = None,
        expand: Iterable[str] = (),
        properties: Iterable[str] = (),
    ) -> dict[str, Any]:
        expand_set = {e.strip() for e in expand if e.strip()}
        field_ids = self.field_ids(mode, include or set(), exclude or set())
        out: dict[str, Any] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,"
            "versionedRepresentations",
            "id": str(issue.id),
            "self": self.view.api(f"issue/{issue.id}"),
            "key": issue.key,
        }
        fields = self.issue_fields(issue, field_ids)
        if "renderedFields" in expand_set:
            out["renderedFields"] = self.rendered_fields(issue, fields)
        if "names" in expand_set:
            out["names"] = {
                fid: self.site.fields[fid].name for fid in fields if fid in self.site.fields
            }
        if "schema" in expand_set:
            from jirabridge.emulator.faces._render import field_schema

            out["schema"] = {
                fid: field_schema(self.site.fields[fid])
                for fid in fields
                if fid in self.site.fields
            }
        if "changelog" in expand_set:
            histories = self.site.changelog.get(issue.id, [])
            out["changelog"] = {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
                "histories": [self.history(h) for h in histories],
            }
        props = list(properties)
        if props:
            wanted = (
                issue.properties
                if "*all" in props
                else {k: v for k, v in issue.properties.items() if k in props}
            )
            out["properties"] = dict(wanted)
        out["fields"] = fields
        return out

    def rendered_fields(self, issue: Issue, fields: dict[str, Any]) -> dict[str, Any]:
        """HTML renderings of the rich-text fields (plain escaped paragraphs)."""
        out: dict[str, Any] = {}
        for fid in fields:
            raw = issue.fields.get(fid)
            fd = self.site.fields.get(fid)
            if fid in RICH_TEXT_SYSTEM or (fd is not None and fd.custom == TEXTAREA):
                out[fid] = self.html(raw)
            else:
                out[fid] = None
        return out


def duration_text(seconds: int) -> str:
    """Jira's short duration text (``1w 2d 3h 4m``) with 8-hour days and 5-day weeks."""
    if seconds <= 0:
        return "0m"
    minutes = seconds // 60
    parts: list[str] = []
    for unit, size in (("w", 5 * 8 * 60), ("d", 8 * 60), ("h", 60), ("m", 1)):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0m"


def _plain(raw: Any) -> Any:
    if isinstance(raw, datetime):
        return format_datetime(raw)
    if isinstance(raw, date):
        return format_date(raw)
    if isinstance(raw, set | frozenset | tuple):
        return list(raw)
    return raw
