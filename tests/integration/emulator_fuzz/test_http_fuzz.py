"""Fuzz both emulator flavours in-process: no 5xx, and Jira's error shape on every 4xx.

Hypothesis draws a route from the app's own route table, fills its path parameters with real
or random ids, and sends a random method, query (random JQL included), headers, credentials
and body (none, malformed JSON, random JSON, or well-known keys with wrong types). The control
plane routes that inject faults, latency or downtime are left out: their 5xx are on purpose.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from starlette.routing import Mount, Route

from jirabridge.emulator import create_app
from jirabridge.emulator.model import Flavour, Site

ADMIN_EMAIL = "admin@jirabridge.test"
ADMIN_SECRET = "admin"  # the emulator's documented default login (password / API token)

# Control-plane routes whose purpose is to make the emulator fail or stall; and resets that
# would wipe the seeded ids the fuzzer relies on.
_SKIP = re.compile(
    r"^/_emulator/(faults|downtime|latency|webhooks/faults|ratelimits|reset|seed|clock|"
    r"credentials|oauth)"
)
# Answers that are not Jira's errorMessages/errors JSON by design.
_OAUTH_PATHS = re.compile(r"^/(oauth/token|authorize)")
# Jira DC refuses a page past the 10,000-result window with this 500 (documented behaviour).
_DOCUMENTED_500 = "Search limit exceeded"


@dataclass(frozen=True, repr=False)
class Target:
    flavour: str
    runner: asyncio.Runner
    client: httpx.AsyncClient
    routes: tuple[tuple[str, tuple[str, ...]], ...]
    ids: tuple[str, ...]
    auth: str

    def __repr__(self) -> str:
        return f"Target({self.flavour}, {len(self.routes)} routes)"


def _routes(routes: Any, prefix: str = "") -> Iterator[tuple[str, tuple[str, ...]]]:
    """Every (path template, methods) of a Starlette route tree, mounts and groups included."""
    for route in routes:
        if isinstance(route, Route):
            path = prefix + route.path
            if not _SKIP.match(path):
                yield path, tuple(sorted(route.methods or ("GET",)))
        elif isinstance(route, Mount) or getattr(route, "routes", None) is not None:
            yield from _routes(route.routes, prefix + getattr(route, "path", ""))


def _site(flavour: str) -> tuple[Site, list[str]]:
    site = Site(Flavour(flavour))
    admin = site.admin_key
    server = flavour == "server"
    bob = site.create_user("Bob", name="bob" if server else None, email="bob@corp.io")
    project = site.create_project("DEMO", "Demo", admin)
    ids: list[str] = [str(project.id), "DEMO", bob.key, "bob", admin]
    for n in range(3):
        issue = site.create_issue(
            admin,
            {
                "project": {"key": "DEMO"},
                "summary": f"Issue {n}",
                "issuetype": {"name": "Task"},
                "labels": ["fuzz"],
            },
        )
        comment = site.add_comment(admin, issue.key, "hello" if server else _adf("hello"))
        ids += [issue.key, str(issue.id), str(comment.id)]
    return site, ids


def _adf(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


@pytest.fixture(scope="module", params=["server", "cloud"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    flavour = str(request.param)
    site, ids = _site(flavour)
    app = create_app(flavour, site)
    routes = tuple(_routes(app.starlette.routes))
    login = "admin" if flavour == "server" else ADMIN_EMAIL
    auth = "Basic " + base64.b64encode(f"{login}:{ADMIN_SECRET}".encode()).decode()
    # one private event loop for the module: hypothesis drives a sync test function
    runner = asyncio.Runner()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app, raise_app_exceptions=True), base_url=app.base_url
    )
    try:
        yield Target(flavour, runner, client, routes, tuple(ids), auth)
    finally:
        runner.run(client.aclose())
        runner.close()


# -- strategies -----------------------------------------------------------------------------

_SAFE = st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#%")
_JQL = st.one_of(
    st.sampled_from(
        [
            "",
            "project = DEMO",
            "project = DEMO ORDER BY key ASC",
            'project = DEMO AND updated >= "2026/11/24 03:10" ORDER BY updated ASC, key ASC',
            "key in (DEMO-1, DEMO-9)",
            "assignee = currentUser() OR reporter is EMPTY",
            'summary ~ "issue*" AND labels = fuzz',
            "created > startOfDay(-1d)",
            "project = NOPE",
            "nosuch = 1",
            "project = DEMO foo",
            "order by",
            '"unterminated',
            "status in (",
            "cf[99999] > 3",
            "text ~ '*x'",
            "(" * 3000 + "project = DEMO" + ")" * 3000,
            "NOT " * 3000 + "project = DEMO",
        ]
    ),
    st.text(max_size=30),
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_WRONG = st.sampled_from([None, 5, -1, 1.5, True, "x", [], {}, ["a"], {"a": 1}])
_KEYS = st.sampled_from(
    [
        "fields",
        "update",
        "jql",
        "body",
        "startAt",
        "maxResults",
        "transition",
        "name",
        "accountId",
        "key",
        "project",
        "summary",
        "issueUpdates",
        "visibility",
        "value",
        "nextPageToken",
        "type",
        "inwardIssue",
        "outwardIssue",
        "timeSpentSeconds",
        "url",
    ]
)
_BODY = st.one_of(
    st.none(),
    st.binary(max_size=40),
    st.sampled_from([b"{", b"[1,", b'{"fields": }', b"null", b"\xff\xfe", b'"str"', b"{}"]),
    _JSON.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(_KEYS, _WRONG, min_size=1, max_size=4).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"fields": st.dictionaries(_KEYS, _WRONG | _JSON, max_size=4)}).map(
        lambda v: json.dumps(v).encode()
    ),
)
# Plausible Jira bodies with one or more fields mutated, to get past the first validation.
_FIELD_VALUES = st.one_of(
    _WRONG,
    _JSON,
    st.sampled_from(
        [
            {"key": "DEMO"},
            {"name": "Task"},
            {"id": "10000"},
            {"name": "High"},
            {"name": "bob"},
            {"accountId": "nope"},
            "2026-11-24",
            "2026-11-24T03:10:00.000+0000",
            ["a", "b"],
            [{"name": "x"}],
            {"type": "doc", "version": 1, "content": []},
            {"type": "doc", "version": 1, "content": [{"type": "bogus"}]},
            "h1. wiki *text*",
            "2h 30m",
            3.5,
        ]
    ),
)
_FIELD_NAMES = st.sampled_from(
    [
        "summary",
        "description",
        "environment",
        "labels",
        "priority",
        "assignee",
        "reporter",
        "duedate",
        "components",
        "fixVersions",
        "versions",
        "parent",
        "issuetype",
        "project",
        "customfield_10016",
        "customfield_10021",
        "customfield_10200",
        "customfield_10201",
        "timetracking",
        "resolution",
        "security",
        "nosuchfield",
    ]
)
_ISSUE_BODY = st.builds(
    lambda extra, update, transition: {
        "fields": {
            "project": {"key": "DEMO"},
            "summary": "fuzz",
            "issuetype": {"name": "Task"},
            **extra,
        },
        **({"update": update} if update else {}),
        **({"transition": transition} if transition else {}),
    },
    st.dictionaries(_FIELD_NAMES, _FIELD_VALUES, max_size=3),
    st.dictionaries(
        _FIELD_NAMES,
        st.lists(
            st.dictionaries(
                st.sampled_from(["add", "set", "remove", "edit"]), _FIELD_VALUES, max_size=1
            ),
            max_size=2,
        ),
        max_size=2,
    ),
    st.none() | st.fixed_dictionaries({"id": st.sampled_from(["11", "21", "31", "x", 5])}),
)
_SOCIAL_BODY = st.fixed_dictionaries(
    {},
    optional={
        "body": _FIELD_VALUES,
        "visibility": st.sampled_from(
            [{"type": "group", "value": "jira-users"}, {"type": "role"}, "x"]
        ),
        "timeSpent": st.sampled_from(["1h", "bogus", 5]),
        "timeSpentSeconds": st.integers(-5, 10**6) | _WRONG,
        "started": st.sampled_from(["2026-11-24T03:10:00.000+0000", "yesterday", 5]),
        "type": st.sampled_from([{"name": "Blocks"}, {"name": "nope"}, 5]),
        "inwardIssue": st.sampled_from([{"key": "DEMO-1"}, {"key": "NOPE-1"}, "x"]),
        "outwardIssue": st.sampled_from([{"key": "DEMO-2"}, {"id": "10001"}, []]),
        "object": st.sampled_from([{"url": "http://x.io", "title": "x"}, {"url": 5}, None]),
        "transition": st.sampled_from([{"id": "11"}, {"id": "31"}, {"id": "nope"}, "x"]),
        "issueUpdates": st.lists(_JSON, max_size=3),
        "issues": st.lists(st.sampled_from(["DEMO-1", "DEMO-2", "NOPE-9", 5]), max_size=3),
    },
)
_BODY = st.one_of(
    _BODY,
    _ISSUE_BODY.map(lambda v: json.dumps(v).encode()),
    _SOCIAL_BODY.map(lambda v: json.dumps(v).encode()),
)
_CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "multipart/form-data",
        "application/x-www-form-urlencoded",
        "garbage/\x7f",
        "",
    ]
)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes | None


@st.composite
def calls(draw: st.DrawFn, target: Target) -> Call:
    template, methods = draw(st.sampled_from(target.routes))

    def fill(match: re.Match[str]) -> str:
        return draw(
            st.one_of(
                st.sampled_from(target.ids),
                st.integers(-5, 10**12).map(str),
                st.text(_SAFE, min_size=1, max_size=12),
                # non-ASCII letters and digits ("²".isdigit() is true, int("²") fails)
                st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=5),
            )
        )

    path = re.sub(r"\{[^}]+\}", fill, template)
    any_method = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"])
    method = draw(st.sampled_from([*methods] * 4) | any_method)
    params: dict[str, str] = {}
    if draw(st.booleans()):
        params["jql"] = draw(_JQL)
    for name in draw(
        st.lists(
            st.sampled_from(
                [
                    "startAt",
                    "maxResults",
                    "fields",
                    "expand",
                    "nextPageToken",
                    "accountId",
                    "username",
                    "query",
                    "orderBy",
                    "properties",
                    "notifyUsers",
                    "deleteSubtasks",
                ]
            ),
            max_size=3,
        )
    ):
        params[name] = draw(st.one_of(st.integers(-10, 20000).map(str), st.text(_SAFE, max_size=8)))
    headers: dict[str, str] = {}
    auth = draw(st.sampled_from(["good"] * 7 + ["none", "junk", "bearer"]))
    if auth == "good":
        headers["Authorization"] = target.auth
    elif auth == "junk":
        headers["Authorization"] = "Basic " + draw(st.text(_SAFE, max_size=16))
    elif auth == "bearer":
        headers["Authorization"] = "Bearer " + draw(st.text(_SAFE, max_size=16))
    body = draw(_BODY)
    if body is not None or draw(st.booleans()):
        headers["Content-Type"] = draw(_CONTENT_TYPES)
    if draw(st.booleans()):
        headers[
            draw(
                st.sampled_from(
                    [
                        "Accept",
                        "X-Atlassian-Token",
                        "X-Force-Accept-Language",
                        "X-Random",
                        "Accept-Language",
                        "X-ExperimentalApi",
                    ]
                )
            )
        ] = draw(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20))
    return Call(method, path, params, headers, body)


# -- the property ---------------------------------------------------------------------------


def _check(target: Target, call: Call) -> None:
    response = target.runner.run(
        target.client.request(
            call.method, call.path, params=call.params, headers=call.headers, content=call.body
        )
    )
    status = response.status_code
    if currently_in_test_context():  # the pinned regression tests below run outside hypothesis
        event(f"status {status}")
    where = f"{target.flavour}: {call.method} {call.path} params={call.params} -> {status}"
    text = response.text
    if status >= 500:
        assert _DOCUMENTED_500 in text, f"{where}: server error {text[:300]}"
        return
    if status < 400 or call.method == "HEAD":
        return
    if _OAUTH_PATHS.match(call.path) and "errorMessages" not in text:
        body = response.json()  # RFC 6749 error, or the API gateway's {"code", "message"}
        oauth = isinstance(body, dict) and isinstance(body.get("error"), str)
        gateway = isinstance(body, dict) and set(body) == {"code", "message"}
        assert oauth or gateway, f"{where}: {text[:300]}"
        return
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"{where}: 4xx without a JSON body: {text[:300]!r}") from None
    assert isinstance(body, dict), f"{where}: {text[:300]}"
    if call.path.endswith("/issue/bulk") and isinstance(body.get("errors"), list):
        # bulk create: one Jira error body per failed element
        for element in body["errors"]:
            _assert_jira_error(where, element["elementErrors"], text)
        return
    gateway = target.flavour == "cloud" or call.path.startswith("/oauth/")
    if gateway and status in (401, 403) and set(body) == {"code", "message"}:
        # the Atlassian API gateway's own refusal: {"code": 401, "message": "Unauthorized"}
        assert body["code"] == status and isinstance(body["message"], str), where
        return
    _assert_jira_error(where, body, text)


def _assert_jira_error(where: str, body: Any, text: str) -> None:
    """``{"errorMessages": [str, ...], "errors": {str: str}}`` with at least one message."""
    assert isinstance(body, dict), f"{where}: {text[:300]}"
    messages, errors = body.get("errorMessages"), body.get("errors")
    assert isinstance(messages, list) and all(isinstance(m, str) for m in messages), (
        f"{where}: errorMessages missing or not a list of strings: {text[:300]}"
    )
    assert isinstance(errors, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in errors.items()
    ), f"{where}: errors missing or not a string map: {text[:300]}"
    assert messages or errors, f"{where}: an error answer with no message: {text[:300]}"


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
def test_no_server_errors_and_jira_error_shape(target: Target, data: st.DataObject) -> None:
    call = data.draw(calls(target))
    _check(target, call)


@st.composite
def plausible_writes(draw: st.DrawFn, target: Target) -> Call:
    """Good credentials, the route's own method, real ids and nearly valid bodies."""
    writes = [(p, m) for p, m in target.routes if set(m) & {"POST", "PUT", "DELETE"}]
    template, methods = draw(st.sampled_from(writes))
    method = draw(st.sampled_from([m for m in methods if m in ("POST", "PUT", "DELETE")]))
    path = re.sub(r"\{[^}]+\}", lambda _m: draw(st.sampled_from(target.ids)), template)
    body = draw(
        st.one_of(_ISSUE_BODY, _SOCIAL_BODY, st.dictionaries(_KEYS, _FIELD_VALUES, max_size=3))
    )
    headers = {"Authorization": target.auth, "Content-Type": "application/json"}
    return Call(method, path, {}, headers, json.dumps(body).encode())


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
def test_plausible_writes(target: Target, data: st.DataObject) -> None:
    _check(target, data.draw(plausible_writes(target)))


