"""End to end: a registered webhook receives the face's payload for a change made over REST."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jirabridge.emulator import create_app
from jirabridge.emulator.infra import InfraOptions
from tests.unit.emulator_http.sites import AUTH, small_site


def receiver(got: list[dict[str, Any]]) -> Starlette:
    async def hook(request: Request) -> Response:
        got.append(await request.json())
        return Response(status_code=204)

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@pytest.mark.parametrize("flavour", ["server", "cloud"])
async def test_issue_created_and_commented_reach_the_receiver(flavour: str) -> None:
    got: list[dict[str, Any]] = []
    options = InfraOptions(
        base_url="http://127.0.0.1:8080", webhook_transport=httpx.ASGITransport(receiver(got))
    )
    app = create_app(flavour, small_site(flavour), options=options)
    api = "/rest/api/3" if flavour == "cloud" else "/rest/api/2"
    await app.infra.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url=app.base_url, auth=AUTH[flavour]
        ) as client:
            registered = await client.post(
                "/rest/webhooks/1.0/webhook",
                json={
                    "name": "test",
                    "url": "http://receiver/hook",
                    "events": ["jira:issue_created", "comment_created"],
                },
            )
            assert registered.status_code in (200, 201), registered.text
            created = await client.post(
                f"{api}/issue",
                json={
                    "fields": {
                        "project": {"key": "DEMO"},
                        "issuetype": {"name": "Task"},
                        "summary": "hook me",
                    }
                },
            )
            key = created.json()["key"]
            bold = {
                "type": "doc",
                "version": 1,
                "content": [
                    {
                        "type": "paragraph",
                        "content": [
                            {"type": "text", "text": "hi "},
                            {"type": "text", "text": "there", "marks": [{"type": "strong"}]},
                        ],
                    }
                ],
            }
            body = bold if flavour == "cloud" else "hi *there*"
            await client.post(f"{api}/issue/{key}/comment", json={"body": body})
            flushed = await client.post("/_emulator/webhooks/flush", json={"timeout": 10})
            assert flushed.status_code == 200, flushed.text
    finally:
        await app.infra.stop()
    events = {p["webhookEvent"]: p for p in got}
    assert events["jira:issue_created"]["issue"]["key"] == key
    assert events["jira:issue_created"]["issue"]["fields"]["summary"] == "hook me"
    # webhook bodies carry wiki strings on both flavours
    assert events["comment_created"]["comment"]["body"] == "hi *there*"
