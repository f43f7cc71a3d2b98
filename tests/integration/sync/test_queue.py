from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from jirabridge.errors import (
    BadInputError,
    FixConfigError,
    ReauthenticateError,
    RetryLaterError,
    SkipItemError,
)
from jirabridge.sync.config import QueueConfig
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.queue import FailOutcome, Queue
from jirabridge.sync.store import AuditEntry, IssuePair, Store

from .conftest import FakeClock


def notice(issue: str, clock: FakeClock, site: str = "srv", **kw: object) -> ChangeNotice:
    return ChangeNotice(
        site=site,
        issue_id=issue,
        issue_key=f"OPS-{issue}",
        event=EventKind.ISSUE_UPDATED,
        observed_at=clock.now(),
        **kw,  # type: ignore[arg-type]
    )


def make_queue(store: Store, clock: FakeClock, **cfg: object) -> Queue:
    config = QueueConfig(coalesce_seconds=0, **cfg)  # type: ignore[arg-type]
    return Queue(store, config=config, clock=clock)


def test_burst_for_one_issue_becomes_one_job(store: Store, clock: FakeClock) -> None:
    q = make_queue(store, clock)
    ids = {q.enqueue(notice("1", clock, changelog_id=str(i))) for i in range(5)}
    q.enqueue(notice("2", clock))
    assert len(ids) == 1
    jobs = q.lease("w", limit=10)
    assert sorted(j.issue_id for j in jobs) == ["1", "2"]
    burst = next(j for j in jobs if j.issue_id == "1")
    assert [n.changelog_id for n in burst.notices] == ["0", "1", "2", "3", "4"]


def test_coalescing_delay_then_due(store: Store, clock: FakeClock) -> None:
    q = Queue(store, config=QueueConfig(coalesce_seconds=5), clock=clock)
    q.enqueue(notice("1", clock))
    assert q.lease("w") == []
    clock.advance(5)
    assert len(q.lease("w")) == 1


def test_immediate_notice_skips_the_delay(store: Store, clock: FakeClock) -> None:
    q = Queue(store, config=QueueConfig(coalesce_seconds=60), clock=clock)
    q.enqueue(notice("1", clock))
    q.enqueue(notice("1", clock, fields=("priority",)), immediate=True)
    [job] = q.lease("w")
    assert len(job.notices) == 2


def test_one_key_never_runs_twice_at_once_and_keeps_order(store: Store, clock: FakeClock) -> None:
    q = make_queue(store, clock)
    q.enqueue(notice("1", clock, changelog_id="a"))
    [first] = q.lease("w1")
    q.enqueue(notice("1", clock, changelog_id="b"))
    assert q.lease("w2") == []  # the key is busy
    assert q.complete(first)
    [second] = q.lease("w2")
    assert [n.changelog_id for n in second.notices] == ["b"]


def test_expired_lease_is_taken_over_and_old_owner_cannot_complete(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock, lease_seconds=30)
    q.enqueue(notice("1", clock, changelog_id="a"))
    [job] = q.lease("dead-worker")
    q.enqueue(notice("1", clock, changelog_id="b"))
    clock.advance(31)
    [again] = q.lease("w2")
    # the expired job absorbed the newer queued one: nothing lost, order kept
    assert [n.changelog_id for n in again.notices] == ["a", "b"]
    assert again.attempts == 2
    assert not q.complete(job)
    assert q.fail(job, RetryLaterError("x")) is FailOutcome.LOST_LEASE
    assert q.complete(again)
    assert q.stats().queued == q.stats().leased == q.stats().notices == 0


def test_extend_keeps_the_lease(store: Store, clock: FakeClock) -> None:
    q = make_queue(store, clock, lease_seconds=30)
    q.enqueue(notice("1", clock))
    [job] = q.lease("w")
    clock.advance(20)
    assert q.extend(job)
    clock.advance(20)
    assert q.lease("other") == []
    assert q.complete(job)


