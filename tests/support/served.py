"""Serve an ASGI app on 127.0.0.1 over a real socket for a test, with no port race.

A classic ``free_port()`` binds port 0, closes the socket and hands the number on: another
process (or another xdist worker) can take the port before uvicorn binds it again. Here the
socket stays bound and listening from the start and uvicorn serves it as given
(``Server.run(sockets=[sock])``), so the port is never free in between.

A server in a child process that only takes a port number (``jirabridge emulate --port``,
the webhook port of ``jirabridge run``) cannot be handed a socket: :func:`free_port` picks
its number below the kernel's ephemeral range, where neither ``bind(port 0)`` nor outgoing
connections ever land, so only another explicit pick could take it before the child binds.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

__all__ = ["base_url_of", "bound_socket", "free_port", "serve_on"]

_LOWEST = 10000  # below: well-known services (PostgreSQL, ...) a test must not guess at


def bound_socket() -> socket.socket:
    """A TCP socket bound to a free port on 127.0.0.1 and already listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _ephemeral_low() -> int:
    """The first port the kernel hands out by itself (32768 when it cannot be read)."""
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text(encoding="ascii")
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port number for a server in a CHILD process; in-process servers use
    :func:`bound_socket` and :func:`serve_on` instead (no window at all).

    Random below the ephemeral range and checked free by binding it; when that range starts
    too low to leave room, the kernel picks one (port 0), as a last resort."""
    high = _ephemeral_low()
    rng = random.SystemRandom()
    for _ in range(200 if high > _LOWEST + 1000 else 0):
        port = rng.randrange(_LOWEST, high)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
