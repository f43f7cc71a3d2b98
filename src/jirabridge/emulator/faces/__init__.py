"""The HTTP faces of the emulators: Jira Server/DC and Jira Cloud over one shared model.

:func:`face_routes` builds the Starlette routes of one flavour over one site;
:func:`route_specs` is the table they come from (what ``COVERAGE.md`` documents);
:func:`payload_builder` renders domain events as the flavour's webhook JSON.

Layout (the HTTP side only; state lives in :mod:`jirabridge.emulator.model`):

- ``_context``: the per-request :class:`Ctx` (site, flavour, API version, viewer) and the
  endpoint wrapper that turns face/model/JQL errors into Jira's JSON (``_errors``).
- ``_table``: :class:`RouteSpec` and the routing (every spec under ``/rest/api/2``, ``/3``
  (Cloud), ``/latest`` or ``/rest/agile/1.0``, looked up by path head).
- ``_render`` / ``_issues``: model records -> each flavour's JSON (users by name/key or
  accountId; rich text via ``_richtext`` and :mod:`jirabridge.markup`; Jira's time format).
- ``_inputs`` / ``_wire``: request checks Jira's JSON layer does (types, rich-text form,
  visibility, malformed JSON).
- ``_views``: the View and IssueRenderer for a request.
- ``_routes_meta``, ``_routes_issues``, ``_routes_social``, ``_routes_search``,
  ``_routes_agile``: the handlers, grouped by resource family, each with its ``ROUTES``.
- ``_webhooks``: domain events -> webhook payloads shaped like Jira's captures.
- ``_coverage``: regenerates ``COVERAGE.md`` from the apps.
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
