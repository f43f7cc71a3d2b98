"""Every Cloud answer the test suite sees is checked against Atlassian's OpenAPI specs.

Issue #2: "Every Cloud response exercised by the test suite validates against the response
schemas". :func:`install` wraps :class:`jirabridge.emulator.app.EmulatorApp` at the ASGI level,
so whatever reaches a Cloud emulator in this process (``httpx.ASGITransport``, uvicorn in a
thread, the PyPI clients over a socket) is captured; :func:`take_violations` hands the
mismatches to the test that caused them (the root ``conftest.py`` fails it).

Not checked: answers with no body, and operations and statuses the spec does not document (a
405 on a route Jira does not have, an undocumented 404), and the Atlassian API gateway's own
refusal of an OAuth token (``{"code": 401, "message": "Unauthorized"}``), which comes from the
gateway in front of Jira, not from Jira, so Jira's spec does not describe it. Injected faults
are checked too: they answer in Jira's error shape.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from jirabridge.emulator.app import EmulatorApp
from jirabridge.emulator.model import Flavour
from tests.support.openapi import assert_matches_spec, response_schema_pointer

__all__ = ["install", "take_violations"]

_PREFIXES = ("/rest/api/3/", "/rest/api/2/", "/rest/agile/")
_GATEWAY = re.compile(r"^/ex/jira/[^/]+(?=/)")
_violations: list[str] = []
_installed = False


def _check(method: str, path: str, status: int, body: bytes) -> None:
    if not body or not path.startswith(_PREFIXES):
        return
    try:
        pointer, _ = response_schema_pointer(method, path, status)
    except AssertionError:
        return  # an operation or status the spec does not document
    if pointer is None:
        return
    try:
        data: Any = json.loads(body)
    except ValueError:
        _violations.append(f"{method} {path} -> {status}: body is not JSON: {body[:120]!r}")
        return
    if status in (401, 403) and isinstance(data, dict) and set(data) == {"code", "message"}:
        return  # the API gateway's refusal, not a Jira answer
    try:
        if path.endswith("/remotelink") and method == "GET" and isinstance(data, list):
            for item in data:  # the spec documents one link; Jira answers a list
                assert_matches_spec("GET", path + "/1", status, item)
            return
        assert_matches_spec(method, path, status, data)
    except AssertionError as exc:
        _violations.append(f"{method} {path} -> {status}: {exc}")


def install() -> None:
    """Wrap every emulator app of this process (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    original = EmulatorApp.__call__

    async def checked(self: EmulatorApp, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.flavour is not Flavour.CLOUD:
            await original(self, scope, receive, send)
            return
        status = 0
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await original(self, scope, receive, capture)
        if status:
            path = _GATEWAY.sub("", scope["path"])
            try:
                _check(scope["method"], path, status, b"".join(chunks))
            except Exception as exc:  # the checker itself failed: say so, never break the app
                _violations.append(f"{scope['method']} {path} -> {status}: checker failed: {exc!r}")

    EmulatorApp.__call__ = checked  # type: ignore[method-assign]


def take_violations() -> list[str]:
    """The mismatches seen since the last call, and forget them."""
    found = list(_violations)
    _violations.clear()
    return found
