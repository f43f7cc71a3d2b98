"""A tiny stand-in for the faces: a Starlette app wrapped by Infra, and a webhook receiver."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jirabridge.emulator.infra import Infra, InfraOptions, SystemClock

CLOUD_ID = "11111111-2222-3333-4444-555555555555"


class FakeSite:
    """Just enough of the model's Site: a clock and the three credential checks."""

    def __init__(self) -> None:
        self.clock = SystemClock()
        self.clock.freeze(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        self.users = {"JIRAUSER10000": "alice", "acct-1": "alice@acme.io"}
        self.issues: dict[str, Any] = {}

    def check_password(self, login: str, password: str) -> Any:
        return (
            SimpleNamespace(key="JIRAUSER10000") if (login, password) == ("alice", "pw") else None
        )

    def check_api_token(self, email: str, token: str) -> Any:
        return SimpleNamespace(key="acct-1") if (email, token) == ("alice@acme.io", "tok") else None

    def user_for_personal_token(self, token: str) -> Any:
        return SimpleNamespace(key="JIRAUSER10000") if token == "pat-123" else None


def basic(login: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{login}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@dataclass
class Receiver:
    """Records webhook POSTs; ``answers`` is consumed first, then 200."""

    seen: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            self.seen.append(
                {"path": request.url.path, "headers": dict(request.headers), "body": body}
            )
            return Response(status_code=self.answers.pop(0) if self.answers else 200)

        return Starlette(routes=[Route("/{rest:path}", hook, methods=["POST"])])


def payload_builder(event: Any) -> dict[str, Any] | None:
    if event.get("skip"):
        return None
    return {
        "timestamp": 1767603600000,
        "webhookEvent": event["event"],
        "issue": {
            "id": "10001",
            "key": event["key"],
            "fields": {"project": {"id": "10000", "key": event["key"].split("-")[0]}},
        },
        "changelog": {
            "id": "1",
            "items": [{"field": f, "fieldId": f} for f in event.get("fields", [])],
        },
    }


def jql_matcher(issue_key: str, jql: str, viewer: str | None) -> bool:
    # understands only "project = KEY"
    parts = jql.split("=")
    if len(parts) != 2 or parts[0].strip() != "project":
        from jirabridge.errors import BadInputError

        raise BadInputError("Error in the JQL Query: the query is not valid.")
    return issue_key.split("-")[0] == parts[1].strip()


def face_routes(infra_ref: Callable[[], Infra]) -> list[Route]:
    async def myself(request: Request) -> Response:
        return JSONResponse(
            {
                "key": request.state.user_key,
                "authKind": request.state.auth_kind,
                "viaGateway": request.state.via_gateway,
            }
        )

    async def server_info(request: Request) -> Response:
        return JSONResponse({"version": "9.12.0", "user": request.state.user_key})

    async def edit_issue(request: Request) -> Response:
        return Response(status_code=204)

    async def get_issue(request: Request) -> Response:
        return JSONResponse({"key": request.path_params["issueIdOrKey"]})

    async def create_issue(request: Request) -> Response:
        body = await request.json()
        infra_ref().on_event({"event": "jira:issue_created", "key": body["key"]})
        return JSONResponse({"key": body["key"]}, status_code=201)

    async def busy(request: Request) -> Response:
        return JSONResponse(
            {"errorMessages": ["busy"]}, status_code=503, headers={"Retry-After": "4"}
        )

    routes = []
    for v in ("2", "3"):
        routes += [
            Route(f"/rest/api/{v}/myself", myself),
            Route(f"/rest/api/{v}/serverInfo", server_info),
            Route(f"/rest/api/{v}/issue", create_issue, methods=["POST"]),
            Route(f"/rest/api/{v}/issue/{{issueIdOrKey}}", edit_issue, methods=["PUT"]),
            Route(f"/rest/api/{v}/issue/{{issueIdOrKey}}", get_issue, methods=["GET"]),
            Route(f"/rest/api/{v}/busy", busy),
        ]
    return routes


@dataclass
class Harness:
    infra: Infra
    site: FakeSite
    client: httpx.AsyncClient
    receiver: Receiver


async def _harness(flavour: str, **opts: Any) -> AsyncIterator[Harness]:
    site = FakeSite()
    receiver = Receiver()
    options = InfraOptions(
        base_url="http://jira.test",
        cloud_id=CLOUD_ID,
        jql_matcher=jql_matcher,
        webhook_transport=httpx.ASGITransport(app=receiver.app()),
        **opts,
    )
    infra = Infra(site, flavour, options=options)
    infra.set_payload_builder(payload_builder)
    app = infra.wrap(Starlette(routes=[*infra.routes(), *face_routes(lambda: infra)]))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://jira.test"
    ) as client:
        try:
            yield Harness(infra, site, client, receiver)
        finally:
            await infra.stop()


@pytest.fixture
async def server() -> AsyncIterator[Harness]:
    async for h in _harness("server"):
        yield h


@pytest.fixture
async def cloud() -> AsyncIterator[Harness]:
    async for h in _harness("cloud"):
        yield h
