"""An answer of the wrong shape (a list, a missing id, a proxy's object) is a BadInputError
that names the request: never KeyError, TypeError or AttributeError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from jirabridge.errors import BadInputError
from jirabridge.jira import IssueInput, RemoteLink

from .conftest import jira_json

ODD = [[], ["x"], {}, {"id": None, "key": None, "self": None, "content": None}, "text", 7]


def _always(body: Any) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(("/field", "/issuetype")):
            return jira_json(200, [])
        return jira_json(200, body)

    return handler


CALLS: dict[str, Callable[[Any], Any]] = {
    "create_issue": lambda c: c.create_issue(
        IssueInput(project_key="P", issue_type="Task", summary="s")
    ),
    "put_remote_link": lambda c: c.put_remote_link("P-1", RemoteLink(url="https://x", title="x")),
    "get_property": lambda c: c.get_property("P-1", "jb"),
    "download_attachment": lambda c: c.download_attachment("10"),
    "register_admin_webhook": lambda c: c.register_admin_webhook("n", "https://h.test/hook", ["e"]),
}


# an object without "value" is an unset property (None), tested below
CASES = [
    pytest.param(call, body, id=f"{call}-{body!r}")
    for call in sorted(CALLS)
    for body in ODD
    if not (call == "get_property" and isinstance(body, dict))
]


@pytest.mark.parametrize(("call", "body"), CASES)
async def test_odd_answers_are_bad_input(make_client, call: str, body: Any) -> None:
    client = make_client(_always(body))
    with pytest.raises(BadInputError) as info:
        await CALLS[call](client)
    assert info.value.request is not None
    assert info.value.request.url.startswith("https://jira.example.test/")


async def test_get_property_object_without_value_is_none(make_client) -> None:
    client = make_client(_always({"key": "jb"}))
    assert await client.get_property("P-1", "jb") is None


@pytest.mark.parametrize(
    "page",
    [
        ["not", "a", "page"],
        {"values": {"id": 1}},
        {"values": [{"id": "x"}], "isLast": True},
        {"values": [["a list board"]], "isLast": True},
        {"values": [{"id": 1, "location": "here"}], "isLast": True},
        {"values": [{"id": 1}], "startAt": "zero"},
    ],
    ids=repr,
)
async def test_odd_board_pages_are_bad_input(make_client, page: Any) -> None:
    client = make_client(_always(page))
    with pytest.raises(BadInputError):
        _ = [b async for b in client.boards()]


async def test_ids_spelled_as_strings_are_read(make_client) -> None:
    client = make_client(_always({"values": [{"id": "12", "name": "B"}], "isLast": True}))
    [board] = [b async for b in client.boards()]
    assert board.id == 12 and board.name == "B"
    client = make_client(_always({"id": 10001, "key": "P-1"}))
    assert await client.put_remote_link("P-1", RemoteLink(url="https://x", title="x")) == 10001


async def test_issue_type_list_of_the_wrong_shape(make_client) -> None:
    client = make_client(lambda r: jira_json(200, ["Task"] if "issuetype" in r.url.path else []))
    with pytest.raises(BadInputError, match="issue type"):
        await client.subtask_types()


async def test_field_list_of_the_wrong_shape(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return jira_json(200, {"fields": "nope"})

    client = make_client(handler)
    with pytest.raises(BadInputError):
        await client.fields()
    client = make_client(lambda r: jira_json(200, [{"name": "no id"}]))
    with pytest.raises(BadInputError, match="'id'"):
        await client.fields()


@pytest.mark.parametrize(
    "body", [["x"], {"versionNumbers": "8.20"}, {"versionNumbers": [8, "x"]}], ids=repr
)
async def test_server_info_of_the_wrong_shape(make_client, body: Any) -> None:
    client = make_client(_always(body))
    with pytest.raises(BadInputError):
        await client.server_info()


async def test_server_info_reads_version_numbers(make_client) -> None:
    client = make_client(_always({"version": "8.20.1", "versionNumbers": [8, 20, 1]}))
    info = await client.server_info()
    assert info.version_numbers == (8, 20, 1) and info.version == "8.20.1"


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"webhookRegistrationResult": {"createdWebhookId": 1}},
        {"webhookRegistrationResult": [{"createdWebhookId": "one"}]},
        {"webhookRegistrationResult": ["x"]},
    ],
    ids=repr,
)
async def test_cloud_webhook_registration_of_the_wrong_shape(make_client, body: Any) -> None:
    client = make_client(_always(body), flavour="cloud")
    with pytest.raises(BadInputError) as info:
        await client.register_webhooks("https://h.test/hook", [(["jira:issue_created"], "")])
    assert info.value.request is not None


async def test_cloud_webhook_registration_reads_ids_and_errors(make_client) -> None:
    body = {"webhookRegistrationResult": [{"createdWebhookId": 5}, {"errors": ["bad jql"]}]}
    client = make_client(_always(body), flavour="cloud")
    [first, second] = await client.register_webhooks("https://h.test/hook", [(["e"], "")] * 2)
    assert first == 5
    assert not isinstance(second, int) and second.error_messages == ["bad jql"]


async def test_server_timezone_answer_of_the_wrong_shape(make_client) -> None:
    client = make_client(_always(["not", "me"]))
    with pytest.raises(BadInputError):
        await client._user_timezone()
