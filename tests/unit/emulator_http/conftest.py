from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from jirabridge.emulator import create_app
from tests.unit.emulator_http.sites import AUTH, small_site


@pytest.fixture(params=["server", "cloud"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app(flavour: str):
    return create_app(flavour, small_site(flavour))


@pytest.fixture
async def client(app, flavour: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=app.base_url, auth=AUTH[flavour]
    ) as c:
        yield c


@pytest.fixture
def api(flavour: str) -> str:
    """The native REST prefix of the flavour (v2 on Server, v3 on Cloud)."""
    return "/rest/api/3" if flavour == "cloud" else "/rest/api/2"
