"""verify against the Jira emulators: a backup 'imported' into an emulated Cloud site (and
Server site) verifies clean; changes made over REST afterwards are each listed."""

from __future__ import annotations

import zipfile
from pathlib import Path

import httpx
import pytest
from lxml import etree

from jirabridge.emulator import create_app
from jirabridge.emulator.model import Flavour, Site
from jirabridge.errors import FixConfigError
from jirabridge.markup import wiki_to_adf
from jirabridge.migrate import (
    ApiSnapshotReader,
    BackupSnapshotReader,
    DifferenceKind,
    verify,
)
from jirabridge.migrate.synth import SynthSpec, write_backup_zip

BASE = "http://127.0.0.1:8080"


def _import(site: Site, backup: Path) -> None:
    """Do what Site Import does with the parts verify compares."""
    cloud = site.flavour is Flavour.CLOUD
    with zipfile.ZipFile(backup) as zf:
        root = etree.fromstring(zf.read("entities.xml"))
    admin = site.admin_key
    projects = {e.get("id"): e for e in root if e.tag == "Project"}
    for p in projects.values():
        site.create_project(p.get("key"), p.get("name"), admin)
    keys = {}
    issues = sorted((e for e in root if e.tag == "Issue"), key=lambda e: int(e.get("id")))
    for e in issues:
        desc = e.findtext("description") or ""
        issue = site.create_issue(
            admin,
            {
                "project": {"key": projects[e.get("project")].get("key")},
                "summary": e.get("summary"),
                "issuetype": {"name": "Task"},
                "description": wiki_to_adf(desc) if cloud else desc,
            },
        )
        assert issue.key == e.get("key")
        keys[e.get("id")] = issue.key
    for e in root:
        if e.tag == "Action" and e.get("type") == "comment":
            body = e.findtext("body") or e.get("body") or ""
            site.add_comment(admin, keys[e.get("issue")], wiki_to_adf(body) if cloud else body)
        elif e.tag == "FileAttachment":
            size = int(e.get("filesize"))
            site.add_attachment(admin, keys[e.get("issue")], e.get("filename"), b"a" * size)


@pytest.fixture
def backup(tmp_path: Path) -> Path:
    spec = SynthSpec(projects=2, issues_per_project=5, comments_per_issue=2, attachment_size=300)
    return write_backup_zip(tmp_path / "backup.zip", spec)


def _reader(site: Site, *, page_size: int = 100) -> tuple[ApiSnapshotReader, object]:
    cloud = site.flavour is Flavour.CLOUD
    app = create_app(site.flavour, site, base_url=BASE)
    user = site.users[site.admin_key]
    login = user.email if cloud else user.name
    secret = next(iter(user.api_tokens)) if cloud else user.password
    reader = ApiSnapshotReader(
        BASE,
        cloud=cloud,
        email_or_user=login,
        token=secret,
        transport=httpx.ASGITransport(app),
        page_size=page_size,
    )
    return reader, app


async def test_imported_backup_verifies_clean_then_changes_are_listed(backup: Path) -> None:
    site = Site(Flavour.CLOUD)
    _import(site, backup)
    reader, app = _reader(site, page_size=3)
    source = BackupSnapshotReader(backup)
    try:
        async with reader:
            report = await verify(source, reader)
            assert report.ok, report.render_text()
            assert report.issues_source == report.issues_target == 10
            # change the Cloud site over its REST API, as users would after the import
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app),  # type: ignore[arg-type]
                base_url=BASE,
                auth=(
                    site.users[site.admin_key].email,
                    next(iter(site.users[site.admin_key].api_tokens)),
                ),
            ) as http:
                comments = (await http.get("/rest/api/3/issue/PA-2/comment")).json()["comments"]
                r = await http.delete(f"/rest/api/3/issue/PA-2/comment/{comments[0]['id']}")
                assert r.status_code == 204, r.text
                r = await http.put("/rest/api/3/issue/PB-3", json={"fields": {"summary": "edited"}})
                assert r.status_code == 204, r.text
                r = await http.delete("/rest/api/3/issue/PB-5")
                assert r.status_code == 204, r.text
                moves = (await http.get("/rest/api/3/issue/PA-1/transitions")).json()
                done = next(t for t in moves["transitions"] if t["to"]["name"] == "Done")
                r = await http.post(
                    "/rest/api/3/issue/PA-1/transitions", json={"transition": {"id": done["id"]}}
                )
                assert r.status_code == 204, r.text
            after = await verify(source, reader)
    finally:
        source.close()
    found = {(d.kind, d.key) for d in after.differences}
    assert found == {
        (DifferenceKind.COMMENTS, "PA-2"),
        (DifferenceKind.CONTENT, "PB-3"),
        (DifferenceKind.ISSUE_MISSING, "PB-5"),
        (DifferenceKind.ISSUE_COUNT, "PB"),
        (DifferenceKind.FIELDS, "PA-1"),
    }


async def test_server_api_source_against_cloud(backup: Path) -> None:
    server, cloud = Site(Flavour.SERVER), Site(Flavour.CLOUD)
    _import(server, backup)
    _import(cloud, backup)
    source, _ = _reader(server, page_size=2)  # key-ordered pages: issuekey > PA-2 ...
    target, _ = _reader(cloud)
    async with source, target:
        report = await verify(source, target)
    assert report.ok, report.render_text()
    assert report.issues_source == 10


async def test_cloud_groups_from_the_cloud_emulator() -> None:
    site = Site(Flavour.CLOUD)
    for n in range(60):  # more than one page of 50
        site.create_group(f"team-{n:02d}")
    reader, _ = _reader(site)
    async with reader:
        groups = await reader.cloud_groups()
        stats = reader.stats
    assert [g.name for g in groups] == sorted(site.groups)
    assert len(groups) >= 60
    assert all(g.permissions_known for g in groups)
    # the emulator ignores ``accessType``: what it grants is not asserted here; the four
    # passes (all, site-admin, admin, user) each page through /group/bulk
    assert stats.count(endpoint="/rest/api/3/group/bulk", status=200) == 4 * 2


async def test_cloud_groups_need_a_cloud_site() -> None:
    reader, _ = _reader(Site(Flavour.SERVER))
    async with reader:
        with pytest.raises(FixConfigError, match="Cloud site only"):
            await reader.cloud_groups()
