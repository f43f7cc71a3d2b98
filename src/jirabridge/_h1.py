"""One HTTP/1.1 client connection: an asyncio protocol whose answers are parsed by httptools.

httptools (llhttp, in C; installed with uvicorn) does the parsing that h11 does in Python
under httpcore, and an asyncio protocol is fed the socket's bytes directly (no stream
reader, no network-backend layer). :class:`jirabridge._keepalive.KeepAliveTransport` pools
these connections.

Errors are httpx's, named as httpcore's connection names them (httpx's transport maps
those to httpx's): ``ConnectError``/``ConnectTimeout`` while connecting, ``WriteError``/
``WriteTimeout`` while sending, ``ReadError``/``ReadTimeout`` while waiting for the answer,
and ``RemoteProtocolError`` for an answer that breaks HTTP or a server that closed before
its answer was complete. ``JiraHttp`` decides on retries and ambiguous writes from them.
"""

from __future__ import annotations

import asyncio
import select
import ssl
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httptools
import httpx

__all__ = ["H1Connection", "open_connection"]

_HIGH_WATER = 256 * 1024
"""Body bytes buffered before the socket is no longer read (until the caller reads them)."""


def _timeouts(request: httpx.Request) -> dict[str, float | None]:
    timeout: Any = request.extensions.get("timeout")
    return timeout if isinstance(timeout, dict) else {}


async def open_connection(
    scheme: bytes,
    host: bytes,
    port: int | None,
    *,
    ssl_context: ssl.SSLContext | None,
    timeout: float | None,  # noqa: ASYNC109 (the request's connect timeout)
) -> H1Connection:
    """A connection to the origin, TLS for ``https`` (verified against ``host``)."""
    name = host.decode("ascii")
    tls = ssl_context if scheme == b"https" else None
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            _, connection = await loop.create_connection(
                H1Connection,
                name,
                port or (443 if tls is not None else 80),
                ssl=tls,
                server_hostname=name if tls is not None else None,
                # an unreachable first address (IPv6) does not eat the timeout
                happy_eyeballs_delay=0.25,
            )
    except TimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timed out") from exc
    except OSError as exc:  # ssl.SSLError (a failed verification too) is an OSError
        raise httpx.ConnectError(str(exc)) from exc
    return connection


