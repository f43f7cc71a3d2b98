"""``jirabridge backfill --dry-run [--json]`` and the progress bar, end to end on emulators."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from jirabridge.cli import app
from jirabridge.emulator import create_app
from jirabridge.jira import IssueInput, basic_auth
from jirabridge.sync import runner as runner_module
from jirabridge.sync.config import SiteConfig
from jirabridge.sync.engine import SiteClient

from .test_apply_emulator import BASE_C, BASE_S, client, doc
from .test_runner import write_config


@pytest.fixture
def sites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, Any]:
    server = create_app("server", base_url=BASE_S)
    cloud = create_app("cloud", base_url=BASE_C)
    s_bot = server.site.create_user(
        "Bot", name="svc-jirabridge", password="pw", groups=["jira-administrators"]
    )
    server.site.create_user("Alice", name="alice", password="pw", groups=["jira-users"])
    c_bot = cloud.site.create_user(
        "Bot", email="bot@acme.io", api_token="tok", groups=["site-admins", "jira-admins"]
    )
    server.site.create_project("OPS", "Ops", server.site.admin_key)
    cloud.site.create_project("OPS", "Ops", cloud.site.admin_key)
    transports = {"srv": httpx.ASGITransport(app=server), "cld": httpx.ASGITransport(app=cloud)}
    real = runner_module.client_for_site

    def with_transport(site: SiteConfig, resolve: Any, name: str | None = None) -> SiteClient:
        return real(site, resolve, transport=transports[name or ""], name=name)

    monkeypatch.setattr(runner_module, "client_for_site", with_transport)
    monkeypatch.setenv("SRV_PW", "pw")
    monkeypatch.setenv("CLD_TOKEN", "tok")
    monkeypatch.delenv("JIRABRIDGE_STORE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")

    async def seed() -> str:
        alice = client("server", server, basic_auth("alice", "pw"))
        try:
            key: str = await alice.create_issue(
                IssueInput(project_key="OPS", issue_type="Task", summary="seeded")
            )
            await alice.add_comment(key, doc("[red]not markup[/red] please"))
            return key
        finally:
            await alice.aclose()

    key = asyncio.run(seed())
    path = tmp_path / "jirabridge.yaml"
    write_config(path, s_bot.key, c_bot.key)
    return path, key, cloud


def test_dry_run_json_then_plain_then_real(sites: tuple[Path, str, Any], tmp_path: Path) -> None:
    path, key, _ = sites
    url = f"sqlite:///{tmp_path / 'state.db'}"
    cli = CliRunner()
    base = ["backfill", "--config", str(path), "--store", url]

    planned = cli.invoke(app, [*base, "--dry-run", "--json"])
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.output)
    writes = [w for p in plan["pairs"] for w in p["writes"]]
    assert {"site": "cld", "issue": "OPS-DRY1", "write": "create issue"}.items() <= writes[
        0
    ].items()
    assert any(w["write"] == "add comment" and "not markup" in w["detail"] for w in writes)
    assert plan["pairs"][0]["pair"] == f"{key} <-> OPS-DRY1"

    plain = cli.invoke(app, [*base, "--dry-run", "--no-progress"])
    assert plain.exit_code == 0, plain.output
    assert "none sent" in plain.output and "[red]not" in plain.output

    assert cli.invoke(app, [*base, "--json"]).exit_code == 2

    done = cli.invoke(app, base)
    assert done.exit_code == 0, done.output
    assert "read 1 issue(s); dead letters: 0" in done.output
    again = cli.invoke(app, [*base, "--dry-run", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["writes"] == 0  # all done: nothing left to write
