"""The HTTP faces of the emulators: Jira Server/DC and Jira Cloud over one shared model.

:func:`face_routes` builds the Starlette routes of one flavour over one site;
:func:`route_specs` is the table they come from (what ``COVERAGE.md`` documents);
:func:`payload_builder` renders domain events as the flavour's webhook JSON.
"""

from jirabridge.emulator.faces._app_routes import face_routes, route_specs
from jirabridge.emulator.faces._context import Api, Ctx, FaceConfig
from jirabridge.emulator.faces._errors import JiraHttpError, error_response
from jirabridge.emulator.faces._table import RouteSpec, prefixes
from jirabridge.emulator.faces._webhooks import payload_builder

__all__ = [
    "Api",
    "Ctx",
    "FaceConfig",
    "JiraHttpError",
    "RouteSpec",
    "error_response",
    "face_routes",
    "payload_builder",
    "prefixes",
    "route_specs",
]
