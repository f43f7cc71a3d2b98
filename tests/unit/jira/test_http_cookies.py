"""JiraHttp keeps the cookies a site sets and sends them back to that site only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from jirabridge.jira._http import JiraHttp


@dataclass
class Site:
    url: str
    cookies: list[bytes | None] = field(default_factory=list)


async def _site(set_cookies: bool) -> tuple[asyncio.Server, Site]:
    site = Site("")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                cookie = None
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"cookie:"):
                        cookie = line.split(b":", 1)[1].strip()
                site.cookies.append(cookie)
                extra = (
                    b"Set-Cookie: JSESSIONID=node1-abc; Path=/\r\n"
                    b"Set-Cookie: AWSALB=sticky-node1; Path=/\r\n"
                    if set_cookies
                    else b""
                )
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + extra
                    + b"Content-Length: 2\r\n\r\n{}"
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    site.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    return server, site


@pytest.fixture
async def sites() -> AsyncIterator[tuple[Site, Site]]:
    jira_server, jira = await _site(set_cookies=True)
    # another host: "localhost" is not the jar's 127.0.0.1
    media_server, media = await _site(set_cookies=False)
    media.url = media.url.replace("127.0.0.1", "localhost")
    yield jira, media
    for server in (jira_server, media_server):
        server.close()


async def test_session_and_affinity_cookies_go_back_to_the_site(sites: tuple[Site, Site]) -> None:
    jira, _ = sites
    http = JiraHttp(jira.url, auth=httpx.BasicAuth("u", "p"))
    for _ in range(3):
        await http.json("GET", "/rest/api/2/myself")
    await http.aclose()
    assert jira.cookies[0] is None  # nothing set yet
    for sent in jira.cookies[1:]:
        assert sent is not None
        assert b"JSESSIONID=node1-abc" in sent and b"AWSALB=sticky-node1" in sent


async def test_a_foreign_host_gets_none_of_the_sites_cookies(sites: tuple[Site, Site]) -> None:
    jira, media = sites
    http = JiraHttp(jira.url, auth=httpx.BasicAuth("u", "p"))
    await http.json("GET", "/rest/api/2/myself")
    await http.request("GET", f"{media.url}/file/1", credentials=False)
    await http.aclose()
    assert media.cookies == [None]
