"""The emulator application: one site, its infra and the face of its flavour, as ASGI.

``create_app("server")`` or ``create_app("cloud", site)`` gives an ASGI app usable in-process
with ``httpx.ASGITransport`` or served by uvicorn. Unknown paths and wrong methods answer in
Jira's error JSON; no request body can crash it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from jirabridge.emulator.faces import FaceConfig, error_response, face_routes, payload_builder
from jirabridge.emulator.infra import Infra, InfraOptions
from jirabridge.emulator.model import Flavour, Site
from jirabridge.emulator.seed import seed_bulk, seed_demo
from jirabridge.errors import FixConfigError

__all__ = ["DEFAULT_BASE_URL", "EmulatorApp", "create_app", "seed_site"]

DEFAULT_BASE_URL = "http://127.0.0.1:8080"


class EmulatorApp:
    """The ASGI app of one emulated site, with handles on its parts for tests and tools."""

    def __init__(self, site: Site, infra: Infra, starlette: Starlette, face: FaceConfig) -> None:
        self.site = site
        self.infra = infra
        self.starlette = starlette
        self.face = face
        self._asgi = infra.wrap(starlette)

    @property
    def flavour(self) -> Flavour:
        return self.site.flavour

    @property
    def base_url(self) -> str:
        return self.face.base_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)


def seed_site(site: Site, seed: str | int | None) -> None:
    """Fill ``site``: ``"demo"`` for the demo content, an int N for N bulk issues."""
    if seed is None:
        return
    if seed == "demo":
        seed_demo(site, seed=1)
        return
    try:
        count = int(seed)
    except ValueError as exc:
        raise FixConfigError(f"Seed with 'demo' or a number of issues, not {seed!r}.") from exc
    if count < 0:
        raise FixConfigError(f"The number of issues to seed must not be negative: {count}")
    seed_bulk(
        site,
        projects=max(1, min(10, count // 1000 + 1)),
        issues=count,
        comments=count * 3,
        users=max(5, min(500, count // 100 + 5)),
        sprints=max(1, min(50, count // 500 + 1)),
        seed=1,
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        return error_response(
            405,
            [f"HTTP 405 Method Not Allowed: {request.method} is not supported here"],
            headers=exc.headers or {},
        )
    if isinstance(exc, HTTPException) and exc.status_code != 404:
        return error_response(exc.status_code, [str(exc.detail)])
    return error_response(404, [f"null for uri: {request.url}"])


async def _server_error(request: Request, exc: Exception) -> Response:
    return error_response(500, [f"Internal server error: {type(exc).__name__}"])


def create_app(
    flavour: Flavour | str,
    site: Site | None = None,
    *,
    base_url: str = DEFAULT_BASE_URL,
    seed: str | int | None = None,
    options: InfraOptions | None = None,
) -> EmulatorApp:
    """Build the emulator of ``flavour`` over ``site`` (a fresh one when None, filled by
    ``seed``: ``"demo"`` or a number of bulk issues)."""
    flavour = Flavour(flavour)
    if site is None:
        site = Site(flavour)
        seed_site(site, seed)
    elif site.flavour is not flavour:
        raise FixConfigError(
            f"The site is a {site.flavour.value} site; it cannot be served as {flavour.value}."
        )
    base_url = base_url.rstrip("/")
    # one base URL for self links and infra (OAuth resources, webhook payload links)
    infra_options = replace(options or InfraOptions(), base_url=base_url)
    infra = Infra(site, flavour, options=infra_options)
    face = FaceConfig(
        site=site, cloud=flavour is Flavour.CLOUD, base_url=base_url, default_user_key=""
    )
    infra.set_payload_builder(payload_builder(site, cloud=face.cloud, base_url=base_url))
    site.subscribe(infra.on_event)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await infra.start()
        try:
            yield
        finally:
            await infra.stop()

    starlette = Starlette(
        routes=[*face_routes(face), *infra.routes()],
        exception_handlers={404: _not_found, 405: _not_found, 500: _server_error},
        lifespan=lifespan,
    )
    starlette.state.site = site
    starlette.state.infra = infra
    return EmulatorApp(site, infra, starlette, face)
