"""Jira JSON (either flavour) <-> the canonical model. No HTTP here."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, ParamSpec, TypeVar

from jirabridge.errors import BadInputError
from jirabridge.jira._model import (
    Attachment,
    ChangeItem,
    ChangelogEntry,
    Comment,
    CustomFieldValue,
    FieldInfo,
    Issue,
    IssueInput,
    IssueLink,
    JiraFlavour,
    LinkDirection,
    RemoteLink,
    Sprint,
    SprintState,
    Transition,
    UserRef,
)
from jirabridge.jira._richtext import RichTextCodec
from jirabridge.jira._users import UserResolver

__all__ = ["IssueReader", "IssueWriter", "format_datetime", "parse_datetime"]

Adf = dict[str, Any]

TEXTAREA = "com.atlassian.jira.plugin.system.customfieldtypes:textarea"
SPRINT = "com.pyxis.greenhopper.jira:gh-sprint"
EPIC_LINK = "com.pyxis.greenhopper.jira:gh-epic-link"
CASCADING = "com.atlassian.jira.plugin.system.customfieldtypes:cascadingselect"


def parse_datetime(value: Any) -> datetime | None:
    """Jira's ``2019-08-12T22:38:31.604+0000`` (and ISO variants) -> aware datetime."""
    if value in (None, ""):
        return None
    text = str(value)
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        result = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadInputError(f"not a Jira datetime: {value!r}") from exc
    if result.tzinfo is None:
        raise BadInputError(f"Jira datetime without a timezone: {value!r}")
    return result


