"""Real HTTP servers on free loopback ports, driven inside the caller's event loop.

uvicorn's ``Server.serve()`` installs its own signal handlers and re-raises the signal
afterwards; the demo handles Ctrl-C itself, so this drives uvicorn's startup / main loop /
shutdown directly. The listening socket is bound before the app is built, so the app can be
told its own base URL (emulators put it in every ``self`` link and webhook payload).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any, Literal

import uvicorn

from jirabridge.errors import FixConfigError

__all__ = ["LoopbackServer", "reserve_port"]

HOST = "127.0.0.1"


def reserve_port() -> socket.socket:
    """A listening-ready socket bound to a free loopback port (the caller owns it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.set_inheritable(True)
    return sock


class LoopbackServer:
    """One ASGI app served by uvicorn on a socket from :func:`reserve_port`."""

    def __init__(self, name: str, sock: socket.socket | None = None) -> None:
        self.name = name
        self.sock = sock or reserve_port()
        self.port = int(self.sock.getsockname()[1])
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    async def start(self, app: Any, *, lifespan: Literal["on", "off"] = "on") -> None:
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan=lifespan,
            access_log=False,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        config.load()
        server.lifespan = config.lifespan_class(config)
        try:
            await server.startup(sockets=[self.sock])
        except SystemExit as exc:  # uvicorn exits when the app's lifespan startup fails
            raise FixConfigError(f"the {self.name} server did not start") from exc
        if server.should_exit:
            raise FixConfigError(f"the {self.name} server cannot listen on {self.url}")
        self._server = server
        self._task = asyncio.create_task(server.main_loop(), name=f"uvicorn-{self.name}")

    async def stop(self) -> None:
        """Stop serving and free the port (safe to call more than once, or before start)."""
        server, task = self._server, self._task
        self._server = self._task = None
        if server is not None:
            server.should_exit = True
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.shutdown(), 10)
        self.sock.close()
