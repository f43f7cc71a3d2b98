"""Server searches past the result window are split into windows, against the real emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from jirabridge.jira import basic_auth

from .conftest import Emu


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/Los_Angeles"])
async def test_search_past_the_window(monkeypatch, zone) -> None:
    import jirabridge.emulator.faces._routes_search as routes

    monkeypatch.setattr(routes, "RESULT_WINDOW", 20)
    emu = Emu("server")
    try:
        site = emu.site
        user = site.create_user(
            "Searcher",
            name="searcher",
            password="pw",
            time_zone=zone,
            groups=["jira-users", "jira-software-users"],
        )
        start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        for n in range(65):  # three issues a minute: windows must overlap inside a minute
            site.create_issue(
                site.admin_key,
                {"project": {"key": "PRJ"}, "issuetype": {"name": "Task"}, "summary": f"n{n}"},
                created=start + timedelta(seconds=20 * n),
            )
        queries: list[str] = []

        class Recording(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                if request.url.path.endswith("/search"):
                    queries.append(json.loads(request.content)["jql"])
                return await emu.transport.handle_async_request(request)

        client = emu.client(
            auth=basic_auth("searcher", "pw"), result_window=20, transport=Recording()
        )
        assert user.key
        keys = [
            i["key"]
            async for i in client.search_raw(
                "project = PRJ ORDER BY key DESC", fields=["summary"], page_size=7
            )
        ]
        assert len(keys) == 65 == len(set(keys))
        assert client.stats.count(endpoint="/rest/api/2/search", status=400) == 0
        windows = {q for q in queries if "created >=" in q}
        assert len(windows) >= 3, queries
    finally:
        await emu.aclose()
