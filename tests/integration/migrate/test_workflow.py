"""The whole Site Import preparation through the installed command line, in a subprocess:
check (blocked) -> fix -> check (clean) -> media -> plan (ready) -> verify."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from jirabridge.migrate.synth import Defect, SynthSpec, write_backup_zip, write_jira_home


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jirabridge", "migrate", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_prepare_a_broken_backup_end_to_end(tmp_path: Path) -> None:
    spec = SynthSpec(
        attachment_size=40_000,
        defects=frozenset(
            {Defect.INVALID_CHARS, Defect.ZIPPED_FOLDER, Defect.ADDON_USER, Defect.EXAMPLE_EMAIL}
        ),
    )
    backup = write_backup_zip(tmp_path / "backup.zip", spec)
    home = write_jira_home(tmp_path / "home", spec)
    first = _run("check", str(backup), "--format", "json", "--no-progress")
    assert first.returncode == 1, first.stderr
    findings = json.loads(first.stdout)["findings"]
    blockers = {f["rule"] for f in findings if f["severity"] == "blocker"}
    assert blockers == {"XML002", "ZIP002", "USR003", "USR005"}
    emails = tmp_path / "emails.json"
    emails.write_text(json.dumps({"tester": "tester@acme.io"}))
    fixed = tmp_path / "fixed.zip"
    fix = _run("fix", str(backup), "--out", str(fixed), "--emails", str(emails), "--json",
               "--no-progress")  # fmt: skip
    assert fix.returncode == 0, fix.stdout + fix.stderr
    assert json.loads(fix.stdout)["after"]["ok"] is True
    media = _run("media", "--jira-home", str(home), "--out", str(tmp_path / "media"),
                 "--max-size", "100KB", "--backup", str(fixed), "--no-progress")  # fmt: skip
    assert media.returncode == 0, media.stderr
    assert "8 of 8 referenced attachment(s) found" in media.stdout
    plan = _run("plan", str(fixed), "--strategy", "overwrite", "--media", str(tmp_path / "media"),
                "--no-progress")  # fmt: skip
    assert plan.returncode == 0, plan.stdout
    assert "ready to import" in plan.stdout
    same = _run("verify", "--source", str(backup), "--target-backup", str(fixed))
    assert same.returncode == 0, same.stdout  # fixing lost nothing verify compares
    assert not list(tmp_path.glob("**/*.part"))
