"""The poller against both emulators through the real clients (in-process ASGI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from jirabridge.emulator import create_app
from jirabridge.jira import (
    CloudClient,
    IssueInput,
    PlainCodec,
    RateGovernor,
    RetryPolicy,
    ServerClient,
    basic_auth,
    cloud_api_token_auth,
)
from jirabridge.sync.config import PairSide, PollingConfig, QueueConfig
from jirabridge.sync.engine import poll_once
from jirabridge.sync.queue import Queue
from jirabridge.sync.store import QueueNotice, Store

T0 = datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)
POLLING = PollingConfig(overlap_seconds=120, clock_skew_seconds=30)


class Site:
    def __init__(self, flavour: str) -> None:
        self.app = create_app(flavour)
        self.site = self.app.site
        self.site.clock.freeze(T0)
        self.site.create_project("OPS", "Operations", self.site.admin_key)
        cls = CloudClient if flavour == "cloud" else ServerClient
        auth = (
            cloud_api_token_auth("admin@jirabridge.test", "admin")
            if flavour == "cloud"
            else basic_auth("admin", "admin")
        )
        self.client: Any = cls(
            self.app.base_url,
            auth=auth,
            codec=PlainCodec(),
            retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
            governor=RateGovernor(),
            transport=httpx.ASGITransport(app=self.app),
        )


@pytest.fixture(params=["server", "cloud"])
async def emu(request: pytest.FixtureRequest) -> AsyncIterator[Site]:
    site = Site(request.param)
    yield site
    await site.client.aclose()


async def poll(emu: Site, queue: Queue) -> int:
    outcome = await poll_once(
        client=emu.client,
        site="s",
        side=PairSide(site="s", project="OPS"),
        queue=queue,
        polling=POLLING,
        tz=ZoneInfo("UTC"),
        now=emu.site.clock.now(),
    )
    assert outcome.complete
    return outcome.queued


def queued_issue_ids(store: Store) -> list[str]:
    with store.session() as s:
        return [n["issue_id"] for n in s.scalars(select(QueueNotice.notice))]


async def test_poll_never_skips_and_never_repeats(emu: Site, store: Store) -> None:
    queue = Queue(store, config=QueueConfig(coalesce_seconds=0))
    keys = [
        await emu.client.create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary=f"issue {i}")
        )
        for i in range(3)
    ]
    assert await poll(emu, queue) == 3
    emu.site.clock.advance(20)
    assert await poll(emu, queue) == 0  # the overlap re-reads them; all deduped
    emu.site.clock.advance(70)
    await emu.client.edit_issue(keys[1], IssueInput(summary="changed"))
    emu.site.clock.advance(5)
    assert await poll(emu, queue) == 1
    assert queued_issue_ids(store).count((await emu.client.get_issue(keys[1])).id) == 2
    emu.site.clock.advance(600)
    assert await poll(emu, queue) == 0
    # an edit that lands "during" a poll (after its signpost) is caught by the next one
    await emu.client.edit_issue(keys[2], IssueInput(summary="late"))
    assert await poll(emu, queue) == 1
    emu.site.clock.advance(1)
    assert await poll(emu, queue) == 0
