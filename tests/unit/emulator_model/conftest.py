from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from jirabridge.emulator.model import Clock, DomainEvent, Flavour, Site

FROZEN = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def rich(site: Site, text: str) -> Any:
    """``text`` in the site's native rich-text form."""
    if site.flavour is Flavour.SERVER:
        return text
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


@pytest.fixture(params=[Flavour.SERVER, Flavour.CLOUD], ids=["server", "cloud"])
def site(request: pytest.FixtureRequest) -> Site:
    s = Site(request.param, seed=7, clock=Clock(FROZEN))
    admin = s.admin_key
    s.create_project("CLS", "Classic", admin, workflow="classic")
    s.create_project("SMP", "Simple", admin, workflow="simplified")
    s.create_component("CLS", "Backend")
    s.create_component("CLS", "Frontend")
    s.create_version("CLS", "1.0")
    s.create_version("CLS", "2.0")
    if s.flavour is Flavour.SERVER:
        s.create_user("Bob Builder", name="bob", email="bob@jirabridge.test", password="pw")
        s.create_user("Ina Active", name="ina", email="ina@jirabridge.test", active=False)
    else:
        s.create_user("Bob Builder", email="bob@jirabridge.test", api_token="tok")
        s.create_user("Ina Active", email="ina@jirabridge.test", active=False)
    return s


@pytest.fixture
def events(site: Site) -> list[DomainEvent]:
    got: list[DomainEvent] = []
    site.subscribe(got.append)
    return got


def bug(site: Site, summary: str = "A bug", project: str = "CLS", **fields: Any) -> Any:
    return site.create_issue(
        site.admin_key,
        {"project": {"key": project}, "issuetype": {"name": "Bug"}, "summary": summary, **fields},
    )
