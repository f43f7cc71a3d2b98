"""`jirabridge demo` end to end, in a subprocess: real servers on loopback, real engine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from jirabridge.demo import KINDS

pytestmark = pytest.mark.slow


def run_demo(*args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jirabridge", "demo", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_demo_converges_and_reports(tmp_path: Path) -> None:
    result = run_demo("--json", "--timeout", "45", "--workdir", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["backfilled_pairs"] == report["issues"] == 20
    kinds = {c["kind"] for c in report["changes"]}
    assert kinds == set(KINDS)
    for change in report["changes"]:
        assert change["status"] == "converged", change
        assert change["seconds"] is not None and change["seconds"] >= 0
    wheres = {(c["name"], c["where"]) for c in report["changes"] if c["status"] == "converged"}
    # made on both sides, including a transition each way and a new issue each side
    assert {w for _n, w in wheres} == {"Server", "Cloud"}
    assert ("status by transition", "Server") in wheres
    assert ("status by transition (back)", "Cloud") in wheres
    assert ("new issue on Server", "Server") in wheres
    assert ("new issue on Cloud", "Cloud") in wheres
    assert {"comment edited", "comment deleted"} <= {n for n, _w in wheres}
    calls = {c["site"]: c for c in report["calls"]}
    assert set(calls) == {"Server", "Cloud"}
    for site in calls.values():
        assert 0 < site["by_engine"] <= site["total"]
    assert report["dead_letters"] == 0
    # the configuration the demo wrote: credentials by reference only
    config = yaml.safe_load((tmp_path / "jirabridge.yaml").read_text())
    for site in config["sites"].values():
        assert site["credential"].startswith("env:")
        assert site["webhook_secret"].startswith("env:")
    assert config["store"]["url"] == f"sqlite:///{tmp_path / 'jirabridge.db'}"
    assert (tmp_path / "jirabridge.db").exists()


def test_stopped_engine_gives_named_divergences_and_nonzero_exit() -> None:
    result = run_demo("--pause-engine", "--timeout", "2", "--issues", "5")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "Divergences:" in out, out
    assert "The engine was stopped after the backfill" in out, out
    # each divergence is named with what differs on each side
    assert "priority -> Highest (Cloud): diverged: priority: Server" in out, out
    assert "'Highest'" in out, out
    assert "labels (Cloud): diverged" in out, out
    assert "new issue on Cloud (Cloud): diverged" in out and "has no mirror" in out, out
    assert "comment edited (Server): diverged: not made" in out, out
    assert "Not every scripted change converged." in out, out


def test_mentions_cross_as_the_same_person() -> None:
    """Mentions in descriptions and comments reach the other site as the same person, both ways."""
    keep = {"text", "comment", "mention"}
    skips = [a for kind in KINDS if kind not in keep for a in ("--skip", kind)]
    result = run_demo("--json", "--timeout", "20", "--issues", "3", *skips)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    mentions = [c for c in report["changes"] if c["kind"] == "mention"]
    assert {c["where"] for c in mentions} == {"Server", "Cloud"}
    for c in report["changes"]:
        if c["kind"] in keep:
            assert c["status"] == "converged", c


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--issues", "1"], "--issues"),
        (["--skip", "moon"], "unknown change kind(s) to skip: moon"),
        (["--timeout", "0"], "--timeout"),
    ],
)
def test_bad_options_are_refused_before_anything_starts(args: list[str], message: str) -> None:
    result = run_demo(*args, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Starting" not in result.stdout


def test_a_workdir_with_an_earlier_store_is_refused_and_kept(tmp_path: Path) -> None:
    (tmp_path / "jirabridge.db").write_bytes(b"earlier run")
    result = run_demo("--workdir", str(tmp_path), timeout=60)
    assert result.returncode == 2
    assert "already holds jirabridge.db" in result.stderr
    assert (tmp_path / "jirabridge.db").read_bytes() == b"earlier run"


def test_keep_running_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    skips = [a for kind in KINDS for a in ("--skip", kind)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "jirabridge", "demo", "--keep-running", "--issues", "3", *skips],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Engine webhook receiver" in line:
                break
        text = "".join(lines)
        assert "Still running; press Ctrl-C to stop." in text, text
        # the summary comes first, then the demo stays up
        assert text.index("All scripted changes converged.") < text.index("Still running")
        assert "API calls per site" in text
        urls = [w for w in text.split() if w.startswith("http://127.0.0.1:")]
        assert len(urls) >= 3
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
        assert proc.returncode == 130, text + rest
        assert "Interrupted; everything was stopped." in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # every port the demo listened on is free again
    import socket

    for url in urls:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_ctrl_c_during_the_run_stops_everything() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "jirabridge", "demo", "--issues", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert proc.stdout is not None
        seen = ""
        deadline = time.monotonic() + 90
        while "engine receiver" not in seen and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen += line
        assert "engine receiver" in seen, seen
        proc.send_signal(signal.SIGINT)  # during the backfill or the scripted edits
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, seen + rest
    assert "Interrupted; everything was stopped." in rest
    assert "Traceback" not in rest
