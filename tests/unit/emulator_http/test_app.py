from __future__ import annotations

import httpx
import pytest

from jirabridge.emulator import create_app
from jirabridge.emulator.app import seed_site
from jirabridge.emulator.model import Flavour, Site
from jirabridge.errors import FixConfigError
from tests.unit.emulator_http.sites import AUTH


def test_seed_demo_and_bulk() -> None:
    demo = Site(Flavour.SERVER)
    seed_site(demo, "demo")
    assert len(demo.projects) >= 3 and len(demo.issues) > 100
    bulk = Site(Flavour.CLOUD)
    seed_site(bulk, 40)
    assert len(bulk.issues) == 40
    with pytest.raises(FixConfigError):
        seed_site(Site(Flavour.CLOUD), -1)
    with pytest.raises(FixConfigError):
        seed_site(Site(Flavour.CLOUD), "lots")


def test_site_of_the_other_flavour_is_refused() -> None:
    with pytest.raises(FixConfigError):
        create_app("cloud", Site(Flavour.SERVER))


async def test_self_links_follow_the_base_url() -> None:
    app = create_app("server", seed="demo", base_url="https://jira.example.com/")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://x", auth=AUTH["server"]
    ) as client:
        info = (await client.get("/rest/api/2/serverInfo")).json()
        issue = (await client.get("/rest/api/2/issue/DEMO-1")).json()
    assert info["baseUrl"] == "https://jira.example.com"
    assert issue["self"].startswith("https://jira.example.com/rest/api/2/issue/")
