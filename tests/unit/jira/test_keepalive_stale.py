"""KeepAliveTransport never hands out an idle connection the server has closed.

A server closes idle keep-alive connections on its own schedule (uvicorn after 5 s, Jira's
Tomcat after its connection timeout). When the close lands while the engine's event loop is
busy, the loop has not yet seen it; a write sent on such a connection is lost and can only
be reported as maybe-written (AmbiguousWriteError), so a create would have to be checked.
The server runs on threads of its own, so it acts while the client's loop is blocked.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from jirabridge._keepalive import KeepAliveTransport
from jirabridge.jira import RetryPolicy
from jirabridge.jira._http import AmbiguousWriteError, JiraHttp


class ThreadServer:
    """HTTP/1.1 on a thread of its own (so it acts while the client's loop is busy).

    Every connection answers its first request with ``{"n": k}`` (keep-alive), then after
    ``idle_close`` seconds without a second request it closes; with ``say_408`` it first
    writes a 408 answer (as some servers/proxies do on an idle timeout)."""

    def __init__(self, idle_close: float, say_408: bool) -> None:
        self.idle_close = idle_close
        self.say_408 = say_408
        self.requests = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        first = True
        while True:
            conn.settimeout(None if first else self.idle_close)
            try:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        conn.close()
                        return
                    buf += chunk
            except TimeoutError:
                if self.say_408:
                    conn.sendall(
                        b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                        b"Content-Length: 0\r\n\r\n"
                    )
                conn.close()
                return
            head, _, buf = buf.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            while len(buf) < length:
                buf += conn.recv(65536)
            buf = buf[length:]
            self.requests += 1
            body = b'{"n": %d}' % self.requests
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body) + body
            )
            first = False

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server_close() -> Iterator[ThreadServer]:
    srv = ThreadServer(idle_close=0.05, say_408=False)
    yield srv
    srv.close()


@pytest.fixture
def server_408() -> Iterator[ThreadServer]:
    srv = ThreadServer(idle_close=0.05, say_408=True)
    yield srv
    srv.close()


def _http(url: str) -> JiraHttp:
    return JiraHttp(
        url, auth=None, transport=KeepAliveTransport(), retry=RetryPolicy(max_attempts=1)
    )


async def test_server_close_not_yet_seen_by_a_busy_loop(server_close: ThreadServer) -> None:
    """The server closed the idle connection while the loop was busy (CPU work of other
    jobs: JSON, conversion...). The next POST (a create) goes out on the dead connection."""
    http = _http(server_close.url)
    assert await http.json("GET", "/rest/api/2/issue/A-1") == {"n": 1}
    time.sleep(0.3)  # noqa: ASYNC251 (the loop is busy on purpose: the close goes unseen)
    # the dead connection must not be reused: the server would never see the request, and
    # the create would be reported as maybe-written
    try:
        answer = await http.json("POST", "/rest/api/2/issue", json_body={"fields": {}})
    finally:
        await http.aclose()
    assert answer == {"n": 2}


async def test_bytes_left_on_an_idle_connection(server_408: ThreadServer) -> None:
    """The server wrote a 408 on the idle connection and closed it (some servers and proxies
    do on an idle timeout): the next request must go on a new connection."""
    http = _http(server_408.url)
    assert await http.json("GET", "/rest/api/2/issue/A-1") == {"n": 1}
    await asyncio.sleep(0.3)  # the loop is free: the 408 and the FIN are both received
    try:
        answer = await http.json("POST", "/rest/api/2/issue", json_body={"fields": {}})
    except AmbiguousWriteError as exc:
        pytest.fail(f"create sent on a connection the server had closed: {exc!r}")
    finally:
        await http.aclose()
    assert answer == {"n": 2}
