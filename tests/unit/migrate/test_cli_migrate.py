from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from jirabridge.cli import app
from jirabridge.migrate.synth import Defect, SynthSpec, write_jira_home

runner = CliRunner()


def test_check_exit_codes_and_formats(make_backup, real_backup: Path, tmp_path: Path) -> None:
    ok = runner.invoke(app, ["migrate", "check", str(real_backup), "--no-progress"])
    assert ok.exit_code == 0, ok.output
    assert "0 blocker(s)" in ok.output
    bad = make_backup(Defect.ADDON_USER)
    res = runner.invoke(app, ["migrate", "check", str(bad), "-f", "json", "--no-progress"])
    assert res.exit_code == 1
    assert json.loads(res.output)["counts"]["blocker"] == 1
    page = tmp_path / "r.html"
    res = runner.invoke(
        app, ["migrate", "check", str(bad), "-f", "html", "-o", str(page), "--no-progress"]
    )
    assert res.exit_code == 1 and "USR005" in page.read_text()


def test_check_with_cloud_groups_file(make_backup, tmp_path: Path) -> None:
    groups = tmp_path / "groups.json"
    groups.write_text(json.dumps({"values": [{"name": "developers", "groupId": "g1"}]}))
    res = runner.invoke(
        app,
        ["migrate", "check", str(make_backup()), "--cloud-groups", str(groups), "--no-progress"],
    )
    assert "GRP003" in res.output
    groups.write_text("{broken")
    res = runner.invoke(
        app,
        ["migrate", "check", str(make_backup()), "--cloud-groups", str(groups), "--no-progress"],
    )
    assert res.exit_code == 2 and "cannot read" in res.output


def test_fix_then_check(make_backup, tmp_path: Path) -> None:
    src = make_backup(Defect.INVALID_CHARS, Defect.ADDON_USER, Defect.EXAMPLE_EMAIL)
    emails = tmp_path / "emails.csv"
    emails.write_text("tester,tester@acme.io\nghost,ghost@acme.io\n")
    out = tmp_path / "fixed.zip"
    res = runner.invoke(
        app,
        ["migrate", "fix", str(src), "--out", str(out), "--emails", str(emails), "--no-progress"],
    )
    assert res.exit_code == 0, res.output
    assert "user_renamed: 1" in res.output and "'ghost' matched no user" in res.output
    assert "0 blocker(s)" in res.output


def test_media_plan_verify(make_backup, tmp_path: Path) -> None:
    home = write_jira_home(tmp_path / "home", SynthSpec(attachment_size=50_000))
    res = runner.invoke(
        app,
        ["migrate", "media", "--jira-home", str(home), "--out", str(tmp_path / "m"),
         "--max-size", "120KB", "--no-progress"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "media-002.zip" in res.output
    backup = make_backup(attachment_size=50_000)
    res = runner.invoke(
        app,
        ["migrate", "media", "--jira-home", str(home), "--out", str(tmp_path / "m"),
         "--max-size", "120KB", "--no-progress", "--backup", str(backup)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "8 of 8 referenced attachment(s) found, 0 missing" in res.output
    res = runner.invoke(
        app, ["migrate", "plan", str(backup), "--media", str(tmp_path / "m"), "--no-progress"]
    )
    assert res.exit_code == 0 and "[x] 5." in res.output
    res = runner.invoke(
        app, ["migrate", "verify", "--source", str(backup), "--target-backup", str(backup)]
    )
    assert res.exit_code == 0 and "no differences" in res.output
    other = make_backup(issues_per_project=3)
    res = runner.invoke(
        app, ["migrate", "verify", "--source", str(backup), "--target-backup", str(other), "--json"]
    )
    assert res.exit_code == 1
    assert json.loads(res.output)["counts"]["issue_missing"] == 2


def test_bad_arguments_are_clear(tmp_path: Path) -> None:
    res = runner.invoke(app, ["migrate", "verify", "--cloud", "https://x.atlassian.net"])
    assert res.exit_code == 2 and "give exactly one source" in res.output
    res = runner.invoke(
        app,
        ["migrate", "media", "--jira-home", str(tmp_path), "--out", str(tmp_path / "o"),
         "--max-size", "lots"],
    )  # fmt: skip
    assert res.exit_code == 2 and "not a size" in res.output


def test_zip_limits_from_the_command_line(make_backup) -> None:
    res = runner.invoke(
        app, ["migrate", "check", str(make_backup()), "--max-uncompressed", "1KB", "--no-progress"]
    )
    assert res.exit_code == 1 and "FILE001" in res.output and "limit" in res.output
