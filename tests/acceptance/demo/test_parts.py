"""The demo's parts in-process: sites, configuration, canonical text, report, servers."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from jirabridge.demo import ChangeRow, DemoOptions, DemoReport, SiteCalls
from jirabridge.demo._canon import canonical_text
from jirabridge.demo._config import DemoEndpoints, write_config
from jirabridge.demo._script import ScriptContext
from jirabridge.demo._servers import LoopbackServer
from jirabridge.demo._sites import ACTIVE_SPRINT, PROJECT, TRIMMED_TYPES, build_sites
from jirabridge.errors import BadInputError


@pytest.fixture(scope="module")
def sites():
    return build_sites(7)


def test_server_project_is_trimmed_and_cloud_project_starts_empty(sites) -> None:
    server_issues = sites.server.project_issues(PROJECT)
    assert len(server_issues) == 7
    types = {sites.server.issue_types[i.issue_type_id].name for i in server_issues}
    assert types <= set(TRIMMED_TYPES)
    assert len(sites.cloud.project_issues(PROJECT)) == 0
    # the other seeded projects are untouched on both sides
    assert len(sites.server.project_issues("OPS")) == len(sites.cloud.project_issues("OPS")) > 0
    active = [s for s in sites.cloud.sprints.values() if s.name == ACTIVE_SPRINT]
    assert [s.state.value for s in active] == ["active"]


def test_people_have_ids_on_both_sides(sites) -> None:
    alice = sites.person("alice")
    assert alice.server_name == "alice"
    assert alice.cloud_account_id and alice.cloud_account_id != alice.server_key
    hidden = sites.person("dmitri")  # hides the e-mail on Cloud, still mapped
    assert hidden.cloud_account_id
    with pytest.raises(KeyError):
        sites.person("oskar")  # inactive users take no part


def test_repr_of_the_sites_shows_no_credential(sites) -> None:
    text = repr(sites)
    for secret in (sites.server_bot_password, sites.cloud_bot_token):
        assert secret and secret not in text
    for name in ("server_bot_password", "cloud_bot_token", "admin_login", "admin_email"):
        assert f"{name}=" not in text


def test_too_few_issues_is_refused() -> None:
    with pytest.raises(BadInputError, match="at least 1"):
        build_sites(0)


def test_config_holds_references_not_secrets(sites, tmp_path: Path) -> None:
    from jirabridge.sync.config import load_config

    path = write_config(
        tmp_path / "jirabridge.yaml",
        sites,
        DemoEndpoints("http://127.0.0.1:1", "http://127.0.0.1:2", 3, tmp_path / "s.db"),
    )
    text = path.read_text()
    assert sites.server_bot_password not in text
    assert sites.cloud_bot_token not in text
    loaded = load_config(path).config
    assert {s.credential.split(":")[0] for s in loaded.sites.values()} == {"env"}
    pair = loaded.pairs[0]
    assert (pair.server.project, pair.cloud.project) == (PROJECT, PROJECT)
    # every demo person is mapped explicitly (two hide their e-mail on Cloud)
    assert len(pair.users.map) == len(sites.people)


def test_canonical_text_keeps_words_marks_and_who_is_mentioned() -> None:
    doc = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "mention", "attrs": {"id": "u1"}},
                    {"type": "text", "text": " see "},
                    {"type": "text", "text": "this", "marks": [{"type": "strong"}]},
                    {"type": "hardBreak"},
                ],
            },
            {
                "type": "bulletList",
                "content": [
                    {
                        "type": "listItem",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "one"}]}
                        ],
                    }
                ],
            },
        ],
    }
    names = {"u1": "alice"}
    text = canonical_text(doc, lambda i: names.get(i, f"?{i}"))
    assert text == "@alice see *this* / ¶ • one ¶"
    assert canonical_text(doc, lambda i: f"?{i}").startswith("@?u1 ")
    assert canonical_text(None, lambda i: i) == ""
    # an emphasis lost in transit is a difference
    plain = {
        "type": "doc",
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "this"}]}],
    }
    assert canonical_text(plain, str) != canonical_text(
        {
            "type": "doc",
            "content": [
                {
                    "type": "paragraph",
                    "content": [{"type": "text", "text": "this", "marks": [{"type": "em"}]}],
                }
            ],
        },
        str,
    )


def test_a_mention_is_only_someone_on_the_site_that_knows_the_id(sites) -> None:
    ctx = ScriptContext(sites, {})
    chloe = sites.person("chloe")
    assert ctx.who("dc")(chloe.server_name) == "chloe"
    assert ctx.who("cloud")(chloe.server_name) == f"?{chloe.server_name}"
    assert ctx.who("cloud")(chloe.cloud_account_id) == "chloe"
    assert ctx.who("dc")(chloe.cloud_account_id).startswith("?")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"issues": 2}, "at least 3"),
        ({"timeout": 0}, "positive"),
        ({"skip": ("sprint", "moon")}, "unknown change kind"),
    ],
)
def test_bad_options(kwargs, message) -> None:
    with pytest.raises(BadInputError, match=message):
        DemoOptions(**kwargs)


def _row(status: str) -> ChangeRow:
    return ChangeRow("x", "labels", "Cloud", status, None, None)


@pytest.mark.parametrize(
    ("statuses", "pairs", "ok"),
    [
        (("converged", "skipped"), 5, True),
        (("converged", "diverged"), 5, False),
        (("converged", "edit failed"), 5, False),
        (("converged",), 4, False),  # the backfill left an issue unpaired
    ],
)
def test_report_ok_only_when_everything_converged(statuses, pairs, ok) -> None:
    report = DemoReport(
        issues=5,
        backfill_seconds=1.0,
        backfilled_pairs=pairs,
        changes=tuple(_row(s) for s in statuses),
        calls=(SiteCalls("Server", 3, 1),),
        workdir="/tmp/x",
        dead_letters=0,
    )
    assert report.ok is ok
    assert report.to_json()["ok"] is ok


async def test_loopback_server_serves_and_frees_its_port() -> None:
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"hello"})

    server = LoopbackServer("test")
    port = server.port
    await server.start(app, lifespan="off")
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.get(server.url)
        assert answer.text == "hello"
    finally:
        await server.stop()
    await server.stop()  # twice is fine
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_more_issues_than_the_seed_has_are_added() -> None:
    big = build_sites(120)
    issues = big.server.project_issues(PROJECT)
    assert len(issues) == 120
    types = {big.server.issue_types[i.issue_type_id].name for i in issues}
    assert types <= set(TRIMMED_TYPES)
    assert len({i.key for i in issues}) == 120


def test_public_surface_is_curated() -> None:
    import jirabridge.demo as demo

    assert sorted(demo.__all__) == sorted(set(demo.__all__))
    for name in demo.__all__:
        assert getattr(demo, name) is not None
    public = {n for n in vars(demo) if not n.startswith("_")}
    assert public - set(demo.__all__) <= {"annotations"}


def test_cli_help_lists_every_kind_of_change() -> None:
    from typer.testing import CliRunner

    from jirabridge.cli import app
    from jirabridge.demo import KINDS

    result = CliRunner().invoke(app, ["demo", "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    listed = " ".join(result.output.split())
    assert ", ".join(KINDS) + "." in listed


def test_sides_that_agree_on_the_wrong_value_have_not_converged() -> None:
    from jirabridge.demo._script import _expect

    assert _expect("priority", "Highest", "Highest", "Highest") is None
    reverted = _expect("priority", "Medium", "Medium", "Highest")
    assert reverted == "priority: both sides 'Medium', expected 'Highest'"
    split = _expect("priority", "Highest", "Medium", "Highest")
    assert split is not None and "Server 'Highest' vs Cloud 'Medium'" in split
