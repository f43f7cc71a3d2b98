"""Users, projects, metadata and agile routes."""

from __future__ import annotations

import json

import httpx


async def test_users_by_flavour(client: httpx.AsyncClient, app, flavour: str, api: str) -> None:
    carol = app.site.find_user("carol") or app.site.find_user("carol@example.org")
    if flavour == "cloud":
        got = (await client.get(f"{api}/user", params={"accountId": carol.key})).json()
        assert got["accountId"] == carol.key and "emailAddress" not in got
        assert "name" not in got and "key" not in got
        gdpr = await client.get(f"{api}/user", params={"username": "carol"})
        assert gdpr.status_code == 400
        found = (await client.get(f"{api}/user/search", params={"query": "car"})).json()
        bulk = (await client.get(f"{api}/user/bulk", params={"accountId": carol.key})).json()
        assert bulk["values"][0]["accountId"] == carol.key
    else:
        got = (await client.get(f"{api}/user", params={"username": "carol"})).json()
        assert got["name"] == "carol" and got["emailAddress"] == "carol@example.org"
        found = (await client.get(f"{api}/user/search", params={"username": "car"})).json()
    assert [u["displayName"] for u in found] == ["Carol Cole"]


async def test_groups(client: httpx.AsyncClient, api: str) -> None:
    members = (await client.get(f"{api}/group/member", params={"groupname": "devs"})).json()
    assert [m["displayName"] for m in members["values"]] == ["Alice Able"]
    assert (
        await client.get(f"{api}/group/member", params={"groupname": "nope"})
    ).status_code == 404


async def test_project_with_components_and_versions(client: httpx.AsyncClient, api: str) -> None:
    project = (await client.get(f"{api}/project/DEMO")).json()
    assert [c["name"] for c in project["components"]] == ["Backend"]
    assert [v["name"] for v in project["versions"]] == ["1.0"]
    comp = await client.post(f"{api}/component", json={"project": "DEMO", "name": "Frontend"})
    assert comp.status_code == 201
    ver = await client.post(
        f"{api}/version", json={"project": "DEMO", "name": "2.0", "releaseDate": "2026-12-01"}
    )
    assert ver.status_code == 201 and ver.json()["releaseDate"] == "2026-12-01"
    dup = await client.post(f"{api}/version", json={"project": "DEMO", "name": "2.0"})
    assert dup.status_code == 400
    assert [c["name"] for c in (await client.get(f"{api}/project/DEMO/components")).json()] == [
        "Backend",
        "Frontend",
    ]


async def test_reference_lists(client: httpx.AsyncClient, api: str) -> None:
    priorities = (await client.get(f"{api}/priority")).json()
    assert [p["id"] for p in priorities][:5] == ["1", "2", "3", "4", "5"]
    assert (await client.get(f"{api}/status")).json()
    assert (await client.get(f"{api}/resolution")).json()
    types = (await client.get(f"{api}/issuetype")).json()
    assert any(t["subtask"] for t in types)
    fields = (await client.get(f"{api}/field")).json()
    assert any(f["id"] == "summary" for f in fields)
    assert any(f["custom"] and f["schema"]["custom"].endswith("gh-sprint") for f in fields)
    link_types = (await client.get(f"{api}/issueLinkType")).json()["issueLinkTypes"]
    assert any(t["name"] == "Blocks" for t in link_types)


