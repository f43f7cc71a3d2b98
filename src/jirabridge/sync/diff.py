"""Three-way field diff: what to write where, given the last synced snapshot. Pure.

For each synced field the engine knows three values: the one both sides had at the last
sync (the snapshot, kept per side as a hash), and the current value on each side. Then:

* a side whose value still hashes to its snapshot has not changed. The engine's own writes
  are in the snapshot, so they never come back as a change (no echo);
* one side changed: its value, translated, is written to the other side if the field's
  direction lets it flow there;
* both changed to values that do not match after translation: a conflict, settled by the
  field's rule (``latest`` by changelog time, or one side wins) and recorded for review;
* both changed to matching values, or nothing changed: nothing is written.

Values are canonical JSON-ready values (strings, numbers, lists, dicts such as ADF), keyed by
the field rule's name; the engine reads them from :class:`jirabridge.jira.Issue`.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jirabridge.sync.config import ConflictRule, FieldRule, PairConfig, Side, ValueMap

__all__ = [
    "SKIP",
    "ConflictRecord",
    "FieldPlan",
    "SidePlan",
    "Translator",
    "conflict_winner",
    "is_user_list",
    "is_user_value",
    "plan_fields",
    "value_hash",
]


class _Skip(enum.Enum):
    SKIP = "skip"


SKIP = _Skip.SKIP
"""A translation answer: leave the field alone on the target."""


def value_hash(value: Any) -> str:
    """A stable hash of a canonical value (key order and tuple/list do not matter)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


UserMapper = Callable[[Any, Side], Any]

_USER_KEYS = frozenset({"accountId", "name", "key", "email"})


def is_user_value(value: Any) -> bool:
    """Whether a canonical value is one user (``{"accountId"|"name"|"key"[, "email"]}``),
    as :func:`jirabridge.sync.apply.canonical_values` writes a user of any user-typed field."""
    return (
        isinstance(value, dict)
        and bool(value)
        and set(value) <= _USER_KEYS
        and any(value.get(k) for k in ("accountId", "name", "key"))
    )


def is_user_list(value: Any) -> bool:
    """Whether a canonical value is a non-empty list of users (a multi-user picker)."""
    return isinstance(value, list | tuple) and bool(value) and all(map(is_user_value, value))


class Translator:
    """Moves a value from one side's vocabulary to the other's (tables, users)."""

    USER_FIELDS = frozenset({"assignee", "reporter"})
    ISSUE_FIELDS = frozenset({"parent"})  # values are issue keys: mapped through the pairs

    def __init__(
        self,
        pair: PairConfig,
        *,
        users: UserMapper | None = None,
        issue_keys: Callable[[str, Side], str | None] | None = None,
        rich: Callable[[Any, Side], Any] | None = None,
    ) -> None:
        """``rich`` rewrites rich text (ADF) for the target, e.g. its mentions."""
        self.pair = pair
        self.users = users
        self.issue_keys = issue_keys
        self.rich = rich

    def translate(self, rule: FieldRule, value: Any, target: Side) -> Any:
        """``value`` as the ``target`` side should see it, or :data:`SKIP`."""
        if value is None:
            return None
        if self.users is not None and (rule.name in self.USER_FIELDS or is_user_value(value)):
            return self.users(value, target)
        if self.users is not None and is_user_list(value):
            users = [self.users(v, target) for v in value]
            return [v for v in users if v is not SKIP]
        if rule.name in self.ISSUE_FIELDS:
            mapped = None if self.issue_keys is None else self.issue_keys(str(value), target)
            return SKIP if mapped is None else mapped
        if self.rich is not None and isinstance(value, dict) and value.get("type") == "doc":
            return self.rich(value, target)
        table = self.pair.table_for(rule)
        if table is None:
            return value
        if isinstance(value, list | tuple):
            out = [self._one(table, v, target) for v in value]
            return [v for v in out if v is not SKIP]
        return self._one(table, value, target)

    @staticmethod
    def _one(table: ValueMap, value: Any, target: Side) -> Any:
        if not isinstance(value, str):
            return value
        result = table.to_cloud(value) if target is Side.CLOUD else table.to_server(value)
        return SKIP if result is None else result


