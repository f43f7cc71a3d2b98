"""Lost, duplicated and reordered webhooks, a site down, the echo check, and bad input."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from jirabridge.errors import FixConfigError
from jirabridge.jira import IssueInput
from jirabridge.sync.config import ConfigError, parse_config
from jirabridge.sync.runner import SyncRunner, client_for_site
from jirabridge.sync.store import Store

from .harness import HOOK_SECRET, SECRETS, Bridge, adf_text, bridge, doc, make_config

WRITES = {"POST", "PUT", "DELETE", "PATCH"}


def writes(counters: dict) -> int:
    """Calls that change the site (searches by POST are reads)."""
    return sum(
        c["count"]
        for c in counters["calls"]
        if c["method"] in WRITES and "search" not in c["endpoint"]
    )


async def make_activity(b: Bridge, n: int = 4) -> list[tuple[str, str]]:
    """Issues on both sides with edits and two comments each: (side, key)."""
    made = []
    for i in range(n):
        side = "srv" if i % 2 == 0 else "cld"
        key = await b.alice[side].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary=f"issue {i}")
        )
        await b.alice[side].edit_issue(key, IssueInput(summary=f"issue {i} edited"))
        await b.alice[side].add_comment(key, doc(f"c1 of {i}"))
        await b.bob[side].add_comment(key, doc(f"c2 of {i}"))
        made.append((side, key))
    return made


async def assert_converged(b: Bridge, made: list[tuple[str, str]]) -> None:
    other = {"srv": "cld", "cld": "srv"}
    for i, (side, key) in enumerate(made):
        mirror = b.mirror_of(side, key)
        m = await b.bot[other[side]].get_issue(mirror)
        assert m.summary == f"issue {i} edited"
        texts = [adf_text(c.body) async for c in b.bot[other[side]].comments(mirror)]
        assert len(texts) == 2, texts  # nothing lost, nothing doubled
        assert f"c1 of {i}" in texts[0] and f"c2 of {i}" in texts[1]
    for site in ("srv", "cld"):
        found = [i.key async for i in b.bot[site].search('project = "OPS"')]
        assert len(found) == len(made), found  # no duplicate issues
    assert b.runner.queue.dead_letters() == []


async def test_lost_webhooks_are_caught_by_polling(store: Store) -> None:
    async with bridge(store, with_webhooks=True) as b:
        for ctl in b.control.values():
            await ctl.webhook_faults(drop_rate=0.6)
        made = await make_activity(b)
        await b.flush_webhooks()
        dropped = 0
        for ctl in b.control.values():
            dropped += int((await ctl.deliveries())["summary"].get("dropped", 0))
        assert dropped > 0, "the emulators dropped no webhook: the test would prove nothing"
        await b.settle()
        await assert_converged(b, made)


async def test_duplicated_and_reordered_webhooks_alone_converge(store: Store) -> None:
    """No polling at all: every event arrives twice (Cloud) and half of them late, out of
    order (the delay is on the emulator clock, then the scheduled ones are flushed)."""
    async with bridge(store, with_webhooks=True) as b:
        for ctl in b.control.values():
            await ctl.webhook_faults(duplicate_rate=1.0, delay_rate=0.5, delay_seconds=30)
        made = await make_activity(b)
        await b.flush_webhooks()
        await b.drain()  # the on-time half first
        held = 0
        for ctl in b.control.values():
            held += sum(
                1 for d in (await ctl.deliveries())["deliveries"] if d["status"] != "delivered"
            )
        assert held > 0, "no delivery was held back: nothing arrives out of order"
        for ctl in b.control.values():
            await ctl.advance(31)
            assert await ctl.flush(include_scheduled=True)
        await b.drain()
        sent = (await b.control["cld"].deliveries())["deliveries"]
        assert any(d.get("duplicateOf") is not None for d in sent)
        await assert_converged(b, made)
        # and a poll afterwards finds nothing left to do
        assert await b.settle() == 1


async def run_for(b: Bridge, seconds: float, *, stop_within: float = 60) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(b.runner.run(stop))
    await asyncio.sleep(seconds)
    stop.set()
    async with asyncio.timeout(stop_within):
        await task


@pytest.mark.slow
async def test_cloud_down_then_back_converges_with_nothing_lost_or_doubled(store: Store) -> None:
    """A real outage of 4 seconds of the Cloud emulator (every request answered 503 with
    Retry-After, the emulator clock running) stands in for minutes: the runner keeps running
    through it while Server changes pile up, and everything arrives once afterwards."""
    async with bridge(store) as b:
        made = await make_activity(b, 2)
        await b.settle()
        await b.control["cld"].downtime(4)
        s_key = made[0][1]
        await b.alice["srv"].edit_issue(s_key, IssueInput(summary="issue 0 edited again"))
        await b.alice["srv"].add_comment(s_key, doc("while down"))
        fresh = await b.alice["srv"].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="made while down")
        )
        await b.control["cld"].reset_counters()
        await run_for(b, 8)  # through the outage and past it
        refused = [c for c in (await b.counters("cld"))["calls"] if c["status"] == 503]
        assert refused, "the engine never met the outage"
        await b.settle(within=120)
        mirror = b.mirror_of("srv", s_key)
        assert (await b.bot["cld"].get_issue(mirror)).summary == "issue 0 edited again"
        texts = [adf_text(c.body) async for c in b.bot["cld"].comments(mirror)]
        assert len(texts) == 3 and "while down" in texts[2]
        assert (await b.bot["cld"].get_issue(b.mirror_of("srv", fresh))).summary == (
            "made while down"
        )
        assert len([i async for i in b.bot["cld"].search('project = "OPS"')]) == 3
        assert b.runner.queue.dead_letters() == []


@pytest.mark.slow
async def test_stop_returns_promptly_while_a_site_is_down_for_minutes(store: Store) -> None:
    """A 10-minute downtime on the Cloud emulator's frozen clock: stopping must not wait
    for it, the interrupted work stays queued (not dead-lettered), and once the emulator's
    clock has moved past the window a restarted runner delivers it exactly once."""
    async with bridge(store) as b:
        made = await make_activity(b, 2)
        await b.settle()
        await b.control["cld"].freeze()
        await b.control["cld"].downtime(600)
        await b.alice["srv"].edit_issue(made[0][1], IssueInput(summary="during the outage"))
        await b.alice["srv"].add_comment(made[0][1], doc("said during the outage"))
        await run_for(b, 3, stop_within=15)
        assert b.runner.queue.dead_letters() == []
        assert b.queued() >= 1
        await b.control["cld"].advance(601)  # ten minutes later, on the emulator's clock
        await b.control["cld"].unfreeze()
        # ten real minutes later a new process (new clients, its clock 601 s on) finds the
        # work due, whether the stop interrupted it or the queue put it off for Retry-After
        await b.restart(later=601)
        await b.settle(within=120)
        mirror = b.mirror_of("srv", made[0][1])
        assert (await b.bot["cld"].get_issue(mirror)).summary == "during the outage"
        texts = [adf_text(c.body) async for c in b.bot["cld"].comments(mirror)]
        assert len(texts) == 3 and "said during the outage" in texts[2]
        assert b.runner.queue.dead_letters() == []


async def test_after_the_engine_settles_it_writes_nothing_more(store: Store) -> None:
    async with bridge(store, with_webhooks=True) as b:
        made = await make_activity(b)
        await b.flush_webhooks()
        await b.settle()
        await assert_converged(b, made)
        for ctl in b.control.values():
            await ctl.reset_counters()
        stop = asyncio.Event()
        task = asyncio.create_task(b.runner.run(stop))
        await asyncio.sleep(1.5)  # several poll rounds (interval 0.2 s)
        await b.flush_webhooks()
        stop.set()
        await task
        srv, cld = await b.counters("srv"), await b.counters("cld")
        assert srv["total"] > 0 and cld["total"] > 0  # it did poll
        assert (writes(srv), writes(cld)) == (0, 0)


# ---- bad input ------------------------------------------------------------------------------


def signed(body: bytes) -> dict[str, str]:
    sig = hmac.new(HOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature": f"sha256={sig}", "Content-Type": "application/json"}


async def test_bad_webhooks_get_4xx_and_queued_work_survives(store: Store) -> None:
    async with bridge(store, with_webhooks=True) as b:
        key = await b.alice["srv"].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="valid work")
        )
        await b.flush_webhooks()
        assert b.queued() == 1
        url = "http://receiver.test"
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=b.receiver.app), base_url=url
        ) as c:
            cases: list[tuple[str, bytes, dict[str, str], set[int]]] = [
                ("not json", b"{not json", signed(b"{not json"), {400}),
                ("json list", b"[1, 2]", signed(b"[1, 2]"), {400}),
                (
                    "unknown event",
                    b'{"webhookEvent": "jira:moon_landed", "timestamp": 1}',
                    {},
                    set(),
                ),
                ("no issue", b'{"webhookEvent": "jira:issue_updated"}', {}, set()),
                ("oversized", b'{"x": "' + b"a" * 2_000_000 + b'"}', {}, {413}),
                ("deep", b"[" * 5000 + b"]" * 5000, {}, {400, 413}),
            ]
            for name, body, headers, wanted in cases:
                headers = headers or signed(body)
                r = await c.post("/webhooks/srv", content=body, headers=headers)
                if wanted:
                    assert r.status_code in wanted, (name, r.status_code, r.text)
                else:  # unknown shapes: refused or ignored, never a 5xx
                    assert 200 <= r.status_code < 500, (name, r.status_code)
            body = b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "key": "OPS-1"}}'
            wrong = {**signed(body), "X-Hub-Signature": "sha256=" + "0" * 64}
            assert (await c.post("/webhooks/srv", content=body, headers=wrong)).status_code == 403
            unsigned = {"Content-Type": "application/json"}
            assert (
                await c.post("/webhooks/srv", content=body, headers=unsigned)
            ).status_code == 401
            r = await c.post("/webhooks/nosuchsite", content=body, headers=signed(body))
            assert r.status_code == 404
        assert b.queued() == 1  # the valid job is still there, nothing else was queued
        await b.drain()
        mirror = b.mirror_of("srv", key)
        assert (await b.bot["cld"].get_issue(mirror)).summary == "valid work"


def test_bad_configurations_are_refused_with_their_place() -> None:
    good = make_config("s", "c")
    text = yaml.safe_dump(good)
    assert parse_config(text).config.pairs[0].id == "ops"
    broken = [
        text.replace("flavour: cloud", "flavour: moon"),
        text.replace("project: OPS", "project: lower-case", 1),
        text.replace("workers: 4", "workers: 0"),
        "sites: [1, 2\n",  # YAML syntax
        "",
    ]
    for bad in broken:
        with pytest.raises(ConfigError) as info:
            parse_config(bad, name="jb.yaml")
        assert isinstance(info.value, FixConfigError)
        assert "jb.yaml" in str(info.value)
    # an unknown field in a pair is an error too, not silently ignored
    pair = dict(good["pairs"][0], colour="blue")
    with pytest.raises(ConfigError, match="colour"):
        parse_config(yaml.safe_dump({**good, "pairs": [pair]}))
    # secrets never appear in the messages
    leaky = text.replace("credential: env:SRV_PW", "credential: hunter2-password")
    try:
        parse_config(leaky, name="jb.yaml")
    except ConfigError as exc:
        assert "hunter2" not in str(exc)


async def test_the_configured_request_rate_is_kept(store: Store) -> None:
    import time

    from jirabridge.sync.config import SyncConfig

    async with bridge(store) as b:
        for i in range(10):
            await b.alice["srv"].create_issue(
                IssueInput(project_key="OPS", issue_type="Task", summary=f"paced {i}")
            )
        # a new runner whose Cloud site allows 20 requests per second
        raw = b.runner.config.model_dump(mode="json", exclude_none=True)
        raw["sites"]["cld"]["max_requests_per_second"] = 20
        for c in b.runner.clients.values():
            await c.aclose()
        config = SyncConfig.model_validate(raw)
        clients = {
            n: client_for_site(
                site, SECRETS.__getitem__, transport=httpx.ASGITransport(app=b.apps[n]), name=n
            )
            for n, site in config.sites.items()
        }
        b.runner = SyncRunner(config, store, clients=clients)
        await b.control["cld"].reset_counters()
        t = time.perf_counter()
        await b.settle()
        elapsed = time.perf_counter() - t
        calls = (await b.counters("cld"))["total"]
        assert calls >= 40
        # one second of burst allowed, then 20 per second at most
        assert elapsed >= (calls - 20) / 20, f"{calls} Cloud calls in {elapsed:.2f} s"


def test_the_cli_refuses_a_bad_config_without_a_traceback(tmp_path: Path) -> None:
    text = yaml.safe_dump(make_config("s", "c")).replace("workers: 4", "workers: 0")
    config = tmp_path / "jirabridge.yaml"
    config.write_text(text)
    jb = str(Path(sys.executable).with_name("jirabridge"))
    env = {k: v for k, v in os.environ.items() if k != "JIRABRIDGE_STORE_URL"}
    for command in ("backfill", "run", "reconcile"):
        done = subprocess.run(
            [jb, command, "--config", str(config), "--store", f"sqlite:///{tmp_path}/s.db"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=tmp_path,
        )
        assert done.returncode != 0, command
        out = done.stdout + done.stderr
        assert "Traceback" not in out, out
        assert "jirabridge.yaml" in out and "workers" in out, out
