from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jirabridge.sync.cursor import (
    PollCursor,
    PollHit,
    advance,
    jql_datetime,
    plan_poll,
)

UTC_TZ = ZoneInfo("UTC")
T0 = datetime(2026, 2, 1, 10, 0, 30, 500000, tzinfo=UTC)
OVERLAP = timedelta(minutes=2)
SKEW = timedelta(seconds=30)


def test_jql_datetime_floors_to_the_minute_in_the_users_zone() -> None:
    moment = datetime(2026, 2, 1, 23, 59, 59, tzinfo=UTC)
    assert jql_datetime(moment, UTC_TZ) == '"2026/02/01 23:59"'
    assert jql_datetime(moment, ZoneInfo("Asia/Kolkata")) == '"2026/02/02 05:29"'
    assert jql_datetime(moment, ZoneInfo("America/Los_Angeles")) == '"2026/02/01 15:59"'


def test_first_poll_has_no_lower_bound_and_keeps_the_base_jql() -> None:
    plan = plan_poll(
        PollCursor(), base_jql="project = OPS", now=T0, overlap=OVERLAP, clock_skew=SKEW, tz=UTC_TZ
    )
    assert plan.jql == "(project = OPS) ORDER BY updated ASC, id ASC"
    assert plan.signpost == T0 - SKEW


def test_next_poll_reads_back_the_overlap_from_the_floored_minute() -> None:
    cursor = PollCursor(position=T0)
    plan = plan_poll(
        cursor, base_jql="project = OPS", now=T0, overlap=OVERLAP, clock_skew=SKEW, tz=UTC_TZ
    )
    assert plan.jql == (
        '(project = OPS) AND updated >= "2026/02/01 09:58" ORDER BY updated ASC, id ASC'
    )


def test_overlap_under_a_minute_is_refused() -> None:
    with pytest.raises(ValueError):
        plan_poll(
            PollCursor(),
            base_jql=None,
            now=T0,
            overlap=timedelta(seconds=30),
            clock_skew=SKEW,
            tz=UTC_TZ,
        )


def test_advance_dedupes_rereads_but_not_new_edits() -> None:
    plan = plan_poll(
        PollCursor(), base_jql=None, now=T0, overlap=OVERLAP, clock_skew=SKEW, tz=UTC_TZ
    )
    a = PollHit("1", T0 - timedelta(minutes=1))
    b = PollHit("2", T0 - timedelta(seconds=50))
    cursor, fresh = advance(PollCursor(), plan, [a, b], complete=True, overlap=OVERLAP)
    assert fresh == [a, b]
    assert cursor.position == T0 - SKEW
    later = T0 + timedelta(minutes=1)
    plan2 = plan_poll(cursor, base_jql=None, now=later, overlap=OVERLAP, clock_skew=SKEW, tz=UTC_TZ)
    a2 = PollHit("1", later - timedelta(seconds=5))
    cursor2, fresh2 = advance(cursor, plan2, [b, a2], complete=True, overlap=OVERLAP)
    assert fresh2 == [a2]
    assert cursor2.position == later - SKEW


def test_partial_poll_moves_only_to_what_was_read() -> None:
    cursor = PollCursor(position=T0 - timedelta(hours=1))
    plan = plan_poll(cursor, base_jql=None, now=T0, overlap=OVERLAP, clock_skew=SKEW, tz=UTC_TZ)
    hit = PollHit("1", T0 - timedelta(minutes=40))
    new, _ = advance(cursor, plan, [hit], complete=False, overlap=OVERLAP)
    assert new.position == hit.updated
    empty, _ = advance(cursor, plan, [], complete=False, overlap=OVERLAP)
    assert empty.position == cursor.position


def test_cursor_never_moves_backwards() -> None:
    cursor = PollCursor(position=T0)
    plan = plan_poll(
        cursor,
        base_jql=None,
        now=T0 - timedelta(minutes=10),
        overlap=OVERLAP,
        clock_skew=SKEW,
        tz=UTC_TZ,
    )
    new, _ = advance(cursor, plan, [], complete=True, overlap=OVERLAP)
    assert new.position == T0


def test_cursor_json_round_trip() -> None:
    cursor = PollCursor(position=T0, seen=frozenset({("1", T0.isoformat())}))
    assert PollCursor.from_json(cursor.to_json()) == cursor


def test_seen_set_is_pruned_behind_the_overlap() -> None:
    old = PollHit("1", T0 - timedelta(hours=3))
    plan = plan_poll(
        PollCursor(), base_jql=None, now=T0, overlap=OVERLAP, clock_skew=SKEW, tz=UTC_TZ
    )
    cursor, _ = advance(PollCursor(), plan, [old], complete=True, overlap=OVERLAP)
    assert cursor.seen == frozenset()


# --- property: a poller over an eventually consistent index never misses an update ---------

updates = st.lists(
    st.tuples(
        st.integers(0, 5),  # issue
        st.integers(0, 3600_000),  # ms after T0 when it was updated
        st.integers(0, 60_000),  # ms before it shows in search (< overlap)
    ),
    min_size=1,
    max_size=40,
)
polls = st.lists(st.integers(0, 3700_000), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(
    updates=updates, polls=polls, zone=st.sampled_from(["UTC", "Asia/Kolkata", "America/St_Johns"])
)
def test_no_update_is_ever_skipped(
    updates: list[tuple[int, int, int]], polls: list[int], zone: str
) -> None:
    tz = ZoneInfo(zone)
    events = [
        (str(i), T0 + timedelta(milliseconds=at), T0 + timedelta(milliseconds=at + lag))
        for i, at, lag in updates
    ]
    final = T0 + timedelta(milliseconds=3700_000 + 61_000)
    cursor = PollCursor()
    observed: dict[str, list[datetime]] = {}
    for poll_ms in [*sorted(polls), int((final - T0).total_seconds() * 1000)]:
        now = T0 + timedelta(milliseconds=poll_ms)
        plan = plan_poll(
            cursor, base_jql="project = X", now=now, overlap=OVERLAP, clock_skew=SKEW, tz=tz
        )
        # the index at `now`: each issue with its newest visible update
        visible: dict[str, datetime] = {}
        for issue, updated, shows in events:
            if shows <= now and (issue not in visible or updated > visible[issue]):
                visible[issue] = updated
        hits = [
            PollHit(issue, updated)
            for issue, updated in sorted(visible.items(), key=lambda kv: kv[1])
            if plan.lower_bound is None or updated >= plan.lower_bound
        ]
        cursor, fresh = advance(cursor, plan, hits, complete=True, overlap=OVERLAP)
        for hit in fresh:
            observed.setdefault(hit.issue_id, []).append(hit.updated)
    for issue, updated, _shows in events:
        assert any(seen >= updated for seen in observed.get(issue, [])), (issue, updated)
    # and nothing was reported twice
    for times in observed.values():
        assert len(times) == len(set(times))
