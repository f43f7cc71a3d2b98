"""Read-only workflow facts of a project: which statuses each issue type's workflow has.

A thin call beside the clients (``GET /rest/api/{2,3}/project/{key}/statuses``), used by
``jirabridge check`` to tell a status that exists on the site from one the project's
workflows can actually hold. Transitions come from ``BaseClient.transitions``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jirabridge.errors import BadInputError
from jirabridge.jira._client import BaseClient

__all__ = ["project_statuses"]


async def project_statuses(client: BaseClient, project_key: str) -> dict[str, tuple[str, ...]]:
    """Issue type name -> the status names of its workflow in ``project_key``."""
    data: Any = await client.http.json("GET", f"{client.api}/project/{project_key}/statuses")
    if not isinstance(data, list):
        raise BadInputError(f"project {project_key} statuses: expected a list, got {data!r:.80}")
    out: dict[str, tuple[str, ...]] = {}
    for item in data:
        if not isinstance(item, Mapping):
            raise BadInputError(f"project {project_key} statuses: bad entry {item!r:.80}")
        names = tuple(
            str(s["name"])
            for s in item.get("statuses") or ()
            if isinstance(s, Mapping) and s.get("name")
        )
        out[str(item.get("name") or item.get("id") or "?")] = names
    return out
