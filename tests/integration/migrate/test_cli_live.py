"""`jirabridge migrate verify` against a Cloud emulator on a real socket (127.0.0.1)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from jirabridge.cli import app as cli
from jirabridge.emulator import create_app
from jirabridge.emulator.model import Flavour, Site
from jirabridge.migrate.synth import SynthSpec, write_backup_zip
from tests.integration.migrate.test_verify_emulator import _import


@pytest.fixture
def backup(tmp_path: Path) -> Path:
    return write_backup_zip(tmp_path / "b.zip", SynthSpec(issues_per_project=3))


@pytest.fixture
def live_cloud(backup: Path) -> Iterator[tuple[str, Site]]:
    site = Site(Flavour.CLOUD)
    _import(site, backup)
    app = create_app(Flavour.CLOUD, site)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}", site
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_verify_command_over_http(live_cloud, backup: Path, monkeypatch) -> None:
    url, site = live_cloud
    admin = site.users[site.admin_key]
    monkeypatch.setenv("JIRABRIDGE_CLOUD_TOKEN", next(iter(admin.api_tokens)))
    args = ["migrate", "verify", "--source", str(backup), "--cloud", url,
            "--cloud-email", admin.email, "--json"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True and report["issues_target"] == 6
    site.delete_issue(site.admin_key, "PA-2")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert json.loads(result.output)["counts"] == {"issue_count": 1, "issue_missing": 1}
    monkeypatch.setenv("JIRABRIDGE_CLOUD_TOKEN", "wrong")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "401" in result.output
    assert "wrong" not in result.output
