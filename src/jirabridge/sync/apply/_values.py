"""Canonical field values of an issue, and the :class:`IssueInput` a write sends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from jirabridge.errors import SkipItemError
from jirabridge.jira import CustomFieldValue, FieldInfo, Issue, IssueInput, UserRef
from jirabridge.sync.config import FieldRule, Side

_STANDARD: dict[str, str] = {
    "summary": "summary",
    "description": "description",
    "environment": "environment",
    "priority": "priority",
    "status": "status",
    "resolution": "resolution",
    "labels": "labels",
    "components": "components",
    "fixVersions": "fix_versions",
    "versions": "affects_versions",
    "duedate": "due",
    "assignee": "assignee",
    "reporter": "reporter",
    "issuetype": "issue_type",
    "parent": "parent_key",
    "key": "key",
}
_NOT_EDITABLE = frozenset({"status", "resolution", "key", "issuetype"})


def _plain(value: Any) -> Any:
    if isinstance(value, UserRef):
        return {
            k: v
            for k, v in (
                ("accountId", value.account_id),
                ("name", value.name),
                ("key", value.key),
                ("email", value.email),
            )
            if v
        }
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def canonical_values(issue: Issue, rules: Sequence[FieldRule], side: Side) -> dict[str, Any]:
    """The synced fields of ``issue`` as JSON-ready values keyed by rule name."""
    out: dict[str, Any] = {}
    for rule in rules:
        field_id = rule.server_id if side is Side.SERVER else rule.cloud_id
        if field_id in _STANDARD:
            value = getattr(issue, _STANDARD[field_id])
        else:
            custom = issue.custom_fields.get(field_id)
            value = None if custom is None else custom.value
        value = _plain(value)
        if field_id in ("labels", "components", "fixVersions", "versions") and value:
            value = sorted(value)
        out[rule.name] = value
    return out


def _paragraph(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "content": [{"type": "text", "text": text}]}


def _adf_text(text: str) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": [_paragraph(text)]}


def _user(value: Any) -> UserRef | None:
    if not isinstance(value, Mapping):
        return None
    ref = {
        "account_id": value.get("accountId"),
        "name": value.get("name"),
        "key": value.get("key"),
    }
    if not any(ref.values()):
        return None
    return UserRef(**ref)


def _input(
    fields: Mapping[str, Any],
    *,
    skip: frozenset[str],
    info: Mapping[str, FieldInfo] | None = None,
) -> IssueInput:
    """An :class:`IssueInput` from field ids and canonical values.

    A custom field the target site describes (``info``, its ``GET /field``) becomes a typed
    :class:`CustomFieldValue`, which the client shapes as Jira wants it (``{"value": ...}``
    for options, user objects, ``{"name": ...}`` for versions, ADF or wiki for a textarea);
    an unknown one, or a cleared one (``None``), is passed through as raw JSON."""
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    custom: dict[str, CustomFieldValue] = {}
    for field_id, value in fields.items():
        if field_id in skip:
            continue
        attr = _STANDARD.get(field_id)
        if attr in ("summary", "priority", "parent_key"):
            kwargs[attr] = value
        elif attr in ("description", "environment"):
            kwargs[attr] = value if value is not None else _adf_text("")
        elif attr in ("labels", "components", "fix_versions", "affects_versions"):
            kwargs[attr] = tuple(value or ())
        elif attr == "due":
            kwargs[attr] = None if value is None else date.fromisoformat(str(value)[:10])
        elif attr in ("assignee", "reporter"):
            kwargs[attr] = _user(value)
        elif attr is None:
            described = None if info is None else info.get(field_id)
            typed = None if described is None else _custom(described, value)
            if typed is None:
                extra[field_id] = value
            else:
                custom[field_id] = typed
    if extra:
        kwargs["extra_fields"] = extra
    if custom:
        kwargs["custom_fields"] = custom
    return IssueInput(**kwargs)


def _custom(info: FieldInfo, value: Any) -> CustomFieldValue | None:
    """``value`` (canonical) as a typed value of the target's field ``info``; None: send the
    raw value (a cleared field, or a schema we do not know)."""
    schema = info.schema_type
    if value is None or schema is None:
        return None
    try:
        if schema == "array":
            items = info.items
            values = value if isinstance(value, list | tuple) else [value]
            return CustomFieldValue(
                info.id,
                "array",
                tuple(_scalar(items, v) for v in values),
                items=items,
                custom=info.custom_key,
            )
        if schema == "option-with-child":
            parts = list(value) if isinstance(value, list | tuple) else [value]
            parent, child = [*parts, None, None][:2]
            return CustomFieldValue(info.id, schema, (parent, child), custom=info.custom_key)
        return CustomFieldValue(info.id, schema, _scalar(schema, value), custom=info.custom_key)
    except (TypeError, ValueError) as exc:
        raise SkipItemError(
            f"value of {info.name or info.id} does not fit its type {schema}: {exc}"
        ) from exc


def _scalar(schema: str | None, value: Any) -> Any:
    if schema == "user":
        user = _user(value)
        if user is None:
            raise ValueError("not a user")
        return user
    if schema == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if schema == "datetime":
        if isinstance(value, datetime):
            return value
        parsed = datetime.fromisoformat(str(value))
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    if schema == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"not a number: {value!r}")
        number = float(value)
        return int(number) if isinstance(value, int) else number
    return value


def _input_kwargs(data: IssueInput) -> dict[str, Any]:
    """The fields of ``data`` that are set."""
    out: dict[str, Any] = {}
    for name in IssueInput.__dataclass_fields__:
        value = getattr(data, name)
        if value is None or (name in ("custom_fields", "extra_fields") and not value):
            continue
        out[name] = value
    return out
