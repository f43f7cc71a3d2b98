"""Create metadata has the structure of Jira's real answers (the createmeta fixtures): every
system field and every custom field type the fixtures show, field by field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from jirabridge.emulator import create_app
from tests.unit.emulator_http.sites import AUTH, small_site

SUPPORTED = {
    "textfield",
    "textarea",
    "url",
    "float",
    "datepicker",
    "datetime",
    "select",
    "radiobuttons",
    "multiselect",
    "multicheckboxes",
    "cascadingselect",
    "userpicker",
    "multiuserpicker",
    "labels",
}
OPTION_TYPES = {"select", "radiobuttons", "multiselect", "multicheckboxes", "cascadingselect"}
FIXTURES = [
    "server-get-create-issue-metadata-for-project.json",
    "server-get-create-issue-metadata-for-project-many-fields.json",
    "cloud-get-create-issue-metadata-for-project.json",
    "cloud-get-create-issue-metadata-for-project-many-fields.json",
]


def _fixture_fields(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for project in data["projects"]:
        for itype in project["issuetypes"]:
            for fid, meta in itype["fields"].items():
                out.setdefault(fid, meta)
    return out


@pytest.mark.parametrize("fixture", FIXTURES)
async def test_createmeta_fields_match_fixture(shared_dir: Path, fixture: str) -> None:
    flavour = fixture.split("-", 1)[0]
    theirs = _fixture_fields(
        json.loads((shared_dir / "fixtures" / "createmeta" / fixture).read_text())
    )
    site = small_site(flavour)
    by_custom: dict[str, str] = {}  # our field id -> fixture field id
    for fid, meta in theirs.items():
        custom = meta["schema"].get("custom", "")
        short = custom.rsplit(":", 1)[-1]
        if not custom.startswith("com.atlassian.jira.plugin.system.customfieldtypes:"):
            continue
        if short not in SUPPORTED or short in by_custom.values():
            continue
        options = ["one", "two"] if short in OPTION_TYPES and meta.get("allowedValues") else []
        fd = site.create_custom_field(meta["name"], short, options=options)
        by_custom[fd.id] = fid
    app = create_app(flavour, site)
    api = "/rest/api/3" if flavour == "cloud" else "/rest/api/2"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=app.base_url, auth=AUTH[flavour]
    ) as client:
        answer = (
            await client.get(
                f"{api}/issue/createmeta",
                params={
                    "projectKeys": "DEMO",
                    "issuetypeNames": "Task",
                    "expand": "projects.issuetypes.fields",
                },
            )
        ).json()
    ours = answer["projects"][0]["issuetypes"][0]["fields"]
    compared = 0
    problems = []
    for fid, meta in ours.items():
        other = by_custom.get(fid, fid)
        if other not in theirs:
            continue
        expected = theirs[other]
        # allowedValues/defaultValue/autoCompleteUrl follow data (options, defaults) the
        # fixture's site had; compare them only when both sides have data
        optional = {"defaultValue"}
        if not expected.get("allowedValues") and not meta.get("allowedValues"):
            optional.add("allowedValues")
        if set(expected) - optional != set(meta) - optional:
            problems.append((fid, sorted(set(expected) ^ set(meta))))
        schema_theirs = {k: v for k, v in expected["schema"].items() if k != "customId"}
        schema_ours = {k: v for k, v in meta["schema"].items() if k != "customId"}
        if schema_theirs != schema_ours:
            problems.append((fid, schema_ours, schema_theirs))
        if sorted(expected["operations"]) != sorted(meta["operations"]):
            problems.append((fid, meta["operations"], expected["operations"]))
        compared += 1
    assert problems == [], "\n".join(map(str, problems))
    assert compared >= 8
