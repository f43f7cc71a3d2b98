"""The shared socket helper: the port is held from bind to serve, and freed afterwards."""

from __future__ import annotations

import socket

import httpx
import pytest

from jirabridge.emulator import create_app
from tests.support.served import base_url_of, bound_socket, serve_on


def test_port_is_held_until_served_and_released_after() -> None:
    sock = bound_socket()
    port = sock.getsockname()[1]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other, pytest.raises(OSError):
        other.bind(("127.0.0.1", port))  # nobody else can take it in between
    app = create_app("server", base_url=base_url_of(sock))
    with serve_on(app, sock) as base:
        assert base == f"http://127.0.0.1:{port}"
        r = httpx.get(f"{base}/rest/api/2/serverInfo", auth=("admin", "admin"))
        assert r.status_code == 200
        assert r.json()["deploymentType"] == "Server"
    assert sock.fileno() == -1  # closed on exit
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/rest/api/2/serverInfo", timeout=2)
