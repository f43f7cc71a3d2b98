"""The emulator's "lost answer" fault: the request is carried out, then the connection drops
before the answer. A comment POST under it is created (with its marker property) while the
caller sees only a transport error; the Jira client reports it as an ambiguous write."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from jirabridge.emulator import create_app
from jirabridge.jira import (
    AmbiguousWriteError,
    CloudClient,
    PlainCodec,
    RetryPolicy,
    ServerClient,
    basic_auth,
    cloud_api_token_auth,
)

DOC = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hi"}]}],
}


@pytest.fixture(params=["server", "cloud"])
def app(request: pytest.FixtureRequest) -> Any:
    app = create_app(request.param)
    site = app.site
    site.create_project("PRJ", "Project", site.admin_key)
    site.create_issue(
        site.admin_key,
        {"project": {"key": "PRJ"}, "issuetype": {"name": "Task"}, "summary": "one"},
    )
    return app


async def _control(app: Any, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=app.base_url
    ) as c:
        return await c.post("/_emulator/faults", json=body)


def _client(app: Any) -> Any:
    cloud = app.site.flavour.value == "cloud"
    cls: Any = CloudClient if cloud else ServerClient
    auth = cloud_api_token_auth("admin@jirabridge.test", "admin") if cloud else None
    return cls(
        app.base_url,
        auth=auth or basic_auth("admin", "admin"),
        transport=httpx.ASGITransport(app=app),
        codec=PlainCodec(),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02),
    )


async def test_a_lost_answer_post_is_done_and_reported_ambiguous(app: Any) -> None:
    set_up = await _control(
        app, {"lostAnswers": [{"rate": 1, "pattern": "*/comment", "method": "POST"}]}
    )
    assert set_up.status_code == 200
    assert set_up.json()["lostAnswers"] == [{"rate": 1.0, "pattern": "*/comment", "method": "POST"}]
    client = _client(app)
    try:
        with pytest.raises(AmbiguousWriteError):
            await client.add_comment("PRJ-1", DOC, properties={"jirabridge.origin": {"c": "7"}})
        # it happened exactly once (not resent), marker included; reads are unaffected
        listed = [c async for c in client.comments("PRJ-1", properties=True)]
        assert [c.properties for c in listed] == [{"jirabridge.origin": {"c": "7"}}]
    finally:
        await client.aclose()


async def test_lost_answers_are_cleared_and_checked(app: Any) -> None:
    bad = await _control(app, {"lostAnswers": [{"rate": 2}]})
    assert bad.status_code == 400
    unknown = await _control(app, {"lostAnswers": [{"rate": 1, "hang": 3}]})
    assert unknown.status_code == 400
    await _control(app, {"lostAnswers": [{"rate": 1, "method": "POST"}]})
    cleared = await _control(app, {"clear": True})
    assert cleared.json()["lostAnswers"] == []
    client = _client(app)
    try:
        made = await client.add_comment("PRJ-1", DOC)
        assert made.id is not None
    finally:
        await client.aclose()
