"""Comment entity properties through the clients: the create POST carries them, listings read
them with ``expand=properties``, ``/comment/{id}/properties/{key}`` gets and sets one. Request
shapes against a mock transport; round trips against both emulators in-process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from jirabridge.emulator import create_app
from jirabridge.errors import BadInputError, SkipItemError
from jirabridge.jira import (
    AmbiguousWriteError,
    CloudClient,
    PlainCodec,
    RetryPolicy,
    ServerClient,
    basic_auth,
    cloud_api_token_auth,
)
from tests.unit.jira.conftest import jira_json

DOC = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hello"}]}],
}
MARK = {"site": "server", "issue": "10001", "comment": "10100"}


def _with_fields(handler: Callable[[httpx.Request], httpx.Response]) -> Any:
    """``handler``, with ``GET /field`` (asked for before any rich-text write) answered."""

    def wrapped(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(("/field", "/issuetype")):
            return jira_json(200, [])
        return handler(request)

    return wrapped


def _comment_json(cid: str = "10100", properties: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": cid, "body": "hello", "created": "2026-01-01T00:00:00.000+0000"}
    if properties is not None:
        out["properties"] = properties
    return out


async def test_add_comment_sends_properties_in_the_post(make_client: Callable[..., Any]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return jira_json(201, _comment_json())

    client = make_client(_with_fields(handler))
    made = await client.add_comment("PRJ-1", DOC, properties={"jirabridge.origin": MARK})
    assert len(seen) == 1  # one call: no separate property PUT
    body = json.loads(seen[0].content)
    assert body["properties"] == [{"key": "jirabridge.origin", "value": MARK}]
    assert made.id == "10100"
    assert made.properties == {"jirabridge.origin": MARK}

    plain = await client.add_comment("PRJ-1", DOC)
    assert "properties" not in json.loads(seen[1].content)
    assert plain.properties == {}


async def test_add_comment_with_an_unknown_outcome_is_not_resent(
    make_client: Callable[..., Any],
) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return jira_json(503, {"errorMessages": ["down"]})

    client = make_client(_with_fields(handler), retry=RetryPolicy(max_attempts=3, base_delay=0.01))
    with pytest.raises(AmbiguousWriteError):
        await client.add_comment("PRJ-1", DOC, properties={"jirabridge.origin": MARK})
    assert calls == 1


async def test_comments_with_properties_ask_for_the_expand(
    make_client: Callable[..., Any],
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        comments = [_comment_json("1", [{"key": "a", "value": {"x": 1}}]), _comment_json("2", [])]
        return jira_json(200, {"startAt": 0, "maxResults": 100, "total": 2, "comments": comments})

    client = make_client(_with_fields(handler))
    got = [c async for c in client.comments("PRJ-1", properties=True)]
    assert seen[0].url.params["expand"] == "properties"
    assert [c.properties for c in got] == [{"a": {"x": 1}}, {}]

    [c async for c in client.comments("PRJ-1")]
    assert "expand" not in seen[1].url.params


@pytest.mark.parametrize("bad", ["nope", [{"value": 1}], [{"key": 3, "value": 1}], ["k"], {"k": 1}])
async def test_malformed_properties_in_an_answer_are_bad_input(
    make_client: Callable[..., Any], bad: Any
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"startAt": 0, "maxResults": 100, "total": 1, "comments": [_comment_json("1", bad)]}
        return jira_json(200, body)

    client = make_client(_with_fields(handler))
    with pytest.raises(BadInputError):
        [c async for c in client.comments("PRJ-1", properties=True)]


async def test_comment_property_get_and_set_paths(make_client: Callable[..., Any]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "PUT":
            return httpx.Response(201)
        if request.url.path.endswith("/missing"):
            return jira_json(404, {"errorMessages": ["The property with key does not exist."]})
        if request.url.path.endswith("/notjson"):
            return httpx.Response(200, content=b"<html>")
        return jira_json(200, {"key": "k", "value": [1, 2]})

    for flavour, api in (("server", "/rest/api/2"), ("cloud", "/rest/api/3")):
        seen.clear()
        client = make_client(_with_fields(handler), flavour=flavour)
        await client.set_comment_property("77", "k", {"v": 1})
        assert seen[0].method == "PUT"
        assert seen[0].url.path == f"{api}/comment/77/properties/k"
        assert json.loads(seen[0].content) == {"v": 1}
        assert await client.get_comment_property("77", "k") == [1, 2]
        assert seen[1].url.path == f"{api}/comment/77/properties/k"
        assert await client.get_comment_property("77", "missing") is None
        with pytest.raises(BadInputError):
            await client.get_comment_property("77", "notjson")


async def test_forbidden_comment_property_write_skips_the_item(
    make_client: Callable[..., Any],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return jira_json(403, {"errorMessages": ["You do not have the permission."]})

    client = make_client(_with_fields(handler))
    with pytest.raises(SkipItemError):
        await client.set_comment_property("77", "k", 1)


# -- round trips against the emulators -------------------------------------------------------


@pytest.fixture(params=["server", "cloud"])
async def emulated(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    app = create_app(request.param)
    site = app.site
    site.create_project("PRJ", "Project", site.admin_key)
    site.create_issue(
        site.admin_key,
        {"project": {"key": "PRJ"}, "issuetype": {"name": "Task"}, "summary": "one"},
    )
    if request.param == "cloud":
        cls: Any = CloudClient
        auth = cloud_api_token_auth("admin@jirabridge.test", "admin")
    else:
        cls, auth = ServerClient, basic_auth("admin", "admin")
    client = cls(
        app.base_url,
        auth=auth,
        transport=httpx.ASGITransport(app=app),
        codec=PlainCodec(),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02),
    )
    yield client
    await client.aclose()


async def test_marker_round_trip_on_both_flavours(emulated: Any) -> None:
    client = emulated
    made = await client.add_comment("PRJ-1", DOC, properties={"jirabridge.origin": MARK})
    await client.add_comment("PRJ-1", DOC)
    listed = [c async for c in client.comments("PRJ-1", properties=True)]
    assert [c.properties for c in listed] == [{"jirabridge.origin": MARK}, {}]
    assert listed[0].id == made.id
    assert await client.get_comment_property(made.id, "jirabridge.origin") == MARK

    await client.set_comment_property(listed[1].id, "jirabridge.origin", {"n": 2})
    assert await client.get_comment_property(listed[1].id, "jirabridge.origin") == {"n": 2}
    assert await client.get_comment_property(listed[1].id, "other") is None
    assert await client.get_comment_property("999999", "jirabridge.origin") is None

    plain = [c async for c in client.comments("PRJ-1")]
    assert all(c.properties == {} for c in plain)  # not read unless asked


async def test_oversized_marker_is_refused_by_the_site(emulated: Any) -> None:
    with pytest.raises(SkipItemError):
        await emulated.add_comment("PRJ-1", DOC, properties={"big": "x" * 40000})
    assert [c async for c in emulated.comments("PRJ-1")] == []
