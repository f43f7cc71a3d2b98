"""Poll cursors that never skip a change (pure functions, no I/O).

Why a change could be skipped, and what prevents it:

* **JQL dates have minute precision** and are read in the *integration user's time zone*.
  The lower bound is floored to the minute in that zone, so the query never starts later
  than asked.
* **Clocks differ and search is eventually consistent** (Cloud): an issue can show up in the
  index a little after its ``updated`` time. The query re-reads ``overlap`` behind the cursor.
* **Edits made while a poll runs**: the new position is capped at the *signpost*, the site
  time at which the poll started minus the clock skew; anything later is read again next
  time.
* **Re-read items**: the overlap returns issues already seen. The cursor remembers
  ``(issue id, updated)`` pairs inside the overlap window and drops repeats; a new edit of the
  same issue has a new ``updated`` and passes.

Usage: ``plan = plan_poll(cursor, now=..., ...)``; run ``plan.jql`` through every page;
``cursor, fresh = advance(cursor, plan, hits, complete=True)``; enqueue ``fresh``; save
``cursor`` (:meth:`PollCursor.to_json`) only after the notices are durable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from jirabridge.errors import BadInputError

__all__ = [
    "PollCursor",
    "PollHit",
    "PollPlan",
    "advance",
    "jql_datetime",
    "plan_poll",
]


def jql_datetime(moment: datetime, tz: ZoneInfo) -> str:
    """A JQL date literal for ``moment``, floored to the minute in the user's time zone."""
    if moment.tzinfo is None:
        raise ValueError("jql_datetime needs an aware datetime")
    local = moment.astimezone(tz).replace(second=0, microsecond=0)
    return local.strftime('"%Y/%m/%d %H:%M"')


@dataclass(frozen=True)
class PollHit:
    """One issue a poll returned."""

    issue_id: str
    updated: datetime
    issue_key: str | None = None


@dataclass(frozen=True)
class PollCursor:
    """Where the last complete poll got to, and what it saw inside the overlap window."""

    position: datetime | None = None
    seen: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def to_json(self) -> dict[str, Any]:
        return {
            "position": None if self.position is None else self.position.isoformat(),
            "seen": sorted([list(s) for s in self.seen]),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PollCursor:
        raw = data.get("position")
        position = None if raw is None else datetime.fromisoformat(str(raw))
        seen = frozenset((str(a), str(b)) for a, b in data.get("seen", []))
        return cls(position=position, seen=seen)


@dataclass(frozen=True)
class PollPlan:
    jql: str
    lower_bound: datetime | None  # the (floored) moment the query starts at
    signpost: datetime


def plan_poll(
    cursor: PollCursor,
    *,
    base_jql: str | None,
    now: datetime,
    overlap: timedelta,
    clock_skew: timedelta,
    tz: ZoneInfo,
    initial: datetime | None = None,
) -> PollPlan:
    """The JQL for the next poll and its signpost.

    ``now`` is the site's time when the poll starts (from a response ``Date`` header or the
    server info), ``initial`` where a fresh cursor starts (None: from the beginning)."""
    if now.tzinfo is None:
        raise ValueError("plan_poll needs an aware `now`")
    if overlap < timedelta(minutes=1):
        raise ValueError("overlap must be at least one minute (JQL dates have minute precision)")
    signpost = now - clock_skew
    start = cursor.position if cursor.position is not None else initial
    clauses = [f"({base_jql})"] if base_jql and base_jql.strip() else []
    lower: datetime | None = None
    if start is not None:
        lower = (start - overlap).astimezone(tz).replace(second=0, microsecond=0)
        clauses.append(f"updated >= {jql_datetime(lower, tz)}")
    where = " AND ".join(clauses)
    jql = (f"{where} " if where else "") + "ORDER BY updated ASC, id ASC"
    return PollPlan(jql=jql, lower_bound=lower, signpost=signpost)


def _seen_key(hit: PollHit) -> tuple[str, str]:
    return (hit.issue_id, hit.updated.astimezone(UTC).isoformat())


def advance(
    cursor: PollCursor,
    plan: PollPlan,
    hits: Iterable[PollHit],
    *,
    complete: bool,
    overlap: timedelta,
) -> tuple[PollCursor, list[PollHit]]:
    """The cursor after a poll, and the hits not seen before (to enqueue).

    ``complete``: every page of the query was read. Then the position moves to the signpost.
    After a partial poll it moves only to the newest ``updated`` read (capped at the
    signpost), so the unread rest is read next time."""
    fresh: list[PollHit] = []
    newest: datetime | None = None
    seen = set(cursor.seen)
    for hit in hits:
        if hit.updated.tzinfo is None:
            raise BadInputError("poll hit without a time zone")
        key = _seen_key(hit)
        if key not in seen:
            seen.add(key)
            fresh.append(hit)
        newest = hit.updated if newest is None or hit.updated > newest else newest
    if complete:
        position: datetime | None = plan.signpost
    elif newest is not None:
        position = min(newest, plan.signpost)
    else:
        position = cursor.position
    if cursor.position is not None and position is not None and position < cursor.position:
        position = cursor.position  # never move backwards
    # keep only what a later overlap can re-read
    if position is not None:
        horizon = position - overlap - timedelta(minutes=1)
        seen = {s for s in seen if datetime.fromisoformat(s[1]) >= horizon}
    return PollCursor(position=position, seen=frozenset(seen)), fresh