async def test_createmeta_shapes(
    client: httpx.AsyncClient, api: str, flavour: str, shared_dir
) -> None:
    legacy = (
        await client.get(
            f"{api}/issue/createmeta",
            params={"projectKeys": "DEMO", "expand": "projects.issuetypes.fields"},
        )
    ).json()
    fixture = json.loads(
        (
            shared_dir
            / "fixtures"
            / "createmeta"
            / f"{flavour}-get-create-issue-metadata-for-project.json"
        ).read_text()
    )
    ours_project = legacy["projects"][0]
    theirs_project = fixture["projects"][0]
    assert set(theirs_project) <= set(ours_project) | {"avatarUrls"}
    ours_type = ours_project["issuetypes"][0]
    theirs_type = theirs_project["issuetypes"][0]
    assert set(theirs_type) - {"iconurl"} <= set(ours_type)
    for fid in (
        "summary",
        "issuetype",
        "priority",
        "labels",
        "assignee",
        "reporter",
        "description",
    ):
        theirs = theirs_type["fields"].get(fid)
        ours = ours_type["fields"].get(fid)
        if theirs is None:
            continue
        assert ours is not None, fid
        assert set(theirs) == set(ours), (fid, set(theirs) ^ set(ours))
        assert theirs["schema"] == ours["schema"], fid
        assert theirs["operations"] == ours["operations"], fid
    paged = (await client.get(f"{api}/issue/createmeta/DEMO/issuetypes")).json()
    type_id = (paged["issueTypes"] if flavour == "cloud" else paged["values"])[0]["id"]
    fields = (await client.get(f"{api}/issue/createmeta/DEMO/issuetypes/{type_id}")).json()
    entries = fields["fields"] if flavour == "cloud" else fields["values"]
    assert all("fieldId" in e for e in entries)
    editmeta = (await client.get(f"{api}/issue/DEMO-1/editmeta")).json()
    assert "summary" in editmeta["fields"] and "project" not in editmeta["fields"]


async def test_agile(client: httpx.AsyncClient, app) -> None:
    boards = (await client.get("/rest/agile/1.0/board")).json()
    board = boards["values"][0]
    assert board["location"]["projectKey"] == "DEMO"
    config = (await client.get(f"/rest/agile/1.0/board/{board['id']}/configuration")).json()
    assert config["columnConfig"]["columns"]
    sprints = (await client.get(f"/rest/agile/1.0/board/{board['id']}/sprint")).json()["values"]
    sprint_id = sprints[0]["id"]
    moved = await client.post(
        f"/rest/agile/1.0/sprint/{sprint_id}/issue", json={"issues": ["DEMO-1"]}
    )
    assert moved.status_code == 204, moved.text
    in_sprint = (await client.get(f"/rest/agile/1.0/sprint/{sprint_id}/issue")).json()
    assert [i["key"] for i in in_sprint["issues"]] == ["DEMO-1"]
    too_many = await client.post(
        f"/rest/agile/1.0/sprint/{sprint_id}/issue", json={"issues": ["DEMO-1"] * 51}
    )
    assert too_many.status_code == 400
    started = await client.post(
        f"/rest/agile/1.0/sprint/{sprint_id}",
        json={
            "state": "active",
            "startDate": "2026-11-01T00:00:00.000Z",
            "endDate": "2026-11-15T00:00:00.000Z",
        },
    )
    assert started.status_code == 200 and started.json()["state"] == "active"
    created = await client.post(
        "/rest/agile/1.0/sprint", json={"name": "Sprint 2", "originBoardId": board["id"]}
    )
    assert created.status_code == 201
    back = await client.post("/rest/agile/1.0/backlog/issue", json={"issues": ["DEMO-1"]})
    assert back.status_code == 204
    epic_key = next(
        i.key for i in app.site.issues.values() if i.fields.get("summary") == "Big epic"
    )
    assert (
        await client.post(f"/rest/agile/1.0/epic/{epic_key}/issue", json={"issues": ["DEMO-2"]})
    ).status_code == 204
    epic_issues = (await client.get(f"/rest/agile/1.0/epic/{epic_key}/issue")).json()
    assert [i["key"] for i in epic_issues["issues"]] == ["DEMO-2"]
    assert (await client.get(f"/rest/agile/1.0/epic/{epic_key}")).json()["key"] == epic_key
    ranked = await client.put(
        "/rest/agile/1.0/issue/rank", json={"issues": ["DEMO-2"], "rankBeforeIssue": "DEMO-1"}
    )
    assert ranked.status_code == 204
    assert app.site.get_issue("DEMO-2").rank < app.site.get_issue("DEMO-1").rank
    on_board = (await client.get(f"/rest/agile/1.0/board/{board['id']}/issue")).json()["issues"]
    keys = [i["key"] for i in on_board]
    assert keys.index("DEMO-2") < keys.index("DEMO-1")