class H1Connection(asyncio.Protocol):
    """A keep-alive HTTP/1.1 connection carrying one request at a time.

    :meth:`send` writes a request and waits for the head of its answer; the body follows
    through :meth:`body` (which the ``httpx.Response`` streams). The connection can carry
    another request only once that body was read to its end, the server did not ask to
    close, and the request was not cut short: :attr:`reusable` says so.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._lost = False
        self._lost_error: BaseException | None = None
        self._error: httpx.HTTPError | None = None  # what ended the current answer
        self._busy = False  # a request is out and its answer not read to the end
        self._waiter: asyncio.Future[None] | None = None
        self._can_write: asyncio.Future[None] | None = None
        self._reading_paused = False
        # the answer being parsed
        self._headers: list[tuple[bytes, bytes]] = []
        self._reason = b""
        self._head_done = False
        self._done = False
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._keep = True
        self._head_only = False
        self.idle_since = time.monotonic()
        self.origin: tuple[bytes, bytes, int | None] | None = None  # the pool's key

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._lost_error = exc
        if self._busy and not self._done:
            if self._head_done and exc is None and self._ends_with_close():
                self._done = True  # the close is the end of this body
            elif exc is not None:
                self._fail(httpx.ReadError(str(exc) or type(exc).__name__))
            elif self._head_done:
                self._fail(httpx.RemoteProtocolError("the server closed before the body's end"))
            else:
                self._fail(
                    httpx.RemoteProtocolError("Server disconnected without sending a response.")
                )
        self._wake()
        if self._can_write is not None and not self._can_write.done():
            self._can_write.set_result(None)

    def data_received(self, data: bytes) -> None:
        if not self._busy or self._done:
            # nothing was asked: a server must not answer; the connection is unusable
            self._keep = False
            self._close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("the server switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed answer: {exc}"))
        self._wake()

    def pause_writing(self) -> None:
        self._can_write = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._can_write is not None and not self._can_write.done():
            self._can_write.set_result(None)
        self._can_write = None

    # httptools callbacks

    def on_message_begin(self) -> None:
        if self._head_done:  # a second answer to one request: what is it answering?
            self._keep = False

    def on_status(self, status: bytes) -> None:
        self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            # an interim answer (100 Continue, 103 Early Hints): the final one follows
            self._headers = []
            self._reason = b""
            return
        self._head_done = True
        self._keep = self._keep and self._parser.should_keep_alive()
        if self._head_only or status in (204, 304):
            self._done = True
            if self._head_only:
                # the parser would take a length for a body to come: start afresh
                self._keep = False

    def on_body(self, body: bytes) -> None:
        if self._done:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _HIGH_WATER and not self._reading_paused and self._transport:
            self._reading_paused = True
            self._transport.pause_reading()

    def on_message_complete(self) -> None:
        if self._head_done:
            self._done = True

    # requests

    @property
    def reusable(self) -> bool:
        """Idle, open and not asked to close: it may carry the next request."""
        return not self._busy and self._keep and not self._lost and self._error is None

    def hears_something(self) -> bool:
        """Whether the idle connection's socket has something to read: the server closed it
        (or wrote a 408 first) and the event loop, busy with other work, has not taken that
        in yet. Such a connection would eat the next request: a write sent on it is lost
        and can only be reported as maybe-written. One ``select`` with no wait."""
        transport = self._transport
        sock = None if transport is None else transport.get_extra_info("socket")
        if sock is None:
            return False
        try:
            readable, _, _ = select.select([sock.fileno()], [], [], 0)
        except (OSError, ValueError):  # closed meanwhile
            return True
        return bool(readable)

    async def send(
        self, request: httpx.Request, release: Callable[[H1Connection], None]
    ) -> httpx.Response:
        """Write ``request`` and wait for its answer's head; the body is streamed after.
        ``release`` is called with the connection when the answer is closed."""
        if not self.reusable or self._transport is None:
            raise RuntimeError("the connection is not idle")
        timeouts = _timeouts(request)
        self._busy = True
        self._headers = []
        self._reason = b""
        self._head_done = self._done = False
        self._chunks = []
        self._buffered = 0
        self._head_only = request.method == "HEAD"
        try:
            head, chunked = self._head(request)
            try:
                content: bytes | None = request.content
            except httpx.RequestNotRead:
                content = None
            if content is not None:
                if chunked and content:
                    head += (b"%x\r\n" % len(content), content, b"\r\n0\r\n\r\n")
                elif chunked:
                    head.append(b"0\r\n\r\n")
                else:
                    head.append(content)
                await self._write(b"".join(head), timeouts.get("write"))
            else:
                await self._write(b"".join(head), timeouts.get("write"))
                assert isinstance(request.stream, httpx.AsyncByteStream)
                async for part in request.stream:
                    if not part:
                        continue
                    if chunked:
                        part = b"%x\r\n%b\r\n" % (len(part), part)
                    await self._write(part, timeouts.get("write"))
                if chunked:
                    await self._write(b"0\r\n\r\n", timeouts.get("write"))
            read_timeout = timeouts.get("read")
            while not self._head_done:
                await self._wait(read_timeout)
        except BaseException:
            self._abandon()
            raise
        return httpx.Response(
            status_code=self._parser.get_status_code(),
            headers=self._headers,
            stream=_Body(self, read_timeout, release),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": self._reason.strip()},
        )

    async def body(self, read_timeout: float | None) -> AsyncIterator[bytes]:
        """The current answer's body as it arrives; the connection is idle at its end."""
        try:
            while True:
                if self._chunks:
                    chunks, self._chunks, self._buffered = self._chunks, [], 0
                    if self._reading_paused and self._transport is not None:
                        self._reading_paused = False
                        self._transport.resume_reading()
                    for chunk in chunks:
                        yield chunk
                    continue
                if self._done:
                    break
                await self._wait(read_timeout)
        except BaseException:
            self._abandon()
            raise
        self._busy = False
        self.idle_since = time.monotonic()
        if not self._keep:
            self._close()

    def _head(self, request: httpx.Request) -> tuple[list[bytes], bool]:
        """The request line and headers, and whether the body goes in chunks."""
        head = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
        chunked = False
        for name, value in request.headers.raw:
            if b"\n" in value or b"\r" in value or b"\n" in name or b"\r" in name:
                # a line break would end the header early: the rest read as more headers
                raise httpx.LocalProtocolError(f"a line break in the header {name!r}")
            head += (name, b": ", value, b"\r\n")
            lowered = name.lower()
            if lowered == b"connection" and value.lower() == b"close":
                self._keep = False
            elif lowered == b"transfer-encoding" and value.lower() == b"chunked":
                chunked = True
        head.append(b"\r\n")
        return head, chunked

    def release(self) -> bool:
        """The answer was closed: True when the connection is idle again and reusable;
        an answer not read to its end leaves it unusable (and it is closed)."""
        if self._busy:
            self._abandon()
        return self.reusable

    def close(self) -> None:
        self._keep = False
        self._close()

    # internals

    async def _write(self, data: bytes, timeout: float | None) -> None:  # noqa: ASYNC109
        transport = self._transport
        if self._lost or transport is None or transport.is_closing():
            raise httpx.WriteError("the connection is closed")
        transport.write(data)
        if self._can_write is None:
            return
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(self._can_write)
        except TimeoutError as exc:
            raise httpx.WriteTimeout("write timed out") from exc
        if self._lost:
            raise httpx.WriteError(str(self._lost_error or "the connection was closed"))

    async def _wait(self, timeout: float | None) -> None:  # noqa: ASYNC109
        """Until more of the answer arrived (or it failed); ``ReadTimeout`` after ``timeout``."""
        if self._error is not None:
            raise self._error
        if self._done:
            return
        if self._lost:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        waiter = self._waiter = self._loop.create_future()
        timer = None if timeout is None else self._loop.call_later(timeout, self._timed_out)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()
        if self._error is not None:
            raise self._error

    def _timed_out(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(httpx.ReadTimeout("read timed out"))

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _ends_with_close(self) -> bool:
        """The answer's body has neither a length nor chunks: the close is its end."""
        return not any(
            name.lower() in (b"content-length", b"transfer-encoding") for name, _ in self._headers
        )

    def _fail(self, error: httpx.HTTPError) -> None:
        if self._error is None:
            self._error = error
        self._keep = False
        self._close()

    def _abandon(self) -> None:
        """The request ended before its answer did (an error, a cancel, an early close):
        what is left of the answer would be read as the next one's, so the socket goes."""
        self._keep = False
        self._busy = False
        self._close()

    def _close(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.close()


class _Body(httpx.AsyncByteStream):
    """An answer's body for ``httpx.Response``; its connection's pool is told on close."""

    def __init__(
        self,
        connection: H1Connection,
        read_timeout: float | None,
        release: Callable[[H1Connection], None] | None,
    ) -> None:
        self.connection = connection
        self._read_timeout = read_timeout
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.connection.body(self._read_timeout):
            yield chunk

    async def aclose(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release(self.connection)
