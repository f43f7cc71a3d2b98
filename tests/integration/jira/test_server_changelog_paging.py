"""Server changelog of 250 entries: the embed may be capped; the client pages the rest."""

from __future__ import annotations

import json

import httpx
import pytest

from jirabridge.jira import IssueInput, PaginationLoopError

ENTRIES = 250


class CappedEmbed(httpx.AsyncBaseTransport):
    """Around the emulator: ``expand=changelog`` keeps only the newest ``cap`` entries (as a
    capped site answers, ``total`` unchanged); with ``no_route`` the paged changelog route
    answers 404 (Server versions without it)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, cap: int, *, no_route: bool) -> None:
        self.inner, self.cap, self.no_route = inner, cap, no_route
        self.paged_calls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/changelog"):
            self.paged_calls.append(str(request.url.params.get("startAt")))
            if self.no_route:
                return httpx.Response(404, content=b"<html>Not Found</html>")
        response = await self.inner.handle_async_request(request)
        if "changelog" not in request.url.params.get("expand", ""):
            return response
        await response.aread()
        data = json.loads(response.content)
        block = data.get("changelog") or {}
        histories = block.get("histories") or []
        block["histories"] = histories[-self.cap :]
        block["maxResults"] = self.cap
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, json=data)


async def _issue_with_history(server_emu) -> str:
    client = server_emu.client()
    key = await client.create_issue(IssueInput(project_key="PRJ", issue_type="Task", summary="s0"))
    site = server_emu.site
    for n in range(1, ENTRIES + 1):
        site.edit_issue(site.admin_key, key, {"summary": f"s{n}"})
    return key


def _summaries(log) -> list[tuple[str, str]]:
    return [(i.from_string, i.to_string) for e in log for i in e.items if i.field == "summary"]


EXPECTED = [(f"s{n - 1}", f"s{n}") for n in range(1, ENTRIES + 1)]


async def test_full_embed_needs_no_paging(server_emu) -> None:
    key = await _issue_with_history(server_emu)
    spy = CappedEmbed(server_emu.transport, cap=10_000, no_route=False)
    log = await server_emu.client(transport=spy).changelog(key)
    assert _summaries(log) == EXPECTED
    assert spy.paged_calls == []


async def test_capped_embed_is_completed_through_the_paged_route(server_emu) -> None:
    key = await _issue_with_history(server_emu)
    spy = CappedEmbed(server_emu.transport, cap=100, no_route=False)
    log = await server_emu.client(transport=spy).changelog(key)
    assert len(log) == ENTRIES
    assert _summaries(log) == EXPECTED  # oldest first, none twice, none lost
    assert spy.paged_calls == ["0", "100", "200"]


async def test_capped_embed_without_the_route_fails_loudly(server_emu) -> None:
    key = await _issue_with_history(server_emu)
    spy = CappedEmbed(server_emu.transport, cap=100, no_route=True)
    with pytest.raises(PaginationLoopError, match=r"250 entries but only 100.*HTTP 404"):
        await server_emu.client(transport=spy).changelog(key)
