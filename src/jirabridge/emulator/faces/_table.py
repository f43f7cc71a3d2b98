"""The route table of the faces: one :class:`RouteSpec` per emulated operation.

Each spec says which flavours serve it and under which API families; :func:`build_routes`
turns the table into Starlette routes under every prefix (``/rest/api/2``, ``/rest/api/3``
(Cloud), ``/rest/api/latest``, ``/rest/agile/1.0``). ``COVERAGE.md`` is checked against the
same table, so the documentation cannot drift from what the app serves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Receive, Scope, Send

from jirabridge.emulator.faces._context import Api, FaceConfig, Handler, endpoint

__all__ = [
    "AGILE",
    "REST",
    "ROOT",
    "FaceRouter",
    "RouteGroup",
    "RouteSpec",
    "build_routes",
    "prefixes",
]

REST = "rest"
AGILE = "agile"
ROOT = "root"


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """One operation: ``path`` is relative to the API prefix (``/issue/{issueIdOrKey}``)."""

    method: str
    path: str
    handler: Handler
    family: str = REST
    server: bool = True
    cloud: bool = True
    note: str = ""


def prefixes(family: str, cloud: bool) -> list[tuple[str, str]]:
    """(URL prefix, Api) pairs a family is served under on a flavour."""
    if family == AGILE:
        return [("/rest/agile/1.0", Api.AGILE)]
    if family == ROOT:
        return [("", Api.V2)]
    out = [("/rest/api/2", Api.V2)]
    if cloud:
        out.append(("/rest/api/3", Api.V3))
    out.append(("/rest/api/latest", Api.V2))
    return out


def build_routes(face: FaceConfig, specs: Iterable[RouteSpec]) -> list[BaseRoute]:
    """Starlette routes for every spec this flavour serves, under each of its prefixes.

    Specs that share a path are merged into one route per method set, so a wrong method on a
    known path answers 405 rather than 404.
    """
    by_path: dict[tuple[str, str], dict[str, Handler]] = {}
    order: list[tuple[str, str]] = []
    for spec in specs:
        if (face.cloud and not spec.cloud) or (not face.cloud and not spec.server):
            continue
        for prefix, api in prefixes(spec.family, face.cloud):
            key = (prefix + spec.path, api)
            if key not in by_path:
                by_path[key] = {}
                order.append(key)
            by_path[key][spec.method] = spec.handler
    order.sort(key=lambda item: _route_order(item[0]))
    groups: dict[str, list[BaseRoute]] = {}
    for path, api in order:
        handlers = by_path[(path, api)]
        for method, handler in handlers.items():
            route = Route(path, endpoint(face, api, handler), methods=[method])
            groups.setdefault(_group_key(path), []).append(route)
    return [FaceRouter([RouteGroup(literal, routes) for literal, routes in groups.items()])]


def _group_key(path: str) -> str:
    """The literal head of ``path`` up to the first segment after the API prefix."""
    parts = path.split("/")
    depth = 5 if path.startswith(("/rest/api/", "/rest/agile/")) else 3
    head = "/".join(parts[:depth])
    return head if "{" not in head else "/".join(parts[: depth - 1])


class FaceRouter(Mount):
    """All face route groups behind one dictionary lookup on the request path's head."""

    def __init__(self, groups: list[RouteGroup]) -> None:
        super().__init__("", routes=list(groups))
        self._groups = {g.literal: g for g in groups}
        self._depths = sorted({g.literal.count("/") for g in groups}, reverse=True)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        parts = scope["path"].split("/")
        for depth in self._depths:
            group = self._groups.get("/".join(parts[: depth + 1]))
            if group is not None:
                match, child = group.matches(scope)
                if match is not Match.NONE:
                    return match, child
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: Any = scope["jirabridge_route"]
        await route.handle(scope, receive, send)


class RouteGroup(Mount):
    """Routes sharing a literal path head, tried only when the request path has that head.

    Starlette tries routes one by one; with three API prefixes the faces have several hundred,
    so grouping them by head keeps a lookup to a few regex matches. It behaves as a
    ``Mount`` at ``""`` (``.routes`` lists its children) for code that walks the route tree.
    """

    def __init__(self, literal: str, routes: list[BaseRoute]) -> None:
        super().__init__("", routes=routes)
        self.literal = literal
        self._children = routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path: str = scope["path"]
        literal = self.literal
        if not (path == literal or path.startswith(literal + "/")):
            return Match.NONE, {}
        partial: tuple[BaseRoute, Scope] | None = None
        for route in self._children:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return Match.FULL, {**child, "jirabridge_route": route}
            if match is Match.PARTIAL and partial is None:
                partial = (route, child)
        if partial is not None:
            return Match.PARTIAL, {**partial[1], "jirabridge_route": partial[0]}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: Any = scope["jirabridge_route"]
        await route.handle(scope, receive, send)


def _route_order(path: str) -> tuple[tuple[int, str], ...]:
    """Literal segments before parameters, so ``/issue/bulk`` wins over ``/issue/{key}``."""
    return tuple((1 if seg.startswith("{") else 0, seg) for seg in path.split("/"))
