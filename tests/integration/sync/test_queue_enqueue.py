"""Enqueue as one upsert of the key's queued job plus one notice insert: what it costs in
statements, and that coalescing, the pair key, issue keys and ``immediate``/``wake`` keep
their meaning."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from jirabridge.errors import RetryLaterError
from jirabridge.sync.config import QueueConfig
from jirabridge.sync.queue import Queue
from jirabridge.sync.store import QueueJob, Store

from .conftest import FakeClock
from .test_queue import notice
from .test_queue_claim import pair_up, two_site_queue
from .test_queue_lease_set import statements


def queued(store: Store) -> list[tuple[str, str | None]]:
    with store.session() as s:
        return [(k, ik) for k, ik in s.execute(select(QueueJob.key, QueueJob.issue_key))]


@pytest.mark.parametrize("paired", [False, True])
def test_a_notice_costs_two_statements_new_job_or_coalesced(
    store: Store, clock: FakeClock, paired: bool
) -> None:
    q = two_site_queue(store, clock)
    if paired:
        pair_up(store, clock)  # srv 1 <-> cld 2: the key is found by the same statement
    counts = []
    for site, issue in [("srv", "1"), ("srv", "1"), ("cld", "2")]:
        with statements(store) as seen:
            q.enqueue(notice(issue, clock, site=site))
        counts.append(len(seen) - (store.dialect == "sqlite"))  # its BEGIN IMMEDIATE
    assert counts == [2, 2, 2]
    keys = sorted(k for k, _ in queued(store))
    assert keys == (["pair:1"] if paired else ["cld:2", "srv:1"])


def test_notices_for_a_running_key_start_a_new_queued_job(store: Store, clock: FakeClock) -> None:
    q = Queue(store, config=QueueConfig(coalesce_seconds=0), clock=clock)
    first = q.enqueue(notice("1", clock, changelog_id="a"))
    [running] = q.lease("w")
    second = q.enqueue(notice("1", clock, changelog_id="b"))
    third = q.enqueue(notice("1", clock, changelog_id="c"))
    assert running.id == first != second == third


def test_the_issue_key_is_kept_when_a_notice_has_none_and_updated_when_it_has_one(
    store: Store, clock: FakeClock
) -> None:
    q = Queue(store, config=QueueConfig(coalesce_seconds=0), clock=clock)
    q.enqueue(notice("1", clock))  # OPS-1
    q.enqueue(replace(notice("1", clock), issue_key=None))
    assert queued(store) == [("srv:1", "OPS-1")]
    q.enqueue(replace(notice("1", clock), issue_key="NEW-1"))
    assert queued(store) == [("srv:1", "NEW-1")]


def test_wake_ends_a_backoff_that_immediate_leaves_alone(store: Store, clock: FakeClock) -> None:
    q = Queue(store, config=QueueConfig(coalesce_seconds=30, backoff_base_seconds=60), clock=clock)
    q.enqueue(notice("1", clock), immediate=True)
    [job] = q.lease("w")
    q.fail(job, RetryLaterError("busy"))  # backing off for 60 s
    q.enqueue(notice("1", clock), immediate=True)
    assert q.lease("w") == []  # immediate does not cut the backoff short
    q.enqueue(notice("1", clock))  # nor does a plain notice push it out
    clock.advance(59)
    assert q.lease("w") == []

    q.enqueue(notice("1", clock), wake=True)  # what it waited for has happened

    [again] = q.lease("w")
    assert len(again.notices) == 4


def test_a_plain_notice_keeps_its_jobs_coalescing_deadline(store: Store, clock: FakeClock) -> None:
    q = Queue(store, config=QueueConfig(coalesce_seconds=10), clock=clock)
    q.enqueue(notice("1", clock))
    clock.advance(6)
    q.enqueue(notice("1", clock))  # does not push the job's due time out
    clock.advance(4)
    [job] = q.lease("w")
    assert len(job.notices) == 2