@dataclass(frozen=True)
class ConflictRecord:
    field: str
    server_value: Any
    cloud_value: Any
    rule: ConflictRule
    winner: Side | None  # None: the winner's direction does not flow, nothing written


@dataclass(frozen=True)
class SidePlan:
    """Field values to write to one side (keyed by that side's field id)."""

    fields: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.fields)


@dataclass(frozen=True)
class FieldPlan:
    to_server: SidePlan
    to_cloud: SidePlan
    conflicts: tuple[ConflictRecord, ...]
    skipped: tuple[tuple[str, str], ...]  # (field, why)
    pending: tuple[tuple[str, Side], ...] = ()  # skipped (field, source side): retry later


def plan_fields(
    rules: Sequence[FieldRule],
    translator: Translator,
    *,
    server_now: Mapping[str, Any],
    cloud_now: Mapping[str, Any],
    server_hashes: Mapping[str, str] | None,
    cloud_hashes: Mapping[str, str] | None,
    server_changed_at: Mapping[str, datetime] | None = None,
    cloud_changed_at: Mapping[str, datetime] | None = None,
    origin: Side | None = None,
) -> FieldPlan:
    """Decide every field. ``*_hashes`` None: no snapshot yet (a new pair), then ``origin``
    (the side the issue was created on) counts as the changed one."""
    to_server: dict[str, Any] = {}
    to_cloud: dict[str, Any] = {}
    conflicts: list[ConflictRecord] = []
    skipped: list[tuple[str, str]] = []
    pending: list[tuple[str, Side]] = []
    for rule in rules:
        s_val = server_now.get(rule.name)
        c_val = cloud_now.get(rule.name)
        if server_hashes is None or cloud_hashes is None:
            s_changed = origin is Side.SERVER
            c_changed = origin is Side.CLOUD
        else:
            s_changed = server_hashes.get(rule.name) != value_hash(s_val)
            c_changed = cloud_hashes.get(rule.name) != value_hash(c_val)
        if not s_changed and not c_changed:
            continue
        as_cloud = translator.translate(rule, s_val, Side.CLOUD)
        as_server = translator.translate(rule, c_val, Side.SERVER)
        if as_cloud is not SKIP and value_hash(as_cloud) == value_hash(c_val):
            continue  # both sides already agree
        winner: Side | None
        if s_changed and c_changed:
            winner = conflict_winner(rule, server_changed_at, cloud_changed_at)
            flows = winner is not None and rule.direction.flows_to(winner.other)
            conflicts.append(
                ConflictRecord(rule.name, s_val, c_val, rule.conflict, winner if flows else None)
            )
            if not flows:
                continue
        else:
            winner = Side.SERVER if s_changed else Side.CLOUD
            if not rule.direction.flows_to(winner.other):
                continue
        if winner is Side.SERVER:
            if as_cloud is SKIP:
                skipped.append((rule.name, f"no Cloud value for {s_val!r}"))
                pending.append((rule.name, Side.SERVER))
            else:
                to_cloud[rule.cloud_id] = as_cloud
        else:
            if as_server is SKIP:
                skipped.append((rule.name, f"no Server value for {c_val!r}"))
                pending.append((rule.name, Side.CLOUD))
            else:
                to_server[rule.server_id] = as_server
    return FieldPlan(
        SidePlan(to_server), SidePlan(to_cloud), tuple(conflicts), tuple(skipped), tuple(pending)
    )


def conflict_winner(
    rule: FieldRule,
    server_at: Mapping[str, datetime] | None,
    cloud_at: Mapping[str, datetime] | None,
) -> Side | None:
    """The side whose value of ``rule``'s field stands when both changed: the rule's side,
    or for ``latest`` the one with the later change time (Server on a tie, the side with a
    time when one has none); None when neither has a time."""
    if rule.conflict is ConflictRule.SERVER_WINS:
        return Side.SERVER
    if rule.conflict is ConflictRule.CLOUD_WINS:
        return Side.CLOUD
    s = (server_at or {}).get(rule.name)
    c = (cloud_at or {}).get(rule.name)
    if s is None and c is None:
        return None  # no changelog times: nothing to go by, leave both and record it
    if c is None or (s is not None and s >= c):
        return Side.SERVER
    return Side.CLOUD