_SEARCH_PATHS = {
    "server": ["/rest/api/2/search", "/rest/api/latest/search"],
    "cloud": [
        "/rest/api/3/search/jql",
        "/rest/api/2/search/jql",
        "/rest/api/3/search/approximate-count",
    ],
}


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
def test_search_with_random_jql(target: Target, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_SEARCH_PATHS[target.flavour]))
    jql = data.draw(_JQL)
    page = data.draw(
        st.dictionaries(
            st.sampled_from(["startAt", "maxResults", "fields", "nextPageToken"]),
            st.integers(-3, 12000) | st.text(_SAFE, max_size=6) | _WRONG,
            max_size=2,
        )
    )
    headers = {"Authorization": target.auth, "Content-Type": "application/json"}
    if data.draw(st.booleans()):
        body = json.dumps({"jql": jql, **page}).encode()
        call = Call("POST", path, {}, headers, body)
    else:
        params = {"jql": jql, **{k: str(v) for k, v in page.items()}}
        call = Call("GET", path, params, headers, None)
    _check(target, call)


def test_route_table_was_found(target: Target) -> None:
    paths = [p for p, _ in target.routes]
    assert len(paths) > 50
    assert not any(_SKIP.match(p) for p in paths)


# -- found by fuzzing with non-ASCII ids ----------------------------------------------------

