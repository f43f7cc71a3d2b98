"""SIGKILL the backfill at random moments 20 times, resume, and find no duplicates.

The backfill runs as a real ``jirabridge backfill`` subprocess against both emulators served
by uvicorn on loopback, with the state store on SQLite or PostgreSQL (its URL goes to the
subprocess in the config file, ``JIRABRIDGE_STORE_URL`` is cleared). Kill times come from a seeded
RNG; a kill is counted as "mid-run" when the process was still running when it landed.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from jirabridge.emulator import create_app
from jirabridge.jira import IssueInput
from jirabridge.sync.runner import SyncRunner
from jirabridge.sync.store import IssuePair, Store, open_store
from tests.support.served import base_url_of, bound_socket, serve_on

from .harness import Bridge, adf_text, bridge, doc

ISSUES = 90  # 60 on Server, 30 on Cloud
LATENCY_MS = 50  # on every emulator request while killing, so a backfill spans many kills
COMMENTS = 3  # per issue
KILLS = 20
JB = str(Path(sys.executable).with_name("jirabridge"))


def seed_sites(apps: dict) -> None:
    srv, cld = apps["srv"].site, apps["cld"].site
    srv.create_user("Sync Bot", name="svc", password="pw", groups=["jira-administrators"])
    cld.create_user("Sync Bot", email="bot@acme.io", api_token="tok", groups=["site-admins"])
    a_s = srv.create_user("Alice", name="alice", password="pw", email="alice@acme.io")
    a_c = cld.create_user("Alice", email="alice@acme.io", api_token="tok")
    for site in (srv, cld):
        site.create_project("OPS", "Ops", site.admin_key)
    task_s = srv.issue_type_by_name("Task").id
    task_c = cld.issue_type_by_name("Task").id
    for i in range(ISSUES):
        on_server = i % 3 != 2
        site, who, task = (srv, a_s.key, task_s) if on_server else (cld, a_c.key, task_c)
        issue = site.create_issue(
            who,
            {"project": {"key": "OPS"}, "issuetype": {"id": str(task)}, "summary": f"item {i}"},
        )
        for j in range(COMMENTS):
            text = f"comment {j} of item {i}"
            body = (
                text
                if on_server
                else {
                    "type": "doc",
                    "version": 1,
                    "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
                }
            )
            site.add_comment(who, issue.key, body)


def write_config(path: Path, urls: dict[str, str], bots: dict[str, str], store_url: str) -> None:
    path.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "sites": {
                    "srv": {
                        "flavour": "server",
                        "url": urls["srv"],
                        "auth": "basic",
                        "username": "svc",
                        "credential": "env:JB_SRV_PW",
                        "integration_user": bots["srv"],
                        "max_requests_per_second": 500,
                    },
                    "cld": {
                        "flavour": "cloud",
                        "url": urls["cld"],
                        "auth": "api_token",
                        "username": "bot@acme.io",
                        "credential": "env:JB_CLD_TOKEN",
                        "integration_user": bots["cld"],
                        "max_requests_per_second": 500,
                    },
                },
                "store": {"url": store_url},
                "queue": {"coalesce_seconds": 0, "workers": 2, "lease_seconds": 3},
                "pairs": [
                    {
                        "id": "ops",
                        "server": {"site": "srv", "project": "OPS"},
                        "cloud": {"site": "cld", "project": "OPS"},
                        "fields": [{"name": "summary"}, {"name": "priority"}],
                        "comments": {"attribution_template": "{author} wrote:"},
                    }
                ],
            }
        )
    )


def set_latency(base: str, ms: float) -> None:
    body = {"ms": ms} if ms else {"clear": True}
    r = httpx.post(f"{base}/_emulator/latency", json=body, timeout=30)
    r.raise_for_status()


def summaries(base: str, auth: tuple[str, str], api: str) -> Counter[str]:
    """Summary -> how many issues carry it (a duplicate shows as 2)."""
    with httpx.Client(base_url=base, auth=auth, timeout=30) as c:
        if api == "2":
            r = c.get(
                "/rest/api/2/search",
                params={"jql": "project = OPS", "maxResults": 1000, "fields": "summary"},
            )
        else:
            r = c.post(
                "/rest/api/3/search/jql",
                json={"jql": "project = OPS", "maxResults": 1000, "fields": ["summary"]},
            )
        r.raise_for_status()
        return Counter(i["fields"]["summary"] for i in r.json()["issues"])


def comment_count(base: str, auth: tuple[str, str], api: str, key: str) -> int:
    with httpx.Client(base_url=base, auth=auth, timeout=30) as c:
        r = c.get(f"/rest/api/{api}/issue/{key}/comment", params={"maxResults": 1000})
        r.raise_for_status()
        return int(r.json()["total"])


@pytest.mark.slow
def test_backfill_killed_twenty_times_resumes_without_duplicates(
    tmp_path: Path, store_url: str
) -> None:
    socks = {"srv": bound_socket(), "cld": bound_socket()}
    urls = {n: base_url_of(sock) for n, sock in socks.items()}
    apps = {
        "srv": create_app("server", base_url=urls["srv"]),
        "cld": create_app("cloud", base_url=urls["cld"]),
    }
    seed_sites(apps)
    bots = {
        "srv": next(u.key for u in apps["srv"].site.users.values() if u.name == "svc"),
        "cld": next(u.key for u in apps["cld"].site.users.values() if u.email == "bot@acme.io"),
    }
    config = tmp_path / "jirabridge.yaml"
    write_config(config, urls, bots, store_url)
    env = {**os.environ, "JB_SRV_PW": "pw", "JB_CLD_TOKEN": "tok"}
    env.pop("JIRABRIDGE_STORE_URL", None)
    cmd = [JB, "backfill", "--config", str(config)]
    rng = random.Random(20261124)
    mid_run = 0
    with ExitStack() as serving:
        for name, app in apps.items():
            serving.enter_context(serve_on(app, socks[name]))
        for base in urls.values():
            set_latency(base, LATENCY_MS)
        for _ in range(KILLS):
            proc = subprocess.Popen(
                cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path
            )
            time.sleep(rng.uniform(0.8, 2.5))  # imports take ~0.7 s; the run a few seconds
            if proc.poll() is None:
                mid_run += 1
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            assert proc.stderr is not None
            proc.stderr.close()
        for base in urls.values():
            set_latency(base, 0)
        # resume until done, twice (the second one must find nothing to create)
        for _ in range(2):
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr[-2000:]
        srv_base, cld_base = urls["srv"], urls["cld"]
        on_srv = summaries(srv_base, ("svc", "pw"), "2")
        on_cld = summaries(cld_base, ("bot@acme.io", "tok"), "3")
        expected = Counter({f"item {i}": 1 for i in range(ISSUES)})
        assert on_srv == expected, "duplicate or missing issues on Server"
        assert on_cld == expected, "duplicate or missing issues on Cloud"
        store = open_store(store_url)
        try:
            with store.session() as s:
                rows = list(s.scalars(select(IssuePair)))
        finally:
            store.dispose()
        assert len(rows) == ISSUES
        for row in rows:
            assert comment_count(srv_base, ("svc", "pw"), "2", row.server_key) == COMMENTS
            assert comment_count(cld_base, ("bot@acme.io", "tok"), "3", row.cloud_key) == COMMENTS
    assert mid_run >= KILLS // 2, f"only {mid_run} of {KILLS} kills landed mid-run"


class Killed(BaseException):
    """The process dies here (not an Exception: nothing in the engine may catch it)."""


async def die_after_then_resume(b: Bridge, store: Store, client: Any, method: str) -> None:
    """The backfill dies right after ``client.method`` was answered, before anything is
    stored; then a new runner on the same store (the resumed process) backfills twice."""
    real = getattr(client, method)

    async def call_then_die(*a: object, **kw: object) -> object:
        await real(*a, **kw)
        raise Killed

    setattr(client, method, call_then_die)
    with pytest.raises(Killed):
        await b.runner.backfill()
    setattr(client, method, real)
    resumed = SyncRunner(b.runner.config, store, clients=b.runner.clients)
    await asyncio.sleep(0.6)  # the dead worker's lease runs out
    await asyncio.wait_for(resumed.backfill(), 60)
    await asyncio.wait_for(resumed.backfill(), 60)


@pytest.mark.parametrize("origin", ["srv", "cld"])
async def test_crash_right_after_a_create_does_not_duplicate_the_mirror(
    store: Store, origin: str
) -> None:
    """The deterministic version of the kill test: the worker dies right after the mirror's
    create has been answered, before anything is stored; a new runner on the same store
    (the resumed process) must not create the mirror again."""
    target = "cld" if origin == "srv" else "srv"
    queue = {"coalesce_seconds": 0, "workers": 1, "lease_seconds": 0.5}
    async with bridge(store, queue=queue) as b:
        await b.alice[origin].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="only once")
        )
        await die_after_then_resume(b, store, b.bot[target], "bulk_create")
        found = [i.summary async for i in b.bot[target].search('project = "OPS"')]
        assert found == ["only once"]


@pytest.mark.parametrize("origin", ["srv", "cld"])
async def test_crash_right_after_a_comment_write_does_not_duplicate_it(
    store: Store, origin: str
) -> None:
    target = "cld" if origin == "srv" else "srv"
    queue = {"coalesce_seconds": 0, "workers": 1, "lease_seconds": 0.5}
    async with bridge(store, queue=queue) as b:
        key = await b.alice[origin].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="talk")
        )
        await b.settle()
        mirror = b.mirror_of(origin, key)
        await b.alice[origin].add_comment(key, doc("said once"))
        await die_after_then_resume(b, store, b.bot[target], "add_comment")
        texts = [adf_text(c.body) async for c in b.bot[target].comments(mirror)]
        assert len(texts) == 1 and "said once" in texts[0]