def test_retry_later_backs_off_and_honours_retry_after(store: Store, clock: FakeClock) -> None:
    q = make_queue(store, clock, backoff_base_seconds=2)
    q.enqueue(notice("1", clock))
    [job] = q.lease("w")
    assert q.fail(job, RetryLaterError("429", retry_after=30)) is FailOutcome.RETRY
    clock.advance(29)
    assert q.lease("w") == []
    clock.advance(1)
    [job] = q.lease("w")
    assert job.attempts == 2
    assert q.fail(job, RetryLaterError("503")) is FailOutcome.RETRY  # 2 * 2**1 = 4 s
    clock.advance(3)
    assert q.lease("w") == []
    clock.advance(1)
    assert len(q.lease("w")) == 1


def test_dead_letter_after_max_attempts(store: Store, clock: FakeClock) -> None:
    q = make_queue(store, clock, max_attempts=2, backoff_base_seconds=1)
    q.enqueue(notice("1", clock))
    [job] = q.lease("w")
    assert q.fail(job, RuntimeError("boom")) is FailOutcome.RETRY
    clock.advance(10)
    [job] = q.lease("w")
    assert q.fail(job, RuntimeError("boom")) is FailOutcome.DEAD
    [dead] = q.dead_letters()
    assert dead.attempts == 2
    assert "gave up after 2 attempts: boom" in dead.reason
    assert dead.error_branch == "RuntimeError"
    assert q.stats().queued == 0


@pytest.mark.parametrize("error", [SkipItemError("bad field"), BadInputError("bad body")])
def test_skip_and_bad_input_dead_letter_at_once(
    store: Store, clock: FakeClock, error: Exception
) -> None:
    q = make_queue(store, clock)
    q.enqueue(notice("1", clock))
    [job] = q.lease("w")
    assert q.fail(job, error) is FailOutcome.DEAD
    [dead] = q.dead_letters()
    assert dead.error_branch == type(error).__name__
    assert dead.notices == 1


@pytest.mark.parametrize("error", [FixConfigError("no field"), ReauthenticateError("expired")])
def test_config_and_auth_errors_release_without_spending_an_attempt(
    store: Store, clock: FakeClock, error: Exception
) -> None:
    q = make_queue(store, clock, max_attempts=1, backoff_max_seconds=60)
    q.enqueue(notice("1", clock))
    [job] = q.lease("w")
    assert q.fail(job, error) is FailOutcome.RELEASED
    clock.advance(60)
    [job] = q.lease("w")
    assert job.attempts == 1
    assert q.dead_letters() == []


def test_secrets_never_reach_the_dead_letter_reason(store: Store, clock: FakeClock) -> None:
    q = make_queue(store, clock)
    q.enqueue(notice("1", clock))
    [job] = q.lease("w")
    q.fail(job, SkipItemError("rejected Authorization: Bearer abc123secret"))
    [dead] = q.dead_letters()
    assert "abc123secret" not in dead.reason


def test_dlq_retry_by_id_and_reason_and_drop(store: Store, clock: FakeClock) -> None:
    q = make_queue(store, clock)
    for issue, message in [("1", "no such option"), ("2", "no such option"), ("3", "other")]:
        q.enqueue(notice(issue, clock))
        [job] = q.lease("w")
        q.fail(job, SkipItemError(message))
    dead = q.dead_letters()
    assert len(dead) == 3
    with pytest.raises(BadInputError):
        q.retry_dead()
    assert q.retry_dead(ids=[dead[2].id]) == 1
    assert q.retry_dead(reason="NO SUCH") == 2
    assert q.dead_letters() == []
    jobs = q.lease("w", limit=10)
    assert sorted(j.issue_id for j in jobs) == ["1", "2", "3"]
    for job in jobs:
        q.fail(job, SkipItemError("again"))
    assert q.drop_dead(reason="skipitemerror") == 3
    assert q.stats().dead == 0


