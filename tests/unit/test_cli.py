from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from jirabridge import __version__
from jirabridge.cli import app


def test_version_flag() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"jirabridge {__version__}"


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["no-such-command"])
    assert result.exit_code == 2


def test_module_entry_point_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "jirabridge", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert __version__ in proc.stdout
