"""The delivery worker hands each POST to the transport itself (no AsyncClient.send): the
request is the one ``client.post`` built, redirects are answers, timeouts still fire over a
real socket, and one connection carries many deliveries."""

from __future__ import annotations

import asyncio
import time

import httpx

from jirabridge._keepalive import KeepAliveTransport
from jirabridge.emulator.infra import DeliveryQueue, DeliveryStatus, DeliveryWorker, FlavourName
from jirabridge.emulator.infra._webhooks import Target, TargetKind

PAYLOAD = {"webhookEvent": "jira:issue_updated", "issue": {"key": "PRJ-1", "summary": "ü"}}


def _enqueue(q: DeliveryQueue, clock, url: str, secret: str | None = None):
    target = Target(TargetKind.REST, 7, url, secret=secret)
    return q.enqueue(target, "jira:issue_updated", PAYLOAD, clock.monotonic(), clock.now())


async def test_the_post_is_the_one_the_client_built(clock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    q = DeliveryQueue(FlavourName.CLOUD)
    worker = DeliveryWorker(q, clock, transport=httpx.MockTransport(handler), timeout=3.0)
    try:
        [d] = _enqueue(q, clock, "http://hooks.test:8080/in?x=1", secret="s3")
        async with httpx.AsyncClient(timeout=3.0) as client:  # before: a retry adds a header
            expected = client.build_request(
                "POST", d.url, content=d.body or b"", headers=d.headers(FlavourName.CLOUD)
            )
        assert await worker.flush(within=5)
    finally:
        await worker.stop()
    [sent] = seen
    assert d.status is DeliveryStatus.DELIVERED
    assert sent.url == expected.url
    assert sorted((k.lower(), v) for k, v in sent.headers.multi_items()) == sorted(
        (k.lower(), v) for k, v in expected.headers.multi_items()
    )
    assert sent.content == expected.content
    assert sent.extensions["timeout"] == expected.extensions["timeout"]
    assert sent.headers["X-Hub-Signature"].startswith("sha256=")


async def test_a_redirect_is_a_failed_attempt_not_followed(clock) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://hooks.test/elsewhere"})

    q = DeliveryQueue(FlavourName.SERVER)
    worker = DeliveryWorker(q, clock, transport=httpx.MockTransport(handler))
    try:
        [d] = _enqueue(q, clock, "http://hooks.test/in")
        await worker.flush(within=5)
    finally:
        await worker.stop()
    assert seen == ["http://hooks.test/in"]
    assert d.status is DeliveryStatus.FAILED
    assert d.attempts[0].status_code == 302


async def test_the_timeout_fires_on_a_real_socket(clock) -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(65536):
            pass
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    q = DeliveryQueue(FlavourName.CLOUD, retry_delays=(30.0,))
    worker = DeliveryWorker(q, clock, timeout=0.2)
    started = time.monotonic()
    try:
        [d] = _enqueue(q, clock, f"http://127.0.0.1:{port}/hook")
        await worker.flush(within=5)
    finally:
        await worker.stop()
        server.close()
        await server.wait_closed()
    assert time.monotonic() - started < 4
    assert d.attempts[0].status_code is None
    assert (d.attempts[0].error or "").startswith("timeout: ReadTimeout")
    assert d.status is DeliveryStatus.PENDING  # Cloud retries a timeout later


async def test_deliveries_share_a_kept_alive_connection(clock) -> None:
    connections = 0
    bodies: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
            if not head:
                break
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            bodies.append(await reader.readexactly(length))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    q = DeliveryQueue(FlavourName.SERVER)
    worker = DeliveryWorker(q, clock, timeout=5.0, concurrency=1)
    try:
        for _ in range(5):
            _enqueue(q, clock, f"http://127.0.0.1:{port}/hook")
            assert await worker.flush(within=5)
        assert isinstance(worker._ensure_client()._transport, KeepAliveTransport)
    finally:
        await worker.stop()
        server.close()
        await server.wait_closed()
    assert q.summary()["delivered"] == 5
    assert len(bodies) == 5 and all(b"PRJ-1" in b for b in bodies)
    assert connections == 1