def test_paired_issues_share_one_key(store: Store, clock: FakeClock) -> None:
    now = datetime.now(UTC)
    with store.session() as s:
        s.add(
            IssuePair(
                pair_id="ops",
                server_issue_id="100",
                server_key="OPS-1",
                cloud_issue_id="900",
                cloud_key="OPS-9",
                origin="server",
                created_at=now,
                updated_at=now,
            )
        )
    q = Queue(
        store,
        config=QueueConfig(coalesce_seconds=0),
        clock=clock,
        site_sides={"srv": "server", "cld": "cloud"},
    )
    a = q.enqueue(notice("100", clock, site="srv"))
    b = q.enqueue(notice("900", clock, site="cld"))
    assert a == b
    [job] = q.lease("w")
    assert job.key.startswith("pair:")
    assert {n.site for n in job.notices} == {"srv", "cld"}


def test_completion_is_audited_with_notice_ids(store: Store, clock: FakeClock) -> None:
    q = make_queue(store, clock)
    q.enqueue(notice("1", clock))
    [job] = q.lease("w")
    q.complete(job, message="done")
    with store.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.kind == "job_done")).one()
    assert entry.details["notice_ids"] == list(job.notice_ids)


def test_concurrent_producers_and_workers_lose_and_duplicate_nothing(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock)
    produced: list[int] = []
    done: list[str | None] = []
    lock = threading.Lock()

    def produce(offset: int) -> None:
        for i in range(30):
            q.enqueue(notice(str(i % 7), clock, changelog_id=f"{offset}-{i}"))
            with lock:
                produced.append(1)

    def work(name: str) -> None:
        idle = 0
        while idle < 20:
            jobs = q.lease(name)
            if not jobs:
                idle += 1
                threading.Event().wait(0.01)
                continue
            idle = 0
            job = jobs[0]
            assert q.complete(job)
            with lock:
                done.extend(n.changelog_id for n in job.notices)

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(3)]
    threads += [threading.Thread(target=work, args=(f"w{k}",)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for job in q.lease("final", limit=100):
        assert q.complete(job)
        done.extend(n.changelog_id for n in job.notices)
    assert len(produced) == 90
    assert len(done) == 90
    assert len(set(done)) == 90


def test_a_job_from_before_the_pair_existed_still_blocks_the_pair(
    store: Store, clock: FakeClock
) -> None:
    q = Queue(
        store,
        config=QueueConfig(coalesce_seconds=0),
        clock=clock,
        site_sides={"srv": "server", "cld": "cloud"},
    )
    q.enqueue(notice("900", clock, site="cld"))  # a new Cloud issue: no pair yet
    [creating] = q.lease("w1")
    assert creating.key == "cld:900"
    now = datetime.now(UTC)
    with store.session() as s:  # the worker creates the mirror and records the pair
        s.add(
            IssuePair(
                pair_id="ops",
                server_issue_id="100",
                server_key="OPS-1",
                cloud_issue_id="900",
                cloud_key="OPS-9",
                origin="cloud",
                created_at=now,
                updated_at=now,
            )
        )
    q.enqueue(notice("100", clock, site="srv"))  # a change on the new mirror
    assert q.lease("w2") == []  # same pair, different key: must wait
    assert q.complete(creating)
    [after] = q.lease("w2")
    assert after.key.startswith("pair:")


def test_immediate_notice_does_not_cut_a_backoff_short(store: Store, clock: FakeClock) -> None:
    q = make_queue(store, clock)
    q.enqueue(notice("1", clock))
    [job] = q.lease("w")
    q.fail(job, RetryLaterError("429", retry_after=60))
    q.enqueue(notice("1", clock, fields=("priority",)), immediate=True)
    assert q.lease("w") == []
    clock.advance(60)
    [job] = q.lease("w")
    assert len(job.notices) == 2
