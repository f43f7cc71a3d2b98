from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from jirabridge.cli import app
from jirabridge.errors import SkipItemError
from jirabridge.sync.config import QueueConfig
from jirabridge.sync.notices import ChangeNotice, EventKind
from jirabridge.sync.queue import Queue
from jirabridge.sync.store import open_store


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JIRABRIDGE_STORE_URL", raising=False)
    monkeypatch.delenv("JIRABRIDGE_SECRETS_KEY", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def seed_dead(url: str, reasons: list[str]) -> None:
    store = open_store(url)
    queue = Queue(store, config=QueueConfig(coalesce_seconds=0))
    for i, reason in enumerate(reasons):
        queue.enqueue(
            ChangeNotice(
                site="srv",
                issue_id=str(100 + i),
                issue_key=f"OPS-{i}",
                event=EventKind.ISSUE_UPDATED,
                observed_at=datetime.now(UTC),
            )
        )
        [job] = queue.lease("t")
        queue.fail(job, SkipItemError(reason))
    store.dispose()


def test_init_writes_example_and_schema(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "jirabridge.yaml").read_text().startswith("#")
    assert "properties" in json.loads((tmp_path / "jirabridge.schema.json").read_text())
    again = runner.invoke(app, ["init"])
    assert again.exit_code == 1
    assert "--force" in again.output
    assert runner.invoke(app, ["init", "--force"]).exit_code == 0


def test_schema_to_stdout(runner: CliRunner) -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "jirabridge configuration"


def test_status_of_an_empty_store(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "--store", f"sqlite:///{tmp_path}/s.db", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["queued"] == 0 and data["dead_letters"] == 0


def test_status_reads_the_store_url_from_the_config(runner: CliRunner, tmp_path: Path) -> None:
    runner.invoke(app, ["init"])
    config = tmp_path / "jirabridge.yaml"
    config.write_text(
        config.read_text().replace("sqlite:///jirabridge.db", f"sqlite:///{tmp_path}/cfg.db")
    )
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert "dead letters" in result.output
    assert (tmp_path / "cfg.db").exists()


def test_bad_config_reports_every_problem_with_lines(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nsites:\n  s:\n    flavour: moon\n")
    result = runner.invoke(app, ["status", "--config", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:4:14:" in result.output
    assert "missing required key 'url'" in result.output
    assert "Traceback" not in result.output


def test_dlq_list_retry_drop(runner: CliRunner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/d.db"
    seed_dead(url, ["no option Sev 9", "no option Sev 8", "user not found"])
    listed = runner.invoke(app, ["dlq", "list", "--store", url, "--json"])
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.output)
    assert [i["reason"] for i in items] == ["no option Sev 9", "no option Sev 8", "user not found"]
    assert {i["error"] for i in items} == {"SkipItemError"}
    table = runner.invoke(app, ["dlq", "list", "--store", url])
    assert "user not found" in table.output

    assert runner.invoke(app, ["dlq", "retry", "--store", url]).exit_code == 2
    result = runner.invoke(app, ["dlq", "retry", str(items[2]["id"]), "--store", url])
    assert result.exit_code == 0 and "requeued 1" in result.output
    result = runner.invoke(app, ["dlq", "drop", "--reason", "no option", "--store", url])
    assert "dropped 2" in result.output
    left = json.loads(runner.invoke(app, ["dlq", "list", "--store", url, "--json"]).output)
    assert left == []
    status = json.loads(runner.invoke(app, ["status", "--store", url, "--json"]).output)
    assert status["queued"] == 1


def test_secrets_commands_never_print_values(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(app, ["secrets", "keygen"]).exit_code == 0
    assert oct((tmp_path / "jirabridge.key").stat().st_mode & 0o777) == "0o600"
    result = runner.invoke(app, ["secrets", "set", "cloud", "--stdin"], input="tok-SECRET\n")
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["secrets", "list"])
    assert listed.output.split() == ["cloud"]
    assert "tok-SECRET" not in listed.output + result.output
    assert runner.invoke(app, ["secrets", "delete", "cloud"]).exit_code == 0
    missing = runner.invoke(app, ["secrets", "delete", "cloud"])
    assert missing.exit_code == 1


def test_secrets_without_a_key_is_a_clear_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["secrets", "list"])
    assert result.exit_code == 1
    assert "key file" in result.output


def test_secrets_key_from_env(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIRABRIDGE_SECRETS_KEY", Fernet.generate_key().decode())
    assert runner.invoke(app, ["secrets", "set", "x", "--stdin"], input="v\n").exit_code == 0
    assert runner.invoke(app, ["secrets", "list"]).output.strip() == "x"
    assert (
        os.environ["JIRABRIDGE_SECRETS_KEY"] not in runner.invoke(app, ["secrets", "list"]).output
    )


def test_check_offline_and_missing_config(runner: CliRunner, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["check"])
    assert missing.exit_code == 1
    assert "jirabridge init" in missing.output
    runner.invoke(app, ["init"])
    ok = runner.invoke(app, ["check", "--offline"])
    assert ok.exit_code == 0, ok.output
    assert "valid" in ok.output


def test_check_live_with_missing_credentials_names_the_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    runner.invoke(app, ["init"])
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "jirabridge.yaml:" in result.output
    assert "JIRA_SERVER_TOKEN is not set" in result.output
    assert "Traceback" not in result.output


def test_dlq_retry_all(runner: CliRunner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/all.db"
    seed_dead(url, ["a", "b"])
    result = runner.invoke(app, ["dlq", "retry", "--all", "--store", url])
    assert result.exit_code == 0 and "requeued 2" in result.output
    assert json.loads(runner.invoke(app, ["dlq", "list", "--store", url, "--json"]).output) == []
