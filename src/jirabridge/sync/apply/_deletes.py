"""A deleted issue: its mirror is deleted too, only recorded, or ignored
(the pair's ``deletes`` rule)."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete as sa_delete

from jirabridge.errors import SkipItemError
from jirabridge.sync.apply._base import ApplyResult, _ApplierBase
from jirabridge.sync.config import DeleteRule, Side
from jirabridge.sync.pairs import PairRef, find_pairs
from jirabridge.sync.queue import Job
from jirabridge.sync.store import AuditEntry, IssuePair


class _DeletesMixin(_ApplierBase):
    async def _deleted(self, job: Job, side: Side) -> ApplyResult:
        """The job's issue was deleted: per pair's ``deletes`` rule delete the mirror too
        (and forget the pair), only record it (the default), or ignore it."""
        refs = await asyncio.to_thread(self._pairs_of_issue, side, job.issue_id)
        pairs = {p.id: p for p in self.config.pairs}
        key = job.issue_key or job.issue_id
        deleted: list[tuple[PairRef, str]] = []
        logged: list[tuple[PairRef, str]] = []
        for ref in refs:
            pair = pairs.get(ref.pair_id)
            if pair is None or pair.deletes is DeleteRule.NONE:
                continue
            other = side.other
            mirror = ref.key(other)
            if pair.deletes is DeleteRule.LOG:
                logged.append((ref, f"{key} deleted; mirror {mirror} kept (deletes: log)"))
                continue
            site = pair.cloud.site if other is Side.CLOUD else pair.server.site
            try:
                await self._client(site).delete_issue(mirror, delete_subtasks=True)
                why = f"{key} deleted; mirror {mirror} deleted on {site}"
            except SkipItemError as exc:  # already gone (or never there): the pair goes
                why = f"{key} deleted; mirror {mirror} was already gone on {site} ({exc})"
            deleted.append((ref, why))
        if not deleted and not logged:
            return await self._finish(job, ApplyResult("ignored", "issue was deleted"))
        now = self.clock.now()

        def commit() -> bool:
            with self.queue.store.session() as session:
                for ref, _why in deleted:
                    session.execute(sa_delete(IssuePair).where(IssuePair.id == ref.id))
                for kind, rows in (("mirror_deleted", deleted), ("issue_deleted", logged)):
                    for ref, why in rows:
                        session.add(
                            AuditEntry(
                                at=now,
                                kind=kind,
                                site=job.site,
                                subject=key,
                                message=why,
                                details={
                                    "pair": ref.pair_id,
                                    "server": ref.server_key,
                                    "cloud": ref.cloud_key,
                                },
                            )
                        )
                return self.queue.complete(job, session=session, message=f"deleted {key}")

        await asyncio.to_thread(commit)
        action = "deleted" if deleted else "ignored"
        detail = "; ".join(why for _, why in (*deleted, *logged))
        return ApplyResult(action, detail, len(deleted))

    def _pairs_of_issue(self, side: Side, issue_id: str) -> list[PairRef]:
        with self.queue.store.session() as session:
            return find_pairs(session, side=side, issue_id=issue_id)
