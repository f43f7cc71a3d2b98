"""Values in the translation tables of option fields must be options of the field there.

A table translates the values of a select, multi-select, radio, checkbox or cascading field
(and of version and component fields); every value it writes on one side must be an
enabled option of that field in the side's project. The options come from the create
metadata (``allowedValues``) of the project's issue types (the side's ``issue_types`` when
it names some), else from the edit metadata of one issue of the project; a field on neither
screen cannot be looked into and is not judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jirabridge.errors import BadInputError, JirabridgeError
from jirabridge.jira import FieldInfo, JiraClient
from jirabridge.sync.config import (
    ConfigProblem,
    FieldRule,
    LoadedConfig,
    PairConfig,
    Side,
    ValueMap,
)
from jirabridge.sync.config._checks import Loc

__all__ = ["check_options", "is_option_field", "table_entries"]

_KINDS = frozenset({"option", "option-with-child", "version", "component"})
JQL_FIELDS = ("status", "priority", "resolution", "issuetype")  # checked by JQL in check.py
_SHOWN = 12  # options named in a message at most


def is_option_field(info: FieldInfo) -> bool:
    """Whether the field's values are picked from a list the project defines."""
    if info.schema_type in _KINDS:
        return True
    return info.schema_type == "array" and info.items in _KINDS


def table_entries(
    pair: PairConfig, index: int, j: int, rule: FieldRule, side: Side
) -> list[tuple[str, Loc]]:
    """The values field rule ``j``'s table writes on ``side``, each with where it is written
    (the inline table, or the named one under ``translations``)."""
    table = pair.table_for(rule)
    if table is None:
        return []
    if isinstance(rule.values, ValueMap):
        base: Loc = ("pairs", index, "fields", j, "values")
    else:
        base = ("pairs", index, "translations", rule.values or rule.name)
    server = side is Side.SERVER
    out = [(src if server else dst, (*base, "map", src)) for src, dst in table.map.items()]
    out += [(dst if server else src, (*base, "reverse", src)) for src, dst in table.reverse.items()]
    return out


def _labels(values: Iterable[Any]) -> Iterable[tuple[str, bool]]:
    """(option text, enabled) of ``allowedValues``, cascading children included."""
    for value in values:
        if not isinstance(value, Mapping):
            continue
        label = value.get("value", value.get("name"))
        if isinstance(label, str):
            yield label, not value.get("disabled", False) and not value.get("archived", False)
        yield from _labels(value.get("children") or ())


async def _issue_types(client: JiraClient, project: str, names: Sequence[str]) -> list[str]:
    """Ids of the project's issue types (only those named, when ``names`` is not empty)."""
    data = await client.http.json("GET", f"{client.api}/project/{project}")
    types = data.get("issueTypes") if isinstance(data, Mapping) else None
    if not isinstance(types, list):
        raise BadInputError(f"project {project}: the answer lists no issue types")
    wanted = {n.lower() for n in names}
    return [
        str(t["id"])
        for t in types
        if isinstance(t, Mapping)
        and t.get("id") is not None
        and (not wanted or str(t.get("name", "")).lower() in wanted)
    ]


def _merge(out: dict[str, dict[str, bool]], field_id: Any, item: Any) -> None:
    """Add one metadata entry's ``allowedValues`` to ``out`` (an option enabled anywhere
    counts as enabled)."""
    if not isinstance(item, Mapping) or "allowedValues" not in item:
        return
    known = out.setdefault(str(field_id), {})
    for label, enabled in _labels(item.get("allowedValues") or ()):
        known[label] = known.get(label, False) or enabled


async def _create_options(
    client: JiraClient, project: str, names: Sequence[str], field_ids: set[str]
) -> dict[str, dict[str, bool]]:
    """Field id -> {option text: enabled} over the create screens of the project's issue
    types; a field on none of them is left out."""
    out: dict[str, dict[str, bool]] = {}
    for type_id in await _issue_types(client, project, names):
        for item in await client.create_meta(project, type_id):
            field_id = item.get("fieldId") or item.get("key")
            if field_id in field_ids:
                _merge(out, field_id, item)
    return out


async def _edit_options(
    client: JiraClient, project: str, field_ids: set[str]
) -> dict[str, dict[str, bool]]:
    """The same from the edit screen of one issue of the project (none: nothing)."""
    out: dict[str, dict[str, bool]] = {}
    async for issue in client.search(f'project = "{project}"', fields=["summary"]):
        for field_id, item in (await client.edit_meta(issue.key)).items():
            if field_id in field_ids:
                _merge(out, field_id, item)
        break
    return out


async def _options(
    client: JiraClient, project: str, names: Sequence[str], field_ids: set[str]
) -> dict[str, dict[str, bool]]:
    """Field id -> options, from the create screens; a field on none of them (or create
    metadata the user may not read: it need not create there) from an issue's edit screen.
    Fails only when neither can be read."""
    try:
        out = await _create_options(client, project, names, field_ids)
    except JirabridgeError:
        out = await _edit_options(client, project, field_ids)
        if not out:
            raise
        return out
    if field_ids - set(out):
        try:
            more = await _edit_options(client, project, field_ids - set(out))
        except JirabridgeError:
            more = {}  # the create screens said what they could
        out.update(more)
    return out


def _listing(options: Mapping[str, bool]) -> str:
    names = sorted(k for k, enabled in options.items() if enabled)
    shown = ", ".join(repr(n) for n in names[:_SHOWN])
    more = len(names) - _SHOWN
    return (shown + (f", and {more} more" if more > 0 else "")) or "none"


async def check_options(
    loaded: LoadedConfig,
    pair: PairConfig,
    index: int,
    side: Side,
    client: JiraClient,
    fields: Mapping[str, FieldInfo],
) -> list[ConfigProblem]:
    """Every table value of an option field that is not an enabled option on ``side``."""
    end = pair.server if side is Side.SERVER else pair.cloud
    wanted: dict[tuple[str, str, Loc], str] = {}  # (field id, value, where) -> rule name
    for j, rule in enumerate(pair.fields):
        field_id = rule.server_id if side is Side.SERVER else rule.cloud_id
        info = fields.get(field_id)
        if info is None or field_id in JQL_FIELDS or not is_option_field(info):
            continue
        for value, loc in table_entries(pair, index, j, rule, side):
            wanted.setdefault((field_id, value, loc), rule.name)
    if not wanted:
        return []
    field_ids = {field_id for field_id, _, _ in wanted}
    try:
        options = await _options(client, end.project, end.issue_types, field_ids)
    except JirabridgeError as exc:
        loc = next(iter(wanted))[2]
        return [
            loaded.problem_at(
                loc,
                f"cannot read the options of project {end.project} on site {end.site!r}: {exc}",
            )
        ]
    problems: list[ConfigProblem] = []
    for (field_id, value, loc), name in wanted.items():
        known = options.get(field_id)
        if known is None or known.get(value, False):
            continue  # on no create screen (cannot tell), or a good option
        where = f"field {name!r} ({field_id}) in project {end.project} on site {end.site!r}"
        if value in known:
            problems.append(loaded.problem_at(loc, f"{value!r} is a disabled option of {where}"))
            continue
        close = [k for k in known if k.lower() == value.lower()]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(
            loaded.problem_at(
                loc,
                f"{value!r} is not an option of {where}{hint}; its options: {_listing(known)}",
            )
        )
    return problems
