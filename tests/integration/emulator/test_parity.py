"""The same demo content reads the same through both faces, each in its own identity scheme."""

from __future__ import annotations

import re
from typing import Any

import httpx

from jirabridge.emulator import create_app
from tests.unit.emulator_http.sites import AUTH

MENTION = re.compile(r"\[~(accountid:)?([^\]]+)\]")


async def _read(flavour: str) -> tuple[list[dict[str, Any]], Any]:
    app = create_app(flavour, seed="demo")
    out = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=app.base_url, auth=AUTH[flavour]
    ) as client:
        for key in sorted(
            app.site.issues_by_key, key=lambda k: (k.split("-")[0], int(k.split("-")[1]))
        )[:60]:
            fields = (
                await client.get(
                    f"/rest/api/2/issue/{key}",
                    params={
                        "fields": "summary,description,status,assignee,reporter,comment,labels"
                    },
                )
            ).json()["fields"]
            fields["key"] = key
            out.append(fields)
    return out, app.site


def _people(text: str | None, site: Any) -> str | None:
    """Mentions -> display names, so ``[~jsmith]`` and ``[~accountid:...]`` compare equal."""
    if text is None:
        return None

    def name(match: re.Match[str]) -> str:
        user = site.find_user(match.group(2))
        return f"@{user.display_name}" if user is not None else match.group(0)

    return MENTION.sub(name, text)


async def test_server_and_cloud_present_the_same_content() -> None:
    server, server_site = await _read("server")
    cloud, cloud_site = await _read("cloud")
    assert [i["key"] for i in server] == [i["key"] for i in cloud]
    for s, c in zip(server, cloud, strict=True):
        assert s["summary"] == c["summary"], s["key"]
        assert s["status"]["name"] == c["status"]["name"], s["key"]
        assert sorted(s["labels"]) == sorted(c["labels"]), s["key"]
        assert _people(s["description"], server_site) == _people(c["description"], cloud_site), s[
            "key"
        ]
        for role in ("assignee", "reporter"):
            assert (s[role] or {}).get("displayName") == (c[role] or {}).get("displayName"), s[
                "key"
            ]
            if c[role]:
                assert "accountId" in c[role] and "name" not in c[role]
            if s[role]:
                assert "name" in s[role] and "accountId" not in s[role]
        s_bodies = [_people(x["body"], server_site) for x in s["comment"]["comments"]]
        c_bodies = [_people(x["body"], cloud_site) for x in c["comment"]["comments"]]
        assert s_bodies == c_bodies, s["key"]