async def test_hidden_email_is_shown_to_its_owner(app, flavour: str, api: str) -> None:
    carol = app.site.find_user("carol") or app.site.find_user("carol@example.org")
    if flavour == "server":
        login = ("carol", "pw")
    else:
        login = ("carol@example.org", app.site.create_api_token(carol.key))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=app.base_url, auth=login
    ) as c:
        me = (await c.get(f"{api}/myself")).json()
    assert me["emailAddress"] == "carol@example.org"


async def test_project_roles(client: httpx.AsyncClient, api: str, flavour: str) -> None:
    roles = (await client.get(f"{api}/project/DEMO/role")).json()
    assert set(roles) == {"Administrators", "Developers", "Users"}
    admins = (await client.get(roles["Administrators"].split("8080", 1)[1])).json()
    assert admins["name"] == "Administrators"
    kinds = {a["type"] for a in admins["actors"]}
    assert kinds == {"atlassian-user-role-actor", "atlassian-group-role-actor"}
    assert (await client.get(f"{api}/project/DEMO/role/1")).status_code == 404


async def test_links_in_answers_lead_somewhere(client: httpx.AsyncClient, api: str, app) -> None:
    issue = (await client.get(f"{api}/issue/DEMO-1")).json()["fields"]
    for link in (
        issue["votes"]["self"],
        issue["watches"]["self"],
        issue["status"]["statusCategory"]["self"],
        issue["priority"]["self"],
        issue["issuetype"]["self"],
        issue["project"]["self"],
        issue["project"]["avatarUrls"]["48x48"],
        issue["reporter"]["avatarUrls"]["16x16"],
        issue["issuetype"]["iconUrl"],
        issue["priority"]["iconUrl"],
    ):
        response = await client.get(link.removeprefix(app.base_url))
        assert response.status_code == 200, link
    board = (await client.get("/rest/agile/1.0/board")).json()["values"][0]
    config = (await client.get(f"/rest/agile/1.0/board/{board['id']}/configuration")).json()
    found = (await client.get(config["filter"]["self"].removeprefix(app.base_url))).json()
    assert found["jql"].startswith("project = DEMO")


async def test_votes(app, flavour: str, api: str) -> None:
    login = ("bob", "pw") if flavour == "server" else None
    if login is None:
        bob = app.site.find_user("bob@example.org")
        login = ("bob@example.org", app.site.create_api_token(bob.key))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=app.base_url, auth=login
    ) as c:
        assert (await c.post(f"{api}/issue/DEMO-1/votes")).status_code == 204
        votes = (await c.get(f"{api}/issue/DEMO-1/votes")).json()
        assert votes["votes"] == 1 and votes["hasVoted"] is True
        assert (await c.delete(f"{api}/issue/DEMO-1/votes")).status_code == 204
        assert (await c.get(f"{api}/issue/DEMO-1/votes")).json()["votes"] == 0


async def test_group_bulk(client: httpx.AsyncClient, api: str, flavour: str) -> None:
    bulk = await client.get(f"{api}/group/bulk", params={"maxResults": 2})
    if flavour == "server":
        assert bulk.status_code == 404
        return
    page = bulk.json()
    assert len(page["values"]) == 2 and page["isLast"] is False and "nextPage" in page
    named = (await client.get(f"{api}/group/bulk", params={"groupName": "devs"})).json()
    assert [g["name"] for g in named["values"]] == ["devs"]


async def test_myself_with_groups(client: httpx.AsyncClient, api: str, flavour: str) -> None:
    plain = (await client.get(f"{api}/myself")).json()
    assert plain["groups"]["items"] == [] and plain["groups"]["size"] >= 2
    expanded = (await client.get(f"{api}/myself", params={"expand": "groups"})).json()
    names = {g["name"] for g in expanded["groups"]["items"]}
    admin_group = "site-admins" if flavour == "cloud" else "jira-administrators"
    assert admin_group in names
    assert len(names) == plain["groups"]["size"]
