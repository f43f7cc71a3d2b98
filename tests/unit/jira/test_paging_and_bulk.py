from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from jirabridge.errors import FixConfigError, SkipItemError
from jirabridge.jira import IssueInput, PaginationLoopError
from jirabridge.jira._server import split_order_by

from .conftest import jira_json

BASE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _issue(n: int, created: datetime) -> dict:
    return {
        "id": str(10000 + n),
        "key": f"P-{n}",
        "fields": {
            "summary": f"issue {n}",
            "created": created.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "project": {"key": "P"},
            "issuetype": {"name": "Task"},
            "status": {"name": "Open"},
        },
    }


class ServerSearch:
    """A Server /search with a result window: startAt+maxResults beyond it answers 400."""

    def __init__(self, issues: list[dict], window: int) -> None:
        self.issues = issues
        self.window = window
        self.queries: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/myself"):
            return jira_json(200, {"name": "bot", "key": "bot", "timeZone": "Europe/Berlin"})
        if request.url.path.endswith(("/field", "/issuetype")):
            return jira_json(200, [])
        body = json.loads(request.content)
        jql, start, size = body["jql"], body["startAt"], body["maxResults"]
        self.queries.append(jql)
        matching = self.issues
        m = re.search(r'created >= "([^"]+)"', jql)
        if m:
            # JQL dates are in the user's zone (Europe/Berlin, +01:00 in January)
            lower = datetime.strptime(m.group(1), "%Y/%m/%d %H:%M").replace(tzinfo=UTC) - timedelta(
                hours=1
            )
            matching = [
                i
                for i in matching
                if datetime.strptime(i["fields"]["created"][:19], "%Y-%m-%dT%H:%M:%S").replace(
                    tzinfo=UTC
                )
                >= lower
            ]
        if start + size > self.window:
            return jira_json(400, {"errorMessages": ["window exceeded"]})
        page = matching[start : start + size]
        return jira_json(
            200, {"startAt": start, "maxResults": size, "total": len(matching), "issues": page}
        )


async def test_server_search_pages_by_start_at(make_client) -> None:
    issues = [_issue(n, BASE + timedelta(minutes=n)) for n in range(23)]
    fake = ServerSearch(issues, window=10_000)
    client = make_client(fake)
    keys = [i.key async for i in client.search("project = P", page_size=5)]
    assert keys == [f"P-{n}" for n in range(23)]
    assert client.stats.count(endpoint="/rest/api/2/search") == 5


async def test_server_search_beyond_the_window_splits_transparently(make_client) -> None:
    # 3 issues per minute, so windows overlap inside a minute: dedupe must hold
    issues = [_issue(n, BASE + timedelta(seconds=20 * n)) for n in range(40)]
    fake = ServerSearch(issues, window=10)
    client = make_client(fake, result_window=10)
    keys = [i["key"] async for i in client.search_raw("project = P ORDER BY rank", page_size=4)]
    assert sorted(keys, key=lambda k: int(k[2:])) == [f"P-{n}" for n in range(40)]
    assert len(keys) == len(set(keys)) == 40
    assert any('created >= "2026/01/05' in q for q in fake.queries)
    assert all("rank" not in q for q in fake.queries[1:])


async def test_server_window_cannot_split_one_minute(make_client) -> None:
    issues = [_issue(n, BASE) for n in range(25)]
    client = make_client(ServerSearch(issues, window=10), result_window=10)
    with pytest.raises(FixConfigError):
        [i async for i in client.search_raw("project = P", page_size=5)]


def test_split_order_by_ignores_quotes() -> None:
    assert split_order_by('summary ~ "order by" ORDER BY key') == (
        'summary ~ "order by"',
        "ORDER BY key",
    )
    assert split_order_by("project = X") == ("project = X", "")
    assert split_order_by("project = reorder_by") == ("project = reorder_by", "")


async def test_cloud_search_pages_by_token(make_client) -> None:
    pages = {None: (["C-1", "C-2"], "t1"), "t1": (["C-3"], "t2"), "t2": (["C-4"], None)}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(("/field", "/issuetype")):
            return jira_json(200, [])
        assert request.url.path == "/rest/api/3/search/jql"
        body = json.loads(request.content)
        keys, nxt = pages[body.get("nextPageToken")]
        answer = {"issues": [{"id": k[2:], "key": k, "fields": {"summary": k}} for k in keys]}
        if nxt:
            answer["nextPageToken"] = nxt
        return jira_json(200, answer)

    client = make_client(handler, flavour="cloud")
    assert [i.key async for i in client.search("project = C")] == ["C-1", "C-2", "C-3", "C-4"]


