"""Every JSON body the Cloud client sends validates against Atlassian's OpenAPI request
schema of the operation it calls (platform and Software specs)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from openapi_schema_validator import OAS30WriteValidator

from jirabridge.jira import IssueInput, PlainCodec, RemoteLink
from tests.support.openapi import spec_index

from .conftest import Emu, oauth_setup

CODEC = PlainCodec()


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class SpecCheckingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the emulator; validates JSON bodies against the spec on the way."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.checked: list[str] = []
        self.problems: list[str] = []

    def _check(self, request: httpx.Request) -> None:
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            return
        path = request.url.path
        spec = "software" if path.startswith("/rest/agile/") else "platform"
        index = spec_index(spec)
        template = index.find(request.method, path)
        if template is None:
            self.problems.append(f"{request.method} {path}: not in the {spec} spec")
            return
        operation = index.document["paths"][template][request.method.lower()]
        content = (operation.get("requestBody") or {}).get("content") or {}
        if "application/json" not in content:
            self.problems.append(f"{request.method} {template}: spec takes no JSON body")
            return
        pointer = (
            f"/paths/{_escape(template)}/{request.method.lower()}/requestBody/content/"
            "application~1json/schema"
        )
        validator = OAS30WriteValidator({"$ref": f"{index.uri}#{pointer}"}, registry=index.registry)
        body: Any = json.loads(request.content)
        for error in validator.iter_errors(body):
            self.problems.append(f"{request.method} {template}: {error.message[:160]}")
        self.checked.append(f"{request.method} {template}")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self._check(request)
        return await self.inner.handle_async_request(request)


async def test_cloud_request_bodies_match_the_spec(tmp_path) -> None:
    emu = Emu("cloud")
    try:
        checking = SpecCheckingTransport(emu.transport)
        client = emu.client(transport=checking)
        board = emu.site.create_board("B", project_ref="PRJ")
        me = await client.myself()
        doc = CODEC.to_adf("text\n\nmore")
        key = await client.create_issue(
            IssueInput(
                project_key="PRJ",
                issue_type="Task",
                summary="s",
                description=doc,
                labels=("x",),
                assignee=me,
            )
        )
        other = (
            await client.bulk_create(
                [IssueInput(project_key="PRJ", issue_type="Task", summary="t")]
            )
        )[0].key
        await client.edit_issue(key, IssueInput(summary="s2", environment=doc))
        comment = await client.add_comment(key, doc)
        await client.update_comment(key, comment.id, CODEC.to_adf("edited"))
        target = (await client.transitions(key))[-1]
        await client.transition(key, target.id, comment=doc)
        await client.assign(key, None)
        await client.assign(key, me)
        await client.create_link("Blocks", key, other)
        await client.put_remote_link(key, RemoteLink("https://example.org", "ex", "g:1"))
        await client.set_property(key, "p", {"a": 1})
        _ = [i async for i in client.search("project = PRJ", fields=["summary"])]
        await client.approximate_count("project = PRJ")
        await client.bulk_changelog([key, other], field_ids=["summary"])
        sprint = await client.create_sprint(board.id, "S1", goal="g")
        await client.move_to_sprint(sprint.id, [key])
        await client.move_to_backlog([key])
        _store, auth, _ = await oauth_setup(emu, tmp_path)
        app_client = emu.client(auth=auth(), transport=checking)
        [hook] = await app_client.register_webhooks(
            "http://r.test/h", [(["jira:issue_created"], "project = PRJ")]
        )
        await app_client.refresh_webhooks([hook])
        await app_client.delete_webhooks([hook])
        assert checking.problems == [], "\n".join(checking.problems)
        assert len(set(checking.checked)) >= 15, sorted(set(checking.checked))
    finally:
        await emu.aclose()
