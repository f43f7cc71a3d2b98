"""One running job per issue pair, even for jobs queued before the pair existed: one per
issue (``srv:<id>`` and ``cld:<id>``) may both be leased; the first to claim the pair runs,
the other is told to retry (it would copy the same comments a second time)."""

from __future__ import annotations

import pytest

from jirabridge.errors import RetryLaterError
from jirabridge.sync.config import QueueConfig
from jirabridge.sync.queue import Queue
from jirabridge.sync.store import IssuePair, Store

from .conftest import FakeClock
from .test_queue import notice


def two_site_queue(store: Store, clock: FakeClock) -> Queue:
    sides = {"srv": "server", "cld": "cloud"}
    return Queue(store, config=QueueConfig(coalesce_seconds=0), clock=clock, site_sides=sides)


def pair_up(store: Store, clock: FakeClock) -> int:
    with store.session() as s:
        row = IssuePair(
            pair_id="ops",
            server_issue_id="1",
            server_key="OPS-1",
            cloud_issue_id="2",
            cloud_key="OPS-2",
            origin="server",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        s.add(row)
        s.flush()
        return row.id


def test_two_jobs_leased_before_their_pair_existed_never_run_together(
    store: Store, clock: FakeClock
) -> None:
    q = two_site_queue(store, clock)
    q.enqueue(notice("1", clock, site="srv"))
    q.enqueue(notice("2", clock, site="cld"))
    first, second = sorted(q.lease("w", limit=2), key=lambda j: j.site, reverse=True)
    assert (first.key, second.key) == ("srv:1", "cld:2")  # both running, no pair yet
    pair = pair_up(store, clock)  # the first job creates (adopts) the mirror

    assert q.claim_pair(first, pair) is True
    assert q.claim_pair(second, pair) is False  # the other issue's job must wait
    assert q.fail(second, RetryLaterError("pair busy", retry_after=1)).value == "retry"
    assert q.complete(first) is True

    clock.advance(2)
    [again] = q.lease("w")
    assert again.key == "cld:2"  # back under its own key
    assert q.claim_pair(again, pair) is True  # the pair's job is done: now it may run
    assert q.complete(again) is True


@pytest.mark.parametrize("twice", [False, True])
def test_a_job_already_holding_its_pair_claims_it_again(
    store: Store, clock: FakeClock, twice: bool
) -> None:
    q = two_site_queue(store, clock)
    pair = pair_up(store, clock)
    q.enqueue(notice("1", clock, site="srv"))
    [job] = q.lease("w")
    assert job.key == f"pair:{pair}"
    assert q.claim_pair(job, pair) is True
    if twice:
        assert q.claim_pair(job, pair) is True
    assert q.complete(job) is True
