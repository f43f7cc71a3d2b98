"""Reasons and messages that look like rich markup are shown as written, never parsed."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from jirabridge.cli import app

from .test_cli_sync import runner, seed_dead

__all__ = ["runner"]

CLOSING = "bad value [/x] in field"
COLOURED = "[red]alarm[/red] here"


def test_dlq_list_and_status_show_markup_like_reasons_verbatim(
    runner: CliRunner, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    seed_dead(url, [CLOSING, COLOURED])
    listed = runner.invoke(app, ["dlq", "list", "--store", url])
    assert listed.exit_code == 0, listed.output
    assert CLOSING in listed.output
    assert COLOURED in listed.output
    status = runner.invoke(app, ["status", "--store", url])
    assert status.exit_code == 0, status.output
    assert CLOSING in status.output
    assert COLOURED in status.output
