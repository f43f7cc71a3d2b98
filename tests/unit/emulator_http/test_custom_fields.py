"""Custom fields of every supported type go in with Jira's input forms and come out in Jira's
output forms, on every API version."""

from __future__ import annotations

import httpx

from jirabridge.emulator import create_app
from tests.unit.emulator_http.sites import AUTH, adf, small_site


async def test_custom_field_round_trip(flavour: str) -> None:
    site = small_site(flavour)
    f = {
        short: site.create_custom_field(f"My {short}", short, options=options).id
        for short, options in [
            ("textfield", []),
            ("textarea", []),
            ("float", []),
            ("datepicker", []),
            ("datetime", []),
            ("select", ["red", "green"]),
            ("multiselect", ["a", "b", "c"]),
            ("userpicker", []),
            ("labels", []),
            ("url", []),
        ]
    }
    app = create_app(flavour, site)
    cloud = flavour == "cloud"
    api = "/rest/api/3" if cloud else "/rest/api/2"
    alice = site.find_user("alice") or site.find_user("alice@example.org")
    fields = {
        "project": {"key": "DEMO"},
        "issuetype": {"name": "Task"},
        "summary": "custom",
        f["textfield"]: "short text",
        f["textarea"]: adf("long text") if cloud else "long text",
        f["float"]: 2.5,
        f["datepicker"]: "2026-01-31",
        f["datetime"]: "2026-01-31T10:00:00.000+0000",
        f["select"]: {"value": "green"},
        f["multiselect"]: [{"value": "a"}, {"value": "c"}],
        f["userpicker"]: {"accountId": alice.key} if cloud else {"name": "alice"},
        f["labels"]: ["x", "y"],
        f["url"]: "https://example.org",
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=app.base_url, auth=AUTH[flavour]
    ) as client:
        created = await client.post(f"{api}/issue", json={"fields": fields})
        assert created.status_code == 201, created.text
        key = created.json()["key"]
        got = (await client.get(f"{api}/issue/{key}")).json()["fields"]
        v2 = (await client.get(f"/rest/api/2/issue/{key}")).json()["fields"]
        bad = await client.put(
            f"{api}/issue/{key}", json={"fields": {f["select"]: {"value": "blue"}}}
        )
    assert got[f["textfield"]] == "short text"
    assert got[f["textarea"]] == (adf("long text") if cloud else "long text")
    assert v2[f["textarea"]] == "long text"
    assert got[f["float"]] == 2.5
    assert got[f["datepicker"]] == "2026-01-31"
    assert got[f["datetime"]] == "2026-01-31T10:00:00.000+0000"
    assert got[f["select"]]["value"] == "green"
    assert [o["value"] for o in got[f["multiselect"]]] == ["a", "c"]
    assert got[f["userpicker"]]["displayName"] == "Alice Able"
    assert sorted(got[f["labels"]]) == ["x", "y"]
    assert got[f["url"]] == "https://example.org"
    assert bad.status_code == 400
    assert f["select"] in bad.json()["errors"]
