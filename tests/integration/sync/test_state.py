from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jirabridge.errors import SkipItemError
from jirabridge.sync.config import QueueConfig
from jirabridge.sync.cursor import PollCursor, PollHit, advance, plan_poll
from jirabridge.sync.notices import ChangeNotice, EventKind, NoticeSource
from jirabridge.sync.queue import Queue
from jirabridge.sync.state import load_cursor, save_cursor, status_report
from jirabridge.sync.store import Store

from .conftest import FakeClock


def test_cursor_round_trip_through_the_store(store: Store, clock: FakeClock) -> None:
    from zoneinfo import ZoneInfo

    with store.session() as s:
        assert load_cursor(s, "srv", "ops") == PollCursor()
    plan = plan_poll(
        PollCursor(),
        base_jql="project = OPS",
        now=clock.now(),
        overlap=timedelta(minutes=2),
        clock_skew=timedelta(seconds=30),
        tz=ZoneInfo("UTC"),
    )
    hit = PollHit("10", clock.now() - timedelta(seconds=40))
    cursor, fresh = advance(PollCursor(), plan, [hit], complete=True, overlap=timedelta(minutes=2))
    queue = Queue(store, config=QueueConfig(coalesce_seconds=0), clock=clock)
    # notices and cursor in one transaction: either both are saved or neither
    with store.session() as s:
        for h in fresh:
            queue.enqueue(
                ChangeNotice(
                    site="srv",
                    issue_id=h.issue_id,
                    event=EventKind.POLLED,
                    observed_at=clock.now(),
                    source=NoticeSource.POLL,
                ),
                session=s,
            )
        save_cursor(s, "srv", "ops", cursor, now=clock.now())
    with store.session() as s:
        assert load_cursor(s, "srv", "ops") == cursor
    later = PollCursor(position=clock.now() + timedelta(minutes=5))
    with store.session() as s:
        save_cursor(s, "srv", "ops", later, now=clock.now())
    with store.session() as s:
        assert load_cursor(s, "srv", "ops") == later
    assert queue.stats().notices == 1


def test_status_report(store: Store, clock: FakeClock) -> None:
    queue = Queue(store, config=QueueConfig(coalesce_seconds=0), clock=clock)
    for issue in ("1", "2"):
        queue.enqueue(
            ChangeNotice(
                site="srv", issue_id=issue, event=EventKind.ISSUE_UPDATED, observed_at=clock.now()
            )
        )
    [job] = queue.lease("w")
    queue.fail(job, SkipItemError("no such option 'Sev 9'"))
    with store.session() as s:
        save_cursor(s, "srv", "ops", PollCursor(position=clock.now()), now=clock.now())
    report = status_report(queue)
    assert report.queue.queued == 1
    assert report.queue.dead == 1
    assert [c.site for c in report.cursors] == ["srv"]
    assert report.recent_errors[0].message == "no such option 'Sev 9'"
    assert report.recent_errors[0].at == clock.now()
    assert datetime.now(UTC) > report.cursors[0].updated_at


def test_status_lists_conflicts_to_review(store: Store, clock: FakeClock) -> None:
    from jirabridge.sync.config import ConflictRule, Side
    from jirabridge.sync.diff import ConflictRecord
    from jirabridge.sync.pairs import link_pair, record_conflict

    with store.session() as s:
        ref = link_pair(
            s,
            pair_id="p",
            server=("1", "A-1"),
            cloud=("2", "B-1"),
            origin=Side.SERVER,
            now=clock.now(),
        )
        record_conflict(
            s,
            ref.id,
            ConflictRecord("summary", "x", "y", ConflictRule.LATEST, Side.CLOUD),
            now=clock.now(),
        )
    report = status_report(Queue(store, clock=clock))
    assert report.open_conflicts == 1
    [c] = report.conflicts
    assert (c.issues, c.field, c.winner) == ("A-1 <-> B-1", "summary", "cloud")
