"""The httptools connection under KeepAliveTransport, against raw loopback servers that send
exactly the bytes a test needs: chunked and close-delimited bodies, interim answers, answers
without a body, servers that break off or answer garbage, timeouts, streamed request bodies."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from jirabridge._keepalive import KeepAliveTransport
from jirabridge.errors import RetryLaterError
from jirabridge.jira import RetryPolicy
from jirabridge.jira._http import AmbiguousWriteError, JiraHttp

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One request: its head and its body (by Content-Length, or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    body = b""
    if b"transfer-encoding: chunked" in lines:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += data[:-2]
    for line in lines:
        if line.startswith(b"content-length:"):
            body = await reader.readexactly(int(line.split(b":", 1)[1]))
    return head, body


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A loopback server running ``handler`` per connection: its URL and a one-item list
    counting connections."""
    count = [0]
    handlers: set[asyncio.Task[None]] = set()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        count[0] += 1
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        # cancelled at the end of the test: ends quietly
        with contextlib.suppress(
            asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError
        ):
            await handler(reader, writer)
        writer.close()

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", count
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


def answering(*answers: bytes, then_close: bool = False) -> Handler:
    """A handler that reads one request per answer and writes the answer (in pieces where
    the answer has ``|``: a pause between them, so the client sees separate reads); then
    it waits for the client to close, or (``then_close``) closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in answers:
            await read_request(reader)
            for piece in answer.split(b"|"):
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0.01)
        if not then_close:
            await reader.read()

    return handle


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def then_ok(answer: bytes, method: str = "GET", body: bytes = b"") -> httpx.Response:
    """``answer`` to a request, read; then a second request on the same connection."""
    async with serving(answering(answer, OK)) as (url, count):
        pool = KeepAliveTransport()
        async with httpx.AsyncClient(transport=pool) as client:
            first = await client.request(method, url, content=body)
            assert pool.idle_connections() == 1
            assert (await client.get(url)).content == b"ok"
        assert count[0] == 1 and pool.opened == 1
    return first


async def test_a_chunked_answer_is_read_whole_and_the_connection_kept() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n|6\r\n wor|ld\r\n0\r\n\r\n"
    )
    assert (await then_ok(chunked)).content == b"hello world"


async def test_a_server_closing_inside_a_chunked_body_is_a_protocol_error() -> None:
    cut = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"
    async with serving(answering(cut, then_close=True)) as (url, _):
        pool = KeepAliveTransport()
        async with httpx.AsyncClient(transport=pool) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get(url)
        assert pool.idle_connections() == 0


@pytest.mark.parametrize(
    "garbage",
    [b"HTTX/1.1 200 OK\r\n\r\n", b"HTTP/1.1 2x0 OK\r\n\r\n", b"\x16\x03\x01\x00\xa5\x01\x00"],
)
async def test_a_garbage_answer_is_a_protocol_error_retried_by_jirahttp(garbage: bytes) -> None:
    async with serving(answering(garbage, garbage)) as (url, _):
        pool = KeepAliveTransport()
        with pytest.raises(httpx.RemoteProtocolError, match="malformed"):
            await pool.handle_async_request(httpx.Request("GET", url))
        assert pool.idle_connections() == 0
        http = JiraHttp(url, auth=None, transport=pool, retry=RetryPolicy(2, base_delay=0))
        with pytest.raises(RetryLaterError, match="RemoteProtocolError"):
            await http.request("GET", "/a")
        await http.aclose()
        # a write is not resent: the server may have acted on it
        http = JiraHttp(url, auth=None, transport=KeepAliveTransport())
        with pytest.raises(AmbiguousWriteError):
            await http.request("POST", "/a", json_body={"x": 1})
        await http.aclose()


async def test_interim_answers_are_skipped_for_the_final_one() -> None:
    interim = (
        b"HTTP/1.1 100 Continue\r\n\r\n|HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\nX-Final: yes\r\n\r\nnew"
    )
    answer = await then_ok(interim, "POST", b"{}")
    assert answer.status_code == 201 and answer.content == b"new"
    assert answer.headers["x-final"] == "yes" and "link" not in answer.headers
    assert answer.reason_phrase == "Created"


async def test_a_switch_of_protocols_is_refused() -> None:
    upgrade = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"
    )
    async with serving(answering(upgrade)) as (url, _):
        pool = KeepAliveTransport()
        with pytest.raises(httpx.RemoteProtocolError, match="switched"):
            await pool.handle_async_request(
                httpx.Request("GET", url, headers={"Upgrade": "websocket"})
            )


async def test_a_body_ended_by_the_close_is_read_and_the_connection_not_kept() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\nuntil ")
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.write(b"the end")

    async with serving(handle) as (url, count):
        pool = KeepAliveTransport()
        async with httpx.AsyncClient(transport=pool) as client:
            assert (await client.get(url)).content == b"until the end"
            assert pool.idle_connections() == 0
            assert (await client.get(url)).content == b"until the end"
        assert count[0] == 2


async def test_answers_without_a_body() -> None:
    # HEAD answers with the length the GET would have; 204 and 304 have no body either
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    empty = b"HTTP/1.1 204 No Content\r\n\r\n"
    same = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"
    async with serving(answering(empty, same, head)) as (url, count):
        pool = KeepAliveTransport()
        async with httpx.AsyncClient(transport=pool) as client:
            assert (await client.delete(url)).status_code == 204
            answer = await client.get(url)
            assert answer.status_code == 304 and answer.content == b""
            assert count[0] == 1 and pool.idle_connections() == 1
            answer = await client.head(url)
            assert answer.content == b"" and answer.headers["content-length"] == "1000"
            assert pool.idle_connections() == 0  # a HEAD's connection is not reused


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
    ],
)
async def test_a_server_that_will_close_keeps_no_connection(answer: bytes) -> None:
    async with serving(answering(answer, answer)) as (url, count):
        pool = KeepAliveTransport()
        async with httpx.AsyncClient(transport=pool) as client:
            for _ in range(2):
                assert (await client.get(url)).content == b"ok"
                assert pool.idle_connections() == 0
        assert count[0] == 2


async def test_a_request_asking_to_close_keeps_no_connection() -> None:
    async with serving(answering(OK)) as (url, _):
        pool = KeepAliveTransport()
        async with httpx.AsyncClient(transport=pool) as client:
            await client.get(url, headers={"Connection": "close"})
            assert pool.idle_connections() == 0


async def test_a_slow_answer_is_a_read_timeout_and_the_connection_dropped() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")
        await asyncio.sleep(1)

    async with serving(handle) as (url, _):
        pool = KeepAliveTransport()
        async with httpx.AsyncClient(transport=pool, timeout=0.1) as client:
            with pytest.raises(httpx.ReadTimeout):  # the body's end is late
                await client.get(url)
            assert pool.idle_connections() == 0
            async with client.stream("GET", url, timeout=httpx.Timeout(1, read=0.05)) as slow:
                assert slow.status_code == 200
                with pytest.raises(httpx.ReadTimeout):
                    await slow.aread()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async with serving(silent) as (url, _):
        pool = KeepAliveTransport()
        async with httpx.AsyncClient(transport=pool, timeout=0.05) as client:
            with pytest.raises(httpx.ReadTimeout):  # no head at all
                await client.get(url)


async def test_a_reset_before_the_answer_is_a_read_error() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async with serving(handle) as (url, _):
        pool = KeepAliveTransport()
        with pytest.raises(httpx.ReadError):
            await pool.handle_async_request(httpx.Request("GET", url))
        assert pool.idle_connections() == 0


async def test_a_large_body_streams_in_pieces_and_leaves_the_connection_reusable() -> None:
    big = b"0123456789abcdef" * 131072  # 2 MiB, past what the connection buffers unread
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big) + big
    async with serving(answering(answer, OK)) as (url, count):
        pool = KeepAliveTransport()
        async with httpx.AsyncClient(transport=pool) as client:
            async with client.stream("GET", url) as streamed:
                await asyncio.sleep(0.1)  # the server writes it all; the reads pause
                pieces = [piece async for piece in streamed.aiter_raw()]
            assert b"".join(pieces) == big and len(pieces) > 1
            assert (await client.get(url)).content == b"ok"
        assert count[0] == 1


async def test_an_unread_body_stops_the_reads_so_the_server_waits() -> None:
    big = b"0123456789abcdef" * (2 << 20)  # 32 MiB: more than the sockets buffer
    drained = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big) + big)
        await writer.drain()
        drained.set()
        await reader.read()

    async with serving(handle) as (url, _):
        async with httpx.AsyncClient(transport=KeepAliveTransport()) as client:
            async with client.stream("GET", url) as streamed:
                await asyncio.sleep(0.3)
                assert not drained.is_set()  # the answer waits in the sockets, not in memory
                assert await streamed.aread() == big
            await asyncio.wait_for(drained.wait(), 1)


async def test_an_answer_closed_before_its_end_drops_the_connection() -> None:
    big = b"x" * 100_000
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big) + big
    async with serving(answering(answer, OK)) as (url, count):
        pool = KeepAliveTransport()
        async with httpx.AsyncClient(transport=pool) as client:
            async with client.stream("GET", url) as streamed:
                assert streamed.status_code == 200
            assert pool.idle_connections() == 0
            assert (await client.get(url)).status_code == 200
        assert count[0] == 2


async def test_request_bodies_of_every_kind_arrive_whole() -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            seen.append(await read_request(reader))
            writer.write(OK)

    async def parts() -> AsyncIterator[bytes]:
        for part in (b"one ", b"", b"two"):
            yield part

    async with serving(handle) as (url, count):
        async with httpx.AsyncClient(transport=KeepAliveTransport()) as client:
            await client.put(url, content=b"in memory")
            await client.post(url, content=parts())  # chunked
            await client.post(url, files={"file": ("a.txt", b"attached")})  # multipart
            await client.post(url)
        assert [body for _, body in seen[:2]] == [b"in memory", b"one two"]
        assert b"transfer-encoding: chunked" in seen[1][0].lower()
        assert b'filename="a.txt"' in seen[2][1] and b"attached" in seen[2][1]
        assert seen[3][1] == b"" and count[0] == 1


@pytest.mark.parametrize(
    "headers", [{"X-Note": "a\r\nAuthorization: forged"}, {"X-Note": "a\nb"}, {"X-A\rB": "c"}]
)
async def test_a_header_with_a_line_break_is_not_sent(headers: dict[str, str]) -> None:
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            seen.append((await read_request(reader))[0])
            writer.write(OK)

    async with serving(handle) as (url, _):
        pool = KeepAliveTransport()
        async with httpx.AsyncClient(transport=pool) as client:
            with pytest.raises(httpx.LocalProtocolError, match="line break"):
                await client.get(url, headers=headers)
            assert pool.idle_connections() == 0
            assert (await client.get(url)).content == b"ok"
    assert len(seen) == 1 and b"x-note" not in seen[0].lower()  # nothing of it was sent


async def test_a_server_that_does_not_read_is_a_write_timeout() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(2)

    async with serving(handle) as (url, _):
        pool = KeepAliveTransport()
        async with httpx.AsyncClient(transport=pool, timeout=httpx.Timeout(1, write=0.1)) as c:
            with pytest.raises(httpx.WriteTimeout):
                await c.put(url, content=b"x" * (64 << 20))
        assert pool.idle_connections() == 0


@pytest.mark.parametrize("pause", [0, 0.02])
async def test_bytes_arriving_while_idle_make_the_connection_unusable(pause: float) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK)
        await asyncio.sleep(pause)  # with the answer, or once the connection is idle
        writer.write(b"HTTP/1.1 200 OK\r\n")  # more than was asked for
        await read_request(reader)
        writer.write(OK)
        await reader.read()

    async with serving(handle) as (url, count):
        pool = KeepAliveTransport()
        async with httpx.AsyncClient(transport=pool) as client:
            assert (await client.get(url)).content == b"ok"
            await asyncio.sleep(0.05)
            assert (await client.get(url)).content == b"ok"
        assert count[0] == 2
