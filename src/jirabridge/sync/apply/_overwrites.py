"""Edits a person makes while a job writes: found in the changelog, never lost.

Jira has no conditional update, so between the job's first read of an issue and its re-read
after the writes a person may edit a field the job writes. The values cannot tell (a site
normalises what it is given, e.g. ADF and wiki), the changelog can: history ids grow, and
each entry names its author. For every field the job wrote on a side, the entries made
since the first read by someone other than the integration user say what happened:

* **after our write** (or our write changed nothing): the person's edit is the latest. The
  snapshot of that field keeps the value we wrote, not the re-read one, so the next job sees
  the edit as a change and takes it to the other side (the side's ``updated`` is left
  unknown, so a poll queues that job even if no webhook does).
* **before our write**: we overwrote it. The pair's conflict rule says who should have won
  (``latest``: the person's entry time against the change time of the value we copied; or
  the side that always wins). When the person should have, their value is written back from
  the changelog item where it can be rebuilt exactly (text, priority, labels, dates,
  numbers, options, Cloud users) and the snapshot keeps our value so the next job copies
  theirs across; where it cannot (rich text: the changelog keeps no formatting; a cleared
  field; a Server user) it is not guessed: a conflict and an ``edit_overwritten`` audit entry
  name the field, the person, the time and the lost value. Either way a conflict is recorded,
  as the plan would have had it seen both edits.

No call is added: the re-read asks for the changelog of the sides that were written. Only a
write back (rare) costs one more read, which checks that no newer edit landed in its own
window (if one did, it is written back in turn). Where nothing can be ordered (a side read
without its changelog, e.g. a mirror the backfill handed over; entries without numeric ids;
a changelog the site cut short before the new entries) nothing is seen and the re-read
values are taken as before.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from jirabridge.errors import BadInputError, RetryLaterError, SkipItemError
from jirabridge.jira import ChangeItem, ChangelogEntry, FieldInfo, Issue
from jirabridge.sync.apply._base import _ApplierBase, _Ctx
from jirabridge.sync.apply._values import _input
from jirabridge.sync.config import FieldRule, PairConfig, Side
from jirabridge.sync.diff import ConflictRecord, FieldPlan, conflict_winner
from jirabridge.sync.store import AuditEntry

log = logging.getLogger("jirabridge.sync.apply")

_SIDES = (Side.SERVER, Side.CLOUD)
_CANNOT = (SkipItemError, BadInputError, RetryLaterError)  # a write back given up, not the job
MAX_WRITE_BACKS = 3  # write backs per side and job, each checked by one more read
_PLAIN_TEXT = (":textfield", ":url")  # custom string fields whose changelog text is exact
# how a changelog item's ``field`` names the system fields whose name is not their id
_SYSTEM_NAMES = {"component": "components", "fix version": "fixversions", "version": "versions"}


def rules_by_field(pair: PairConfig, side: Side) -> dict[str, FieldRule]:
    """The pair's field rules by ``side``'s field id in lower case (as changelog items
    name the field: ``fieldId``, or ``field`` where a site leaves the id out)."""
    return {(r.server_id if side is Side.SERVER else r.cloud_id).lower(): r for r in pair.fields}


async def rules_by_item(ctx: _Ctx, side: Side) -> dict[str, FieldRule]:
    """The pair's field rules by every way a changelog item of ``side`` names the field, in
    lower case: its ``fieldId``, else its ``field``, which for a system field is its id or
    Jira's name for it and for a custom field its name: Server leaves ``fieldId`` out, so a
    Server custom field is found by its name (``GET /field``, cached), unless two share it."""
    out = rules_by_field(ctx.pair, side)
    for name, field_id in _SYSTEM_NAMES.items():
        if field_id in out:
            out.setdefault(name, out[field_id])
    custom = {k: r for k, r in out.items() if k.startswith("customfield_")}
    if side is Side.SERVER and custom:
        infos = await ctx.clients[side].fields()
        names = Counter(i.name.lower() for i in infos.values())
        for field_id, rule in custom.items():
            info = next((i for k, i in infos.items() if k.lower() == field_id), None)
            if info is not None and names[info.name.lower()] == 1:
                out.setdefault(info.name.lower(), rule)
    return out


def item_field(item: ChangeItem) -> str:
    return (item.field_id or item.field).lower()


def _history_id(entry: ChangelogEntry) -> int | None:
    try:
        return None if entry.id is None else int(entry.id)
    except ValueError:
        return None


def last_seen(issue: Issue) -> int | None:
    """The highest changelog id of ``issue`` as read with its changelog; None when an entry
    has no numeric id (nothing can then be ordered)."""
    ids = [_history_id(e) for e in issue.changelog]
    if any(i is None for i in ids):
        return None
    return max((i for i in ids if i is not None), default=0)


@dataclass(frozen=True)
class Watch:
    """Taken before the writes: what the job read and what it means to write."""

    seen: Mapping[Side, int | None]  # highest changelog id read per side (None: unknown)
    rules: Mapping[Side, Mapping[str, FieldRule]]  # by changelog item name: rules_by_item
    planned: Mapping[Side, Mapping[str, Any]]  # rule name -> value to write (target's terms)
    changed_at: Mapping[Side, Mapping[str, datetime]]  # the times the plan went by
    values: Mapping[Side, Mapping[str, Any]]  # as read at the start


@dataclass
class Overwrites:
    """What the changelog showed after the writes."""

    # rule name -> the value to keep as synced instead of the re-read one, per side
    keep: dict[Side, dict[str, Any]] = field(
        default_factory=lambda: {Side.SERVER: {}, Side.CLOUD: {}}
    )
    conflicts: list[ConflictRecord] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)


@dataclass(frozen=True)
class _Lost:
    """A person's edit our write replaced, though the rule says theirs should stand."""

    side: Side
    rule: FieldRule
    field_id: str
    entry: ChangelogEntry
    item: ChangeItem
    value: Any  # rebuilt from the item, in the side's terms; None: cannot be rebuilt


