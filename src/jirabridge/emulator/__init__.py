"""Emulators of Jira Server/Data Center and Jira Cloud.

``model`` holds the state of one emulated site (no HTTP); ``faces`` present it as each flavour
does; ``infra`` adds auth, rate limits, faults, webhooks and the ``/_emulator`` control plane.
:func:`create_app` puts them together as one ASGI app::

    app = create_app("cloud", seed="demo")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=app.base_url) as c:
        await c.get("/rest/api/3/issue/DEMO-1")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jirabridge.emulator.app import EmulatorApp

__all__ = ["EmulatorApp", "create_app"]


def create_app(*args: Any, **kwargs: Any) -> EmulatorApp:
    """Build an emulator app (see :func:`jirabridge.emulator.app.create_app`)."""
    from jirabridge.emulator.app import create_app as _create_app

    return _create_app(*args, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "EmulatorApp":
        from jirabridge.emulator.app import EmulatorApp

        return EmulatorApp
    raise AttributeError(name)
