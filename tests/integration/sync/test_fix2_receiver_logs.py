"""The receiver never logs a webhook secret, even with INFO logging: no access log."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from jirabridge.sync.config import QueueConfig
from jirabridge.sync.queue import Queue
from jirabridge.sync.runner import serve_app
from jirabridge.sync.store import Store
from jirabridge.sync.webhooks import ReceiverSite, create_receiver

SECRET = "hook-secret-7Qx9"


async def test_no_log_line_of_the_receiver_shows_the_query_string(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    queue = Queue(store, config=QueueConfig(coalesce_seconds=0))
    app = create_receiver(sites={"s": ReceiverSite("s", SECRET, frozenset())}, queue=queue)
    stop = asyncio.Event()
    bound: list[int] = []
    caplog.set_level(logging.DEBUG)
    task = asyncio.create_task(
        serve_app(
            app,
            host="127.0.0.1",
            port=0,
            stop=stop,
            started=lambda h, p: bound.append(p),
            log_level="debug",
        )
    )
    try:
        for _ in range(500):
            if bound or task.done():
                break
            await asyncio.sleep(0.01)
        body = {"webhookEvent": "jira:issue_updated", "issue": {"id": "5", "key": "A-1"}}
        async with httpx.AsyncClient() as c:
            ok = await c.post(f"http://127.0.0.1:{bound[0]}/webhooks/s?secret={SECRET}", json=body)
            bad = await c.post(f"http://127.0.0.1:{bound[0]}/webhooks/s?secret=wrong-{SECRET}")
        assert ok.status_code == 202
        assert bad.status_code == 403
        assert queue.stats().notices == 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    # the test's own HTTP client (httpx, httpcore) logs its request URLs: not the receiver
    served = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    text = "\n".join(r.getMessage() for r in served)
    assert any(r.name.startswith("uvicorn") for r in served), "uvicorn logged nothing"
    assert SECRET not in text
    assert "secret=" not in text
    assert not [r for r in served if r.name.startswith("uvicorn.access")]
