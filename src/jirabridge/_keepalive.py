"""A keep-alive HTTP/1.1 transport for httpx that costs less CPU per request than httpx's own.

Used by the Jira clients (``jirabridge.jira._http.JiraHttp``) and the emulator's webhook
delivery, both of which send hundreds of small requests a second to a few origins.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["KEEPALIVE_EXPIRY", "AsyncioBackend", "KeepAliveTransport"]


KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept (httpx's default too)."""


class KeepAliveTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over httpcore connections, with a plain keep-alive stack per origin.

    httpx's own transport pools with ``httpcore.AsyncConnectionPool``, which on every request
    and every answer closed walks all its connections, asking each idle one whether its
    socket turned readable (a system call through anyio per connection): with eight requests
    in flight that pool cost more CPU than the rest of the request. Here a request takes the
    most recently used idle connection of its origin (checked once, for expiry or a close by
    the server) or opens one, and the connection is put back when its answer is closed, if
    it is idle again; at most ``max_idle`` idle ones are kept per origin.

    Its connections run on :class:`AsyncioBackend` (asyncio streams) rather than anyio's.

    No proxies (``JiraHttp`` uses httpx's transport when the environment names one), no
    HTTP/2 (httpx's default neither), no ceiling on open connections (the callers' own
    concurrency bounds them; httpx's pool timeout does not apply).
    """

    def __init__(
        self,
        *,
        max_idle: int = 16,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
        ssl_context: ssl.SSLContext | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        # as httpx's transport: verified, with SSL_CERT_FILE / SSL_CERT_DIR honoured
        self._ssl_context = ssl_context or httpx.create_ssl_context()
        self._max_idle = max_idle
        self._keepalive_expiry = keepalive_expiry
        self._idle: dict[tuple[bytes, bytes, int | None], list[httpcore.AsyncHTTPConnection]] = {}
        self._backend = network_backend or AsyncioBackend()
        self._closed = False
        self.opened = 0  # connections opened (for tests and stats)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        if self._closed:
            raise RuntimeError("the transport is closed")
        url = request.url
        origin = (url.raw_scheme, url.raw_host, url.port)
        connection = await self._checkout(origin)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            answer = await connection.handle_async_request(core)
        except BaseException as exc:
            await connection.aclose()
            mapped = _from_httpcore(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_PooledBody(self, origin, connection, answer.stream),
            extensions=answer.extensions,
        )

    async def _checkout(
        self, origin: tuple[bytes, bytes, int | None]
    ) -> httpcore.AsyncHTTPConnection:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()  # the most recent: least likely to have been closed
            if connection.is_idle() and not connection.has_expired():
                return connection
            await connection.aclose()
        scheme, host, port = origin
        self.opened += 1
        return httpcore.AsyncHTTPConnection(
            httpcore.Origin(scheme, host, port or (443 if scheme == b"https" else 80)),
            ssl_context=self._ssl_context if scheme == b"https" else None,
            keepalive_expiry=self._keepalive_expiry,
            network_backend=self._backend,
        )

    async def _checkin(
        self, origin: tuple[bytes, bytes, int | None], connection: httpcore.AsyncHTTPConnection
    ) -> None:
        """An answer was closed: keep its connection if it can carry another request."""
        if not self._closed and connection.is_idle():
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._max_idle:
                idle.append(connection)
                return
        await connection.aclose()

    def idle_connections(self) -> int:
        return sum(len(idle) for idle in self._idle.values())

    async def aclose(self) -> None:
        self._closed = True
        idle = [c for stack in self._idle.values() for c in stack]
        self._idle.clear()
        for connection in idle:
            await connection.aclose()


class _PooledBody(httpx.AsyncByteStream):
    """An answer's body; closing it hands the connection back to the pool."""

    def __init__(
        self,
        pool: KeepAliveTransport,
        origin: tuple[bytes, bytes, int | None],
        connection: httpcore.AsyncHTTPConnection,
        stream: Any,
    ) -> None:
        self._pool = pool
        self._origin = origin
        self._connection = connection
        self._stream = stream
        self._returned = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self._stream:
                yield part
        except Exception as exc:
            mapped = _from_httpcore(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if not self._returned:
                self._returned = True
                await self._pool._checkin(self._origin, self._connection)


def _from_httpcore(exc: BaseException) -> BaseException:
    """httpcore's exception as the httpx one of the same name (as httpx's transport maps
    them); anything else unchanged."""
    if not isinstance(exc, Exception):
        return exc
    for kind in type(exc).__mro__:
        if not kind.__module__.startswith("httpcore"):
            continue
        mapped = getattr(httpx, kind.__name__, None)
        if isinstance(mapped, type) and issubclass(mapped, httpx.HTTPError):
            return mapped(str(exc))
    return exc


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network I/O on asyncio streams.

    httpcore's default under asyncio goes through anyio (a cancel scope, a lock and a
    sniffio lookup per read and write, a dict of typed attributes per ``is_readable``);
    this does the same on ``asyncio.open_connection`` with ``asyncio.timeout``, raising
    httpcore's exceptions as its anyio backend does.
    """

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    local_addr=(local_address, 0) if local_address else None,
                    # as anyio: an unreachable first address (IPv6) does not eat the timeout
                    happy_eyeballs_delay=0.25,
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(str(exc) or "connect timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        sock: socket.socket | None = writer.get_extra_info("socket")
        if sock is not None:
            for option in socket_options or ():
                sock.setsockopt(*option)
        return AsyncioStream(reader, writer)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.UnsupportedProtocol("unix sockets are not used here")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection for :class:`AsyncioBackend`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        try:
            if timeout is None:
                return await self._reader.read(max_bytes)
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(str(exc) or "read timed out") from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if not buffer:
            return
        try:
            self._writer.write(buffer)
            if timeout is None:
                await self._writer.drain()
                return
            async with asyncio.timeout(timeout):
                await self._writer.drain()
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(str(exc) or "write timed out") from exc
        except (OSError, RuntimeError) as exc:  # RuntimeError: written after the close
            raise httpcore.WriteError(str(exc)) from exc

    async def aclose(self) -> None:
        self._writer.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError as exc:
            self._writer.close()
            raise httpcore.ConnectTimeout(str(exc) or "TLS handshake timed out") from exc
        except OSError as exc:  # ssl.SSLError included
            self._writer.close()
            raise httpcore.ConnectError(str(exc)) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # idle, the only thing that can arrive is the server's close (or a reset)
            return self._reader.at_eof() or self._writer.is_closing()
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info in ("ssl_object", "socket"):
            return self._writer.get_extra_info(info)
        return None
