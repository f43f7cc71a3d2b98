"""`jirabridge emulate` serves, prints how to log in, and keeps its state across restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.served import free_port

REPO = Path(__file__).resolve().parents[3]


def _start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "jirabridge", "emulate", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _wait(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read() if proc.stdout else "exited")
        try:
            if httpx.get(f"{url}/rest/api/2/serverInfo", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the emulator did not start")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def test_emulate_saves_and_loads_state(tmp_path: Path) -> None:
    from jirabridge.emulator.model import Site
    from tests.unit.emulator_http.sites import small_site

    state = tmp_path / "site.json.gz"
    small_site("server").save(state)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    public = f"http://localhost:{port}"
    proc = _start(["server", "--port", str(port), "--state", str(state), "--base-url", public])
    try:
        _wait(url, proc)
        made = httpx.post(
            f"{url}/rest/api/2/issue",
            auth=("admin", "admin"),
            json={
                "fields": {
                    "project": {"key": "DEMO"},
                    "issuetype": {"name": "Task"},
                    "summary": "kept",
                }
            },
        )
        assert made.status_code == 201, made.text
        key = made.json()["key"]
        assert made.json()["self"].startswith(f"{public}/rest/api/2/issue/")
    finally:
        out = _stop(proc)
    assert f"Jira server emulator at {public}" in out
    assert "Log in as admin with password 'admin'" in out
    assert "Loaded" in out and "Saved" in out
    reloaded = Site.load(state)
    assert reloaded.get_issue(key).fields["summary"] == "kept"


def test_emulate_refuses_a_state_file_of_the_other_flavour(tmp_path: Path) -> None:
    from jirabridge.emulator.model import Flavour, Site

    state = tmp_path / "cloud.json.gz"
    Site(Flavour.CLOUD).save(state)
    proc = _start(["server", "--port", str(free_port()), "--state", str(state)])
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "cloud site" in out


def test_emulate_refuses_a_bad_seed() -> None:
    proc = _start(["cloud", "--port", str(free_port()), "--seed", "lots"])
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "--seed" in out


def test_emulate_refuses_a_corrupt_state_file(tmp_path: Path) -> None:
    state = tmp_path / "broken.json.gz"
    state.write_bytes(b"not a state file")
    proc = _start(["server", "--port", str(free_port()), "--state", str(state)])
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert out.startswith("error:")
    assert state.read_bytes() == b"not a state file"  # never overwritten
