"""Coalesced issue reads: concurrent get_issue calls of one kind share bulk reads (Cloud
``/issue/bulkfetch``, Server ``/search``) and each caller still gets exactly what its own
GET would give, or that GET's error."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from jirabridge.errors import RetryLaterError, SkipItemError
from jirabridge.jira import IssueInput, PlainCodec, RetryPolicy

from .conftest import Emu

CHANGELOG = ["changelog"]


class Counting(httpx.AsyncBaseTransport):
    """Records every request (method, path, JSON body) and can hold requests at a gate.

    Each request takes a little time, as over a network: in-process ASGI calls would else
    finish without ever letting another task run, and nothing would overlap."""

    def __init__(self, inner: httpx.AsyncBaseTransport, delay: float = 0.002) -> None:
        self.inner = inner
        self.delay = delay
        self.seen: list[tuple[str, str, Any]] = []
        self.gate: asyncio.Event | None = None
        self.fail_bulk_with: int | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.seen.append((request.method, request.url.path, body))
        await asyncio.sleep(self.delay)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_bulk_with is not None and request.method == "POST":
            return httpx.Response(self.fail_bulk_with, json={"errorMessages": ["busy"]})
        return await self.inner.handle_async_request(request)

    def reads(self) -> list[tuple[str, str, Any]]:
        return [r for r in self.seen if "/issue" in r[1] or r[1].endswith("/search")]

    def bulk(self) -> list[tuple[str, str, Any]]:
        return [r for r in self.seen if r[0] == "POST"]

    def singles(self) -> list[str]:
        return [r[1].rsplit("/", 1)[-1] for r in self.seen if r[0] == "GET" and "/issue/" in r[1]]


async def _issues(emu: Emu, count: int, *, edits: int = 2) -> list[str]:
    """``count`` issues, each with ``edits`` changelog entries and two comments."""
    site = emu.site
    plain = emu.client()
    keys = []
    for n in range(count):
        key = await plain.create_issue(
            IssueInput(project_key="PRJ", issue_type="Task", summary=f"issue {n}")
        )
        for e in range(edits):
            site.edit_issue(site.admin_key, key, {"summary": f"issue {n} edit {e}"})
        for c in range(2):
            text = f"comment {c} of {n}"
            site.add_comment(site.admin_key, key, PlainCodec().to_adf(text) if emu.cloud else text)
        keys.append(key)
    await plain.fields()  # the field list is read once per client: leave it out of counts
    return keys


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the condition never came true")


async def _counted(emu: Emu, **kwargs: Any) -> tuple[Any, Counting]:
    spy = Counting(emu.transport)
    kwargs.setdefault("coalesce_reads", True)  # the Server client's default is off
    client = emu.client(transport=spy, **kwargs)
    await client.fields()
    spy.seen.clear()
    return client, spy


async def test_concurrent_reads_share_requests_and_equal_single_gets(emu: Emu) -> None:
    keys = await _issues(emu, 12)
    client, spy = await _counted(emu)
    got = await asyncio.gather(*(client.get_issue(k, expand=CHANGELOG) for k in keys))
    reads = spy.reads()
    assert len(reads) < len(keys)
    assert spy.bulk(), "no bulk read was sent"
    plain = emu.client(coalesce_reads=False)
    for key, issue in zip(keys, got, strict=True):
        alone = await plain.get_issue(key, expand=CHANGELOG)
        assert issue == alone
        assert issue.key == key
        assert len(issue.changelog) == 2
        assert [c.body for c in issue.comments] == [c.body for c in alone.comments]
        assert len(issue.comments) == 2


async def test_a_lone_call_is_one_plain_get(emu: Emu) -> None:
    keys = await _issues(emu, 2)
    client, spy = await _counted(emu)
    issue = await client.get_issue(keys[0], expand=CHANGELOG)
    assert issue.key == keys[0]
    assert spy.reads() == [("GET", f"{client.api}/issue/{keys[0]}", None)]
    # one after the other: each alone, never a bulk read
    await client.get_issue(keys[1])
    assert spy.bulk() == []
    assert spy.singles() == keys


async def test_the_option_off_reads_one_by_one(emu: Emu) -> None:
    keys = await _issues(emu, 5, edits=0)
    client, spy = await _counted(emu, coalesce_reads=False)
    await asyncio.gather(*(client.get_issue(k) for k in keys))
    assert spy.bulk() == []
    assert sorted(spy.singles()) == sorted(keys)


async def test_missing_and_deleted_issues_fail_only_their_callers(emu: Emu) -> None:
    keys = await _issues(emu, 6, edits=1)
    emu.site.delete_issue(emu.site.admin_key, keys[2])
    asked = [*keys, "PRJ-999", "99999"]
    client, spy = await _counted(emu)
    got = await asyncio.gather(
        *(client.get_issue(k, expand=CHANGELOG) for k in asked), return_exceptions=True
    )
    for key, result in zip(asked, got, strict=True):
        if key in (keys[2], "PRJ-999", "99999"):
            assert isinstance(result, SkipItemError), (key, result)
        else:
            assert not isinstance(result, BaseException), (key, result)
            assert result.key == key
    assert spy.bulk(), "no bulk read was sent"
    # the missing ones were asked once more, alone, so their error is the GET's own
    for gone in (keys[2], "PRJ-999", "99999"):
        assert gone in spy.singles()


async def test_a_moved_or_lower_case_key_is_read_alone_and_answers_as_get_does(emu: Emu) -> None:
    keys = await _issues(emu, 4, edits=1)
    site = emu.site
    site.create_project("NEW", "New", site.admin_key)
    site.move_issue(site.admin_key, keys[0], "NEW")
    asked = [keys[0], keys[1].lower(), keys[2], keys[3]]
    client, spy = await _counted(emu)
    got = await asyncio.gather(*(client.get_issue(k, expand=CHANGELOG) for k in asked))
    plain = emu.client(coalesce_reads=False)
    for key, issue in zip(asked, got, strict=True):
        assert issue == await plain.get_issue(key, expand=CHANGELOG)
    assert got[0].key.startswith("NEW-")
    assert got[1].key == keys[1]
    if spy.bulk():
        assert keys[0] in spy.singles()


async def test_cancelling_one_waiter_leaves_the_others(emu: Emu) -> None:
    keys = await _issues(emu, 6, edits=1)
    client, spy = await _counted(emu)
    spy.gate = asyncio.Event()
    tasks = [asyncio.create_task(client.get_issue(k)) for k in keys]
    await _until(lambda: bool(spy.seen))  # the first read is held at the gate; the rest queue
    for _ in range(5):
        await asyncio.sleep(0)
    tasks[3].cancel()
    spy.gate.set()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[3], asyncio.CancelledError)
    for n, result in enumerate(done):
        if n != 3:
            assert not isinstance(result, BaseException), result
            assert result.key == keys[n]
    bulk = spy.bulk()
    assert len(bulk) == 1
    assert keys[3] not in json.dumps(bulk[0][2])  # the cancelled read left the queue


async def test_cancelling_a_waiter_whose_batch_is_sent_leaves_the_others(emu: Emu) -> None:
    keys = await _issues(emu, 5, edits=0)
    client, spy = await _counted(emu)
    spy.gate = asyncio.Event()
    tasks = [asyncio.create_task(client.get_issue(k)) for k in keys]
    await _until(lambda: bool(spy.seen))
    spy.gate.set()
    await _until(lambda: bool(spy.bulk()))  # the single read answered; the rest go in bulk
    spy.gate.clear()
    await asyncio.sleep(0)
    tasks[2].cancel()
    spy.gate.set()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[2], asyncio.CancelledError)
    assert [r.key for n, r in enumerate(done) if n != 2] == [
        k for n, k in enumerate(keys) if n != 2
    ]
    # a later read still works (the lane is free again)
    assert (await client.get_issue(keys[2])).key == keys[2]


async def test_a_bulk_read_failing_for_the_site_fails_its_callers(emu: Emu) -> None:
    keys = await _issues(emu, 4, edits=0)
    retry = RetryPolicy(max_attempts=1, base_delay=0.0, max_delay=0.0)
    client, spy = await _counted(emu, retry=retry)
    spy.fail_bulk_with = 503
    got = await asyncio.gather(*(client.get_issue(k) for k in keys), return_exceptions=True)
    assert not isinstance(got[0], BaseException)  # sent alone, before the others queued
    assert all(isinstance(r, RetryLaterError) for r in got[1:]), got
    assert len(spy.bulk()) == 1  # not repeated once per caller


async def test_a_bulk_read_refused_for_an_item_reason_falls_back_to_single_gets(emu: Emu) -> None:
    keys = await _issues(emu, 4, edits=0)
    client, spy = await _counted(emu)
    spy.fail_bulk_with = 400
    got = await asyncio.gather(*(client.get_issue(k) for k in keys))
    assert [i.key for i in got] == keys
    assert len(spy.bulk()) == 1
    assert sorted(spy.singles()) == sorted(keys)


async def test_get_issues_raw_answers_every_asked_ref(emu: Emu) -> None:
    keys = await _issues(emu, 3, edits=1)
    ids = {k: (await emu.client().get_issue_raw(k))["id"] for k in keys}
    client, spy = await _counted(emu)
    asked = [keys[0], ids[keys[1]], "PRJ-404", keys[2], keys[0]]
    got = await client.get_issues_raw(asked, expand=CHANGELOG)
    assert list(got) == [keys[0], ids[keys[1]], "PRJ-404", keys[2]]
    assert got["PRJ-404"] is None
    assert got[ids[keys[1]]]["key"] == keys[1]  # type: ignore[index]
    plain = emu.client(coalesce_reads=False)
    for ref in (keys[0], keys[2]):
        alone = await plain.get_issue_raw(ref, expand=CHANGELOG)
        assert got[ref]["changelog"] == alone["changelog"]  # type: ignore[index]
        assert got[ref]["fields"]["comment"] == alone["fields"]["comment"]  # type: ignore[index]
    assert len(spy.bulk()) == 1
    assert spy.singles() == ["PRJ-404"]


async def test_server_search_with_a_nonexistent_key_still_answers_the_others() -> None:
    emu = Emu("server")
    try:
        keys = await _issues(emu, 3, edits=0)
        client, spy = await _counted(emu)
        got = await client.get_issues_raw([keys[0], "PRJ-777", keys[1], "123456", keys[2]])
        assert [got[k]["key"] for k in keys] == keys  # type: ignore[index]
        assert got["PRJ-777"] is None and got["123456"] is None
        (bulk,) = spy.bulk()
        assert bulk[1] == "/rest/api/2/search"
        assert bulk[2]["validateQuery"] is False
        assert sorted(spy.singles()) == ["123456", "PRJ-777"]
    finally:
        await emu.aclose()


async def test_cloud_bulk_changelog_cut_at_40_is_read_again_alone() -> None:
    emu = Emu("cloud")
    try:
        keys = await _issues(emu, 3, edits=1)
        long_key = keys[1]
        for n in range(45):
            emu.site.edit_issue(emu.site.admin_key, long_key, {"summary": f"long {n}"})
        client, spy = await _counted(emu)
        got = await client.get_issues_raw(keys, expand=CHANGELOG)
        assert spy.singles() == [long_key]
        assert len(got[long_key]["changelog"]["histories"]) == 46  # type: ignore[index]
        assert got[long_key]["changelog"]["total"] == 46  # type: ignore[index]
    finally:
        await emu.aclose()


# -- the emulators' bulk answers -----------------------------------------------------------


async def _post(emu: Emu, path: str, body: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=emu.transport, base_url=emu.app.base_url) as c:
        return await c.post(path, json=body, auth=emu.admin_auth())


async def test_cloud_bulkfetch_is_in_id_order_once_each_and_caps_the_changelog() -> None:
    emu = Emu("cloud")
    try:
        keys = await _issues(emu, 3, edits=1)
        for n in range(41):
            emu.site.edit_issue(emu.site.admin_key, keys[0], {"summary": f"x {n}"})
        client = emu.client()
        body = {
            "issueIdsOrKeys": [keys[2], keys[0].lower(), keys[0], "PRJ-404"],
            "fields": ["*all"],
            "expand": ["changelog"],
        }
        answer = await client.http.json_object(
            "POST", "/rest/api/3/issue/bulkfetch", json_body=body
        )
        issues = answer.get("issues")
        assert [i["key"] for i in issues] == [keys[0], keys[2]]
        block = issues[0]["changelog"]
        assert (block["total"], block["maxResults"], len(block["histories"])) == (42, 40, 40)
        alone = await client.get_issue_raw(keys[0], expand=CHANGELOG)
        assert block["histories"] == alone["changelog"]["histories"][-40:]
        assert issues[1]["fields"] == (await client.get_issue_raw(keys[2]))["fields"]
        assert answer.get("issueErrors") == []
        bad = await _post(emu, "/rest/api/3/issue/bulkfetch", {"issueIdsOrKeys": keys, "x": 1})
        assert bad.status_code == 400
        too_many = {"issueIdsOrKeys": keys, "properties": ["a", "b", "c", "d", "e", "f"]}
        assert (await _post(emu, "/rest/api/3/issue/bulkfetch", too_many)).status_code == 400
    finally:
        await emu.aclose()


@pytest.mark.parametrize(
    ("validate", "status", "found"),
    [
        (None, 400, None),
        (True, 400, None),
        ("strict", 400, None),
        (False, 200, 2),
        ("warn", 200, 2),
        ("none", 200, 2),
        ("false", 200, 2),
        ("sometimes", 400, None),
    ],
)
async def test_server_search_validate_query(validate: Any, status: int, found: int | None) -> None:
    emu = Emu("server")
    try:
        keys = await _issues(emu, 2, edits=0)
        body: dict[str, Any] = {"jql": f"key in ({keys[0]}, PRJ-404, {keys[1]})"}
        if validate is not None:
            body["validateQuery"] = validate
        answer = await _post(emu, "/rest/api/2/search", body)
        assert answer.status_code == status, answer.text
        if found is not None:
            data = answer.json()
            assert sorted(i["key"] for i in data["issues"]) == keys
            warned = data.get("warningMessages", [])
            if validate == "none":
                assert warned == []
            else:
                assert any("PRJ-404" in w for w in warned)
        else:
            assert "PRJ-404" in answer.text or "validateQuery" in answer.text
        # a negated list with an unknown key still matches nothing, as before
        negated = {"jql": "key not in (PRJ-404)", "validateQuery": "warn"}
        assert (await _post(emu, "/rest/api/2/search", negated)).json()["issues"] == []
    finally:
        await emu.aclose()


async def test_expansions_a_bulk_answer_lacks_are_read_alone(emu: Emu) -> None:
    keys = await _issues(emu, 4, edits=0)
    client, spy = await _counted(emu)
    got = await asyncio.gather(*(client.get_issue_raw(k, expand=["names"]) for k in keys))
    assert all("names" in raw for raw in got)
    assert spy.bulk() == []
    assert sorted(spy.singles()) == sorted(keys)


async def test_one_client_under_two_event_loops() -> None:
    emu = Emu("cloud")
    try:
        keys = await _issues(emu, 4, edits=0)
        client, spy = await _counted(emu)

        def in_new_loop() -> list[str]:
            async def read() -> list[str]:
                return [i.key for i in await asyncio.gather(*(client.get_issue(k) for k in keys))]

            return asyncio.run(read())

        for _ in range(2):
            assert await asyncio.to_thread(in_new_loop) == keys
        assert len(spy.bulk()) == 2
    finally:
        await emu.aclose()


async def test_get_issues_raw_reads_alone_when_the_bulk_read_is_refused(emu: Emu) -> None:
    keys = await _issues(emu, 3, edits=0)
    client, spy = await _counted(emu)
    spy.fail_bulk_with = 400
    got = await client.get_issues_raw([*keys, "PRJ-404"])
    assert [got[k]["key"] for k in keys] == keys  # type: ignore[index]
    assert got["PRJ-404"] is None
    assert len(spy.bulk()) == 1
    assert sorted(spy.singles()) == sorted([*keys, "PRJ-404"])


async def test_server_reads_are_plain_gets_unless_asked(emu: Emu) -> None:
    """Server's bulk read is a search, answered from the index, which on Data Center may
    lag a direct GET: its client coalesces only when told to; Cloud's by default."""
    keys = await _issues(emu, 6)
    spy = Counting(emu.transport)
    client = emu.client(transport=spy)
    await client.fields()
    spy.seen.clear()
    await asyncio.gather(*(client.get_issue(k, expand=CHANGELOG) for k in keys))
    if emu.flavour == "server":
        assert not client.coalesce_reads
        assert not spy.bulk() and len(spy.reads()) == len(keys)
    else:
        assert client.coalesce_reads
        assert spy.bulk()
