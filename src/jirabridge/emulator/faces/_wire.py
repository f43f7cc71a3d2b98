"""Wire formats shared by both faces: Jira's date/time strings and JSON bodies.

Jira writes instants as ``2026-11-24T03:21:35.123+0000`` (milliseconds, an offset without a
colon) and dates as ``2026-11-24``. Request bodies are JSON; a body that does not parse is
answered the way Jira's Jackson layer answers it (400 with the parser's message).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from jirabridge.emulator.faces._errors import JiraHttpError

__all__ = [
    "format_date",
    "format_datetime",
    "is_number",
    "parse_date",
    "parse_datetime",
    "parse_json",
]


def is_number(text: str | None) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is true but ``int("²")`` fails."""
    return text is not None and text.isascii() and text.isdigit()


#: Rendered UTC instants: an answer repeats the same few (created, updated, the clock's now)
#: many times. Only values whose tzinfo IS ``UTC`` go in: equal instants in other zones hash
#: alike but render another offset. Cleared when full rather than evicted one by one.
_UTC_TEXT: dict[datetime, str] = {}
_UTC_TEXT_MAX = 4096


def format_datetime(value: datetime | None) -> str | None:
    """Render an instant as Jira does: ``2026-11-24T03:21:35.123+0000``."""
    if value is None:
        return None
    utc = value.tzinfo is UTC
    if utc:
        cached = _UTC_TEXT.get(value)
        if cached is not None:
            return cached
    # isoformat truncates to milliseconds as Jira does; only its offset needs the colon out.
    text = value.isoformat(timespec="milliseconds")
    if len(text) == 29 and text[-3] == ":" and text[-6] in "+-":
        text = text[:-3] + text[-2:]
    else:  # naive, or an offset with seconds: the long way
        text = _format_datetime_slow(value)
    if utc:
        if len(_UTC_TEXT) >= _UTC_TEXT_MAX:
            _UTC_TEXT.clear()
        _UTC_TEXT[value] = text
    return text


def _format_datetime_slow(value: datetime) -> str:
    offset = value.utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
        f"{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}"
        f"{sign}{hours:02d}{mins:02d}"
    )


def format_date(value: date | None) -> str | None:
    """Render a calendar date as ``YYYY-MM-DD``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat()


def parse_datetime(text: str) -> datetime:
    """Parse the instant formats Jira accepts (``...+0000``, ``...Z``, ``...+00:00``)."""
    raw = text.strip()
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    elif len(raw) > 5 and raw[-5] in "+-" and raw[-4:].isdigit():
        raw = raw[:-2] + ":" + raw[-2:]
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def parse_date(text: str) -> date:
    """Parse ``YYYY-MM-DD``."""
    return date.fromisoformat(text.strip())


def parse_json(body: bytes) -> Any:
    """Parse a request body; a malformed body becomes Jira's 400 answer."""
    if not body.strip():
        raise JiraHttpError(400, ["No content to map to Object due to end of input"])
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", 1)
        column = getattr(exc, "colno", 1)
        snippet = body[getattr(exc, "pos", 0) : getattr(exc, "pos", 0) + 1].decode(
            "utf-8", "replace"
        )
        code = ord(snippet) if snippet else 0
        message = (
            f"Unexpected character ('{snippet}' (code {code})): expected a valid value "
            "(number, String, array, object, 'true', 'false' or 'null')\n"
            f" at [Source: (org.eclipse.jetty.server.HttpInputOverHTTP); line: {line}, "
            f"column: {column}]"
        )
        raise JiraHttpError(400, [message]) from exc
