"""A job claims its issue pair in the same store call as its reads (Queue.claim_pair with
the caller's session): a job whose pair another job holds is told to retry before it
writes anything, and the lost claim leaves the rest of that transaction intact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from jirabridge.errors import RetryLaterError
from jirabridge.jira import IssueInput
from jirabridge.sync.config import Side
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.pairs import link_pair
from jirabridge.sync.queue import Queue
from jirabridge.sync.store import AuditEntry, QueueJob, Snapshot, Store
from tests.integration.sync.test_apply_emulator import build_world

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def changed(site: str, issue_id: str) -> ChangeNotice:
    return ChangeNotice(
        site=site, issue_id=issue_id, event=EventKind.ISSUE_UPDATED, observed_at=NOW
    )


async def test_a_job_whose_pair_another_job_holds_retries_and_writes_nothing(
    store: Store,
) -> None:
    async with build_world(store) as world:
        summary = IssueInput(project_key="OPS", issue_type="Task", summary="Disk full")
        key = await world.alice["srv"].create_issue(summary)
        issue = await world.alice["srv"].get_issue(key)
        assert issue.id is not None
        cloud_key = await world.alice["cld"].create_issue(summary)
        cloud = await world.alice["cld"].get_issue(cloud_key)
        assert cloud.id is not None
        # a job of each issue, leased while they had no pair yet: each under its issue's key
        world.queue.enqueue(changed("srv", issue.id), immediate=True)
        world.queue.enqueue(changed("cld", cloud.id), immediate=True)
        jobs = {j.site: j for j in world.queue.lease("w", limit=2)}
        first, second = jobs["srv"], jobs["cld"]
        # meanwhile the pair was made (a worker adopted the mirror), and the mirror's job
        # claimed it first
        with store.session() as s:
            ref = link_pair(
                s,
                pair_id="ops",
                server=(issue.id, key),
                cloud=(cloud.id, cloud_key),
                origin=Side.SERVER,
                now=NOW,
            )
        assert world.queue.claim_pair(second, ref.id) is True

        with pytest.raises(RetryLaterError, match="another job of this issue pair"):
            await world.applier.apply(first)
        with store.session() as s:
            assert s.scalars(select(Snapshot)).all() == []
            row = s.get(QueueJob, first.id)
            assert row is not None and row.key == first.key  # the claim was not kept

        assert (await world.applier.apply(second)).action == "synced"
        with store.session() as s:
            assert len(s.scalars(select(Snapshot)).all()) == 2


def test_a_lost_claim_in_a_shared_transaction_spoils_nothing_else(store: Store) -> None:
    """On PostgreSQL a failed statement aborts its whole transaction unless it ran in a
    savepoint: the rows written before and after the lost claim are committed."""
    queue = Queue(store, site_sides={"srv": "server", "cld": "cloud"})
    queue.enqueue(changed("srv", "1"), immediate=True)
    queue.enqueue(changed("cld", "2"), immediate=True)
    jobs = {j.site: j for j in queue.lease("w", limit=2)}
    with store.session() as s:
        ref = link_pair(
            s,
            pair_id="ops",
            server=("1", "OPS-1"),
            cloud=("2", "OPS-2"),
            origin=Side.SERVER,
            now=NOW,
        )

    def note(message: str) -> AuditEntry:
        return AuditEntry(at=NOW, kind="test", site=None, subject=None, message=message, details={})

    with store.session() as s:
        s.add(note("before"))
        s.flush()
        assert queue.claim_pair(jobs["srv"], ref.id, session=s) is True
        assert queue.claim_pair(jobs["cld"], ref.id, session=s) is False
        s.add(note("after"))
    with store.session() as s:
        notes = s.scalars(select(AuditEntry.message).where(AuditEntry.kind == "test")).all()
        assert sorted(notes) == ["after", "before"]
        keys = {row.site: row.key for row in s.scalars(select(QueueJob))}
    assert keys == {"srv": f"pair:{ref.id}", "cld": jobs["cld"].key}