@dataclass
class _Since:
    """A side's changelog entries after a given id, for the fields we wrote there."""

    ours: set[str] = field(default_factory=set)  # rule names our write touched
    # rule name -> the last person's edit before our write touched it
    before: dict[str, tuple[FieldRule, ChangelogEntry, ChangeItem]] = field(default_factory=dict)
    # rule names a person edited after our write, or while our write changed nothing
    after: set[str] = field(default_factory=set)


class _OverwritesMixin(_ApplierBase):
    def _watch(
        self,
        ctx: _Ctx,
        plan: FieldPlan,
        rules: Mapping[Side, Mapping[str, FieldRule]],
        changed_at: Mapping[Side, Mapping[str, datetime]],
        values: Mapping[Side, Mapping[str, Any]],
    ) -> Watch:
        planned: dict[Side, dict[str, Any]] = {}
        seen: dict[Side, int | None] = {}
        for s, side_plan in ((Side.SERVER, plan.to_server), (Side.CLOUD, plan.to_cloud)):
            planned[s] = {
                rules[s][fid.lower()].name: value
                for fid, value in side_plan.fields.items()
                if fid.lower() in rules[s]
            }
            # a mirror the backfill handed over was read without its changelog
            seen[s] = None if s in ctx.settle_later else last_seen(ctx.issues[s])
        return Watch(seen, rules, planned, changed_at, values)

    def _since(
        self,
        ctx: _Ctx,
        side: Side,
        issue: Issue,
        seen: int,
        rules: Mapping[str, FieldRule],
        names: set[str],
    ) -> _Since | None:
        """Who touched ``names`` on ``side`` after changelog id ``seen``, in which order;
        None when an entry has no numeric id."""
        new = [(_history_id(e), e) for e in issue.changelog]
        if any(i is None for i, _ in new):
            return None
        out = _Since()
        for _, entry in sorted((i, e) for i, e in new if i is not None and i > seen):
            us = self._is_us(entry.author, ctx.pair, side)
            for item in entry.items:
                rule = rules.get(item_field(item))
                if rule is None or rule.name not in names:
                    continue
                if us:
                    out.ours.add(rule.name)
                elif rule.name in out.ours:
                    out.after.add(rule.name)
                else:
                    out.before[rule.name] = (rule, entry, item)
        out.after |= {n for n in out.before if n not in out.ours}
        for name in out.after:
            out.before.pop(name, None)
        return out

    async def _overwrites(self, ctx: _Ctx, watch: Watch, now: datetime) -> Overwrites:
        """Call after the re-read (with the changelog) of every side that was written."""
        found = Overwrites()
        for s in _SIDES:
            seen = watch.seen[s]
            names = ctx.written[s] & set(watch.planned[s])
            if seen is None or not names:
                continue
            since = self._since(ctx, s, ctx.issues[s], seen, watch.rules[s], names)
            if since is None:
                continue
            for name in sorted(since.after):
                # the latest edit is the person's: keep ours as synced, so that the next
                # job sees theirs as a change and copies it across
                found.keep[s][name] = watch.planned[s][name]
                log.info("%s %s: edited after our write; copied next time", ctx.issues[s].key, name)
            lost: list[_Lost] = []
            for name, (rule, entry, item) in sorted(since.before.items()):
                o = s.other
                times: dict[Side, dict[str, datetime]] = {s: {name: entry.created}, o: {}}
                source_at = watch.changed_at[o].get(name)
                if source_at is not None:
                    times[o][name] = source_at
                edit = await self._lost(ctx, s, rule, entry, item)
                if conflict_winner(rule, times[Side.SERVER], times[Side.CLOUD]) is o:
                    conflict = self._overwrite_conflict(watch, rule, s, item, o, value=edit.value)
                    found.conflicts.append(conflict)
                    continue
                lost.append(edit)
            if lost:
                await self._restore(ctx, watch, s, lost, found, now)
        return found

    async def _lost(
        self, ctx: _Ctx, side: Side, rule: FieldRule, entry: ChangelogEntry, item: ChangeItem
    ) -> _Lost:
        field_id = rule.server_id if side is Side.SERVER else rule.cloud_id
        info = (await ctx.clients[side].fields()).get(field_id)
        return _Lost(side, rule, field_id, entry, item, rebuild(field_id, item, info, side))

    async def _restore(
        self,
        ctx: _Ctx,
        watch: Watch,
        side: Side,
        lost: list[_Lost],
        found: Overwrites,
        now: datetime,
    ) -> None:
        """Write back the edits that can be rebuilt (one edit); record the rest."""
        why = "its value cannot be rebuilt exactly from the changelog"
        restored: set[str] = set()
        try:
            restored, later = await self._write_back(ctx, side, lost, watch.rules[side])
        except _CANNOT as exc:
            log.warning("%s: could not write back an overwritten edit: %s", ctx.pair.id, exc)
            why = f"writing it back failed: {exc}"
            later = []
        for x in lost:
            if x.field_id in restored:
                found.keep[side][x.rule.name] = watch.planned[side][x.rule.name]
            else:
                found.audit.append(self._lost_entry(ctx, x, why, now))
            winner = side if x.field_id in restored else None
            found.conflicts.append(
                self._overwrite_conflict(watch, x.rule, side, x.item, winner, value=x.value)
            )
        why = "a later edit our write back replaced, which cannot be rebuilt or written back"
        found.audit.extend(self._lost_entry(ctx, x, why, now) for x in later)

    async def _write_back(
        self, ctx: _Ctx, side: Side, lost: list[_Lost], rules: Mapping[str, FieldRule]
    ) -> tuple[set[str], list[_Lost]]:
        """Write the rebuilt values; the field ids written back, and the edits a write back
        replaced in turn and could not restore. A person may edit a field again between
        our re-read and the write back: the issue is read once more (only here, where
        something was written back) and their newer value written, up to
        :data:`MAX_WRITE_BACKS` times."""
        client = ctx.clients[side]
        key = ctx.issues[side].key
        todo = [x for x in lost if x.value is not None]
        restored = {x.field_id for x in todo}
        names = {x.rule.name for x in todo}
        issue = ctx.issues[side]
        gone: list[_Lost] = []
        for attempt in range(MAX_WRITE_BACKS):
            if not todo:
                break
            seen = last_seen(issue)
            fields = {x.field_id: x.value for x in todo}
            data = _input(fields, skip=frozenset(), info=await client.fields())
            try:
                await client.edit_issue(key, data)
            except _CANNOT:
                if attempt == 0:
                    raise  # nothing written back: the caller records every edit
                return restored, gone + todo
            ctx.writes += 1
            log.info("%s: wrote back %s, edited just before our write", key, ", ".join(fields))
            try:
                issue = await client.get_issue(key, expand=["changelog"])
            except _CANNOT as exc:
                log.warning("%s: written back, not checked again: %s", key, exc)
                return restored, gone
            since = None if seen is None else self._since(ctx, side, issue, seen, rules, names)
            todo = []
            for rule, entry, item in () if since is None else since.before.values():
                again = await self._lost(ctx, side, rule, entry, item)
                (todo if again.value is not None else gone).append(again)
        return restored, gone + todo

    @staticmethod
    def _overwrite_conflict(
        watch: Watch,
        rule: FieldRule,
        side: Side,
        item: ChangeItem,
        winner: Side | None,
        *,
        value: Any = None,
    ) -> ConflictRecord:
        """The conflict the plan would have recorded: the person's value on ``side`` (as
        rebuilt, else the changelog text) against the value copied from the other side."""
        theirs = value if value is not None else item.to_string
        source = watch.values[side.other].get(rule.name)
        server, cloud = (theirs, source) if side is Side.SERVER else (source, theirs)
        return ConflictRecord(rule.name, server, cloud, rule.conflict, winner)

    def _lost_entry(self, ctx: _Ctx, x: _Lost, why: str, now: datetime) -> AuditEntry:
        who = x.entry.author.label() if x.entry.author is not None else "someone"
        at = x.entry.created.isoformat()
        return AuditEntry(
            at=now,
            kind="edit_overwritten",
            site=self._site_of(ctx, x.side),
            subject=ctx.issues[x.side].key,
            message=(
                f"{x.rule.name}: {who}'s edit at {at} was overwritten by the sync and is not "
                f"written back ({why}); their value: {x.item.to_string!r}"
            ),
            details={
                "pair": ctx.pair.id,
                "field": x.rule.name,
                "author": who,
                "at": at,
                "value": x.item.to_string,
            },
        )


