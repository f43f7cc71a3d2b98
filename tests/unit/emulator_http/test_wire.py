from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from jirabridge.emulator.faces._errors import JiraHttpError
from jirabridge.emulator.faces._issues import duration_text, parse_field_selection
from jirabridge.emulator.faces._richtext import (
    _fallback_adf_to_wiki,
    _fallback_wiki_to_adf,
    adf_to_wiki,
    wiki_to_adf,
)
from jirabridge.emulator.faces._wire import (
    format_date,
    format_datetime,
    parse_datetime,
    parse_json,
)
from jirabridge.errors import BadInputError


def test_datetime_has_jira_shape() -> None:
    value = datetime(2026, 11, 24, 3, 21, 35, 123456, tzinfo=UTC)
    assert format_datetime(value) == "2026-11-24T03:21:35.123+0000"
    east = value.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert format_datetime(east) == "2026-11-24T08:51:35.123+0530"
    assert format_datetime(None) is None


def _reference_datetime(value: datetime) -> str:
    """The field-by-field rendering (the path for naive values and second offsets), to check
    the isoformat-based fast path and its cache against."""
    from jirabridge.emulator.faces._wire import _format_datetime_slow

    return _format_datetime_slow(value)


@pytest.mark.parametrize(
    "tz",
    [
        UTC,
        timezone(timedelta(0)),
        timezone(timedelta(hours=-5, minutes=-30)),
        timezone(timedelta(hours=14)),
        timezone(timedelta(seconds=-30)),
        timezone(timedelta(hours=1, seconds=15)),
        None,
    ],
)
@pytest.mark.parametrize("micro", [0, 999, 1000, 123456, 999999])
def test_datetime_matches_field_by_field_rendering(tz: timezone | None, micro: int) -> None:
    for year in (1, 999, 2026, 9999):
        value = datetime(year, 2, 3, 4, 5, 6, micro, tzinfo=tz)
        assert format_datetime(value) == _reference_datetime(value)
        assert format_datetime(value) == _reference_datetime(value)  # again, from the cache


def test_datetime_cache_keeps_zones_apart() -> None:
    """Equal instants in two zones are equal datetimes (same hash): the UTC text cached for
    one must not answer for the other, in either order."""
    at = datetime(2026, 5, 6, 7, 8, 9, 10000, tzinfo=UTC)
    paris = at.astimezone(timezone(timedelta(hours=2)))
    assert at == paris
    assert format_datetime(at) == "2026-05-06T07:08:09.010+0000"
    assert format_datetime(paris) == "2026-05-06T09:08:09.010+0200"
    later = at + timedelta(seconds=1)
    assert format_datetime(later.astimezone(timezone(timedelta(hours=-3)))) == (
        "2026-05-06T04:08:10.010-0300"
    )
    assert format_datetime(later) == "2026-05-06T07:08:10.010+0000"


def test_datetime_cache_stays_bounded() -> None:
    from jirabridge.emulator.faces import _wire

    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(_wire._UTC_TEXT_MAX + 10):
        value = start + timedelta(milliseconds=n)
        assert format_datetime(value) == _reference_datetime(value)
    assert len(_wire._UTC_TEXT) <= _wire._UTC_TEXT_MAX


@pytest.mark.parametrize(
    "text",
    ["2026-11-24T03:21:35.123+0000", "2026-11-24T03:21:35.123Z", "2026-11-24T03:21:35.123+00:00"],
)
def test_datetime_round_trip(text: str) -> None:
    parsed = parse_datetime(text)
    assert parsed == datetime(2026, 11, 24, 3, 21, 35, 123000, tzinfo=UTC)
    assert format_datetime(parsed) == "2026-11-24T03:21:35.123+0000"


def test_date() -> None:
    assert format_date(date(2026, 1, 2)) == "2026-01-02"
    assert format_date(datetime(2026, 1, 2, 23, 0, tzinfo=UTC)) == "2026-01-02"


@pytest.mark.parametrize("body", [b"{", b"{'a': 1}", b"nope", b"\xff\xfe", b"", b"   "])
def test_malformed_json_is_a_400(body: bytes) -> None:
    with pytest.raises(JiraHttpError) as info:
        parse_json(body)
    assert info.value.status == 400
    assert info.value.error_messages
    assert isinstance(info.value, BadInputError)


def test_json_parses() -> None:
    assert parse_json(b'{"a": [1, 2]}') == {"a": [1, 2]}


def test_field_selection() -> None:
    assert parse_field_selection([], default="*all") == ("*all", set(), set())
    mode, include, exclude = parse_field_selection(
        ["summary", "-comment", "*navigable"], default="*all"
    )
    assert mode == "*navigable"
    assert include == {"summary"}
    assert exclude == {"comment"}
    assert parse_field_selection(["summary"], default="*all") == ("list", {"summary"}, set())
    assert parse_field_selection(["-description"], default="*all") == (
        "*all",
        set(),
        {"description"},
    )
    assert parse_field_selection(["summary", "-comment"], default="*all") == (
        "list",
        {"summary"},
        {"comment"},
    )


def test_duration_text() -> None:
    assert duration_text(60) == "1m"
    assert duration_text(3600 * 8 * 5 + 3600 * 8 * 2 + 3600 * 3 + 240) == "1w 2d 3h 4m"
    assert duration_text(0) == "0m"


def test_fallback_markup_keeps_text() -> None:
    doc = _fallback_wiki_to_adf("one\ntwo\n\nthree")
    assert doc["type"] == "doc"
    assert len(doc["content"]) == 2
    assert _fallback_adf_to_wiki(doc) == "one\ntwo\n\nthree"


class _Site:
    def __init__(self) -> None:
        class U:
            display_name = "Alice Able"

        self.users = {"5b10ac8d82e05b22cc7d4ef5": U()}


def test_cloud_v2_mentions_round_trip() -> None:
    site = _Site()
    doc = wiki_to_adf("ping [~accountid:5b10ac8d82e05b22cc7d4ef5] now", site)
    mention = doc["content"][0]["content"][1]
    assert mention["type"] == "mention"
    assert mention["attrs"]["id"] == "5b10ac8d82e05b22cc7d4ef5"
    assert mention["attrs"]["text"] == "@Alice Able"
    assert adf_to_wiki(doc, site) == "ping [~accountid:5b10ac8d82e05b22cc7d4ef5] now"


def test_markup_is_converted_not_flattened() -> None:
    doc = wiki_to_adf("*bold* text")
    marks = doc["content"][0]["content"][0].get("marks")
    assert marks == [{"type": "strong"}]
    assert adf_to_wiki(doc) == "*bold* text"


def test_content_disposition_is_header_safe() -> None:
    from jirabridge.emulator.faces._routes_social import content_disposition

    header = content_disposition('evil"\r\nSet-Cookie: x=1 ü.txt')
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="evil___Set-Cookie: x=1 _.txt"')
    assert "filename*=UTF-8''evil%22%0D%0ASet-Cookie%3A%20x%3D1%20%C3%BC.txt" in header
