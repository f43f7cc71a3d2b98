"""Attachment downloads: the media redirect goes through JiraHttp (retries, translation,
counting, no credentials to a foreign host) and bodies are read with a cap."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from jirabridge.errors import BadInputError, FixConfigError, RetryLaterError, SkipItemError
from jirabridge.jira import Attachment

from .conftest import jira_json

SITE = "https://jira.example.test"
MEDIA = "https://media.example.test"
CONTENT = f"{SITE}/rest/api/3/attachment/content/10"


def _attachment() -> Attachment:
    return Attachment(filename="f.bin", size=3, id="10", content_url=CONTENT)


async def test_relative_location_is_followed_with_credentials(make_client) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/content/10"):
            return httpx.Response(302, headers={"Location": "/media/10?token=t"})
        return httpx.Response(200, content=b"abc")

    client = make_client(handler, flavour="cloud")
    assert await client.download_attachment(_attachment()) == b"abc"
    assert str(seen[1].url) == f"{SITE}/media/10?token=t"
    assert "authorization" in seen[1].headers  # our own site
    assert client.stats.total == 2


async def test_foreign_media_host_gets_no_credentials(make_client) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "jira.example.test":
            return httpx.Response(307, headers={"Location": f"{MEDIA}/file/10"})
        return httpx.Response(200, content=b"payload")

    client = make_client(handler, flavour="cloud")
    assert await client.download_attachment(_attachment()) == b"payload"
    assert "authorization" in seen[0].headers
    assert seen[1].url.host == "media.example.test"
    assert "authorization" not in seen[1].headers
    assert "s3cret" not in repr(seen[1].headers)


async def test_media_host_errors_are_retried_then_translated(make_client) -> None:
    calls = {"media": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "jira.example.test":
            return httpx.Response(302, headers={"Location": f"{MEDIA}/file/10"})
        calls["media"] += 1
        if calls["media"] == 1:
            return httpx.Response(503)
        if calls["media"] == 2:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, content=b"ok")

    client = make_client(handler, flavour="cloud")
    assert await client.download_attachment(_attachment()) == b"ok"
    assert calls["media"] == 3
    assert client.stats.retries == 2
    assert client.stats.count(status=0) == 1

    def down(request: httpx.Request) -> httpx.Response:
        if request.url.host == "jira.example.test":
            return httpx.Response(302, headers={"Location": f"{MEDIA}/file/10"})
        raise httpx.ConnectError("refused", request=request)

    client = make_client(down, flavour="cloud")
    with pytest.raises(RetryLaterError) as info:
        await client.download_attachment(_attachment())
    assert info.value.request is not None
    assert info.value.request.url.startswith(MEDIA)


class _Drip(httpx.AsyncByteStream):
    """A body that never ends: only a cap stops reading it."""

    def __init__(self) -> None:
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.sent += 1024
            yield b"x" * 1024


async def test_body_over_the_cap_stops_early(make_client) -> None:
    stream = _Drip()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=stream)  # no Content-Length: size unknown up front

    client = make_client(handler, max_attachment_bytes=10_000)
    with pytest.raises(SkipItemError, match="larger than the limit of 10000 bytes"):
        await client.download_attachment(_attachment())
    assert stream.sent <= 11 * 1024


async def test_body_at_the_cap_is_kept(make_client) -> None:
    client = make_client(
        lambda r: httpx.Response(200, content=b"y" * 4096), max_attachment_bytes=4096
    )
    assert await client.download_attachment(_attachment()) == b"y" * 4096


async def test_redirect_without_location_is_bad_input(make_client) -> None:
    client = make_client(lambda r: httpx.Response(302), flavour="cloud")
    with pytest.raises(BadInputError, match="without a Location"):
        await client.download_attachment(_attachment())


def test_cap_must_be_positive(make_client) -> None:
    with pytest.raises(FixConfigError, match="max_attachment_bytes"):
        make_client(lambda r: httpx.Response(200), max_attachment_bytes=0)


async def test_every_answer_is_read_with_a_cap(make_client) -> None:
    big = jira_json(200, [{"id": f"customfield_{n}", "name": "x" * 50} for n in range(200)])
    client = make_client(lambda r: big, max_answer_bytes=2_000)
    with pytest.raises(SkipItemError, match="larger than the limit of 2000 bytes"):
        await client.fields()
    roomy = make_client(lambda r: big)  # the default cap is far above any real answer
    assert len(await roomy.fields()) == 200


async def test_gzip_answers_are_decoded_once(make_client) -> None:
    raw = gzip.compress(json.dumps({"version": "9.4.0", "versionNumbers": [9, 4, 0]}).encode())
    client = make_client(
        lambda r: httpx.Response(
            200,
            content=raw,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
    )
    assert (await client.server_info()).version_numbers == (9, 4, 0)
