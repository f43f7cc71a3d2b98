"""Cloud attachments have Media Services file ids: ``/attachment/content/{id}`` answers 303 to
the media file (whose URL carries the id), wiki ``!name!`` written through Cloud v2 reads back
through v3 as a ``media`` node with that id, and clients that download attachments still work."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from atlassian import Jira as AtlassianJira
from jira import JIRA

from jirabridge.emulator import create_app
from jirabridge.emulator.model import Site
from jirabridge.jira import CloudClient
from tests.support.served import base_url_of, bound_socket, serve_on
from tests.unit.emulator_http.sites import AUTH, small_site

MEDIA = re.compile(r"^(?P<base>.+)/media/file/(?P<id>[0-9a-f-]{36})/binary\?")


@pytest.fixture
def app() -> Any:
    return create_app("cloud", small_site("cloud"))


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=app.base_url, auth=AUTH["cloud"]
    ) as c:
        yield c


async def attach(client: httpx.AsyncClient, key: str, name: str, data: bytes) -> str:
    response = await client.post(
        f"/rest/api/3/issue/{key}/attachments",
        files={"file": (name, data, "image/png")},
        headers={"X-Atlassian-Token": "no-check"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()[0]["id"])


def media_ids(adf: Any) -> list[str]:
    found: list[str] = []
    stack = [adf]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "media":
                found.append(node["attrs"]["id"])
            stack.extend(reversed(node.get("content") or []))
    return found


async def test_content_redirects_to_the_media_file_which_serves_the_bytes(
    app: Any, client: httpx.AsyncClient
) -> None:
    aid = await attach(client, "DEMO-1", "shot.png", b"\x89PNG one")
    media_id = app.site.get_attachment(aid).media_id
    assert str(uuid.UUID(media_id)) == media_id  # a UUID, not the attachment id

    for api in ("/rest/api/3", "/rest/api/2"):
        answer = await client.get(f"{api}/attachment/content/{aid}")
        assert answer.status_code == 303
        assert answer.content == b""
        found = MEDIA.match(answer.headers["location"])
        assert found is not None, answer.headers["location"]
        assert found["id"] == media_id and found["base"] == app.base_url
        file = await client.get(answer.headers["location"])
        assert (file.status_code, file.content) == (200, b"\x89PNG one")

    direct = await client.get(f"/rest/api/3/attachment/content/{aid}?redirect=false")
    assert (direct.status_code, direct.content) == (200, b"\x89PNG one")
    assert direct.headers["content-type"].startswith("image/png")


async def test_every_attachment_has_its_own_media_id_and_bad_ids_are_refused(
    app: Any, client: httpx.AsyncClient
) -> None:
    first = await attach(client, "DEMO-1", "a.png", b"a")
    second = await attach(client, "DEMO-1", "a.png", b"b")  # same name, another file
    ids = {app.site.get_attachment(a).media_id for a in (first, second)}
    assert len(ids) == 2 and None not in ids

    unknown = await client.get(f"/media/file/{uuid.UUID(int=7, version=4)}/binary")
    assert unknown.status_code == 404
    assert (await client.get("/rest/api/3/attachment/content/99999")).status_code == 404
    # a deleted attachment's media file is gone with it
    location = (await client.get(f"/rest/api/3/attachment/content/{first}")).headers["location"]
    assert (await client.delete(f"/rest/api/3/attachment/{first}")).status_code == 204
    assert (await client.get(location)).status_code == 404


def test_media_ids_follow_the_seed_and_survive_save_and_load(tmp_path: Path) -> None:
    def one(seed: int) -> Site:
        site = Site("cloud", seed=seed)
        project = site.create_project("M", "Media", site.admin_key)
        issue = site.create_issue(
            site.admin_key, {"project": project.id, "issuetype": "Task", "summary": "s"}
        )
        site.add_attachment(site.admin_key, issue.id, "f.png", b"x")
        return site

    site = one(5)
    [att] = site.attachments.values()
    assert att.media_id == one(5).attachments[att.id].media_id  # same seed: same id
    assert att.media_id != one(6).attachments[att.id].media_id
    site.save(tmp_path / "state.gz")
    loaded = Site.load(tmp_path / "state.gz")
    assert loaded.attachments[att.id].media_id == att.media_id
    assert att.media_id is not None
    assert loaded.attachment_by_media_id(att.media_id).content == b"x"

    server = Site("server")
    project = server.create_project("M", "Media", server.admin_key)
    issue = server.create_issue(
        server.admin_key, {"project": project.id, "issuetype": "Task", "summary": "s"}
    )
    assert server.add_attachment(server.admin_key, issue.id, "f.png", b"x").media_id is None


def test_a_state_saved_before_media_ids_gives_the_ids_they_would_have_had() -> None:
    site = Site("cloud", seed=3)
    project = site.create_project("M", "Media", site.admin_key)
    issue = site.create_issue(
        site.admin_key, {"project": project.id, "issuetype": "Task", "summary": "s"}
    )
    att = site.add_attachment(site.admin_key, issue.id, "f.png", b"x")
    state = site.to_state()
    [[_, record]] = state["stores"]["attachments"]["$map"]
    del record["f"]["media_id"]  # as version 1 files written before media ids hold them
    old = Site("cloud")
    old.restore(state)
    assert old.attachments[att.id].media_id is None
    assert att.media_id is not None
    assert old.attachment_by_media_id(att.media_id).id == att.id
    assert old.media_id_of(old.attachments[att.id]) == att.media_id


async def test_wiki_written_through_v2_embeds_the_issue_file_by_media_id(
    app: Any, client: httpx.AsyncClient
) -> None:
    await attach(client, "DEMO-1", "shot.png", b"old")
    newest = await attach(client, "DEMO-1", "shot.png", b"new")  # !shot.png! shows the newest
    other = await attach(client, "DEMO-2", "other.png", b"o")
    media_id = app.site.get_attachment(newest).media_id
    wiki = "look !shot.png! and !missing.png!"
    put = await client.put("/rest/api/2/issue/DEMO-1", json={"fields": {"description": wiki}})
    assert put.status_code == 204, put.text

    adf = (await client.get("/rest/api/3/issue/DEMO-1?fields=description")).json()
    # a file the issue does not have keeps its name (another issue's file is not taken)
    assert media_ids(adf["fields"]["description"]) == [media_id, "missing.png"]
    v2 = (await client.get("/rest/api/2/issue/DEMO-1?fields=description")).json()
    assert "!shot.png!" in v2["fields"]["description"]
    assert "!missing.png!" in v2["fields"]["description"]

    posted = await client.post("/rest/api/2/issue/DEMO-2/comment", json={"body": "!other.png!"})
    assert posted.status_code == 201, posted.text
    comment = (await client.get(f"/rest/api/3/issue/DEMO-2/comment/{posted.json()['id']}")).json()
    assert media_ids(comment["body"]) == [app.site.get_attachment(other).media_id]


async def test_our_client_downloads_through_the_redirect(app: Any) -> None:
    transport = httpx.ASGITransport(app)
    cloud = CloudClient(app.base_url, auth=httpx.BasicAuth(*AUTH["cloud"]), transport=transport)
    try:
        key = "DEMO-1"
        [made] = await cloud.add_attachment(key, "n.bin", b"bytes", "application/octet-stream")
        assert await cloud.download_attachment(made) == b"bytes"
        assert made.id is not None
        via_api = await cloud.download_attachment(made.id)
        assert via_api == b"bytes"
    finally:
        await cloud.aclose()


def test_pypi_clients_follow_the_redirect() -> None:
    sock = bound_socket()
    app = create_app("cloud", small_site("cloud"), base_url=base_url_of(sock))
    with serve_on(app, sock) as url:
        lib = JIRA(server=url, basic_auth=AUTH["cloud"])
        try:
            made = lib.add_attachment("DEMO-1", attachment=io.BytesIO(b"notes"), filename="n.txt")
            assert made.get() == b"notes"
            answer = lib._session.get(f"{url}/rest/api/3/attachment/content/{made.id}")
            assert answer.status_code == 200 and answer.content == b"notes"
            assert "/media/file/" in answer.url
        finally:
            lib.close()
        user, secret = AUTH["cloud"]
        other = AtlassianJira(url=url, username=user, password=secret, cloud=True)
        answer = other.get(f"rest/api/3/attachment/content/{made.id}", not_json_response=True)
        assert answer == b"notes"
