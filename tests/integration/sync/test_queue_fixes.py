"""Queue fixes: lease owners of other hosts, stale state writes, head-of-line leasing, the
default lease (review findings 3, 6 and 9)."""

from __future__ import annotations

import asyncio
import os
from unittest import mock

import pytest
from sqlalchemy import func, select, update

import jirabridge.sync.queue as queue_module
from jirabridge.errors import RetryLaterError
from jirabridge.sync.config import QueueConfig
from jirabridge.sync.queue import (
    FailOutcome,
    Job,
    LeaseLostError,
    Queue,
    heartbeat_seconds,
    run_workers,
)
from jirabridge.sync.store import AuditEntry, DeadLetter, JobState, QueueJob, Store

from .conftest import FakeClock
from .test_queue import make_queue, notice

POD_A = "jirabridge-sync-production-deployment-7f9c8d6b5-x2x7q"
POD_B = "jirabridge-sync-production-deployment-7f9c8d6b5-k9p4m"
ROOT_PID_NS = 0xEFFFFFFC  # the root pid namespace's inode: the same on every Linux machine


def host_id_of(hostname: str, boot_id: str | None, pid_ns: int = ROOT_PID_NS) -> str:
    """The host id a machine with this name, boot id and pid namespace computes."""
    stat = mock.Mock(st_ino=pid_ns)
    with (
        mock.patch.object(queue_module.socket, "gethostname", return_value=hostname),
        mock.patch.object(queue_module, "_boot_id", return_value=boot_id),
        mock.patch.object(queue_module.os, "stat", return_value=stat),
    ):
        return queue_module._host_id()


def owner_on(host: str, pid: int) -> str:
    return f"worker@{host}:{pid}:abcdef/0123456789ab"


# ---- finding 3: host ids ----------------------------------------------------------------


def test_pods_whose_names_share_40_characters_get_different_host_ids() -> None:
    assert POD_A[:40] == POD_B[:40]
    assert host_id_of(POD_A, "boot-1") != host_id_of(POD_B, "boot-1")


def test_two_machines_with_one_host_name_get_different_host_ids() -> None:
    # same name, both in the root pid namespace: only the boot id tells them apart
    assert host_id_of("worker", "8a1d-boot-one") != host_id_of("worker", "77c2-boot-two")


def test_the_host_id_is_stable_and_fits_a_lease_owner() -> None:
    assert host_id_of(POD_A, "b") == host_id_of(POD_A, "b")
    owner = queue_module._lease_owner("w" * 64)
    assert len(owner) <= 100  # QueueJob.lease_owner
    assert queue_module._OWNER.search(owner) is not None


def test_a_live_lease_of_another_machine_with_our_name_and_pid_is_not_gone() -> None:
    # another replica on another node: same pod-name prefix, same pid (PID 1 in containers)
    other = host_id_of(socket_name(), "another-machine-boot-id")
    assert other != queue_module._HOST
    assert not queue_module.owner_is_gone(owner_on(other, os.getpid()))


def test_a_dead_process_of_this_host_is_still_judged_gone() -> None:
    if queue_module._boot_id() is None:
        pytest.skip("no boot id here: nothing is judged locally")
    assert queue_module.owner_is_gone(owner_on(queue_module._HOST, os.getpid()))  # other inc
    assert not queue_module.owner_is_gone(queue_module._lease_owner("me"))  # ourselves


def test_without_a_boot_id_no_owner_is_judged_locally() -> None:
    with mock.patch.object(queue_module, "_LOCAL_JUDGE", False):
        assert not queue_module.owner_is_gone(owner_on(queue_module._HOST, os.getpid()))


def socket_name() -> str:
    return queue_module.socket.gethostname()


def test_a_foreign_live_lease_waits_for_its_expiry(store: Store, clock: FakeClock) -> None:
    q = make_queue(store, clock, lease_seconds=30)
    q.enqueue(notice("1", clock))
    [job] = q.lease("other")
    foreign = owner_on(host_id_of(socket_name(), "another-machine-boot-id"), os.getpid())
    with store.session() as s:
        s.execute(update(QueueJob).where(QueueJob.id == job.id).values(lease_owner=foreign))
    assert q.reclaim_expired() == 0
    assert q.lease("w") == []  # not reclaimed at once: its worker may well run
    clock.advance(31)
    [again] = q.lease("w")
    assert again.id == job.id


# ---- lease default ----------------------------------------------------------------------


def test_default_lease_is_short_and_the_heartbeat_well_under_it() -> None:
    lease = QueueConfig().lease_seconds
    assert 20 <= lease <= 60  # a dead worker's job on another host waits this long
    # run_workers extends a running job's lease each beat: two may be missed before expiry
    assert heartbeat_seconds(lease) * 3 <= lease
    assert heartbeat_seconds(0.001) > 0


