"""``jirabridge check`` on the command line against both emulators served on real sockets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jirabridge.cli import app
from tests.support.served import base_url_of, bound_socket, serve_on

from .check_sites import CheckSites, check_sites, config_text, good_config


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[CheckSites, Path]]:
    """Both sites served; a config pointing at them; the secrets in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SRV_PW", "pw")
    monkeypatch.setenv("CLD_TOKEN", "tok")
    monkeypatch.setenv("COLUMNS", "200")
    s_sock, c_sock = bound_socket(), bound_socket()
    sites = check_sites(base_url_of(s_sock), base_url_of(c_sock))
    cfg = good_config()
    cfg["sites"]["srv"]["url"] = base_url_of(s_sock)
    cfg["sites"]["cld"]["url"] = base_url_of(c_sock)
    cfg["pairs"][0]["deletes"] = "mirror"
    path = tmp_path / "jirabridge.yaml"
    path.write_text(config_text(sites, cfg))
    with serve_on(sites.server, s_sock), serve_on(sites.cloud, c_sock):
        yield sites, path


def test_check_passes_then_names_a_missing_permission_and_fails(
    served: tuple[CheckSites, Path],
) -> None:
    sites, path = served
    runner = CliRunner()
    ok = runner.invoke(app, ["check", "--config", str(path)])
    assert ok.exit_code == 0, ok.output
    assert "both sites agree" in ok.output
    sites.deny("cloud", "DELETE_ISSUES")
    bad = runner.invoke(app, ["check", "--config", str(path)])
    assert bad.exit_code == 1, bad.output
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "deletes:" in text)
    assert f"jirabridge.yaml:{line}:" in bad.output, bad.output
    assert "lacks DELETE_ISSUES in project OPS on site 'cld'" in bad.output
    assert "1 problem(s); no sync will start with this file" in bad.output
