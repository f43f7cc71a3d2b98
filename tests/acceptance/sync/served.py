"""Both emulators served by uvicorn on 127.0.0.1 in a background thread (stops by itself)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(apps: dict[str, Any], ports: dict[str, int]) -> Iterator[None]:
    """Serve each app on its port until the block ends."""
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=ports[name], log_level="warning", lifespan="on"
            )
        )
        for name, app in apps.items()
    ]
    for server in servers:
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]

    async def main() -> None:
        await asyncio.gather(*(s.serve() for s in servers))

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if all(s.started for s in servers):
                break
            threading.Event().wait(0.05)
        else:
            raise RuntimeError("emulators did not start")
        yield
    finally:
        for server in servers:
            server.should_exit = True
        thread.join(timeout=30)
