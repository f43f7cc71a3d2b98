from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from jirabridge.emulator import create_app
from tests.support.openapi import assert_matches_spec, response_schema_pointer
from tests.unit.emulator_http.sites import AUTH, small_site


async def check_against_spec(response: httpx.Response) -> None:
    """Every Cloud answer (REST v2, v3, agile) a test sees must match Atlassian's OpenAPI spec."""
    await response.aread()
    request = response.request
    path = request.url.path
    if (
        not path.startswith(("/rest/api/3/", "/rest/api/2/", "/rest/agile/"))
        or not response.content
    ):
        return
    try:
        pointer, _ = response_schema_pointer(request.method, path, response.status_code)
    except AssertionError:
        return  # an operation or status the spec does not document (e.g. 405, 404 route)
    if pointer is None:  # no body documented (the Software spec has no error schema)
        return
    body = response.json()
    if path.endswith("/remotelink") and request.method == "GET" and isinstance(body, list):
        for item in body:  # the spec documents one link; Jira answers a list
            assert_matches_spec("GET", path + "/1", response.status_code, item)
        return
    assert_matches_spec(request.method, path, response.status_code, body)


@pytest.fixture(params=["server", "cloud"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app(flavour: str):
    return create_app(flavour, small_site(flavour))


@pytest.fixture
async def client(app, flavour: str) -> AsyncIterator[httpx.AsyncClient]:
    hooks = {"response": [check_against_spec]} if flavour == "cloud" else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app),
        base_url=app.base_url,
        auth=AUTH[flavour],
        event_hooks=hooks,
    ) as c:
        yield c


@pytest.fixture
def api(flavour: str) -> str:
    """The native REST prefix of the flavour (v2 on Server, v3 on Cloud)."""
    return "/rest/api/3" if flavour == "cloud" else "/rest/api/2"
