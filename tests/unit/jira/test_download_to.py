"""Attachments through a file: ``download_attachment_to`` writes the body to a file as it
arrives (from its start again when a retry follows a body cut short), and ``add_attachment``
sends a file (from its start again when it is resent)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator

import httpx
import pytest

from jirabridge.errors import SkipItemError
from jirabridge.jira import Attachment

SITE = "https://jira.example.test"
CONTENT = f"{SITE}/rest/api/2/attachment/content/10"


class CutShort(httpx.AsyncByteStream):
    """A body that breaks after its first part."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"partial-"
        raise httpx.ReadError("connection reset")


async def test_a_body_cut_short_is_written_again_from_the_start(make_client) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(200, stream=CutShort())
        return httpx.Response(200, content=b"the whole file")

    client = make_client(handler)
    att = Attachment(filename="f.bin", size=14, id="10", content_url=CONTENT)
    with tempfile.TemporaryFile() as sink:
        sink.write(b"left over from before, longer than the file")
        assert await client.download_attachment_to(att, sink) == 14
        sink.seek(0)
        assert sink.read() == b"the whole file"
    assert calls == 2


async def test_an_error_answer_is_not_written_to_the_file(make_client) -> None:
    client = make_client(lambda request: httpx.Response(404, json={"errorMessages": ["gone"]}))
    att = Attachment(filename="f.bin", size=3, id="10", content_url=CONTENT)
    with tempfile.TemporaryFile() as sink:
        with pytest.raises(SkipItemError):
            await client.download_attachment_to(att, sink)
        sink.seek(0)
        assert sink.read() == b""


async def test_a_file_past_the_cap_is_refused(make_client) -> None:
    client = make_client(lambda request: httpx.Response(200, content=b"x" * 64))
    client.max_attachment_bytes = 32
    att = Attachment(filename="f.bin", size=64, id="10", content_url=CONTENT)
    with tempfile.TemporaryFile() as sink, pytest.raises(SkipItemError):
        await client.download_attachment_to(att, sink)


async def test_an_upload_from_a_file_is_resent_whole_after_429(make_client) -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        if len(bodies) == 1:
            return httpx.Response(429, headers={"Retry-After": "1"})
        return httpx.Response(200, json=[{"id": "77", "filename": "f.bin", "size": 9}])

    client = make_client(handler)
    with tempfile.SpooledTemporaryFile(max_size=4) as body:
        body.write(b"file body")
        body.seek(5)  # wherever it was left: sent from its start
        [made] = await client.add_attachment("OPS-1", "f.bin", body)
    assert made.id == "77"
    assert len(bodies) == 2
    assert all(b.count(b"file body") == 1 for b in bodies)
