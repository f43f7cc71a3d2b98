"""Search through each face over HTTP: JQL results, Jira's error bodies, paging, spec shapes.

The JQL engine and ``search()`` are tested directly in ``tests/unit/emulator_jql``; this
checks they reach the wire intact (order, errors, pages) and that the answers match
Atlassian's OpenAPI description.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from jirabridge.emulator import create_app
from jirabridge.emulator.model import Flavour, Site
from tests.support.openapi import assert_matches_spec

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
POLL = 'project = OPS AND updated >= "{since}" ORDER BY updated ASC, key ASC'


def _site(flavour: str) -> Site:
    site = Site(Flavour(flavour))
    admin = site.admin_key
    site.create_project("OPS", "Operations", admin)
    for n in range(7):
        site.clock.freeze(T0 + timedelta(minutes=n))
        site.create_issue(
            admin,
            {"project": {"key": "OPS"}, "summary": f"Issue {n}", "issuetype": {"name": "Task"}},
        )
    site.clock.freeze(T0 + timedelta(minutes=10))
    site.edit_issue(admin, "OPS-2", {"summary": "Issue 1, edited"})  # now the latest update
    return site


class Client(httpx.AsyncClient):
    """An in-process client of one emulator that knows which flavour it talks to."""

    def __init__(self, flavour: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flavour = flavour


@pytest.fixture(params=["server", "cloud"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[Client]:
    flavour = str(request.param)
    app = create_app(flavour, _site(flavour))
    login = "admin" if flavour == "server" else "admin@jirabridge.test"
    token = base64.b64encode(f"{login}:admin".encode()).decode()
    async with Client(
        flavour,
        transport=httpx.ASGITransport(app),
        base_url=app.base_url,
        headers={"Authorization": f"Basic {token}"},
    ) as c:
        yield c


def _cloud(c: Client) -> bool:
    return c.flavour == "cloud"


async def _search(c: Client, jql: str, **extra: Any) -> httpx.Response:
    if _cloud(c):
        body = {"jql": jql, "fields": ["summary", "updated"], **extra}
        response = await c.post("/rest/api/3/search/jql", json=body)
        assert_matches_spec("POST", "/rest/api/3/search/jql", response.status_code, response.json())
    else:
        response = await c.post("/rest/api/2/search", json={"jql": jql, **extra})
        assert_matches_spec("POST", "/rest/api/2/search", response.status_code, response.json())
    return response


async def _keys(c: Client, jql: str) -> list[str]:
    keys: list[str] = []
    token: str | None = None
    for _ in range(20):
        extra: dict[str, Any] = {"maxResults": 3}
        if _cloud(c):
            if token:
                extra["nextPageToken"] = token
        else:
            extra["startAt"] = len(keys)
        response = await _search(c, jql, **extra)
        assert response.status_code == 200, response.text
        body = response.json()
        keys += [i["key"] for i in body["issues"]]
        if _cloud(c):
            token = body.get("nextPageToken")
            if body["isLast"]:
                return keys
        elif len(keys) >= body["total"]:
            return keys
    raise AssertionError("paging did not end")


async def test_sync_poll_over_http(client: Client) -> None:
    assert await _keys(client, POLL.format(since="2026/11/24 03:04")) == [
        "OPS-5",
        "OPS-6",
        "OPS-7",
        "OPS-2",
    ]
    assert await _keys(client, POLL.format(since="2026/11/24 03:10")) == ["OPS-2"]


async def test_default_order_over_http(client: Client) -> None:
    keys = await _keys(client, "project = OPS")
    assert keys == [f"OPS-{n}" for n in range(7, 0, -1)]


async def test_jql_errors_come_back_in_jira_shape(client: Client) -> None:
    response = await _search(client, "project = OPS foo")
    assert response.status_code == 400
    assert response.json() == {
        "errorMessages": [
            "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'foo'. "
            "(line 1, character 15)"
        ],
        "errors": {},
    }
    response = await _search(client, "project = 99999 AND nosuch = 1")
    assert response.status_code == 400
    assert response.json()["errorMessages"] == [
        "A value with ID '99999' does not exist for the field 'project'.",
        "Field 'nosuch' does not exist or you do not have permission to view it.",
    ]
