"""Comment entity properties on both emulator flavours: set in the create POST, read with
``expand=properties``, and ``/comment/{id}/properties`` (keys, get, put, delete), with the
comment's visibility and edit rights; every Cloud answer is checked against the spec."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from jirabridge.emulator import create_app
from tests.unit.emulator_http.conftest import check_against_spec
from tests.unit.emulator_http.sites import AUTH, adf, small_site

MARK = {"site": "cloud", "issue": "10001", "comment": "42"}


@pytest.fixture(params=["server", "cloud"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def site(flavour: str) -> Any:
    return small_site(flavour)


@pytest.fixture
def app(flavour: str, site: Any) -> Any:
    return create_app(flavour, site)


def _client(app: Any, flavour: str, auth: tuple[str, str]) -> httpx.AsyncClient:
    hooks = {"response": [check_against_spec]} if flavour == "cloud" else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=app.base_url, auth=auth, event_hooks=hooks
    )


@pytest.fixture
async def client(app: Any, flavour: str) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app, flavour, AUTH[flavour]) as c:
        yield c


@pytest.fixture
def api(flavour: str) -> str:
    return "/rest/api/3" if flavour == "cloud" else "/rest/api/2"


def _body(flavour: str, text: str) -> Any:
    return adf(text) if flavour == "cloud" else text


async def _add(client: httpx.AsyncClient, api: str, flavour: str, **extra: Any) -> Any:
    r = await client.post(
        f"{api}/issue/DEMO-1/comment", json={"body": _body(flavour, "mirrored"), **extra}
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_properties_given_in_the_create_post_are_listed_with_expand(
    client: httpx.AsyncClient, api: str, flavour: str
) -> None:
    made = await _add(
        client, api, flavour, properties=[{"key": "jirabridge.origin", "value": MARK}]
    )
    assert "properties" not in made  # only on request

    plain = (await client.get(f"{api}/issue/DEMO-1/comment")).json()["comments"]
    assert all("properties" not in c for c in plain)

    page = (await client.get(f"{api}/issue/DEMO-1/comment", params={"expand": "properties"})).json()
    by_id = {c["id"]: c for c in page["comments"]}
    assert by_id[made["id"]]["properties"] == [{"key": "jirabridge.origin", "value": MARK}]
    others = [c for cid, c in by_id.items() if cid != made["id"]]
    assert others and all(c["properties"] == [] for c in others)

    one = await client.get(
        f"{api}/issue/DEMO-1/comment/{made['id']}", params={"expand": "renderedBody,properties"}
    )
    assert one.json()["properties"] == [{"key": "jirabridge.origin", "value": MARK}]
    assert one.json()["renderedBody"]


async def test_property_routes_by_comment_id(
    client: httpx.AsyncClient, api: str, flavour: str
) -> None:
    made = await _add(client, api, flavour)
    base = f"{api}/comment/{made['id']}/properties"
    assert (await client.get(base)).json() == {"keys": []}
    assert (await client.get(f"{base}/jirabridge.origin")).status_code == 404

    assert (await client.put(f"{base}/jirabridge.origin", json=MARK)).status_code == 201
    assert (await client.put(f"{base}/jirabridge.origin", json={"v": 2})).status_code == 200
    got = await client.get(f"{base}/jirabridge.origin")
    assert got.json() == {"key": "jirabridge.origin", "value": {"v": 2}}
    keys = (await client.get(base)).json()["keys"]
    assert [k["key"] for k in keys] == ["jirabridge.origin"]
    assert keys[0]["self"].endswith(f"/comment/{made['id']}/properties/jirabridge.origin")

    assert (await client.delete(f"{base}/jirabridge.origin")).status_code == 204
    assert (await client.get(base)).json() == {"keys": []}
    assert (await client.delete(f"{base}/jirabridge.origin")).status_code == 404


async def test_update_sets_given_properties_and_keeps_others(
    client: httpx.AsyncClient, api: str, flavour: str
) -> None:
    made = await _add(client, api, flavour, properties=[{"key": "a", "value": 1}])
    r = await client.put(
        f"{api}/issue/DEMO-1/comment/{made['id']}",
        json={"body": _body(flavour, "edited"), "properties": [{"key": "b", "value": [2]}]},
    )
    assert r.status_code == 200, r.text
    keys = (await client.get(f"{api}/comment/{made['id']}/properties")).json()["keys"]
    assert sorted(k["key"] for k in keys) == ["a", "b"]


@pytest.mark.parametrize(
    "properties",
    [
        "not a list",
        [{"value": 1}],  # no key
        [{"key": "k"}],  # no value
        [{"key": "", "value": 1}],
        [{"key": "k" * 256, "value": 1}],
        [{"key": "big", "value": "x" * 40000}],
    ],
)
async def test_bad_properties_in_a_create_are_refused_and_nothing_is_created(
    client: httpx.AsyncClient, api: str, flavour: str, properties: Any
) -> None:
    before = (await client.get(f"{api}/issue/DEMO-1/comment")).json()["total"]
    r = await client.post(
        f"{api}/issue/DEMO-1/comment",
        json={"body": _body(flavour, "x"), "properties": properties},
    )
    assert r.status_code == 400
    assert (await client.get(f"{api}/issue/DEMO-1/comment")).json()["total"] == before


async def test_bad_property_puts(client: httpx.AsyncClient, api: str, flavour: str) -> None:
    made = await _add(client, api, flavour)
    base = f"{api}/comment/{made['id']}/properties"
    assert (await client.put(f"{base}/{'k' * 256}", json=1)).status_code == 400
    assert (await client.put(f"{base}/big", json="x" * 40000)).status_code == 400
    bad_json = await client.put(
        f"{base}/k", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400
    assert (await client.put(f"{api}/comment/999999/properties/k", json=1)).status_code == 404
    assert (await client.get(f"{api}/comment/999999/properties")).status_code == 404
    assert (await client.get(base)).json() == {"keys": []}


async def test_hidden_comment_properties_are_not_found_and_others_may_not_edit(
    app: Any, site: Any, client: httpx.AsyncClient, api: str, flavour: str
) -> None:
    restricted = {"id": next(c.id for c in site.comments.values() if c.visibility)}  # devs
    public = await _add(client, api, flavour, properties=[{"key": "k", "value": 1}])
    if flavour == "cloud":
        bob = ("bob@example.org", site.create_api_token(site.find_user("bob@example.org").key))
    else:
        bob = ("bob", "pw")
    async with _client(app, flavour, bob) as as_bob:
        hidden = await as_bob.get(f"{api}/comment/{restricted['id']}/properties")
        assert hidden.status_code == 404
        hidden_put = await as_bob.put(f"{api}/comment/{restricted['id']}/properties/k", json=1)
        assert hidden_put.status_code == 404
        # bob sees the admin's comment and its property, but may not change it
        seen = await as_bob.get(f"{api}/comment/{public['id']}/properties/k")
        assert seen.json()["value"] == 1
        assert (
            await as_bob.put(f"{api}/comment/{public['id']}/properties/k", json=2)
        ).status_code == 403
        assert (
            await as_bob.delete(f"{api}/comment/{public['id']}/properties/k")
        ).status_code == 403
    got = await client.get(f"{api}/comment/{public['id']}/properties/k")
    assert got.json()["value"] == 1


async def test_cloud_comment_list_expands_properties(
    client: httpx.AsyncClient, api: str, flavour: str
) -> None:
    if flavour != "cloud":
        pytest.skip("POST /comment/list is Cloud only")
    made = await _add(client, api, flavour, properties=[{"key": "k", "value": {"a": 1}}])
    r = await client.post(
        f"{api}/comment/list", params={"expand": "properties"}, json={"ids": [int(made["id"])]}
    )
    assert r.json()["values"][0]["properties"] == [{"key": "k", "value": {"a": 1}}]
