"""The route table of the faces: one :class:`RouteSpec` per emulated operation.

Each spec says which flavours serve it and under which API families; :func:`build_routes`
turns the table into Starlette routes under every prefix (``/rest/api/2``, ``/rest/api/3``
(Cloud), ``/rest/api/latest``, ``/rest/agile/1.0``). ``COVERAGE.md`` is checked against the
same table, so the documentation cannot drift from what the app serves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from starlette.routing import BaseRoute, Route

from jirabridge.emulator.faces._context import Api, FaceConfig, Handler, endpoint

__all__ = ["AGILE", "REST", "ROOT", "RouteSpec", "build_routes", "prefixes"]

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
    routes: list[BaseRoute] = []
    for path, api in order:
        handlers = by_path[(path, api)]
        for method, handler in handlers.items():
            routes.append(Route(path, endpoint(face, api, handler), methods=[method]))
    return routes


def _route_order(path: str) -> tuple[tuple[int, str], ...]:
    """Literal segments before parameters, so ``/issue/bulk`` wins over ``/issue/{key}``."""
    return tuple((1 if seg.startswith("{") else 0, seg) for seg in path.split("/"))