# ---- finding 6: a stale worker's state writes -------------------------------------------


def _take_over(q: Queue, clock: FakeClock) -> tuple[Job, Job]:
    q.enqueue(notice("1", clock))
    [stale] = q.lease("w1")
    clock.advance(q.config.lease_seconds + 1)  # w1 stalled past its lease
    [fresh] = q.lease("w2")
    assert fresh.id == stale.id
    return stale, fresh


def _stale_writes(store: Store) -> int:
    with store.session() as s:
        n = s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.kind == "stale_write")
        )
    return int(n or 0)


def _write_state(session: object, clock: FakeClock) -> None:
    session.add(  # type: ignore[attr-defined]
        AuditEntry(
            at=clock.now(), kind="stale_write", site="srv", subject="1", message="w1", details={}
        )
    )


def test_complete_in_a_callers_transaction_after_a_lost_lease_rolls_it_back(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock, lease_seconds=60)
    stale, fresh = _take_over(q, clock)
    with pytest.raises(LeaseLostError) as caught, store.session() as s:
        _write_state(s, clock)
        q.complete(stale, session=s)
    assert isinstance(caught.value, RetryLaterError)  # in the one exception tree
    assert _stale_writes(store) == 0
    with store.session() as s:
        row = s.scalars(select(QueueJob)).one()
        assert (row.state, row.lease_owner) == (JobState.LEASED, fresh.owner)
    assert q.complete(fresh)


def test_complete_without_a_session_still_answers_false_on_a_lost_lease(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock, lease_seconds=60)
    stale, fresh = _take_over(q, clock)
    assert q.complete(stale) is False
    assert q.complete(fresh) is True


def test_a_lost_lease_error_is_the_lost_lease_outcome(store: Store, clock: FakeClock) -> None:
    q = make_queue(store, clock, lease_seconds=60)
    stale, fresh = _take_over(q, clock)
    assert q.fail(stale, LeaseLostError(stale)) is FailOutcome.LOST_LEASE
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(DeadLetter)) == 0
        row = s.scalars(select(QueueJob)).one()
        assert (row.lease_owner, row.attempts) == (fresh.owner, 2)


async def test_run_workers_drops_a_stale_commit_and_leaves_the_new_owner_alone(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock, lease_seconds=60)
    q.enqueue(notice("1", clock))
    stop = asyncio.Event()
    taken: list[Job] = []
    outcomes: list[FailOutcome] = []
    real_fail = q.fail

    def fail(job: Job, error: BaseException) -> FailOutcome:
        outcomes.append(real_fail(job, error))
        return outcomes[-1]

    q.fail = fail  # type: ignore[method-assign]

    async def handler(job: Job) -> bool:
        clock.advance(61)  # the worker stalls; another one takes the job over
        taken.extend(await asyncio.to_thread(q.lease, "w2"))

        def commit() -> bool:
            with store.session() as s:
                _write_state(s, clock)
                return q.complete(job, session=s)

        try:
            return await asyncio.to_thread(commit)
        finally:
            stop.set()

    await asyncio.wait_for(run_workers(q, handler, workers=1, stop=stop, idle_seconds=0.01), 30)
    assert len(taken) == 1
    assert outcomes == [FailOutcome.LOST_LEASE]
    assert _stale_writes(store) == 0
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(DeadLetter)) == 0
        row = s.scalars(select(QueueJob)).one()
        assert (row.state, row.lease_owner) == (JobState.LEASED, taken[0].owner)


# ---- finding 9: a free worker and independent due jobs ----------------------------------


def test_a_free_worker_leases_an_independent_job_behind_many_busy_keys(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock)
    for i in range(20):
        q.enqueue(notice(str(100 + i), clock))
    assert len(q.lease("w", limit=20)) == 20
    clock.advance(1)
    for i in range(20):  # followers: due now, their keys busy
        q.enqueue(notice(str(100 + i), clock))
    clock.advance(1)
    q.enqueue(notice("999", clock))  # independent, due now, the youngest
    got = q.lease("w", limit=1)
    assert [j.issue_id for j in got] == ["999"]


def test_leasing_past_many_busy_keys_takes_every_free_one_in_order(
    store: Store, clock: FakeClock
) -> None:
    q = make_queue(store, clock, lease_seconds=600)
    for i in range(40):
        q.enqueue(notice(str(100 + i), clock))
    assert len(q.lease("w", limit=40)) == 40
    for i in range(40):
        clock.advance(1)
        q.enqueue(notice(str(100 + i), clock))
    for i in range(5):
        clock.advance(1)
        q.enqueue(notice(str(900 + i), clock))
    got = q.lease("w", limit=3)
    assert [j.issue_id for j in got] == ["900", "901", "902"]
    assert q.lease("w", limit=10) != []  # 903, 904
    assert q.lease("w", limit=10) == []  # only busy keys left