def format_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise BadInputError("datetimes written to Jira must be timezone-aware")
    return (
        value.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{value.microsecond // 1000:03d}"
        + (value.strftime("%z"))
    )


def _parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise BadInputError(f"not a Jira date: {value!r}") from exc


def _name(value: Any, key: str = "name") -> str | None:
    if isinstance(value, Mapping):
        found = value.get(key)
        return None if found is None else str(found)
    return None


def _names(values: Any, key: str = "name") -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(n for n in (_name(v, key) for v in values) if n is not None)


_T = TypeVar("_T")
_P = ParamSpec("_P")


def _checked(method: Callable[_P, _T]) -> Callable[_P, _T]:
    """Turn the errors malformed JSON causes (wrong types, missing keys) into BadInputError."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return method(*args, **kwargs)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            raise BadInputError(
                f"malformed Jira JSON ({method.__name__}): {type(exc).__name__}"
            ) from exc

    return wrapper


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInputError(f"{what} must be a list of strings")
    return tuple(value)


def _entity_properties(value: Any) -> dict[str, Any]:
    """Jira's ``[{"key": ..., "value": ...}]`` (an expanded ``properties``) as a dict."""
    if value is None:
        return {}
    if not isinstance(value, list) or not all(
        isinstance(p, Mapping) and isinstance(p.get("key"), str) for p in value
    ):
        raise BadInputError("entity properties must be a list of {key, value} objects")
    return {p["key"]: p.get("value") for p in value}


class IssueReader:
    """Reads one site's JSON into canonical objects.

    ``fields`` gives each field's schema (from ``GET /field``), needed to normalise custom
    field values; ``users`` fills in the other site's identities when known.
    """

    def __init__(
        self,
        flavour: JiraFlavour,
        codec: RichTextCodec,
        *,
        fields: Mapping[str, FieldInfo] | None = None,
        users: UserResolver | None = None,
    ) -> None:
        self.flavour = flavour
        self.codec = codec
        self.fields = dict(fields or {})
        self.users = users
        # one reader reads one answer: the same few people recur in every changelog entry,
        # comment and field of it, and are read (and completed) once
        self._people: dict[tuple[Any, ...], UserRef | None] = {}

    # -- small values ---------------------------------------------------------------------
    @_checked
    def user(self, data: Any) -> UserRef | None:
        return self._user(data)

    def _user(self, data: Any) -> UserRef | None:
        if not isinstance(data, Mapping):
            return None
        seen = (
            data.get("accountId"),
            data.get("name"),
            data.get("key"),
            data.get("emailAddress"),
            data.get("displayName"),
            data.get("active"),
        )
        try:
            return self._people[seen]
        except KeyError:
            pass
        except TypeError:  # a value that is no JSON scalar: read it, do not keep it
            return self._read_user(data)
        ref = self._people[seen] = self._read_user(data)
        return ref

    def _read_user(self, data: Mapping[str, Any]) -> UserRef | None:
        account_id = data.get("accountId")
        if account_id == "unknown":
            account_id = None  # Cloud's placeholder for users lost in a corrupt import
        name = data.get("name")
        key = data.get("key")
        if self.flavour is JiraFlavour.CLOUD:
            name = key = None  # deprecated on Cloud; what is left there is not meaningful
        if not (account_id or name or key):
            return None
        ref = UserRef(
            account_id=account_id,
            name=name,
            key=key,
            email=data.get("emailAddress") or None,
            display_name=data.get("displayName"),
            active=data.get("active"),
        )
        if self.users is not None:
            return self.users.complete(ref) or ref
        return ref

    @_checked
    def rich(self, value: Any) -> Adf | None:
        if value is None:
            return None
        if isinstance(value, str):
            if not value.strip():
                return None
            return self.codec.to_adf(value)
        if isinstance(value, Mapping):
            if value.get("type") != "doc":
                raise BadInputError("rich text is neither wiki markup nor an ADF document")
            if not value.get("content"):
                return None
            return dict(value)
        raise BadInputError(f"unexpected rich text value of type {type(value).__name__}")

    # -- objects --------------------------------------------------------------------------
    @_checked
    def comment(self, data: Mapping[str, Any]) -> Comment:
        visibility = data.get("visibility")
        vis = None
        if isinstance(visibility, Mapping) and visibility.get("type"):
            vis = (str(visibility["type"]), str(visibility.get("value", "")))
        return Comment(
            body=self.rich(data.get("body")) or {"type": "doc", "version": 1, "content": []},
            author=self.user(data.get("author")),
            created=parse_datetime(data.get("created")),
            updated=parse_datetime(data.get("updated")),
            update_author=self.user(data.get("updateAuthor")),
            visibility=vis,
            id=str(data["id"]) if data.get("id") is not None else None,
            properties=_entity_properties(data.get("properties")),
        )

    @_checked
    def changelog_entry(self, data: Mapping[str, Any]) -> ChangelogEntry:
        return self._changelog_entry(data)

    def _changelog_entry(self, data: Mapping[str, Any]) -> ChangelogEntry:
        # unchecked: for callers that map the errors themselves (issue(), per issue)
        created = parse_datetime(data.get("created"))
        if created is None:
            raise BadInputError("changelog entry without a creation time")
        items = tuple(
            ChangeItem(
                field=str(item.get("field", "")),
                field_type=item.get("fieldtype"),
                field_id=item.get("fieldId"),
                from_value=item.get("from"),
                from_string=item.get("fromString"),
                to_value=item.get("to"),
                to_string=item.get("toString"),
            )
            for item in data.get("items") or ()
        )
        return ChangelogEntry(
            created=created,
            items=items,
            author=self._user(data.get("author")),
            id=str(data["id"]) if data.get("id") is not None else None,
        )

    @_checked
    def attachment(self, data: Mapping[str, Any]) -> Attachment:
        return Attachment(
            filename=str(data.get("filename", "")),
            size=int(data.get("size") or 0),
            mime_type=data.get("mimeType"),
            author=self.user(data.get("author")),
            created=parse_datetime(data.get("created")),
            id=str(data["id"]) if data.get("id") is not None else None,
            content_url=data.get("content"),
        )

    @_checked
    def link(self, data: Mapping[str, Any]) -> IssueLink | None:
        type_name = _name(data.get("type")) or ""
        if isinstance(data.get("outwardIssue"), Mapping):
            return IssueLink(
                type_name,
                LinkDirection.OUTWARD,
                data["outwardIssue"]["key"],
                id=str(data.get("id")),
            )
        if isinstance(data.get("inwardIssue"), Mapping):
            return IssueLink(
                type_name, LinkDirection.INWARD, data["inwardIssue"]["key"], id=str(data.get("id"))
            )
        return None

    @_checked
    def remote_link(self, data: Mapping[str, Any]) -> RemoteLink:
        obj = data.get("object") or {}
        return RemoteLink(
            url=str(obj.get("url", "")),
            title=str(obj.get("title", "")),
            global_id=data.get("globalId"),
            relationship=data.get("relationship"),
            id=data.get("id"),
        )

    @_checked
    def sprint(self, data: Mapping[str, Any]) -> Sprint:
        try:
            state = SprintState(str(data.get("state", "future")).lower())
        except ValueError as exc:
            raise BadInputError(f"unknown sprint state {data.get('state')!r}") from exc
        return Sprint(
            id=int(data["id"]),
            name=str(data.get("name", "")),
            state=state,
            board_id=data.get("originBoardId"),
            goal=data.get("goal") or None,
            start=parse_datetime(data.get("startDate")),
            end=parse_datetime(data.get("endDate")),
            complete=parse_datetime(data.get("completeDate")),
        )

    @_checked
    def transition(self, data: Mapping[str, Any]) -> Transition:
        to = data.get("to") or {}
        return Transition(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            to_status=str(to.get("name", "")),
            to_status_id=to.get("id"),
            fields=data.get("fields") or {},
        )

    @_checked
    def custom_value(self, field_id: str, raw: Any) -> CustomFieldValue | None:
        if raw is None or raw == [] or raw == "":
            return None
        info = self.fields.get(field_id)
        schema_type = (info.schema_type if info else None) or _guess_type(raw)
        items = info.items if info else None
        custom = info.custom_key if info else None
        value: Any
        if custom == TEXTAREA:
            value = self.rich(raw)
        elif custom == SPRINT:
            value = tuple(sorted(_sprint_id(v) for v in (raw if isinstance(raw, list) else [raw])))
        elif custom == CASCADING and isinstance(raw, Mapping):
            value = (raw.get("value"), _name(raw.get("child"), "value"))
        else:
            value = self._typed(schema_type, raw)
        if value is None:
            return None
        return CustomFieldValue(field_id, schema_type, value, items=items, custom=custom)

    def _typed(self, schema_type: str, raw: Any) -> Any:
        if schema_type == "array":
            values = raw if isinstance(raw, list) else [raw]
            return tuple(self._item(v) for v in values)
        return self._item(raw, schema_type)

    def _item(self, raw: Any, schema_type: str | None = None) -> Any:
        if schema_type == "number":
            return float(raw)
        if schema_type == "date":
            return _parse_date(raw)
        if schema_type == "datetime":
            return parse_datetime(raw)
        if isinstance(raw, Mapping):
            if "accountId" in raw or ("name" in raw and "key" in raw and "emailAddress" in raw):
                return self.user(raw)
            if raw.get("type") == "doc":
                return self.rich(raw)
            for key in ("value", "name", "key"):
                if key in raw:
                    return raw[key]
            return dict(raw)
        return raw

    @_checked
    def issue(self, data: Mapping[str, Any]) -> Issue:
        if not isinstance(data, Mapping) or "key" not in data:
            raise BadInputError("issue JSON without a key")
        f: Mapping[str, Any] = data.get("fields") or {}
        custom: dict[str, CustomFieldValue] = {}
        parent_key = _name(f.get("parent"), "key")
        for field_id, raw in f.items():
            if not field_id.startswith("customfield_"):
                continue
            info = self.fields.get(field_id)
            if info is not None and info.custom_key == EPIC_LINK:
                parent_key = parent_key or (str(raw) if raw else None)
                continue
            value = self.custom_value(field_id, raw)
            if value is not None:
                custom[field_id] = value
        comments_block = f.get("comment")
        comments: tuple[Comment, ...] = ()
        comments_total: int | None = None
        if isinstance(comments_block, Mapping):
            comments = tuple(self.comment(c) for c in comments_block.get("comments") or ())
            total = comments_block.get("total")
            ok = isinstance(total, int) and not isinstance(total, bool) and total >= 0
            comments_total = total if ok else len(comments)
        changelog_block = data.get("changelog")
        changelog: tuple[ChangelogEntry, ...] = ()
        if isinstance(changelog_block, Mapping):
            changelog = tuple(
                self._changelog_entry(h) for h in changelog_block.get("histories") or ()
            )
        links = tuple(
            link for link in (self.link(x) for x in f.get("issuelinks") or ()) if link is not None
        )
        status = f.get("status") or {}
        project = f.get("project") or {}
        key = str(data["key"])
        return Issue(
            key=key,
            project_key=str(project.get("key") or key.rsplit("-", 1)[0]),
            issue_type=_name(f.get("issuetype")) or "",
            summary=str(f.get("summary") or ""),
            status=str(status.get("name", "")),
            description=self.rich(f.get("description")),
            environment=self.rich(f.get("environment")),
            status_category=_name(status.get("statusCategory"), "key"),
            priority=_name(f.get("priority")),
            resolution=_name(f.get("resolution")),
            assignee=self.user(f.get("assignee")),
            reporter=self.user(f.get("reporter")),
            creator=self.user(f.get("creator")),
            labels=tuple(sorted(_str_list(f.get("labels"), "labels"))),
            components=tuple(sorted(_names(f.get("components")))),
            fix_versions=tuple(sorted(_names(f.get("fixVersions")))),
            affects_versions=tuple(sorted(_names(f.get("versions")))),
            created=parse_datetime(f.get("created")),
            updated=parse_datetime(f.get("updated")),
            resolved=parse_datetime(f.get("resolutiondate")),
            due=_parse_date(f.get("duedate")),
            parent_key=parent_key,
            links=links,
            attachments=tuple(self.attachment(a) for a in f.get("attachment") or ()),
            comments=comments,
            comments_total=comments_total,
            changelog=changelog,
            custom_fields=custom,
            id=str(data["id"]) if data.get("id") is not None else None,
            url=data.get("self"),
        )


def _guess_type(raw: Any) -> str:
    if isinstance(raw, list):
        return "array"
    if isinstance(raw, bool):
        return "any"
    if isinstance(raw, (int, float)):
        return "number"
    if isinstance(raw, Mapping):
        if "accountId" in raw or "emailAddress" in raw:
            return "user"
        if raw.get("type") == "doc":
            return "string"
        return "option" if "value" in raw else "any"
    return "string"


def _sprint_id(value: Any) -> int:
    if isinstance(value, Mapping):
        return int(value["id"])
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value)  # Server < 8: "com.atlassian.greenhopper...Sprint@1a2b[id=3,rapidViewId=..."
    start = text.find("[id=")
    if start >= 0:
        end = text.find(",", start)
        return int(text[start + 4 : end if end > 0 else None].rstrip("]"))
    raise BadInputError(f"cannot read a sprint id from {text[:80]!r}")


