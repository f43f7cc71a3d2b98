"""Bad input gets Jira's error JSON and status, and changes nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.unit.emulator_http.sites import adf


def assert_jira_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errorMessages", "errors"}
    assert isinstance(body["errorMessages"], list)
    assert isinstance(body["errors"], dict)
    assert body["errorMessages"] or body["errors"]
    return body


async def test_unknown_path_is_404(client: httpx.AsyncClient) -> None:
    body = assert_jira_error(await client.get("/rest/api/2/no-such-thing"), 404)
    assert "null for uri" in body["errorMessages"][0]


async def test_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    assert_jira_error(await client.delete("/rest/api/2/serverInfo"), 405)
    assert_jira_error(await client.post("/rest/api/2/issue/DEMO-1"), 405)


async def test_missing_auth_is_401(app, api: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=app.base_url) as c:
        assert_jira_error(await c.get(f"{api}/issue/DEMO-1"), 401)
        assert (await c.get(f"{api}/serverInfo")).status_code == 200


async def test_wrong_password_is_401(app, api: str) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=app.base_url, auth=("admin", "wrong")
    ) as c:
        assert_jira_error(await c.get(f"{api}/myself"), 401)


@pytest.mark.parametrize("body", [b"{", b"[1,2", b"not json", b""])
async def test_malformed_json(client: httpx.AsyncClient, app, api: str, body: bytes) -> None:
    before = len(app.site.issues)
    response = await client.post(
        f"{api}/issue", content=body, headers={"Content-Type": "application/json"}
    )
    assert_jira_error(response, 400)
    assert len(app.site.issues) == before


async def test_body_of_wrong_json_type(client: httpx.AsyncClient, api: str) -> None:
    assert_jira_error(await client.post(f"{api}/issue", json=[1, 2]), 400)
    assert_jira_error(await client.post(f"{api}/issue", json={"fields": [1]}), 400)
    assert_jira_error(await client.put(f"{api}/issue/DEMO-1", json={"update": "x"}), 400)


async def test_missing_required_fields(client: httpx.AsyncClient, app, api: str) -> None:
    before = len(app.site.issues)
    body = assert_jira_error(
        await client.post(
            f"{api}/issue",
            json={"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}}},
        ),
        400,
    )
    assert "summary" in body["errors"]
    assert len(app.site.issues) == before


async def test_unknown_field(client: httpx.AsyncClient, app, api: str) -> None:
    body = assert_jira_error(
        await client.post(
            f"{api}/issue",
            json={
                "fields": {
                    "project": {"key": "DEMO"},
                    "issuetype": {"name": "Task"},
                    "summary": "x",
                    "customfield_99999": "y",
                }
            },
        ),
        400,
    )
    assert "customfield_99999" in body["errors"]


async def test_wrong_type_of_field(client: httpx.AsyncClient, api: str) -> None:
    body = assert_jira_error(
        await client.put(f"{api}/issue/DEMO-1", json={"fields": {"labels": "not a list"}}), 400
    )
    assert "labels" in body["errors"]


async def test_rich_text_in_wrong_form(client: httpx.AsyncClient, flavour: str, app) -> None:
    if flavour == "cloud":
        body = assert_jira_error(
            await client.put("/rest/api/3/issue/DEMO-1", json={"fields": {"description": "plain"}}),
            400,
        )
        assert "Atlassian Document" in body["errors"]["description"]
    body = assert_jira_error(
        await client.put("/rest/api/2/issue/DEMO-1", json={"fields": {"description": adf("x")}}),
        400,
    )
    assert body["errors"]["description"] == "Operation value must be a string"
    issue = app.site.get_issue("DEMO-1")
    stored = issue.fields["description"]
    assert (stored["type"] == "doc") if flavour == "cloud" else stored == "The first description"


async def test_not_found(client: httpx.AsyncClient, api: str) -> None:
    body = assert_jira_error(await client.get(f"{api}/issue/NOPE-99"), 404)
    assert body["errorMessages"] == [
        "Issue does not exist or you do not have permission to see it."
    ]
    assert_jira_error(await client.get(f"{api}/issue/DEMO-1/comment/999999"), 404)
    assert_jira_error(await client.get(f"{api}/project/NOPE"), 404)


async def test_bad_jql(client: httpx.AsyncClient, flavour: str) -> None:
    if flavour == "cloud":
        response = await client.get("/rest/api/3/search/jql", params={"jql": "project = = DEMO"})
    else:
        response = await client.get("/rest/api/2/search", params={"jql": "project = = DEMO"})
    body = assert_jira_error(response, 400)
    assert body["errorMessages"][0].startswith("Error in the JQL Query")


async def test_transition_not_available(client: httpx.AsyncClient, api: str, app) -> None:
    status_before = app.site.get_issue("DEMO-1").status_id
    assert_jira_error(
        await client.post(f"{api}/issue/DEMO-1/transitions", json={"transition": {"id": "9999"}}),
        400,
    )
    assert_jira_error(await client.post(f"{api}/issue/DEMO-1/transitions", json={}), 400)
    assert app.site.get_issue("DEMO-1").status_id == status_before


async def test_permission_denied_on_other_users_comment(app, flavour: str, api: str) -> None:
    # bob may not edit the admin's comment
    comment = app.site.issue_comments("DEMO-1")[0]
    login = ("bob", "pw") if flavour == "server" else None
    if login is None:
        token = app.site.create_api_token(app.site.find_user("bob@example.org").key)
        login = ("bob@example.org", token)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=app.base_url, auth=login
    ) as c:
        body = {"body": adf("hijack") if flavour == "cloud" else "hijack"}
        assert_jira_error(await c.put(f"{api}/issue/DEMO-1/comment/{comment.id}", json=body), 403)
    assert app.site.comments[comment.id].body != body["body"]


async def test_attachment_needs_xsrf_header(client: httpx.AsyncClient, api: str, app) -> None:
    files = {"file": ("a.txt", b"hello", "text/plain")}
    body = assert_jira_error(await client.post(f"{api}/issue/DEMO-1/attachments", files=files), 403)
    assert body["errorMessages"] == ["XSRF check failed"]
    assert not app.site.attachments


async def test_bulk_create_over_limit(client: httpx.AsyncClient, api: str, app) -> None:
    one = {"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}, "summary": "s"}}
    before = len(app.site.issues)
    response = await client.post(f"{api}/issue/bulk", json={"issueUpdates": [one] * 51})
    assert response.status_code == 400
    body = response.json()
    assert body["issues"] == []
    assert "limited to 50" in body["errors"][0]["elementErrors"]["errorMessages"][0]
    assert len(app.site.issues) == before


async def test_bulk_create_refused_by_the_xsrf_check_is_a_plain_jira_error(
    client: httpx.AsyncClient, api: str, app
) -> None:
    """The XSRF filter answers before the bulk resource runs: Jira's plain error body, not
    the bulk form (which the spec documents only for refusals of the request itself)."""
    before = len(app.site.issues)
    response = await client.post(
        f"{api}/issue/bulk",
        content=b"issueUpdates=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    body = assert_jira_error(response, 403)
    assert body["errorMessages"] == ["XSRF check failed"]
    assert "issues" not in body
    assert len(app.site.issues) == before


async def test_server_search_window(client: httpx.AsyncClient, flavour: str) -> None:
    if flavour == "cloud":
        body = assert_jira_error(await client.get("/rest/api/2/search", params={"jql": ""}), 410)
        assert "/rest/api/3/search/jql" in body["errorMessages"][0]
        return
    response = await client.get(
        "/rest/api/2/search", params={"jql": "", "startAt": 9990, "maxResults": 50}
    )
    body = assert_jira_error(response, 500)
    assert (
        "10,040 results which exceeded the search platform limit of 10,000"
        in body["errorMessages"][0]
    )


async def test_cloud_unbounded_jql(client: httpx.AsyncClient, flavour: str) -> None:
    if flavour == "server":
        assert (await client.get("/rest/api/2/search/jql")).status_code == 404
        return
    body = assert_jira_error(
        await client.get("/rest/api/3/search/jql", params={"jql": "order by key"}), 400
    )
    assert "Unbounded JQL" in body["errorMessages"][0]


async def test_search_unknown_body_key(client: httpx.AsyncClient, flavour: str) -> None:
    path = "/rest/api/3/search/jql" if flavour == "cloud" else "/rest/api/2/search"
    body = assert_jira_error(
        await client.post(path, json={"jql": "project = DEMO", "bogus": 1}), 400
    )
    assert "Unrecognized field" in body["errorMessages"][0]


async def test_oversized_body_is_413(client: httpx.AsyncClient, api: str, app, monkeypatch) -> None:
    import jirabridge.emulator.faces._context as context

    monkeypatch.setattr(context, "MAX_JSON_BYTES", 1000)
    before = len(app.site.issues)
    big = {"fields": {"summary": "x" * 5000}}
    assert_jira_error(await client.post(f"{api}/issue", json=big), 413)

    async def chunks():
        yield b'{"fields": {"summary": "'
        for _ in range(10):
            yield b"y" * 200
        yield b'"}}'

    streamed = await client.post(
        f"{api}/issue", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_jira_error(streamed, 413)
    assert len(app.site.issues) == before


async def test_unicode_digit_ids_are_not_found(client: httpx.AsyncClient, api: str) -> None:
    for path in (
        "issue/\u00b2",
        "component/\u00b2",
        "version/\u00b2",
        "issuetype/\u00b2",
        "issue/DEMO-1/comment/\u00b2",
        "customFieldOption/\u00b3",
    ):
        assert_jira_error(await client.get(f"{api}/{path}"), 404)
    assert_jira_error(await client.get("/rest/agile/1.0/board/\u00b2"), 404)


async def test_form_bodies_meet_the_xsrf_check(client: httpx.AsyncClient, api: str, app) -> None:
    before = len(app.site.issues)
    form = await client.post(f"{api}/issue", data={"fields": "x"})
    body = assert_jira_error(form, 403)
    assert body["errorMessages"] == ["XSRF check failed"]
    text = await client.post(
        f"{api}/issue",
        content=b'{"fields": {}}',
        headers={"Content-Type": "text/plain", "X-Atlassian-Token": "no-check"},
    )
    assert_jira_error(text, 415)
    assert len(app.site.issues) == before
