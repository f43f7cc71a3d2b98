"""The thin project-statuses call: Jira's answer per issue type, and bad answers refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from jirabridge.errors import BadInputError
from jirabridge.jira import ServerClient, basic_auth
from jirabridge.jira._workflows import project_statuses


def client(answer: Any) -> ServerClient:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/rest/api/2/project/OPS/statuses"
        return httpx.Response(200, json=answer)

    return ServerClient(
        "http://jira.test", auth=basic_auth("u", "p"), transport=httpx.MockTransport(handler)
    )


async def test_statuses_by_issue_type() -> None:
    answer = [
        {"name": "Task", "statuses": [{"name": "To Do"}, {"name": "Done"}]},
        {"name": "Bug", "statuses": [{"name": "Open"}, {"id": "3"}]},
    ]
    c = client(answer)
    try:
        assert await project_statuses(c, "OPS") == {"Task": ("To Do", "Done"), "Bug": ("Open",)}
    finally:
        await c.aclose()


@pytest.mark.parametrize("answer", [{"errorMessages": []}, ["not an entry"], "text"])
async def test_a_bad_answer_is_bad_input(answer: Any) -> None:
    c = client(answer)
    try:
        with pytest.raises(BadInputError, match="OPS statuses"):
            await project_statuses(c, "OPS")
    finally:
        await c.aclose()
