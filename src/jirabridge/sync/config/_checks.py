"""Rules that span sections of the file (pydantic checks each section on its own)."""

from __future__ import annotations

from collections import Counter

from jirabridge.sync.config._models import (
    CreateMirror,
    CreateRule,
    Flavour,
    PairConfig,
    Side,
    SyncConfig,
    TransitionMirror,
    TriggerEvent,
    ValueMap,
)

__all__ = ["Loc", "cross_check"]

Loc = tuple[str | int, ...]


def cross_check(config: SyncConfig) -> list[tuple[Loc, str]]:
    """Every cross-section problem as (location in the file, message)."""
    problems: list[tuple[Loc, str]] = []
    counts = Counter(p.id for p in config.pairs)
    for index, pair in enumerate(config.pairs):
        loc: Loc = ("pairs", index)
        if counts[pair.id] > 1:
            problems.append(((*loc, "id"), f"pair id {pair.id!r} is used more than once"))
        problems.extend(_pair_problems(config, pair, loc))
    return problems


def _pair_problems(config: SyncConfig, pair: PairConfig, loc: Loc) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    for side in Side:
        end = pair.server if side is Side.SERVER else pair.cloud
        site = config.sites.get(end.site)
        if site is None:
            known = ", ".join(sorted(config.sites))
            problems.append(
                ((*loc, side.value, "site"), f"unknown site {end.site!r} (known: {known})")
            )
        elif site.flavour is not Flavour(side.value):
            problems.append(
                (
                    (*loc, side.value, "site"),
                    f"site {end.site!r} is a {site.flavour.value} site but is used as the "
                    f"{side.value} side",
                )
            )
    names = Counter(f.name for f in pair.fields)
    for i, rule in enumerate(pair.fields):
        floc: Loc = (*loc, "fields", i)
        if names[rule.name] > 1:
            problems.append(((*floc, "name"), f"field {rule.name!r} is listed more than once"))
        if isinstance(rule.values, str) and rule.values not in pair.translations:
            problems.append(
                (
                    (*floc, "values"),
                    f"no translation table {rule.values!r} under `translations`",
                )
            )
    for i, automation in enumerate(pair.rules):
        rloc: Loc = (*loc, "rules", i)
        trigger = automation.when
        if trigger.event is TriggerEvent.FIELD_CHANGED and trigger.field not in names:
            problems.append(
                (
                    (*rloc, "when", "field"),
                    f"field {trigger.field!r} is not synced in this pair (add it under `fields`)",
                )
            )
        for j, action in enumerate(automation.then):
            aloc: Loc = (*rloc, "then", j)
            if isinstance(action, TransitionMirror):
                status_map = pair.translations.get("status")
                if status_map is not None:
                    mirror_is_server = trigger.side is Side.CLOUD
                    _check_known(status_map, action.to_status, mirror_is_server, aloc, problems)
            if isinstance(action, CreateMirror) and not pair.creates_from(trigger.side):
                allowed = CreateRule.allowing(trigger.side)
                problems.append(
                    (
                        (*aloc, "action"),
                        f"create_mirror from the {trigger.side.value} side needs the pair's "
                        f"`create` to be {' or '.join(a.value for a in allowed)}",
                    )
                )
    return problems


def _check_known(
    table: ValueMap, value: str, server_side: bool, loc: Loc, out: list[tuple[Loc, str]]
) -> None:
    known = (
        set(table.map) | set(table.reverse.values())
        if server_side
        else set(table.map.values()) | set(table.reverse)
    )
    if known and value not in known:
        out.append(
            (
                (*loc, "to_status"),
                f"status {value!r} is not in the pair's status table ({', '.join(sorted(known))})",
            )
        )
