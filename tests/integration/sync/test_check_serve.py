"""``check`` against both emulators, and the receiver on a real socket (also via `run`)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from jirabridge.emulator import create_app
from jirabridge.sync.check import check_live
from jirabridge.sync.config import QueueConfig, parse_config
from jirabridge.sync.queue import Queue
from jirabridge.sync.runner import client_for_site, serve_app
from jirabridge.sync.store import Store
from jirabridge.sync.webhooks import ReceiverSite, create_receiver
from tests.support.served import free_port

from .test_apply_emulator import BASE_C, BASE_S

GOOD = {
    "sites": {
        "srv": {
            "flavour": "server",
            "url": BASE_S,
            "auth": "basic",
            "username": "svc-jirabridge",
            "credential": "env:SRV_PW",
            "integration_user": "SBOT",
        },
        "cld": {
            "flavour": "cloud",
            "url": BASE_C,
            "auth": "api_token",
            "username": "bot@acme.io",
            "credential": "env:CLD_TOKEN",
            "integration_user": "CBOT",
        },
    },
    "pairs": [
        {
            "id": "ops",
            "server": {"site": "srv", "project": "OPS"},
            "cloud": {"site": "cld", "project": "OPS", "jql": "labels != nosync"},
            "fields": [
                {"name": "summary"},
                {"name": "priority"},
                {"name": "points", "server": "customfield_10206", "cloud": "customfield_10016"},
                {"name": "status"},
            ],
            "translations": {
                "priority": {"map": {"Highest": "Highest", "High": "High"}},
                "status": {"map": {"To Do": "To Do", "Done": "Done"}},
            },
            "rules": [
                {
                    "name": "done",
                    "when": {"side": "server", "event": "transitioned", "status_category": "done"},
                    "then": [
                        {"action": "transition_mirror", "to_status": "Done", "resolution": "Done"}
                    ],
                }
            ],
        }
    ],
}


async def run_check(text: str, secrets: dict[str, str]) -> list[Any]:
    server = create_app("server", base_url=BASE_S)
    cloud = create_app("cloud", base_url=BASE_C)
    s_bot = server.site.create_user(
        "Bot", name="svc-jirabridge", password="pw", groups=["jira-administrators"]
    )
    c_bot = cloud.site.create_user(
        "Bot", email="bot@acme.io", api_token="tok", groups=["site-admins", "jira-admins"]
    )
    server.site.create_project("OPS", "Ops", server.site.admin_key)
    cloud.site.create_project("OPS", "Ops", cloud.site.admin_key)
    loaded = parse_config(text.replace("SBOT", s_bot.key).replace("CBOT", c_bot.key), name="c.yaml")
    apps = {"srv": server, "cld": cloud}
    clients = {
        name: client_for_site(
            site, secrets.__getitem__, transport=httpx.ASGITransport(app=apps[name])
        )
        for name, site in loaded.config.sites.items()
    }
    try:
        return await check_live(loaded, clients)
    finally:
        for c in clients.values():
            await c.aclose()  # type: ignore[attr-defined]


async def test_a_good_config_passes_the_live_check() -> None:
    problems = await run_check(yaml.safe_dump(GOOD), {"env:SRV_PW": "pw", "env:CLD_TOKEN": "tok"})
    assert problems == []


async def test_live_check_reports_every_problem_with_its_line() -> None:
    bad = json.loads(json.dumps(GOOD))
    bad["sites"]["cld"]["integration_user"] = "someone-else"
    bad["pairs"][0]["fields"].append({"name": "team", "cloud": "customfield_99999"})
    bad["pairs"][0]["cloud"]["jql"] = "labels = = broken"
    text = yaml.safe_dump(bad, sort_keys=False)
    problems = await run_check(text, {"env:SRV_PW": "wrong", "env:CLD_TOKEN": "tok"})
    messages = [p.message for p in problems]
    lines = text.splitlines()
    by_path = {p.path: p for p in problems}
    assert "login failed" in by_path["sites.srv.credential"].message
    assert "credential:" in lines[by_path["sites.srv.credential"].line - 1]
    assert "someone-else" in by_path["sites.cld.integration_user"].message
    assert "customfield_99999" in by_path["pairs[0].fields[4].cloud"].message
    assert "customfield_99999" in lines[by_path["pairs[0].fields[4].cloud"].line - 1]
    assert "JQL" in by_path["pairs[0].cloud.jql"].message
    assert len(messages) == 4, messages


async def test_receiver_on_a_real_socket(store: Store) -> None:
    queue = Queue(store, config=QueueConfig(coalesce_seconds=0))
    app = create_receiver(sites={"s": ReceiverSite("s", "k", frozenset())}, queue=queue)
    stop = asyncio.Event()
    bound: list[int] = []
    task = asyncio.create_task(
        serve_app(app, host="127.0.0.1", port=0, stop=stop, started=lambda h, p: bound.append(p))
    )
    try:
        for _ in range(200):
            if bound:
                break
            await asyncio.sleep(0.01)
        body = {"webhookEvent": "jira:issue_updated", "issue": {"id": "5", "key": "A-1"}}
        async with httpx.AsyncClient() as c:
            r = await c.post(f"http://127.0.0.1:{bound[0]}/webhooks/s?secret=k", json=body)
        assert r.status_code == 202
        assert queue.stats().notices == 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@pytest.mark.slow
def test_run_command_serves_webhooks_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    config = json.loads(json.dumps(GOOD))
    config["sites"]["srv"]["url"] = "http://127.0.0.1:9"  # nothing listens: polls fail, logged
    config["sites"]["cld"]["url"] = "http://127.0.0.1:9"
    config["sites"]["srv"]["webhook_secret"] = "env:HOOK_SECRET"
    config["webhooks"] = {"host": "127.0.0.1", "port": port}
    config["polling"] = {"interval_seconds": 3600}
    path = tmp_path / "jirabridge.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "SRV_PW": "pw", "CLD_TOKEN": "tok", "HOOK_SECRET": "hook-secret-q7z"}
    db = tmp_path / "state.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jirabridge",
            "run",
            "--config",
            str(path),
            "--store",
            f"sqlite:///{db}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        body = {"webhookEvent": "jira:issue_updated", "issue": {"id": "5", "key": "OPS-1"}}
        while time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{port}/webhooks/srv?secret=hook-secret-q7z"
                status = httpx.post(url, json=body, timeout=2).status_code
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert status == 202
        wrong = httpx.post(f"http://127.0.0.1:{port}/webhooks/srv?secret=nope", json=body)
        assert wrong.status_code == 403
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in out
    assert "hook-secret-q7z" not in out + err


async def test_unknown_values_in_tables_and_rules_are_reported_at_their_lines() -> None:
    bad = json.loads(json.dumps(GOOD))
    pair = bad["pairs"][0]
    pair["translations"]["priority"]["map"]["Blocker"] = "Low"  # no Blocker on Server
    pair["translations"]["status"]["map"]["In Progress"] = "Shipped"  # no such Cloud status
    pair["rules"][0]["then"][0]["resolution"] = "Fixed"  # no Fixed on Cloud
    text = yaml.safe_dump(bad, sort_keys=False)
    problems = await run_check(text, {"env:SRV_PW": "pw", "env:CLD_TOKEN": "tok"})
    lines = text.splitlines()
    found = {p.path: p for p in problems}
    assert set(found) == {
        "pairs[0].translations.priority.map.Blocker",
        "pairs[0].translations.status.map.In Progress",
        "pairs[0].rules[0].then[0].resolution",
    }, [str(p) for p in problems]
    assert "Blocker" in lines[found["pairs[0].translations.priority.map.Blocker"].line - 1]
    assert "does not exist" in found["pairs[0].translations.status.map.In Progress"].message
    assert "Fixed" in lines[found["pairs[0].rules[0].then[0].resolution"].line - 1]
