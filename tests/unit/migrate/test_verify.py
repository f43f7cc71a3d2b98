from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from jirabridge.errors import BadInputError, FixConfigError, ReauthenticateError, RetryLaterError
from jirabridge.jira import PaginationLoopError
from jirabridge.markup import wiki_to_adf
from jirabridge.migrate._api_reader import ApiSnapshotReader
from jirabridge.migrate._digest import adf_words, wiki_words
from jirabridge.migrate._verify import BackupSnapshotReader, DifferenceKind, verify
from tests.unit.migrate.fakesite import FakeSite


def _cloud(site: FakeSite, **kw) -> ApiSnapshotReader:
    return ApiSnapshotReader(
        "https://acme.atlassian.net",
        cloud=site.cloud,
        email_or_user="me@acme.io",
        token="t0ken",
        transport=site.transport(),
        **kw,
    )


async def test_backup_against_itself_has_no_differences(real_backup: Path) -> None:
    a, b = BackupSnapshotReader(real_backup), BackupSnapshotReader(real_backup)
    try:
        report = await verify(a, b)
    finally:
        a.close()
        b.close()
    assert report.ok and report.exit_code == 0
    assert (report.projects, report.issues_source, report.issues_target) == (1, 3, 3)


@pytest.mark.parametrize("cloud", [True, False])
async def test_faithful_import_verifies_clean(make_backup, cloud: bool) -> None:
    backup = make_backup(issues_per_project=5, comments_per_issue=3)
    site = FakeSite.from_backup(backup, cloud=cloud)
    source = BackupSnapshotReader(backup)
    async with _cloud(site, page_size=2) as target:
        report = await verify(source, target)
    source.close()
    assert report.ok, report.render_text()
    assert report.issues_source == report.issues_target == 10
    assert "no differences" in report.render_text()


async def test_every_kind_of_loss_is_listed(make_backup) -> None:
    backup = make_backup(issues_per_project=5, comments_per_issue=3)
    site = FakeSite.from_backup(backup)
    del site.issues["PA-2"]  # an issue lost
    site.issues["PA-3"]["fields"]["summary"] = "changed"  # content changed
    site.comments["PA-4"].pop()  # a comment lost
    site.issues["PB-1"]["fields"]["attachment"] = []  # attachment lost
    site.projects.append({"key": "ZZ", "name": "Cloud only"})
    site.projects[1]["name"] = "Renamed"
    site.issues["PA-5"]["fields"]["status"] = {"name": "Done"}  # workflow state changed
    source = BackupSnapshotReader(backup)
    async with _cloud(site) as target:
        report = await verify(source, target)
    source.close()
    found = {(d.kind, d.key) for d in report.differences}
    assert found == {
        (DifferenceKind.ISSUE_MISSING, "PA-2"),
        (DifferenceKind.ISSUE_COUNT, "PA"),
        (DifferenceKind.CONTENT, "PA-3"),
        (DifferenceKind.COMMENTS, "PA-4"),
        (DifferenceKind.ATTACHMENTS, "PB-1"),
        (DifferenceKind.PROJECT_EXTRA, "ZZ"),
        (DifferenceKind.PROJECT_NAME, "PB"),
        (DifferenceKind.FIELDS, "PA-5"),
    }
    assert report.exit_code == 1
    fields = next(d for d in report.differences if d.kind is DifferenceKind.FIELDS)
    assert fields.detail == "status 'To Do' -> 'Done'"
    comments = next(d for d in report.differences if d.kind is DifferenceKind.COMMENTS)
    assert comments.detail == "3 comment(s) -> 2"
    attach = next(d for d in report.differences if d.kind is DifferenceKind.ATTACHMENTS)
    assert "file-5-0.bin" in attach.detail  # PB-1 is the 6th issue


async def test_retries_429_then_reads(make_backup) -> None:
    backup = make_backup()
    site = FakeSite.from_backup(backup)
    site.fail["/rest/api/3/project/search"] = [429, 503]
    async with _cloud(site) as target:
        projects = [p async for p in target.projects()]
    assert [p.key for p in projects] == ["PA", "PB"]
    assert site.calls.count("GET /rest/api/3/project/search") == 3


@pytest.mark.parametrize(
    ("status", "error"), [(500, RetryLaterError), (404, FixConfigError), (400, FixConfigError)]
)
async def test_http_errors_are_translated(make_backup, status: int, error: type) -> None:
    site = FakeSite.from_backup(make_backup())
    site.fail["/rest/api/3/project/search"] = [status] * 10
    async with _cloud(site) as target:
        with pytest.raises(error):
            [p async for p in target.projects()]


