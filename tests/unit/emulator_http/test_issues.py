"""Issue life cycle over HTTP on both flavours and API versions."""

from __future__ import annotations

import httpx
import pytest

from tests.unit.emulator_http.sites import adf


def _text(api: str, value: str):
    return adf(value) if api.endswith("/3") else value


async def test_create_get_edit_delete(
    client: httpx.AsyncClient, api: str, app, flavour: str
) -> None:
    created = await client.post(
        f"{api}/issue",
        json={
            "fields": {
                "project": {"key": "DEMO"},
                "issuetype": {"name": "Task"},
                "summary": "Made over HTTP",
                "description": _text(api, "Body text"),
                "labels": ["x"],
            }
        },
    )
    assert created.status_code == 201, created.text
    ref = created.json()
    assert set(ref) == {"id", "key", "self"}
    assert ref["self"] == f"{app.base_url}{api}/issue/{ref['id']}"
    got = (await client.get(f"{api}/issue/{ref['key']}")).json()
    fields = got["fields"]
    assert fields["summary"] == "Made over HTTP"
    assert fields["description"] == _text(api, "Body text")
    assert fields["labels"] == ["x"]
    assert fields["status"]["statusCategory"]["key"] == "new"
    assert fields["created"].endswith("+0000") and len(fields["created"]) == 28
    reporter = fields["reporter"]
    if flavour == "cloud":
        assert "accountId" in reporter and "name" not in reporter and "key" not in reporter
    else:
        assert reporter["name"] == "admin" and reporter["key"] == "admin"
    edited = await client.put(
        f"{api}/issue/{ref['key']}",
        params={"notifyUsers": "false"},
        json={"fields": {"summary": "Renamed"}, "update": {"labels": [{"add": "y"}]}},
    )
    assert edited.status_code == 204, edited.text
    issue = app.site.get_issue(ref["key"])
    assert issue.fields["summary"] == "Renamed"
    assert sorted(issue.fields["labels"]) == ["x", "y"]
    with_log = (
        await client.get(f"{api}/issue/{ref['key']}", params={"expand": "changelog"})
    ).json()
    items = [i for h in with_log["changelog"]["histories"] for i in h["items"]]
    assert {
        "field": "summary",
        "fromString": "Made over HTTP",
        "toString": "Renamed",
    }.items() <= next(i for i in items if i["field"] == "summary").items()
    assert (await client.delete(f"{api}/issue/{ref['key']}")).status_code == 204
    assert (await client.get(f"{api}/issue/{ref['key']}")).status_code == 404


async def test_field_selection_and_expand(client: httpx.AsyncClient, api: str) -> None:
    got = (
        await client.get(
            f"{api}/issue/DEMO-1",
            params={
                "fields": "summary,status",
                "expand": "names,schema,renderedFields,transitions",
            },
        )
    ).json()
    assert set(got["fields"]) == {"summary", "status"}
    assert got["names"]["summary"] == "Summary"
    assert got["schema"]["status"]["type"] == "status"
    assert [t["name"] for t in got["transitions"]]
    assert all("to" in t for t in got["transitions"])
    minus = (await client.get(f"{api}/issue/DEMO-1", params={"fields": "*all,-comment"})).json()
    assert "comment" not in minus["fields"] and "summary" in minus["fields"]


async def test_v2_and_v3_on_cloud_differ_only_in_rich_text(
    client: httpx.AsyncClient, flavour: str
) -> None:
    if flavour == "server":
        assert (await client.get("/rest/api/3/issue/DEMO-1")).status_code == 404
        return
    v2 = (await client.get("/rest/api/2/issue/DEMO-1")).json()["fields"]
    v3 = (await client.get("/rest/api/3/issue/DEMO-1")).json()["fields"]
    assert v2["description"] == "The first description"
    assert v3["description"]["type"] == "doc"
    assert v2["summary"] == v3["summary"]