class IssueWriter:
    """Turns canonical values into one flavour's request JSON."""

    def __init__(
        self,
        flavour: JiraFlavour,
        codec: RichTextCodec,
        *,
        fields: Mapping[str, FieldInfo] | None = None,
        users: UserResolver | None = None,
        rich_as_adf: bool | None = None,
        subtask_types: frozenset[str] = frozenset(),
    ) -> None:
        self.flavour = flavour
        self.codec = codec
        self.subtask_types = subtask_types
        self.fields = dict(fields or {})
        self.users = users
        self.rich_as_adf = flavour is JiraFlavour.CLOUD if rich_as_adf is None else rich_as_adf

    def user(self, user: UserRef | None) -> dict[str, Any] | None:
        if user is None:
            return None
        if self.users is not None and (
            (self.flavour is JiraFlavour.CLOUD and not user.account_id)
            or (self.flavour is JiraFlavour.SERVER and not user.name)
        ):
            user = self.users.complete(user) or user
        if self.flavour is JiraFlavour.CLOUD:
            if not user.account_id:
                raise BadInputError(f"no Cloud accountId known for user {user.label()}")
            return {"accountId": user.account_id}
        if not user.name:
            raise BadInputError(f"no Server username known for user {user.label()}")
        return {"name": user.name}

    def rich(self, adf: Mapping[str, Any] | None) -> Any:
        if adf is None:
            return None
        if self.rich_as_adf:
            return dict(adf)
        return self.codec.to_wiki(adf)

    def custom_value(self, value: CustomFieldValue) -> Any:
        info = self.fields.get(value.field_id)
        custom = value.custom or (info.custom_key if info else None)
        items = value.items or (info.items if info else None)
        v = value.value
        if custom == TEXTAREA:
            return self.rich(v)
        if custom == SPRINT:
            ids = list(v) if isinstance(v, (tuple, list)) else [v]
            return int(ids[-1]) if ids else None
        if custom == CASCADING and isinstance(v, tuple):
            out: dict[str, Any] = {"value": v[0]}
            if v[1] is not None:
                out["child"] = {"value": v[1]}
            return out
        if value.schema_type == "array":
            return [self._item(items, x) for x in v]
        return self._item(value.schema_type, v)

    def _item(self, schema_type: str | None, v: Any) -> Any:
        if isinstance(v, UserRef):
            return self.user(v)
        if schema_type == "option":
            return {"value": v}
        if schema_type in ("version", "component"):
            return {"name": v}
        if schema_type == "datetime" and isinstance(v, datetime):
            return format_datetime(v)
        if schema_type == "date" and isinstance(v, date):
            return v.isoformat()
        if isinstance(v, dict) and v.get("type") == "doc":
            return self.rich(v)
        return v

    def _epic_link_field(self) -> str | None:
        for field_id, info in self.fields.items():
            if info.custom_key == EPIC_LINK:
                return field_id
        return None

    def fields_of(self, data: IssueInput) -> dict[str, Any]:
        """The ``fields`` object for a create or an edit."""
        out: dict[str, Any] = {}
        if data.project_key is not None:
            out["project"] = {"key": data.project_key}
        if data.issue_type is not None:
            out["issuetype"] = {"name": data.issue_type}
        if data.summary is not None:
            out["summary"] = data.summary
        if data.description is not None:
            out["description"] = self.rich(data.description)
        if data.environment is not None:
            out["environment"] = self.rich(data.environment)
        if data.priority is not None:
            out["priority"] = {"name": data.priority}
        if data.assignee is not None:
            out["assignee"] = self.user(data.assignee)
        if data.reporter is not None:
            out["reporter"] = self.user(data.reporter)
        if data.labels is not None:
            out["labels"] = list(data.labels)
        if data.components is not None:
            out["components"] = [{"name": n} for n in data.components]
        if data.fix_versions is not None:
            out["fixVersions"] = [{"name": n} for n in data.fix_versions]
        if data.affects_versions is not None:
            out["versions"] = [{"name": n} for n in data.affects_versions]
        if data.due is not None:
            out["duedate"] = data.due.isoformat()
        if data.parent_key is not None:
            epic_link = self._epic_link_field()
            is_subtask = data.issue_type is not None and data.issue_type in self.subtask_types
            if self.flavour is JiraFlavour.SERVER and epic_link and not is_subtask:
                out[epic_link] = data.parent_key  # Server: an epic is linked, not a parent
            else:
                out["parent"] = {"key": data.parent_key}
        for field_id, value in data.custom_fields.items():
            out[field_id] = self.custom_value(value)
        out.update(data.extra_fields)
        return out
