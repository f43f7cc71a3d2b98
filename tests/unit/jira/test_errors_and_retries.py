from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from jirabridge.errors import (
    FixConfigError,
    ReauthenticateError,
    RetryLaterError,
    SkipItemError,
)
from jirabridge.jira import AmbiguousWriteError, IssueInput, Scope, error_from_response
from jirabridge.jira._errors import error_from_transport, retry_after_seconds

from .conftest import jira_json


def _resp(status: int, body=None, headers=None, url="https://j.test/rest/api/2/issue/A-1"):
    r = jira_json(status, body, headers)
    r.request = httpx.Request("GET", url)
    return r


@pytest.mark.parametrize(
    ("status", "scope", "expected"),
    [
        (401, Scope.ITEM, ReauthenticateError),
        (401, Scope.CONFIG, ReauthenticateError),
        (403, Scope.CONFIG, FixConfigError),
        (403, Scope.ITEM, SkipItemError),
        (400, Scope.ITEM, SkipItemError),
        (404, Scope.ITEM, SkipItemError),
        (404, Scope.CONFIG, FixConfigError),
        (410, Scope.CONFIG, FixConfigError),
        (429, Scope.ITEM, RetryLaterError),
        (500, Scope.ITEM, RetryLaterError),
        (503, Scope.CONFIG, RetryLaterError),
        (409, Scope.ITEM, RetryLaterError),
    ],
)
def test_status_maps_to_the_branch_the_caller_needs(status, scope, expected) -> None:
    body = {"errorMessages": ["Issue does not exist"], "errors": {"summary": "required"}}
    err = error_from_response(_resp(status, body), scope=scope)
    assert type(err) is expected
    assert err.jira is not None and err.jira.status == status
    assert list(err.jira.error_messages) == ["Issue does not exist"]
    assert err.jira.errors == {"summary": "required"}
    assert err.request is not None and err.request.method == "GET"


def test_captcha_403_asks_for_new_credentials() -> None:
    r = _resp(403, None, {"X-Seraph-LoginReason": "AUTHENTICATION_DENIED"})
    assert isinstance(error_from_response(r, scope=Scope.ITEM), ReauthenticateError)


def test_error_never_carries_a_secret() -> None:
    r = _resp(
        500,
        {"errorMessages": ["bad token=abc123secret"]},
        url="https://bot:hunter2@j.test/rest/api/2/search?access_token=xyz",
    )
    text = str(error_from_response(r, scope=Scope.CONFIG))
    assert "hunter2" not in text and "abc123secret" not in text and "xyz" not in text


def test_retry_after_forms() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(httpx.Headers({"Retry-After": "7"}), now=now) == 7
    http_date = "Thu, 01 Jan 2026 12:00:30 GMT"
    assert retry_after_seconds(httpx.Headers({"Retry-After": http_date}), now=now) == 30
    reset = {"X-RateLimit-Reset": "2026-01-01T12:00:05Z"}
    assert retry_after_seconds(httpx.Headers(reset), now=now) == 5
    assert retry_after_seconds(httpx.Headers({"Retry-After": "soon"}), now=now) is None
    assert retry_after_seconds(httpx.Headers({}), now=now) is None


def test_transport_errors() -> None:
    req = httpx.Request("GET", "https://j.test/x")
    assert isinstance(
        error_from_transport(httpx.ReadTimeout("t", request=req), req), RetryLaterError
    )
    assert isinstance(
        error_from_transport(httpx.ConnectError("c", request=req), req), RetryLaterError
    )
    assert isinstance(
        error_from_transport(httpx.UnsupportedProtocol("u", request=req), req), FixConfigError
    )


async def test_5xx_burst_is_retried_with_backoff(make_client, clock) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) <= 3:
            return jira_json(502 if len(calls) % 2 else 503, {"errorMessages": ["down"]})
        return jira_json(200, {"baseUrl": "x", "version": "9.4.0", "deploymentType": "Server"})

    client = make_client(handler)
    info = await client.server_info()
    assert info.version == "9.4.0"
    assert len(calls) == 4
    assert client.stats.retries == 3
    assert client.stats.count(status=502) == 2 and client.stats.count(status=200) == 1
    backoffs = [s for s in clock.sleeps if s > 0]
    assert len(backoffs) == 3
    assert backoffs[0] < 0.11 and backoffs[2] > backoffs[0]  # exponential, jittered


async def test_5xx_forever_gives_retry_later(make_client) -> None:
    client = make_client(lambda r: jira_json(500, {"errorMessages": ["boom"]}))
    with pytest.raises(RetryLaterError) as info:
        await client.server_info()
    assert "boom" in str(info.value)
    assert client.stats.total == 5