async def test_transitions_and_resolution(client: httpx.AsyncClient, api: str, app) -> None:
    listed = (
        await client.get(f"{api}/issue/CLS-1/transitions", params={"expand": "transitions.fields"})
    ).json()
    names = {t["name"]: t for t in listed["transitions"]}
    resolve = next(t for t in listed["transitions"] if "resolution" in t.get("fields", {}))
    done = await client.post(
        f"{api}/issue/CLS-1/transitions",
        json={"transition": {"id": resolve["id"]}, "fields": {"resolution": {"name": "Done"}}},
    )
    assert done.status_code == 204, done.text
    issue = (await client.get(f"{api}/issue/CLS-1")).json()["fields"]
    if app.site.flavour.value == "cloud":
        history = app.site.changelog[app.site.get_issue("CLS-1").id][-1]
        assert issue["statuscategorychangedate"] == history.created.strftime(
            "%Y-%m-%dT%H:%M:%S."
        ) + (f"{history.created.microsecond // 1000:03d}+0000")
    else:
        assert "statuscategorychangedate" not in issue
    assert issue["resolution"]["name"] == "Done"
    assert issue["resolutiondate"] is not None
    assert issue["status"]["id"] == resolve["to"]["id"]
    assert names


async def test_assign(client: httpx.AsyncClient, api: str, app, flavour: str) -> None:
    bob = app.site.find_user("bob") or app.site.find_user("bob@example.org")
    body = {"accountId": bob.key} if flavour == "cloud" else {"name": "bob"}
    assert (await client.put(f"{api}/issue/DEMO-1/assignee", json=body)).status_code == 204
    assert app.site.get_issue("DEMO-1").fields["assignee"] == bob.key
    unassign = {"accountId": None} if flavour == "cloud" else {"name": None}
    assert (await client.put(f"{api}/issue/DEMO-1/assignee", json=unassign)).status_code == 204
    assert "assignee" not in app.site.get_issue("DEMO-1").fields


async def test_comments(client: httpx.AsyncClient, api: str, app) -> None:
    listed = (await client.get(f"{api}/issue/DEMO-1/comment")).json()
    # admin is not in "devs": the restricted comment is hidden
    assert listed["total"] == 1
    added = await client.post(
        f"{api}/issue/DEMO-1/comment",
        json={"body": _text(api, "new one"), "visibility": {"type": "group", "value": "devs"}},
    )
    assert added.status_code == 201, added.text
    comment = added.json()
    assert comment["visibility"]["value"] == "devs"
    assert comment["body"] == _text(api, "new one")
    cid = comment["id"]
    changed = await client.put(
        f"{api}/issue/DEMO-1/comment/{cid}", json={"body": _text(api, "edited")}
    )
    assert changed.status_code == 200 and changed.json()["body"] == _text(api, "edited")
    paged = (
        await client.get(f"{api}/issue/DEMO-1/comment", params={"startAt": 0, "maxResults": 1})
    ).json()
    assert paged["maxResults"] == 1 and len(paged["comments"]) == 1
    assert (await client.delete(f"{api}/issue/DEMO-1/comment/{cid}")).status_code == 204
    assert int(cid) not in app.site.comments


