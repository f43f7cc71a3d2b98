"""``jirabridge check``: the configuration against both live sites, every problem with its line.

Checked per site: the credential works and authenticates as the configured integration user.
Per pair side: the project can be searched, the side's JQL is valid, every mapped field id
exists on that site, the rules' write-back fields exist, and every status, priority,
resolution and issue type named in the translation tables and rules exists there (asked with
a JQL search, which Jira answers with "The value 'X' does not exist for the field 'status'").
Every status the pair moves a mirror to (status translation tables, ``transition_mirror``)
must be in the project's workflows (``GET /project/{key}/statuses``) and reachable: the check
reads, for each status of the project, the transitions of one issue in it (read-only, so a
status that holds no issue cannot be looked into); when every status could be looked into
and no transition leads to a mapped status, it is reported. The integration user must hold,
in each paired project, the permissions the pair's writes there need
(:mod:`.check_permissions`, ``GET /mypermissions``), and every value a translation table
gives an option field must be an option of it in the project (:mod:`.check_options`).
"""

from __future__ import annotations

from collections.abc import Mapping

from jirabridge.errors import JirabridgeError, ReauthenticateError
from jirabridge.jira import JiraClient as BaseClient
from jirabridge.jira import project_statuses
from jirabridge.sync.check_options import JQL_FIELDS, check_options, table_entries
from jirabridge.sync.check_permissions import check_permissions
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
    users: dict[str, str] = {}  # site -> who the credential logs in as, for messages
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
        users[name] = f"{me.label()} ({me.name or me.account_id or me.key})"
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
        problems.extend(await _check_pair(loaded, pair, index, clients, fields, users))
    problems.sort(key=lambda p: (p.line, p.column))
    return problems


async def _check_pair(
    loaded: LoadedConfig,
    pair: PairConfig,
    index: int,
    clients: Mapping[str, SiteClient],
    fields: Mapping[str, set[str] | None],
    users: Mapping[str, str],
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
        if isinstance(client, BaseClient):
            user = users.get(end.site, "?")
            problems.extend(await check_permissions(loaded, pair, index, side, client, user))
            infos = await client.fields()  # read (and cached) by the site check above
            problems.extend(await check_options(loaded, pair, index, side, client, infos))
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
        unknown = await _check_values(loaded, pair, index, side, client)
        problems.extend(unknown)
        reachable = await _check_reachable(loaded, pair, index, side, client)
        reported = {p.path for p in unknown}  # a status missing from the site: said once
        problems.extend(p for p in reachable if p.path not in reported)
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


def _names_for(pair: PairConfig, index: int, side: Side) -> dict[tuple[str, str], Loc]:
    """(JQL field, value) -> where the value is written, for one side of a pair."""
    out: dict[tuple[str, str], Loc] = {}
    loc: Loc = ("pairs", index)
    for name in JQL_FIELDS:
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
    for j, rule in enumerate(pair.fields):  # tables of these fields under other names
        field_id = rule.server_id if side is Side.SERVER else rule.cloud_id
        if field_id in JQL_FIELDS:
            for value, where in table_entries(pair, index, j, rule, side):
                out.setdefault((field_id, value), where)
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


async def _check_reachable(
    loaded: LoadedConfig, pair: PairConfig, index: int, side: Side, client: SiteClient
) -> list[ConfigProblem]:
    """Mapped statuses that the project's workflows lack, or that no transition reaches."""
    wanted = {
        value: loc
        for (field, value), loc in _names_for(pair, index, side).items()
        if field == "status"
    }
    if not wanted or not isinstance(client, BaseClient):
        return []
    end = pair.server if side is Side.SERVER else pair.cloud
    try:
        per_type = await project_statuses(client, end.project)
    except JirabridgeError as exc:
        loc = next(iter(wanted.values()))
        return [loaded.problem_at(loc, f"cannot read the workflows of {end.project}: {exc}")]
    statuses = {s.lower(): s for names in per_type.values() for s in names}
    into: set[str] = set()  # statuses some observed transition leads to
    complete = True
    for name in sorted(statuses.values()):
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        jql = f'project = "{end.project}" AND status = "{quoted}"'
        try:
            sample = None
            async for issue in client.search(jql, fields=["summary"]):
                sample = issue
                break
            if sample is None:
                complete = False  # nothing in this status: its transitions stay unknown
                continue
            into.update(t.to_status.lower() for t in await client.transitions(sample.key))
        except JirabridgeError:
            complete = False
    problems: list[ConfigProblem] = []
    for value, loc in sorted(wanted.items()):
        if value.lower() not in statuses:
            problems.append(
                loaded.problem_at(
                    loc,
                    f"status {value!r} is in no workflow of project {end.project} on site "
                    f"{end.site!r} (its statuses: {', '.join(sorted(statuses.values()))})",
                )
            )
        elif complete and value.lower() not in into:
            problems.append(
                loaded.problem_at(
                    loc,
                    f"status {value!r} of project {end.project} on site {end.site!r} is "
                    "reached by no transition: a mirror could never be moved there",
                )
            )
    return problems
