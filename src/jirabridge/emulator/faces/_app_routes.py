"""All face routes of one flavour, gathered from the route modules."""

from __future__ import annotations

from starlette.routing import BaseRoute

from jirabridge.emulator.faces import (
    _routes_agile,
    _routes_issues,
    _routes_meta,
    _routes_permissions,
    _routes_search,
    _routes_social,
)
from jirabridge.emulator.faces._context import FaceConfig
from jirabridge.emulator.faces._table import RouteSpec, build_routes

__all__ = ["face_routes", "route_specs"]


def route_specs() -> list[RouteSpec]:
    """Every operation the faces emulate (both flavours)."""
    return [
        *_routes_meta.ROUTES,
        *_routes_permissions.ROUTES,
        *_routes_issues.ROUTES,
        *_routes_social.ROUTES,
        *_routes_search.ROUTES,
        *_routes_agile.ROUTES,
    ]


def face_routes(face: FaceConfig) -> list[BaseRoute]:
    """Starlette routes of ``face``'s flavour under every prefix it serves."""
    return build_routes(face, route_specs())