async def test_429_storm_waits_exactly_retry_after(make_client, clock) -> None:
    sent_at: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(clock.now)
        if len(sent_at) <= 3:
            return jira_json(
                429, {"errorMessages": ["Rate limit exceeded."]}, {"Retry-After": "10"}
            )
        return jira_json(200, {"accountId": "abc", "displayName": "Bot"})

    client = make_client(handler, flavour="cloud")
    user = await client.myself()
    assert user.account_id == "abc"
    gaps = [b - a for a, b in zip(sent_at, sent_at[1:], strict=False)]
    assert all(g >= 10 for g in gaps), gaps  # never early: Cloud punishes early retries
    assert client.stats.rate_limited == 3


async def test_429_longer_than_policy_goes_to_caller(make_client) -> None:
    client = make_client(lambda r: jira_json(429, {}, {"Retry-After": "3600"}))
    with pytest.raises(RetryLaterError) as info:
        await client.server_info()
    assert info.value.retry_after == 3600


async def test_timeouts_on_reads_are_retried(make_client) -> None:
    n = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal n
        n += 1
        if n < 3:
            raise httpx.ReadTimeout("slow", request=request)
        return jira_json(200, {"name": "bot", "key": "bot"})

    client = make_client(handler)
    assert (await client.myself()).name == "bot"
    assert client.stats.count(status=0) == 2


async def test_create_is_not_repeated_blindly(make_client) -> None:
    posts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        if request.url.path.endswith(("/field", "/issuetype")):
            return jira_json(200, [])
        posts += 1
        raise httpx.ReadTimeout("lost answer", request=request)

    client = make_client(handler)
    with pytest.raises(AmbiguousWriteError):
        await client.create_issue(IssueInput(project_key="A", issue_type="Task", summary="s"))
    assert posts == 1


async def test_create_checks_then_retries(make_client) -> None:
    posts = 0
    checks = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        if request.url.path.endswith(("/field", "/issuetype")):
            return jira_json(200, [])
        posts += 1
        if posts == 1:
            return jira_json(500, {"errorMessages": ["oops"]})
        return jira_json(201, {"id": "10001", "key": "A-1"})

    async def check() -> str | None:
        nonlocal checks
        checks += 1
        return None  # not created: safe to send again

    client = make_client(handler)
    key = await client.create_issue(IssueInput(project_key="A", summary="s"), check=check)
    assert key == "A-1" and posts == 2 and checks == 1


async def test_create_check_finds_the_issue(make_client) -> None:
    posts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        if request.url.path.endswith(("/field", "/issuetype")):
            return jira_json(200, [])
        posts += 1
        raise httpx.ReadTimeout("lost answer", request=request)

    async def check() -> str | None:
        return "A-7"

    client = make_client(handler)
    assert await client.create_issue(IssueInput(summary="s"), check=check) == "A-7"
    assert posts == 1


async def test_create_after_429_is_resent(make_client) -> None:
    posts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal posts
        if request.url.path.endswith(("/field", "/issuetype")):
            return jira_json(200, [])
        posts += 1
        if posts == 1:
            return jira_json(429, {}, {"Retry-After": "1"})
        return jira_json(201, {"id": "1", "key": "A-2"})

    client = make_client(handler)
    assert await client.create_issue(IssueInput(summary="s")) == "A-2"


async def test_item_errors_skip(make_client) -> None:
    client = make_client(lambda r: jira_json(404, {"errorMessages": ["Issue does not exist"]}))
    with pytest.raises(SkipItemError) as info:
        await client.get_issue_raw("A-404")
    assert "Issue does not exist" in str(info.value)
    assert client.stats.total == 1  # never retried


async def test_html_answer_is_a_config_problem(make_client) -> None:
    client = make_client(lambda r: httpx.Response(200, content=b"<html>login</html>"))
    with pytest.raises(FixConfigError):
        await client.server_info()


async def test_bad_base_url() -> None:
    from jirabridge.jira import ServerClient

    with pytest.raises(FixConfigError):
        ServerClient("ftp://nope", auth=None)


async def test_per_issue_429_blocks_only_that_issue(make_client, clock) -> None:
    sent: list[tuple[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(("/field", "/issuetype")):
            return jira_json(200, [])
        key = request.url.path.rsplit("/", 1)[-1]
        sent.append((key, clock.now))
        if key == "A-1" and len([s for s in sent if s[0] == "A-1"]) == 1:
            return jira_json(
                429, {}, {"Retry-After": "5", "RateLimit-Reason": "jira-per-issue-on-write"}
            )
        return httpx.Response(204)

    client = make_client(handler, flavour="cloud")
    await client.edit_issue("A-1", IssueInput(summary="x"))
    first_a1 = [t for k, t in sent if k == "A-1"]
    assert first_a1[1] - first_a1[0] >= 5  # A-1 waited out its Retry-After
    t0 = clock.now
    await client.edit_issue("A-2", IssueInput(summary="y"))
    assert clock.now - t0 < 1  # another issue's writes were never held
