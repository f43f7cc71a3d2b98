"""Every Cloud answer these tests exercise validates against Atlassian's OpenAPI spec."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from jirabridge.emulator import create_app
from tests.support.openapi import assert_matches_spec, response_schema_pointer
from tests.unit.emulator_http.sites import AUTH, adf, small_site


@pytest.fixture
async def cloud() -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    app = create_app("cloud", small_site("cloud"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=app.base_url, auth=AUTH["cloud"]
    ) as client:
        yield client, app


async def call(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    response = await client.request(method, path, **kwargs)
    body = response.json() if response.content else None
    spec = "software" if path.startswith("/rest/agile/") else "platform"
    bare = path.split("?")[0]
    pointer, _ = response_schema_pointer(method, bare, response.status_code, spec=spec)
    if pointer is None and response.status_code < 400:
        return response  # the spec documents no body for this answer: nothing to check
    if bare.endswith("/remotelink") and method == "GET":
        # The spec documents one RemoteIssueLink; Jira answers a list of them.
        assert isinstance(body, list)
        for item in body:
            assert_matches_spec(method, bare + "/1", response.status_code, item, spec=spec)
        return response
    assert_matches_spec(method, bare, response.status_code, body, spec=spec)
    return response


async def test_platform_reads(cloud) -> None:
    client, app = cloud
    alice = app.site.find_user("alice@example.org")
    paths = [
        "/rest/api/3/serverInfo",
        "/rest/api/3/myself",
        f"/rest/api/3/user?accountId={alice.key}",
        "/rest/api/3/user/search?query=al",
        f"/rest/api/3/user/bulk?accountId={alice.key}",
        "/rest/api/3/user/assignable/search?project=DEMO",
        "/rest/api/3/group/member?groupname=devs",
        "/rest/api/3/groups/picker?query=dev",
        "/rest/api/3/project",
        "/rest/api/3/project/search",
        "/rest/api/3/project/DEMO",
        "/rest/api/3/project/DEMO/components",
        "/rest/api/3/project/DEMO/versions",
        "/rest/api/3/project/DEMO/statuses",
        "/rest/api/3/issuetype",
        "/rest/api/3/issuetype/10001",
        "/rest/api/3/priority",
        "/rest/api/3/priority/3",
        "/rest/api/3/status",
        "/rest/api/3/statuscategory",
        "/rest/api/3/resolution",
        "/rest/api/3/field",
        "/rest/api/3/issueLinkType",
        "/rest/api/3/issue/createmeta/DEMO/issuetypes",
        "/rest/api/3/issue/createmeta/DEMO/issuetypes/10001",
        "/rest/api/3/issue/DEMO-1/editmeta",
        "/rest/api/3/issue/DEMO-1?expand=changelog,names,schema,renderedFields",
        "/rest/api/3/issue/DEMO-1/transitions?expand=transitions.fields",
        "/rest/api/3/issue/DEMO-1/comment",
        "/rest/api/3/issue/DEMO-1/changelog",
        "/rest/api/3/issue/DEMO-1/worklog",
        "/rest/api/3/issue/DEMO-1/remotelink",
        "/rest/api/3/issue/DEMO-1/properties",
        "/rest/api/3/issue/DEMO-1/watchers",
        "/rest/api/3/attachment/meta",
        "/rest/api/3/issue/picker?query=task",
        "/rest/api/3/search/jql?jql=project%20%3D%20DEMO&fields=summary,status,assignee",
        "/rest/api/3/search/jql?jql=project%20%3D%20DEMO",
    ]
    for path in paths:
        response = await call(client, "GET", path)
        assert response.status_code == 200, (path, response.text)


async def test_platform_writes(cloud) -> None:
    client, app = cloud
    created = await call(
        client,
        "POST",
        "/rest/api/3/issue",
        json={
            "fields": {
                "project": {"key": "DEMO"},
                "issuetype": {"name": "Task"},
                "summary": "spec",
                "description": adf("d"),
            }
        },
    )
    assert created.status_code == 201
    key = created.json()["key"]
    bulk = await call(
        client,
        "POST",
        "/rest/api/3/issue/bulk",
        json={
            "issueUpdates": [
                {
                    "fields": {
                        "project": {"key": "DEMO"},
                        "issuetype": {"name": "Task"},
                        "summary": "b",
                    }
                },
                {"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}}},
            ]
        },
    )
    assert bulk.status_code == 201
    comment = await call(
        client, "POST", f"/rest/api/3/issue/{key}/comment", json={"body": adf("c")}
    )
    assert comment.status_code == 201
    cid = comment.json()["id"]
    await call(client, "GET", f"/rest/api/3/issue/{key}/comment/{cid}")
    await call(client, "PUT", f"/rest/api/3/issue/{key}/comment/{cid}", json={"body": adf("c2")})
    worklog = await call(
        client, "POST", f"/rest/api/3/issue/{key}/worklog", json={"timeSpent": "2h"}
    )
    assert worklog.status_code == 201
    attach = await call(
        client,
        "POST",
        f"/rest/api/3/issue/{key}/attachments",
        files={"file": ("a.txt", b"abc", "text/plain")},
        headers={"X-Atlassian-Token": "no-check"},
    )
    assert attach.status_code == 200
    await call(client, "GET", f"/rest/api/3/attachment/{attach.json()[0]['id']}")
    remote = await call(
        client,
        "POST",
        f"/rest/api/3/issue/{key}/remotelink",
        json={"object": {"url": "https://example.org", "title": "x"}},
    )
    assert remote.status_code == 201
    component = await call(
        client, "POST", "/rest/api/3/component", json={"project": "DEMO", "name": "UI"}
    )
    assert component.status_code == 201
    version = await call(
        client, "POST", "/rest/api/3/version", json={"project": "DEMO", "name": "9"}
    )
    assert version.status_code == 201
    count = await call(
        client, "POST", "/rest/api/3/search/approximate-count", json={"jql": "project = DEMO"}
    )
    assert count.status_code == 200
    fetch = await call(
        client, "POST", "/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": [key, "DEMO-1"]}
    )
    assert fetch.status_code == 200
    page = await call(
        client,
        "POST",
        "/rest/api/3/search/jql",
        json={"jql": "project = DEMO", "maxResults": 2, "fields": ["*all"]},
    )
    assert page.status_code == 200


async def test_error_answers_match_spec(cloud) -> None:
    client, _ = cloud
    for method, path, kwargs in [
        ("GET", "/rest/api/3/issue/NOPE-1", {}),
        ("POST", "/rest/api/3/issue", {"json": {"fields": {"project": {"key": "DEMO"}}}}),
        ("GET", "/rest/api/3/search/jql?jql=project%20%3D%3D", {}),
        ("PUT", "/rest/api/3/issue/DEMO-1", {"json": {"fields": {"description": "plain"}}}),
    ]:
        response = await call(client, method, path, **kwargs)
        assert response.status_code >= 400


async def test_agile_answers_match_spec(cloud) -> None:
    client, _ = cloud
    boards = await call(client, "GET", "/rest/agile/1.0/board")
    board_id = boards.json()["values"][0]["id"]
    for path in [
        f"/rest/agile/1.0/board/{board_id}",
        f"/rest/agile/1.0/board/{board_id}/configuration",
        f"/rest/agile/1.0/board/{board_id}/sprint",
        f"/rest/agile/1.0/board/{board_id}/issue",
        f"/rest/agile/1.0/board/{board_id}/backlog",
        f"/rest/agile/1.0/board/{board_id}/epic",
    ]:
        response = await call(client, "GET", path)
        assert response.status_code == 200, (path, response.text)
    sprint = await call(
        client, "POST", "/rest/agile/1.0/sprint", json={"name": "S9", "originBoardId": board_id}
    )
    assert sprint.status_code == 201
    sid = sprint.json()["id"]
    await call(client, "GET", f"/rest/agile/1.0/sprint/{sid}")
    await call(client, "POST", f"/rest/agile/1.0/sprint/{sid}", json={"goal": "ship"})
    await call(client, "GET", f"/rest/agile/1.0/sprint/{sid}/issue")