async def test_cloud_token_loop_is_detected(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(("/field", "/issuetype")):
            return jira_json(200, [])
        return jira_json(
            200, {"issues": [{"id": "1", "key": "C-1", "fields": {}}], "nextPageToken": "same"}
        )

    client = make_client(handler, flavour="cloud")
    with pytest.raises(PaginationLoopError):
        [i async for i in client.search_raw("x")]


async def test_offset_loop_is_detected(make_client) -> None:
    """A server that ignores startAt hands back page one forever."""

    def handler(request: httpx.Request) -> httpx.Response:
        return jira_json(
            200,
            {
                "startAt": 0,
                "total": 500,
                "comments": [{"id": "1", "body": "a", "created": "2026-01-01T00:00:00.000+0000"}],
            },
        )

    client = make_client(handler)
    with pytest.raises(PaginationLoopError):
        [c async for c in client.comments("P-1", page_size=1)]


async def test_bulk_create_batches_of_50_and_matches_failures(make_client) -> None:
    batches: list[int] = []
    counter = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal counter
        if request.url.path.endswith(("/field", "/issuetype")):
            return jira_json(200, [])
        updates = json.loads(request.content)["issueUpdates"]
        batches.append(len(updates))
        issues, errors = [], []
        for i, u in enumerate(updates):
            if u["fields"]["summary"].startswith("bad"):
                errors.append(
                    {
                        "status": 400,
                        "failedElementNumber": i,
                        "elementErrors": {
                            "errorMessages": [],
                            "errors": {"summary": "bad summary"},
                        },
                    }
                )
            else:
                counter += 1
                issues.append({"id": str(counter), "key": f"P-{counter}"})
        return jira_json(201 if not errors else 400, {"issues": issues, "errors": errors})

    client = make_client(handler)
    items = [
        IssueInput(
            project_key="P",
            issue_type="Task",
            summary=("bad " if n in (3, 51, 119) else "") + f"s{n}",
        )
        for n in range(120)
    ]
    results = await client.bulk_create(items)
    assert batches == [50, 50, 20]
    assert [r.index for r in results] == list(range(120))
    failed = [r.index for r in results if not r.ok]
    assert failed == [3, 51, 119]
    assert isinstance(results[51].error, SkipItemError)
    assert "bad summary" in str(results[51].error)
    created = [r.key for r in results if r.ok]
    assert created == [f"P-{n}" for n in range(1, 118)]  # in input order, none lost


async def test_bulk_create_whole_batch_failure_marks_every_input(make_client) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(("/field", "/issuetype")):
            return jira_json(200, [])
        raise httpx.ReadTimeout("x", request=request)

    client = make_client(handler)
    results = await client.bulk_create([IssueInput(summary="a"), IssueInput(summary="b")])
    assert [r.ok for r in results] == [False, False]
    assert client.stats.count(endpoint="/rest/api/2/issue/bulk") == 1  # not resent blindly


async def test_move_to_sprint_in_batches(make_client) -> None:
    sizes = []

    def handler(request: httpx.Request) -> httpx.Response:
        sizes.append(len(json.loads(request.content)["issues"]))
        return httpx.Response(204)

    client = make_client(handler)
    await client.move_to_sprint(7, [f"P-{n}" for n in range(101)])
    await client.move_to_backlog([f"P-{n}" for n in range(50)])
    assert sizes == [50, 50, 1, 50]


async def test_cloud_bulk_changelog(make_client) -> None:
    seen_bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/field"):
            return jira_json(200, [])
        body = json.loads(request.content)
        if path.endswith("/search/jql"):
            return jira_json(
                200, {"issues": [{"id": "101", "key": "C-1"}, {"id": "102", "key": "C-2"}]}
            )
        seen_bodies.append(body)

        def hist(i, f):
            return {
                "id": i,
                "created": "2026-01-01T10:00:00.000+0000",
                "author": {"accountId": "a1"},
                "items": [{"field": f, "fieldId": f, "from": None, "to": "x"}],
            }

        if "nextPageToken" not in body:
            return jira_json(
                200,
                {
                    "issueChangeLogs": [
                        {"issueId": "101", "changeHistories": [hist("1", "status")]}
                    ],
                    "nextPageToken": "p2",
                },
            )
        return jira_json(
            200,
            {
                "issueChangeLogs": [
                    {
                        "issueId": "102",
                        "changeHistories": [hist("2", "status"), hist("3", "labels")],
                    }
                ]
            },
        )

    client = make_client(handler, flavour="cloud")
    logs = await client.bulk_changelog(["C-1", "C-2"], field_ids=["status"])
    assert [len(logs["C-1"]), len(logs["C-2"])] == [1, 1]
    assert seen_bodies[0]["issueIdsOrKeys"] == ["101", "102"]
    assert seen_bodies[0]["fieldIds"] == ["status"]


async def test_get_issue_fetches_every_comment_when_the_issue_has_only_a_page(make_client) -> None:
    def comment(n: int) -> dict:
        return {"id": str(n), "body": f"c{n}", "created": "2026-01-01T00:00:00.000+0000"}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith(("/field", "/issuetype")):
            return jira_json(200, [])
        if path.endswith("/comment"):
            start = int(request.url.params["startAt"])
            size = int(request.url.params["maxResults"])
            page = [comment(n) for n in range(7)][start : start + size]
            return jira_json(200, {"startAt": start, "total": 7, "comments": page})
        return jira_json(
            200,
            {
                "id": "1",
                "key": "P-1",
                "fields": {
                    "summary": "s",
                    "comment": {"total": 7, "maxResults": 2, "comments": [comment(0), comment(1)]},
                },
            },
        )

    client = make_client(handler)
    issue = await client.get_issue("P-1")
    assert [c.id for c in issue.comments] == [str(n) for n in range(7)]


async def test_attachment_urls_elsewhere_get_no_credentials(make_client) -> None:
    from jirabridge.errors import BadInputError
    from jirabridge.jira import Attachment

    sent = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(200, content=b"data")

    client = make_client(handler)
    evil = Attachment("f", 4, id="1", content_url="https://evil.example/steal")
    with pytest.raises(BadInputError):
        await client.download_attachment(evil)
    assert sent == []
    public = Attachment(
        "f", 4, id="1", content_url="https://jira.public.example/secure/attachment/1/f"
    )
    assert await client.download_attachment(public) == b"data"
    assert sent == ["https://jira.example.test/secure/attachment/1/f"]  # sent to our site only


def _history(n: int) -> dict:
    return {
        "id": str(100 + n),
        "created": f"2026-01-01T00:{n:02d}:00.000+0000",
        "items": [{"field": "summary", "fromString": f"s{n - 1}", "toString": f"s{n}"}],
    }


def _changelog_handler(paged):
    """An issue with 3 history entries of which the embed holds only the newest one;
    ``paged(start)`` answers the paged route."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/changelog"):
            return paged(int(request.url.params.get("startAt", "0")))
        if path.endswith("/issue/A-1"):
            return httpx.Response(
                200,
                json={
                    "id": "1",
                    "key": "A-1",
                    "fields": {},
                    "changelog": {
                        "startAt": 0,
                        "maxResults": 1,
                        "total": 3,
                        "histories": [_history(3)],
                    },
                },
            )
        if path.endswith("/field"):
            return httpx.Response(200, json=[])
        return httpx.Response(404, json={"errorMessages": ["no"], "errors": {}})

    return handler


async def test_server_changelog_completes_a_capped_embed(make_client) -> None:
    def paged(start: int) -> httpx.Response:
        values = [_history(n) for n in (1, 2, 3)][start : start + 2]
        return httpx.Response(
            200, json={"startAt": start, "maxResults": 2, "total": 3, "values": values}
        )

    log = await make_client(_changelog_handler(paged)).changelog("A-1")
    assert [e.items[0].to_string for e in log] == ["s1", "s2", "s3"]


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, content=b"<html>login</html>"),
        httpx.Response(200, json=[1, 2]),
    ],
    ids=["not-json", "not-object"],
)
async def test_server_changelog_hostile_page_is_bad_input(make_client, answer) -> None:
    from jirabridge.errors import BadInputError

    with pytest.raises(BadInputError, match="changelog page of A-1"):
        await make_client(_changelog_handler(lambda start: answer)).changelog("A-1")


async def test_server_changelog_short_paged_route_is_a_loop_error(make_client) -> None:
    from jirabridge.jira import PaginationLoopError

    def paged(start: int) -> httpx.Response:  # claims 3 but only ever has one
        values = [_history(3)] if start == 0 else []
        return httpx.Response(200, json={"startAt": start, "total": 3, "values": values})

    with pytest.raises(PaginationLoopError, match="3 entries but only 1"):
        await make_client(_changelog_handler(paged)).changelog("A-1")


async def test_pages_without_ids_are_not_mistaken_for_a_loop() -> None:
    from jirabridge.jira._paging import offset_pages

    pages = {0: [{"body": "a"}, {"body": "b"}], 2: [{"body": "c"}, {"body": "d"}], 4: []}

    async def fetch(start: int, size: int) -> dict[str, object]:
        return {"values": pages[start], "startAt": start, "total": 4}

    got = [p async for p in offset_pages(fetch, items_key="values", page_size=2)]
    assert got == [pages[0], pages[2]]

    async def same(start: int, size: int) -> dict[str, object]:
        return {"values": pages[0], "startAt": start}  # ignores startAt: the same page again

    with pytest.raises(PaginationLoopError, match="repeats an earlier page"):
        _ = [p async for p in offset_pages(same, items_key="values", page_size=2)]
