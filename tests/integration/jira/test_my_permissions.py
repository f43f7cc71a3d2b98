"""``BaseClient.my_permissions`` on both emulators, and answers Jira should not give."""

from __future__ import annotations

import httpx
import pytest

from jirabridge.errors import BadInputError, JirabridgeError
from jirabridge.jira import ServerClient, basic_auth

from .conftest import Emu


async def test_held_and_missing_permissions_of_the_logged_in_user(emu: Emu) -> None:
    client = emu.client()
    keys = ["EDIT_ISSUES", "CREATE_ISSUES", "LINK_ISSUES", "EDIT_ISSUES"]
    assert await client.my_permissions("PRJ", keys) == {
        "CREATE_ISSUES": True,
        "EDIT_ISSUES": True,
        "LINK_ISSUES": True,
    }
    await emu.control(
        "/permissions",
        {"projectKey": "PRJ", "user": emu.site.admin_key, "deny": ["LINK_ISSUES"]},
    )
    got = await client.my_permissions("PRJ", keys)
    assert got == {"CREATE_ISSUES": True, "EDIT_ISSUES": True, "LINK_ISSUES": False}
    assert await client.my_permissions("PRJ", []) == {}


async def test_an_unknown_project_or_key_is_an_error(emu: Emu) -> None:
    client = emu.client()
    with pytest.raises(JirabridgeError):
        await client.my_permissions("NOPE", ["EDIT_ISSUES"])
    with pytest.raises(JirabridgeError):
        await client.my_permissions("PRJ", ["FLY_ISSUES"])


@pytest.mark.parametrize(
    "body",
    [
        {"permissions": {"EDIT_ISSUES": {"key": "EDIT_ISSUES"}}},  # no havePermission
        {"permissions": {"EDIT_ISSUES": {"havePermission": "yes"}}},
        {"permissions": {}},  # the asked key left out
        {"permissions": []},
        {},
    ],
)
async def test_an_answer_that_does_not_say_is_refused(body: object) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["permissions"] == "EDIT_ISSUES"
        assert request.url.params["projectKey"] == "PRJ"
        return httpx.Response(200, json=body)

    client = ServerClient(
        "https://jira.test", auth=basic_auth("u", "p"), transport=httpx.MockTransport(handler)
    )
    async with client:
        with pytest.raises(BadInputError):
            await client.my_permissions("PRJ", ["EDIT_ISSUES"])