_UNICODE_DIGIT_PATHS = [
    "/rest/api/{v}/issue/²",
    "/rest/api/{v}/project/²",
    "/rest/api/{v}/issue/²/comment",
    "/rest/agile/1.0/board/²",
    "/rest/agile/1.0/sprint/²",
    "/rest/api/{v}/issue/DEMO-1/comment/²",
    "/rest/api/{v}/issue/DEMO-1/worklog/²",
    "/rest/api/{v}/attachment/²",
    "/rest/api/{v}/issueLink/²",
    "/rest/api/{v}/version/²",
    "/rest/api/{v}/component/²",
]


@pytest.mark.parametrize("template", _UNICODE_DIGIT_PATHS)
def test_unicode_digit_ids_are_not_found_not_server_errors(target: Target, template: str) -> None:
    path = template.format(v="2" if target.flavour == "server" else "3")
    call = Call("GET", path, {}, {"Authorization": target.auth}, None)
    _check(target, call)


def test_oauth_token_with_broken_multipart_answers_json(target: Target) -> None:
    call = Call("POST", "/oauth/token", {}, {"Content-Type": "multipart/form-data"}, b"\x8c")
    response = target.runner.run(
        target.client.request(call.method, call.path, headers=call.headers, content=call.body)
    )
    assert response.status_code == 400
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str)


def test_unicode_digit_ids_in_bodies_are_refused_not_server_errors(target: Target) -> None:
    api = "/rest/api/2" if target.flavour == "server" else "/rest/api/3"
    body = {"fields": {"project": {"id": "²"}, "summary": "s", "issuetype": {"name": "Task"}}}
    headers = {"Authorization": target.auth, "Content-Type": "application/json"}
    _check(target, Call("POST", f"{api}/issue", {}, headers, json.dumps(body).encode()))
