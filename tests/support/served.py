"""Serve an ASGI app on 127.0.0.1 over a real socket for a test, with no port race.

``free_port()`` helpers bind port 0, close the socket and hand the number on: another
process (or another xdist worker) can take the port before uvicorn binds it again. Here the
socket stays bound and listening from the start and uvicorn serves it as given
(``Server.run(sockets=[sock])``), so the port is never free in between.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

__all__ = ["base_url_of", "bound_socket", "serve_on"]


def bound_socket() -> socket.socket:
    """A TCP socket bound to a free port on 127.0.0.1 and already listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def base_url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@contextmanager
def serve_on(app: Any, sock: socket.socket, *, start_timeout: float = 10.0) -> Iterator[str]:
    """Serve ``app`` on ``sock`` in a thread; yields the base URL; stops and closes on exit."""
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield base_url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
