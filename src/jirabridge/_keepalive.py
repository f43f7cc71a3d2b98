"""A keep-alive HTTP/1.1 transport for httpx that costs less CPU per request than httpx's own.

Used by the Jira clients (``jirabridge.jira._http.JiraHttp``) and the emulator's webhook
delivery, both of which send hundreds of small requests a second to a few origins.
"""

from __future__ import annotations

import ssl
import time
from typing import Any

import httpx

from jirabridge._h1 import H1Connection, open_connection

__all__ = ["KEEPALIVE_EXPIRY", "KeepAliveTransport"]


KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept (httpx's default too)."""


class KeepAliveTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over :class:`~jirabridge._h1.H1Connection`, with a keep-alive stack per origin.

    httpx's own transport pools with ``httpcore.AsyncConnectionPool``, which on every request
    and every answer closed walks all its connections, asking each idle one whether its
    socket turned readable (a system call through anyio per connection): with eight requests
    in flight that pool cost more CPU than the rest of the request. Here a request takes the
    most recently used idle connection of its origin (checked once, for expiry or a close by
    the server) or opens one, and the connection is put back when its answer is closed, if
    it is idle again; at most ``max_idle`` idle ones are kept per origin.

    The connections parse answers with httptools (C) in an asyncio protocol: httpcore's
    connection (h11, in Python, over a stream layer) cost about twice the CPU per request.

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
    ) -> None:
        # as httpx's transport: verified, with SSL_CERT_FILE / SSL_CERT_DIR honoured
        self._ssl_context = ssl_context or httpx.create_ssl_context()
        self._max_idle = max_idle
        self._keepalive_expiry = keepalive_expiry
        self._idle: dict[tuple[bytes, bytes, int | None], list[H1Connection]] = {}
        self._closed = False
        self.opened = 0  # connections opened (for tests and stats)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the transport is closed")
        url = request.url
        origin = (url.raw_scheme, url.raw_host, url.port)
        connection = self._checkout(origin)
        if connection is None:
            timeout: Any = request.extensions.get("timeout")
            self.opened += 1
            connection = await open_connection(
                *origin,
                ssl_context=self._ssl_context,
                timeout=timeout.get("connect") if isinstance(timeout, dict) else None,
            )
            connection.origin = origin
        return await connection.send(request, self._checkin)

    def _checkout(self, origin: tuple[bytes, bytes, int | None]) -> H1Connection | None:
        idle = self._idle.get(origin)
        if not idle:
            return None
        oldest = time.monotonic() - self._keepalive_expiry
        while idle:
            connection = idle.pop()  # the most recent: least likely to have been closed
            fresh = connection.reusable and connection.idle_since > oldest
            if fresh and not connection.hears_something():
                return connection
            connection.close()
        return None

    def _checkin(self, connection: H1Connection) -> None:
        """An answer was closed: keep its connection if it can carry another request."""
        origin = connection.origin
        if connection.release() and not self._closed and origin is not None:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._max_idle:
                idle.append(connection)
                return
        connection.close()

    def idle_connections(self) -> int:
        return sum(len(idle) for idle in self._idle.values())

    async def aclose(self) -> None:
        self._closed = True
        idle = [c for stack in self._idle.values() for c in stack]
        self._idle.clear()
        for connection in idle:
            connection.close()