async def test_missing_credentials_ask_for_reauthentication(make_backup) -> None:
    site = FakeSite.from_backup(make_backup())
    reader = ApiSnapshotReader("https://x.atlassian.net", cloud=True, transport=site.transport())
    async with reader:
        with pytest.raises(ReauthenticateError):
            [p async for p in reader.projects()]


async def test_repeated_page_token_is_a_loop(make_backup) -> None:
    site = FakeSite.from_backup(make_backup(issues_per_project=6))
    site.repeat_token = True
    async with _cloud(site, page_size=2) as target:
        with pytest.raises(PaginationLoopError, match="page token it had already given"):
            [i async for i in target.issues()]


async def test_broken_backup_is_refused(make_backup) -> None:
    from jirabridge.migrate.synth import Defect

    reader = BackupSnapshotReader(make_backup(Defect.MALFORMED_XML))
    with pytest.raises(BadInputError, match="not well-formed"):
        [p async for p in reader.projects()]
    reader.close()


@pytest.mark.parametrize(
    "wiki",
    [
        "h1. Title\nSee [the docs|https://x.io/a] and [~bob] *bold* _it_",
        "* one\n* two\n{code}x = 1{code}\nhttps://jira.acme.io/browse/X-1 done",
        "выполнить все ß 日志",
    ],
)
def test_wiki_and_its_adf_have_the_same_words(wiki: str) -> None:
    assert wiki_words(wiki) == adf_words(wiki_to_adf(wiki))


def test_words_differ_when_text_differs() -> None:
    assert wiki_words("deploy now") != adf_words(wiki_to_adf("deploy later"))


async def test_cloud_groups_from_the_api_drive_escalation_checks(make_backup) -> None:
    from jirabridge.migrate import CheckOptions, Severity, check_backup

    site = FakeSite.from_backup(make_backup())
    site.groups = {
        "administrators": {"site-admin", "admin", "user"},
        "jira-software-users": {"user"},
        "developers": {"admin", "user"},
        "cloud-only": set(),
    }
    for n in range(60):  # more than one page
        site.groups[f"team-{n:02d}"] = {"user"}
    async with _cloud(site) as reader:
        groups = await reader.cloud_groups()
    by_name = {g.name: g for g in groups}
    assert len(groups) == 64
    assert by_name["developers"].permissions == {"ADMIN", "USER"}
    assert by_name["cloud-only"].permissions_known and not by_name["cloud-only"].permissions
    report = check_backup(make_backup(), CheckOptions(cloud_groups=groups))
    escalations = {f.data["group"]: f for f in report.findings if f.rule == "GRP003"}
    # jira-administrators (SYSTEM_ADMIN on the server) and jira-software-users (licensed)
    # gain nothing; developers gains product admin and access
    assert set(escalations) == {"developers"}
    assert escalations["developers"].severity is Severity.BLOCKER
    assert escalations["developers"].data["gained"] == ["ADMIN", "USER"]


async def test_comments_embedded_in_search_need_no_extra_requests(make_backup) -> None:
    backup = make_backup(comments_per_issue=3)
    site = FakeSite.from_backup(backup)
    site.embed_comments = True
    site.comments["PA-1"].pop()  # still detected through the embedded comments
    source = BackupSnapshotReader(backup)
    async with _cloud(site) as target:
        report = await verify(source, target)
    source.close()
    assert [(d.kind, d.key) for d in report.differences] == [(DifferenceKind.COMMENTS, "PA-1")]
    assert not [c for c in site.calls if c.endswith("/comment")]


@pytest.mark.parametrize(
    ("cloud", "answer"),
    [
        (False, {"projects": []}),  # Server lists projects as a JSON list
        (False, [{"name": "no key"}]),
        (True, [{"key": "PA"}]),  # Cloud pages them in an object
        (True, {"values": [{"key": 7.5}], "isLast": True}),
    ],
    ids=repr,
)
async def test_odd_project_answers_are_bad_input(cloud: bool, answer: object) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer)

    reader = ApiSnapshotReader(
        "https://x.test", cloud=cloud, bearer="b", transport=httpx.MockTransport(handler)
    )
    async with reader:
        with pytest.raises(BadInputError) as info:
            [p async for p in reader.projects()]
    assert info.value.request is not None and info.value.request.url.startswith("https://x.test")
