"""``CloudClient.media_id``: the media file id of an attachment, read from the 303 of
``/attachment/content/{id}`` (one call, the redirect not followed)."""

from __future__ import annotations

import httpx
import pytest

from jirabridge.emulator import create_app
from jirabridge.errors import BadInputError, SkipItemError
from jirabridge.jira import Attachment, CloudClient
from tests.unit.emulator_http.sites import AUTH, small_site

SITE = "https://acme.atlassian.net"
UUID = "4f2a1c3e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"


def client_for(handler: httpx.MockTransport | httpx.ASGITransport, base: str = SITE) -> CloudClient:
    return CloudClient(base, auth=httpx.BasicAuth(*AUTH["cloud"]), transport=handler)


async def test_the_emulator_media_id_is_read_from_the_redirect_in_one_call() -> None:
    app = create_app("cloud", small_site("cloud"))
    cloud = client_for(httpx.ASGITransport(app), app.base_url)
    try:
        [made] = await cloud.add_attachment("DEMO-1", "shot.png", b"png", "image/png")
        before = cloud.stats.total
        media_id = await cloud.media_id(made)
        assert cloud.stats.total == before + 1
        assert made.id is not None
        assert media_id == app.site.get_attachment(made.id).media_id
        assert await cloud.media_id(made.id) == media_id
        with pytest.raises(SkipItemError):
            await cloud.media_id("99999")
    finally:
        await cloud.aclose()


@pytest.mark.parametrize(
    ("status", "location", "expected"),
    [
        (303, f"https://api.media.atlassian.com/file/{UUID}/binary?token=t&dl=true", UUID),
        (302, f"https://api.media.atlassian.com/file/{UUID.upper()}/binary", UUID),
        (303, "https://api.media.atlassian.com/file/not-a-uuid/binary", None),
        (303, f"https://elsewhere.example/{UUID}", None),
        (303, "", None),
        (200, "", None),  # answered with the bytes: no media id to be seen
    ],
)
async def test_what_the_redirect_says(status: int, location: str, expected: str | None) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        headers = {"Location": location} if location else {}
        return httpx.Response(status, headers=headers, content=b"x" if status == 200 else b"")

    cloud = client_for(httpx.MockTransport(handler))
    try:
        assert await cloud.media_id(Attachment(filename="f", size=1, id="10010")) == expected
    finally:
        await cloud.aclose()
    [request] = seen  # never followed
    assert request.url.path == "/rest/api/3/attachment/content/10010"
    assert "redirect" not in request.url.params


@pytest.mark.parametrize("bad", [None, "", "12a", "../10", "²"])
async def test_bad_attachment_ids_are_refused_before_any_call(bad: str | None) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no call expected")

    cloud = client_for(httpx.MockTransport(handler))
    try:
        with pytest.raises(BadInputError):
            await cloud.media_id(Attachment(filename="f", size=1, id=bad) if bad is None else bad)
    finally:
        await cloud.aclose()