def rebuild(field_id: str, item: ChangeItem, info: FieldInfo | None, side: Side) -> Any:
    """The value a changelog item set, as the applier writes it on ``side``; None when the
    item does not give it exactly (rich text, a cleared field, a Server user, other kinds)."""
    text, raw = item.to_string, item.to_value
    if field_id in ("summary", "priority"):
        return text or None
    if field_id == "labels":
        return sorted(text.split()) if text else None
    if field_id == "duedate":
        return _day(raw)
    if field_id in ("assignee", "reporter"):
        return _cloud_user(raw, side)
    if info is None or not info.custom:
        return None
    schema = info.schema_type
    if schema == "string" and (info.custom_key or "").endswith(_PLAIN_TEXT):
        return text or None
    if schema == "option":
        return text or None
    if schema == "date":
        return _day(raw)
    if schema == "user":
        return _cloud_user(raw, side)
    if schema == "number" and text:
        try:
            return float(text)
        except ValueError:
            return None
    return None


def _day(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10]).isoformat()
    except ValueError:
        return None


def _cloud_user(raw: str | None, side: Side) -> dict[str, str] | None:
    """A Cloud changelog names a user by account id; a Server one by key, which an edit
    cannot take (it wants the user name)."""
    return {"accountId": raw} if raw and side is Side.CLOUD else None
