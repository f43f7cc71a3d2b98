"""``jirabridge check``: the configuration against both live sites, every problem with its line.

Checked per site: the credential works and authenticates as the configured integration user.
Per pair side: the project can be searched, the side's JQL is valid, every mapped field id
exists on that site, the rules' write-back fields exist, and every status, priority,
resolution and issue type named in the translation tables and rules exists there (asked with
a JQL search, which Jira answers with "The value 'X' does not exist for the field 'status'").
Not yet: whether each status is reachable by transitions, and per-project permissions (the
client exposes neither workflows nor permissions).
"""

from __future__ import annotations

from collections.abc import Mapping

from jirabridge.errors import JirabridgeError, ReauthenticateError
from jirabridge.sync.config import (
    ConfigProblem,
    CreateMirror,
    LoadedConfig,
    PairConfig,
    Side,
    TransitionMirror,
)
from jirabridge.sync.config._checks import Loc
from jirabridge.sync.engine import SiteClient, base_jql

__all__ = ["check_live"]

_NOT_FIELDS = frozenset({"key"})  # readable issue attributes that /field does not list


async def check_live(
    loaded: LoadedConfig, clients: Mapping[str, SiteClient]
) -> list[ConfigProblem]:
    """Every problem found on the live sites (an empty list: the config is good)."""
    config = loaded.config
    problems: list[ConfigProblem] = []
    fields: dict[str, set[str] | None] = {}
    for name, site in config.sites.items():
        loc: Loc = ("sites", name)
        client = clients.get(name)
        if client is None:
            problems.append(loaded.problem_at(loc, f"no client for site {name!r}"))
            continue
        try:
            me = await client.myself()
        except ReauthenticateError as exc:
            problems.append(loaded.problem_at((*loc, "credential"), f"login failed: {exc}"))
            fields[name] = None
            continue
        except JirabridgeError as exc:
            problems.append(loaded.problem_at((*loc, "url"), f"site unreachable: {exc}"))
            fields[name] = None
            continue
        ids = {me.account_id, me.key, me.name} - {None}
        if site.integration_user not in ids:
            who = me.label()
            problems.append(
                loaded.problem_at(
                    (*loc, "integration_user"),
                    f"the credential logs in as {who!r}, not as {site.integration_user!r}: "
                    "the engine's own edits would echo back",
                )
            )
        try:
            fields[name] = set((await client.fields()).keys())
        except JirabridgeError as exc:
            problems.append(loaded.problem_at(loc, f"cannot list fields: {exc}"))
            fields[name] = None
    for index, pair in enumerate(config.pairs):
        problems.extend(await _check_pair(loaded, pair, index, clients, fields))
    problems.sort(key=lambda p: (p.line, p.column))
    return problems


async def _check_pair(
    loaded: LoadedConfig,
    pair: PairConfig,
    index: int,
    clients: Mapping[str, SiteClient],
    fields: Mapping[str, set[str] | None],
) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    loc: Loc = ("pairs", index)
    for side in Side:
        end = pair.server if side is Side.SERVER else pair.cloud
        client = clients.get(end.site)
        known = fields.get(end.site)
        if client is None or known is None:
            continue  # the site itself is already reported
        try:
            async for _ in client.search(f'project = "{end.project}"', fields=["summary"]):
                break
        except JirabridgeError as exc:
            problems.append(
                loaded.problem_at((*loc, side.value, "project"), f"project {end.project}: {exc}")
            )
            continue
        if end.jql:
            try:
                async for _ in client.search(base_jql(end), fields=["summary"]):
                    break
            except JirabridgeError as exc:
                problems.append(loaded.problem_at((*loc, side.value, "jql"), f"JQL: {exc}"))
        for j, rule in enumerate(pair.fields):
            field_id = rule.server_id if side is Side.SERVER else rule.cloud_id
            if field_id in _NOT_FIELDS or field_id in known:
                continue
            where = side.value if (rule.server if side is Side.SERVER else rule.cloud) else "name"
            problems.append(
                loaded.problem_at(
                    (*loc, "fields", j, where),
                    f"field {field_id!r} does not exist on site {end.site!r}",
                )
            )
        problems.extend(await _check_values(loaded, pair, index, side, client))
        for r, automation in enumerate(pair.rules):
            if automation.when.side is not side:
                continue
            for a, action in enumerate(automation.then):
                if (
                    isinstance(action, CreateMirror)
                    and action.write_back_field
                    and action.write_back_field not in known
                ):
                    problems.append(
                        loaded.problem_at(
                            (*loc, "rules", r, "then", a, "write_back_field"),
                            f"field {action.write_back_field!r} does not exist on site "
                            f"{end.site!r}",
                        )
                    )
    return problems


_JQL_FIELDS = ("status", "priority", "resolution", "issuetype")


def _names_for(pair: PairConfig, index: int, side: Side) -> dict[tuple[str, str], Loc]:
    """(JQL field, value) -> where the value is written, for one side of a pair."""
    out: dict[tuple[str, str], Loc] = {}
    loc: Loc = ("pairs", index)
    for name in _JQL_FIELDS:
        table = pair.translations.get(name)
        if table is None:
            continue
        tloc: Loc = (*loc, "translations", name)
        for src, dst in table.map.items():
            value = src if side is Side.SERVER else dst
            out.setdefault((name, value), (*tloc, "map", src))
        for src, dst in table.reverse.items():
            value = dst if side is Side.SERVER else src
            out.setdefault((name, value), (*tloc, "reverse", src))
    for r, automation in enumerate(pair.rules):
        target = automation.when.side.other
        for a, action in enumerate(automation.then):
            aloc: Loc = (*loc, "rules", r, "then", a)
            if isinstance(action, TransitionMirror) and target is side:
                out.setdefault(("status", action.to_status), (*aloc, "to_status"))
                if action.resolution:
                    out.setdefault(("resolution", action.resolution), (*aloc, "resolution"))
            if isinstance(action, CreateMirror) and target is side and action.issue_type:
                out.setdefault(("issuetype", action.issue_type), (*aloc, "issue_type"))
    return out


async def _check_values(
    loaded: LoadedConfig, pair: PairConfig, index: int, side: Side, client: SiteClient
) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    end = pair.server if side is Side.SERVER else pair.cloud
    for (field, value), loc in sorted(_names_for(pair, index, side).items()):
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        jql = f'project = "{end.project}" AND {field} = "{quoted}"'
        try:
            async for _ in client.search(jql, fields=["summary"]):
                break
        except JirabridgeError as exc:
            problems.append(
                loaded.problem_at(loc, f"{field} {value!r} on site {end.site!r}: {exc}")
            )
    return problems
