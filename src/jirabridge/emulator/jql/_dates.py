"""Date literals, periods and the date functions of JQL, in the site's time zone."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

__all__ = [
    "DateBound",
    "add_offset",
    "end_of",
    "parse_date_literal",
    "parse_offset",
    "start_of",
]

_ABSOLUTE = re.compile(
    r"^\s*(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?\s*$", re.ASCII
)
_UNIT = r"(?:weeks?|w|days?|d|hours?|h|minutes?|m)"
_PERIOD_PART = re.compile(rf"(\d+)\s*({_UNIT})\b", re.IGNORECASE | re.ASCII)
_PERIOD = re.compile(rf"^\s*([-+]?)\s*((?:\d+\s*{_UNIT}\b[\s,]*)+)$", re.IGNORECASE | re.ASCII)
_OFFSET = re.compile(r"^\s*([-+]?)(\d+)\s*([yMwdhm])\s*$", re.ASCII)
_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60}


@dataclass(frozen=True)
class DateBound:
    """A date literal resolved to an instant; ``day_end`` set when the literal named a day."""

    start: datetime
    day_end: datetime | None = None


def parse_date_literal(text: str, *, now: datetime, tz: tzinfo) -> DateBound | None:
    """Absolute (``2026/11/24``, ``2026-11-24 03:10``), relative (``-1d 2h``, ``-10weeks, 2d``,
    ``-100minutes``) or epoch millis.

    Returns None when ``text`` is none of these (the caller words the error).
    """
    try:
        return _parse(text, now, tz)
    except (ValueError, OverflowError):  # out of datetime's range: not a date Jira knows
        return None


def _parse(text: str, now: datetime, tz: tzinfo) -> DateBound | None:
    m = _ABSOLUTE.match(text)
    if m:
        year, month, day = int(m[1]), int(m[2]), int(m[3])
        try:
            if m[4] is not None:
                hour, minute = int(m[4]), int(m[5])
                return DateBound(datetime(year, month, day, hour, minute, tzinfo=tz))
            start = datetime(year, month, day, tzinfo=tz)
        except ValueError:
            return None
        return DateBound(start, _next_day(start, tz))
    m = _PERIOD.match(text)
    if m:
        seconds = sum(int(n) * _UNIT_SECONDS[u[0].lower()] for n, u in _PERIOD_PART.findall(m[2]))
        sign = -1 if m[1] == "-" else 1
        return DateBound(now + timedelta(seconds=sign * seconds))
    stripped = text.strip()
    if stripped.isascii() and stripped.isdigit() and len(stripped) <= 15:
        return DateBound(datetime.fromtimestamp(int(stripped) / 1000, tz))
    return None


def _next_day(start: datetime, tz: tzinfo) -> datetime:
    d = start.date() + timedelta(days=1)
    return datetime(d.year, d.month, d.day, tzinfo=tz)


def parse_offset(text: str) -> tuple[int, str] | None:
    """``-1d`` / ``+2M`` / ``3w`` -> (signed amount, unit); None when malformed."""
    m = _OFFSET.match(text)
    if not m:
        return None
    amount = int(m[2]) * (-1 if m[1] == "-" else 1)
    return amount, m[3]


def _add_months(d: date, months: int) -> date:
    total = d.year * 12 + (d.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def add_offset(at: datetime, amount: int, unit: str) -> datetime:
    """Shift ``at`` by ``amount`` units (``y M w d h m``) on the local calendar of ``at``."""
    if unit in ("y", "M"):
        d = _add_months(at.date(), amount * (12 if unit == "y" else 1))
        return at.replace(year=d.year, month=d.month, day=d.day)
    if unit in ("w", "d"):
        d = at.date() + timedelta(days=amount * (7 if unit == "w" else 1))
        return at.replace(year=d.year, month=d.month, day=d.day)
    return at + timedelta(seconds=amount * _UNIT_SECONDS[unit])


def start_of(period: str, now: datetime, tz: tzinfo) -> datetime:
    """Start of the day / week (Sunday, as Jira's default locale) / month / year of ``now``."""
    local = now.astimezone(tz)
    d = local.date()
    if period == "week":
        d -= timedelta(days=(d.weekday() + 1) % 7)
    elif period == "month":
        d = d.replace(day=1)
    elif period == "year":
        d = d.replace(month=1, day=1)
    return datetime(d.year, d.month, d.day, tzinfo=tz)


def end_of(period: str, now: datetime, tz: tzinfo) -> datetime:
    """Last millisecond of the day / week / month / year of ``now``."""
    start = start_of(period, now, tz)
    d = start.date()
    if period == "day":
        nxt = d + timedelta(days=1)
    elif period == "week":
        nxt = d + timedelta(days=7)
    elif period == "month":
        nxt = _add_months(d, 1)
    else:
        nxt = d.replace(year=d.year + 1)
    return datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz) - timedelta(milliseconds=1)