async def test_bulk_create_reports_failed_elements(
    client: httpx.AsyncClient, api: str, app
) -> None:
    good = {"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}, "summary": "ok"}}
    bad = {"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}}}
    response = await client.post(f"{api}/issue/bulk", json={"issueUpdates": [good, bad, good]})
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["issues"]) == 2
    assert [e["failedElementNumber"] for e in body["errors"]] == [1]
    assert "summary" in body["errors"][0]["elementErrors"]["errors"]


async def test_changelog_paged(client: httpx.AsyncClient, api: str) -> None:
    for n in range(3):
        await client.put(f"{api}/issue/DEMO-2", json={"fields": {"summary": f"s{n}"}})
    page = (await client.get(f"{api}/issue/DEMO-2/changelog", params={"maxResults": 2})).json()
    assert page["total"] >= 3 and len(page["values"]) == 2 and page["isLast"] is False


async def test_bulkfetch(client: httpx.AsyncClient, flavour: str) -> None:
    await client.put("/rest/api/2/issue/DEMO-2", json={"fields": {"summary": "changed"}})
    response = await client.post(
        "/rest/api/3/changelog/bulkfetch",
        json={"issueIdsOrKeys": ["DEMO-2"], "fieldIds": ["summary"], "maxResults": 1},
    )
    if flavour == "server":
        assert response.status_code == 404
        return
    body = response.json()
    assert body["issueChangeLogs"][0]["changeHistories"][0]["items"][0]["fieldId"] == "summary"
    too_many = await client.post(
        "/rest/api/3/changelog/bulkfetch",
        json={"issueIdsOrKeys": ["DEMO-1"], "fieldIds": ["a"] * 11},
    )
    assert too_many.status_code == 400


async def test_links_and_remote_links(client: httpx.AsyncClient, api: str, app) -> None:
    made = await client.post(
        f"{api}/issueLink",
        json={
            "type": {"name": "Blocks"},
            "inwardIssue": {"key": "DEMO-1"},
            "outwardIssue": {"key": "DEMO-2"},
        },
    )
    assert made.status_code == 201, made.text
    links = (await client.get(f"{api}/issue/DEMO-1", params={"fields": "issuelinks"})).json()[
        "fields"
    ]["issuelinks"]
    assert links[0]["outwardIssue"]["key"] == "DEMO-2"
    back = (await client.get(f"{api}/issue/DEMO-2", params={"fields": "issuelinks"})).json()[
        "fields"
    ]["issuelinks"]
    assert back[0]["inwardIssue"]["key"] == "DEMO-1"
    assert (await client.delete(f"{api}/issueLink/{links[0]['id']}")).status_code == 204
    remote = await client.post(
        f"{api}/issue/DEMO-1/remotelink",
        json={"globalId": "g1", "object": {"url": "https://example.org", "title": "Example"}},
    )
    assert remote.status_code == 201
    again = await client.post(
        f"{api}/issue/DEMO-1/remotelink",
        json={"globalId": "g1", "object": {"url": "https://example.org/2", "title": "Example 2"}},
    )
    assert again.status_code == 200
    listed = (await client.get(f"{api}/issue/DEMO-1/remotelink")).json()
    assert [r["object"]["url"] for r in listed] == ["https://example.org/2"]
    one = (await client.get(f"{api}/issue/DEMO-1/remotelink", params={"globalId": "g1"})).json()
    assert one["globalId"] == "g1"
    missing = await client.get(f"{api}/issue/DEMO-1/remotelink", params={"globalId": "nope"})
    assert missing.status_code == 404


async def test_issue_picker(client: httpx.AsyncClient, api: str) -> None:
    picked = (await client.get(f"{api}/issue/picker", params={"query": "bug"})).json()
    assert [i["key"] for i in picked["sections"][0]["issues"]] == ["DEMO-2"]


async def test_properties(client: httpx.AsyncClient, api: str) -> None:
    assert (
        await client.put(f"{api}/issue/DEMO-1/properties/sync", json={"v": 1})
    ).status_code == 201
    assert (
        await client.put(f"{api}/issue/DEMO-1/properties/sync", json={"v": 2})
    ).status_code == 200
    got = (await client.get(f"{api}/issue/DEMO-1/properties/sync")).json()
    assert got == {"key": "sync", "value": {"v": 2}}
    keys = (await client.get(f"{api}/issue/DEMO-1/properties")).json()["keys"]
    assert [k["key"] for k in keys] == ["sync"]
    issue = (await client.get(f"{api}/issue/DEMO-1", params={"properties": "sync"})).json()
    assert issue["properties"] == {"sync": {"v": 2}}
    assert (await client.delete(f"{api}/issue/DEMO-1/properties/sync")).status_code == 204
    assert (await client.get(f"{api}/issue/DEMO-1/properties/sync")).status_code == 404


async def test_attachments(client: httpx.AsyncClient, api: str, app) -> None:
    response = await client.post(
        f"{api}/issue/DEMO-1/attachments",
        files={"file": ("notes.txt", b"hello world", "text/plain")},
        headers={"X-Atlassian-Token": "no-check"},
    )
    assert response.status_code == 200, response.text
    meta = response.json()[0]
    assert meta["filename"] == "notes.txt" and meta["size"] == 11
    content = await client.get(meta["content"].removeprefix(app.base_url))
    assert content.content == b"hello world"
    assert (await client.get(f"{api}/attachment/{meta['id']}")).json()["mimeType"] == "text/plain"
    assert (await client.delete(f"{api}/attachment/{meta['id']}")).status_code == 204


async def test_worklogs(client: httpx.AsyncClient, api: str) -> None:
    added = await client.post(f"{api}/issue/DEMO-1/worklog", json={"timeSpent": "1h 30m"})
    assert added.status_code == 201, added.text
    assert added.json()["timeSpentSeconds"] == 5400
    listed = (await client.get(f"{api}/issue/DEMO-1/worklog")).json()
    assert listed["total"] == 1
    bad = await client.post(f"{api}/issue/DEMO-1/worklog", json={"timeSpent": ["x"]})
    assert bad.status_code == 400


async def test_server_search_paging(client: httpx.AsyncClient, flavour: str) -> None:
    if flavour == "cloud":
        pytest.skip("Server's /search (Cloud answers 410: test_errors)")
    page = (
        await client.get("/rest/api/2/search", params={"jql": "project = DEMO", "maxResults": 1})
    ).json()
    assert page["total"] >= 2 and page["maxResults"] == 1 and len(page["issues"]) == 1
    assert "summary" in page["issues"][0]["fields"]
    posted = (
        await client.post(
            "/rest/api/2/search",
            json={"jql": "project = DEMO", "startAt": 1, "fields": ["summary"]},
        )
    ).json()
    assert posted["startAt"] == 1 and set(posted["issues"][0]["fields"]) == {"summary"}
    named = (
        await client.get(
            "/rest/api/2/search",
            params={"jql": "project = DEMO", "fields": "summary,status", "expand": "names,schema"},
        )
    ).json()
    assert named["names"] == {"status": "Status", "summary": "Summary"}
    assert named["schema"]["status"]["type"] == "status"
    assert "names" not in named["issues"][0]


async def test_cloud_search_tokens(client: httpx.AsyncClient, flavour: str) -> None:
    if flavour == "server":
        pytest.skip("Cloud's /search/jql")
    first = (
        await client.get(
            "/rest/api/3/search/jql", params={"jql": "project = DEMO", "maxResults": 1}
        )
    ).json()
    assert "total" not in first
    assert set(first["issues"][0]) == {"id"}
    assert first["isLast"] is False
    seen = [first["issues"][0]["id"]]
    token = first["nextPageToken"]
    while token:
        page = (
            await client.post(
                "/rest/api/3/search/jql",
                json={
                    "jql": "project = DEMO",
                    "maxResults": 1,
                    "nextPageToken": token,
                    "fields": ["summary"],
                },
            )
        ).json()
        seen.append(page["issues"][0]["id"])
        assert "summary" in page["issues"][0]["fields"]
        token = page.get("nextPageToken")
    count = (
        await client.post("/rest/api/3/search/approximate-count", json={"jql": "project = DEMO"})
    ).json()
    assert count == {"count": len(seen)}
    assert len(set(seen)) == len(seen)
    bad = await client.get(
        "/rest/api/3/search/jql", params={"jql": "project = DEMO", "nextPageToken": "zzz"}
    )
    assert bad.status_code == 400


async def test_cloud_page_tokens_expire_after_seven_days(
    client: httpx.AsyncClient, flavour: str, app
) -> None:
    if flavour == "server":
        pytest.skip("Cloud's /search/jql")
    first = (
        await client.get(
            "/rest/api/3/search/jql", params={"jql": "project = DEMO", "maxResults": 1}
        )
    ).json()
    token = first["nextPageToken"]
    other_query = await client.get(
        "/rest/api/3/search/jql", params={"jql": "project = CLS", "nextPageToken": token}
    )
    assert other_query.status_code == 400
    app.site.clock.freeze()
    app.site.clock.advance(8 * 24 * 3600)
    late = await client.get(
        "/rest/api/3/search/jql", params={"jql": "project = DEMO", "nextPageToken": token}
    )
    assert late.status_code == 400
    assert late.json()["errorMessages"] == ["The provided next page token is invalid or expired."]


async def test_epic_link_on_server_parent_on_cloud(
    client: httpx.AsyncClient, api: str, app, flavour: str
) -> None:
    epic = next(i for i in app.site.issues.values() if i.fields.get("summary") == "Big epic")
    link_field = app.site.agile.epic_link
    if flavour == "server":
        fields = {link_field: epic.key}
    else:
        assert link_field is None
        fields = {"parent": {"key": epic.key}}
    made = await client.post(
        f"{api}/issue",
        json={
            "fields": {
                "project": {"key": "DEMO"},
                "issuetype": {"name": "Story"},
                "summary": "in epic",
                **fields,
            }
        },
    )
    assert made.status_code == 201, made.text
    got = (await client.get(f"{api}/issue/{made.json()['key']}")).json()["fields"]
    if flavour == "server":
        assert got[link_field] == epic.key
        assert "parent" not in got
    else:
        assert got["parent"]["key"] == epic.key
        assert got["parent"]["fields"]["issuetype"]["name"] == "Epic"


async def test_mentions_per_flavour(client: httpx.AsyncClient, app, flavour: str) -> None:
    alice = app.site.find_user("alice") or app.site.find_user("alice@example.org")
    wiki = f"ping [~accountid:{alice.key}]" if flavour == "cloud" else "ping [~alice]"
    made = await client.post("/rest/api/2/issue/DEMO-1/comment", json={"body": wiki})
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    assert (await client.get(f"/rest/api/2/issue/DEMO-1/comment/{cid}")).json()["body"] == wiki
    if flavour == "cloud":
        doc = (await client.get(f"/rest/api/3/issue/DEMO-1/comment/{cid}")).json()["body"]
        mention = doc["content"][0]["content"][1]
        assert mention["type"] == "mention"
        assert mention["attrs"]["id"] == alice.key
        assert mention["attrs"]["text"] == "@Alice Able"
    else:
        assert app.site.comments[int(cid)].body == "ping [~alice]"


async def test_cloud_bulk_reads(client: httpx.AsyncClient, app, flavour: str) -> None:
    fetched = await client.post(
        "/rest/api/3/issue/bulkfetch",
        json={"issueIdsOrKeys": ["DEMO-1", "NOPE-1", "DEMO-2"], "fields": ["summary"]},
    )
    comments = await client.post(
        "/rest/api/3/comment/list", json={"ids": [c for c in app.site.comments] + [999999]}
    )
    if flavour == "server":
        assert fetched.status_code == 404 and comments.status_code == 404
        return
    assert [i["key"] for i in fetched.json()["issues"]] == ["DEMO-1", "DEMO-2"]
    assert set(fetched.json()["issues"][0]["fields"]) == {"summary"}
    listed = comments.json()
    # the admin is not in "devs": the restricted comment stays hidden
    assert listed["total"] == 1
    too_many = await client.post(
        "/rest/api/3/issue/bulkfetch", json={"issueIdsOrKeys": ["DEMO-1"] * 101}
    )
    assert too_many.status_code == 400


async def test_rendered_comment_body(client: httpx.AsyncClient, api: str) -> None:
    made = await client.post(f"{api}/issue/DEMO-2/comment", json={"body": _text(api, "a < b")})
    cid = made.json()["id"]
    one = (
        await client.get(f"{api}/issue/DEMO-2/comment/{cid}", params={"expand": "renderedBody"})
    ).json()
    assert one["renderedBody"] == "<p>a &lt; b</p>"
    listed = (
        await client.get(f"{api}/issue/DEMO-2/comment", params={"expand": "renderedBody"})
    ).json()
    assert listed["comments"][-1]["renderedBody"] == "<p>a &lt; b</p>"
    plain = (await client.get(f"{api}/issue/DEMO-2/comment/{cid}")).json()
    assert "renderedBody" not in plain


async def test_cloud_search_names(client: httpx.AsyncClient, flavour: str) -> None:
    if flavour == "server":
        pytest.skip("Cloud's /search/jql")
    named = (
        await client.get(
            "/rest/api/3/search/jql",
            params={"jql": "project = DEMO", "fields": "summary", "expand": "names,schema"},
        )
    ).json()
    assert named["names"] == {"summary": "Summary"}
    assert named["schema"] == {"summary": {"type": "string", "system": "summary"}}


async def test_transition_with_comment_and_update(client: httpx.AsyncClient, api: str, app) -> None:
    listed = (await client.get(f"{api}/issue/DEMO-2/transitions")).json()["transitions"]
    target = listed[0]
    before = len(app.site.issue_comments("DEMO-2"))
    done = await client.post(
        f"{api}/issue/DEMO-2/transitions",
        json={
            "transition": {"id": target["id"]},
            "update": {"comment": [{"add": {"body": _text(api, "moving on")}}]},
        },
    )
    assert done.status_code == 204, done.text
    comments = app.site.issue_comments("DEMO-2")
    assert len(comments) == before + 1
    shown = (await client.get(f"{api}/issue/DEMO-2/comment")).json()["comments"][-1]["body"]
    assert shown == _text(api, "moving on")
    assert app.site.statuses[app.site.get_issue("DEMO-2").status_id].name == target["to"]["name"]
