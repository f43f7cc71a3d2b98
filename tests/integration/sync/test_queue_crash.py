"""SIGKILL a worker at random moments: no notice is lost, none is completed twice."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from jirabridge.sync.config import QueueConfig
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.queue import Queue
from jirabridge.sync.store import AuditEntry, Store

WORKER = Path(__file__).with_name("crash_worker.py")


@pytest.mark.slow
def test_sigkill_loses_nothing_and_duplicates_nothing(
    store: Store, store_url: tuple[str, str | None]
) -> None:
    url, schema = store_url
    queue = Queue(store, config=QueueConfig(coalesce_seconds=0, lease_seconds=0.3))
    total = 0
    rng = random.Random(7)
    for _round in range(3):
        for i in range(60):
            queue.enqueue(
                ChangeNotice(
                    site="srv",
                    issue_id=str(rng.randrange(25)),
                    event=EventKind.ISSUE_UPDATED,
                    observed_at=datetime.now(UTC),
                    changelog_id=f"{_round}-{i}",
                )
            )
            total += 1
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), url, schema or ""],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.05, 0.3))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
    time.sleep(0.35)  # let the killed worker's leases expire
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        jobs = queue.lease("finisher", limit=50)
        if not jobs and queue.stats().queued == 0 and queue.stats().leased == 0:
            break
        for job in jobs:
            assert queue.complete(job)
        if not jobs:
            time.sleep(0.1)
    with store.session() as s:
        done = s.scalars(select(AuditEntry).where(AuditEntry.kind == "job_done")).all()
    notice_ids = [n for entry in done for n in entry.details["notice_ids"]]
    assert len(notice_ids) == total
    assert len(set(notice_ids)) == total
    stats = queue.stats()
    assert (stats.queued, stats.leased, stats.notices, stats.dead) == (0, 0, 0, 0)
