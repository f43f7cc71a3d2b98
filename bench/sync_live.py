"""Live sync latency: changes made on the Server side at a steady rate, mirrored to Cloud.

Setup, all in this process: a Server and a Cloud emulator (``httpx.ASGITransport``), ``P``
issue pairs made by a backfill, Server admin webhooks delivered to the engine's receiver by
the emulator's own delivery worker, and the real engine (``SyncRunner.run``: workers, with
polling only as a slow backstop). Then ``--rate`` summary changes per second for
``--seconds`` are made on Server issues (round robin) through the emulator's model, so the
change itself costs no HTTP in this process.

For every change the script records when it was made (``t0``), when its webhook reached the
engine's receiver (``ta``) and, by wrapping the engine's Cloud client, when the engine's
write carrying that summary was answered (``t1``). Latency is ``t1 - t0``. Emulator time is
measured at the engine's boundary: every HTTP call the engine makes goes through a timing
transport, and the time spent inside those calls during the job that wrote the change is
summed (a context variable per job). Engine overhead = latency - emulator time (the webhook
delivery, the receiver, the queue, waiting for a worker, diffing and the store all count as
the engine's: the delivery is in-process and immediate, and a receiver that answers slowly
holds the site's delivery slots, so deliveries queue up because of the engine). A change
overtaken by a later change of the same issue before the engine wrote it is counted as
superseded (coalesced), not measured.

    .venv/bin/python bench/sync_live.py            # 200 changes/s for 10 s
    .venv/bin/python bench/sync_live.py --full     # 200 changes/s for 60 s (a minute)

The latency is also split: ``change->received`` (the webhook delivery, including waiting for
a delivery slot while the receiver answers others), ``received->job`` (the receiver storing
the notice, waiting in the queue for a worker) and ``job->written`` (the apply up to the
answer of the mirror's write, emulator time included).
The process's CPU time and the machine's load are printed too: everything here (both
emulators, their webhook delivery and the engine) shares one process, so a saturated core
shows as queueing.

Target: p99 engine overhead under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

SECRETS = {"env:SRV_PW": "pw", "env:CLD_TOKEN": "tok", "env:HOOK": "bench-hook-secret"}
_spent: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("spent", default=None)
_job_start: contextvars.ContextVar[float] = contextvars.ContextVar("job_start", default=0.0)


class TimedTransport(httpx.AsyncBaseTransport):
    """Adds the time of every request to the current job's accumulator."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        t = time.perf_counter()
        response = await self.inner.handle_async_request(request)
        await response.aread()
        acc = _spent.get()
        if acc is not None:
            acc[0] += time.perf_counter() - t
        return response


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(rate: float, seconds: float, pairs: int, workers: int) -> None:
    from jirabridge.emulator import create_app
    from jirabridge.emulator.infra import InfraOptions
    from jirabridge.sync.config import SyncConfig
    from jirabridge.sync.runner import SyncRunner, client_for_site
    from jirabridge.sync.store import open_store

    arrived: dict[str, float] = {}  # summary -> when its webhook reached the receiver

    class Late:
        """The receiver, set later; notes when each change's webhook arrived."""

        app: Any = None

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            chunks: list[bytes] = []

            async def noting() -> Any:
                message = await receive()
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    note_arrival(b"".join(chunks), time.perf_counter())
                return message

            await self.app(scope, noting, send)

    def note_arrival(body: bytes, at: float) -> None:
        try:
            items = json.loads(body).get("changelog", {}).get("items", [])
        except (ValueError, AttributeError):
            return
        for item in items:
            if item.get("field") == "summary" and item.get("toString"):
                arrived.setdefault(item["toString"], at)

    receiver = Late()
    server = create_app(
        "server",
        base_url="http://server.bench",
        options=InfraOptions(
            base_url="http://server.bench", webhook_transport=httpx.ASGITransport(app=receiver)
        ),
    )
    cloud = create_app("cloud", base_url="http://cloud.bench")
    s_bot = server.site.create_user(
        "Bot", name="svc", password="pw", groups=["jira-administrators"]
    )
    c_bot = cloud.site.create_user("Bot", email="bot@b.io", api_token="tok", groups=["site-admins"])
    alice = server.site.create_user("Alice", name="alice", password="pw", groups=["jira-users"])
    for site in (server.site, cloud.site):
        site.create_project("OPS", "Ops", site.admin_key)
    task = server.site.issue_type_by_name("Task").id
    keys = [
        server.site.create_issue(
            alice.key,
            {"project": {"key": "OPS"}, "issuetype": {"id": str(task)}, "summary": f"p{i}"},
        ).key
        for i in range(pairs)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'state.db'}"
        config = SyncConfig.model_validate(
            {
                "sites": {
                    "srv": {
                        "flavour": "server",
                        "url": "http://server.bench",
                        "username": "svc",
                        "credential": "env:SRV_PW",
                        "integration_user": s_bot.key,
                        "webhook_secret": "env:HOOK",
                        "max_requests_per_second": 5000,
                    },
                    "cld": {
                        "flavour": "cloud",
                        "url": "http://cloud.bench",
                        "auth": "api_token",
                        "username": "bot@b.io",
                        "credential": "env:CLD_TOKEN",
                        "integration_user": c_bot.key,
                        "max_requests_per_second": 5000,
                    },
                },
                "store": {"url": url},
                "polling": {"interval_seconds": 3600},
                "queue": {"coalesce_seconds": 0, "workers": workers},
                "pairs": [
                    {
                        "id": "live",
                        "server": {"site": "srv", "project": "OPS"},
                        "cloud": {"site": "cld", "project": "OPS"},
                        "create": "server_to_cloud",
                        "fields": [{"name": "summary"}],
                        "comments": {"direction": "server_to_cloud"},
                    }
                ],
            }
        )
        store = open_store(url)
        transports = {
            "srv": TimedTransport(httpx.ASGITransport(app=server)),
            "cld": TimedTransport(httpx.ASGITransport(app=cloud)),
        }
        clients = {
            n: client_for_site(s, SECRETS.__getitem__, transport=transports[n], name=n)
            for n, s in config.sites.items()
        }
        runner = SyncRunner(config, store, clients=clients)
        receiver.app = runner.receiver_app(SECRETS.__getitem__)
        t = time.perf_counter()
        await runner.backfill()
        print(f"live: {pairs} pairs made by a backfill in {time.perf_counter() - t:.1f} s")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=server), base_url="http://server.bench"
        ) as c:
            r = await c.post(
                "/rest/webhooks/1.0/webhook",
                auth=("svc", "pw"),
                json={
                    "name": "jb",
                    "url": "http://receiver.bench/webhooks/srv",
                    "events": ["jira:issue_updated"],
                    "secret": SECRETS["env:HOOK"],
                },
            )
            r.raise_for_status()
        await server.infra.start()

        made: dict[str, float] = {}  # summary -> t0
        latest: dict[str, str] = {}  # issue key -> latest summary
        written: dict[str, tuple[float, float, float]] = {}  # summary -> (t1, emulator, start)
        real_edit = clients["cld"].edit_issue

        async def timed_edit(key: str, data: Any, *a: Any, **kw: Any) -> Any:
            result = await real_edit(key, data, *a, **kw)
            t1 = time.perf_counter()
            acc = _spent.get()
            if data.summary in made:
                written[data.summary] = (t1, acc[0] if acc else 0.0, _job_start.get())
            return result

        clients["cld"].edit_issue = timed_edit  # type: ignore[method-assign]
        real_apply = runner.applier

        jobs: list[float] = []  # start time of every job the engine ran

        async def apply_with_timer(job: Any) -> bool:
            jobs.append(time.perf_counter())
            _spent.set([0.0])
            _job_start.set(time.perf_counter())
            return bool(await real_apply(job))

        runner._apply = apply_with_timer  # type: ignore[method-assign]

        stop = asyncio.Event()
        engine = asyncio.create_task(runner.run(stop))
        total = int(rate * seconds)
        cpu0 = time.process_time()
        start = time.perf_counter()
        for n in range(total):
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            key = keys[n % len(keys)]
            summary = f"change {n}"
            made[summary] = time.perf_counter()
            latest[key] = summary
            server.site.edit_issue(alice.key, key, {"summary": summary})
        achieved = total / (time.perf_counter() - start)
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline and not all(s in written for s in latest.values()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        drained = time.perf_counter()
        cpu = time.process_time() - cpu0
        load = os.getloadavg()[0]
        jobs_during = sum(1 for t in jobs if t >= start)
        stop.set()
        await engine
        await server.infra.stop()
        for c in clients.values():
            await c.aclose()
        store.dispose()

    measured = [s for s in made if s in written]
    # a change whose own webhook never came (a later one of the issue carried it): its
    # delivery is taken as the time to the next arrival of that issue's webhooks
    ta = {s: arrived.get(s, written[s][2]) for s in measured}
    latency = [(written[s][0] - made[s]) * 1000 for s in measured]
    delivery = [(min(ta[s], written[s][2]) - made[s]) * 1000 for s in measured]
    emulator = [written[s][1] * 1000 for s in measured]
    overhead = [lat - em for lat, em in zip(latency, emulator, strict=True)]
    waiting = [(written[s][2] - min(ta[s], written[s][2])) * 1000 for s in measured]
    applying = [(written[s][0] - written[s][2]) * 1000 for s in measured]
    lost = [s for s in latest.values() if s not in written]
    print(f"  changes made: {total:,} at {achieved:.0f}/s for {seconds:.0f} s on Server")
    print(
        f"  mirrored writes measured: {len(latency):,}; superseded by a later change of the "
        f"same issue (coalesced): {total - len(latency) - len(lost):,}; final values missing: "
        f"{len(lost)}"
    )
    for name, values in (
        ("end to end", latency),
        ("emulator time", emulator),
        ("engine overhead", overhead),
        ("  change->received", delivery),
        ("  received->job", waiting),
        ("  job->written", applying),
    ):
        print(
            f"  {name:19s} p50 {pct(values, 0.5):7.1f} ms   p99 {pct(values, 0.99):7.1f} ms   "
            f"max {max(values, default=float('nan')):7.1f} ms   "
            f"mean {statistics.fmean(values) if values else float('nan'):7.1f} ms"
        )
    busy = drained - start
    print(
        f"  engine jobs: {jobs_during:,} in {busy:.1f} s ({jobs_during / busy:.0f} jobs/s) for "
        f"{len(keys)} issues changing {rate / len(keys):.1f} times/s each"
    )
    print(
        f"  process CPU {cpu:.1f} s in {busy:.1f} s ({cpu / busy:.0%} of a core; emulators "
        f"included), {cpu / max(jobs_during, 1) * 1000:.1f} ms per job; load average "
        f"{load:.1f} on {os.cpu_count()} cores"
    )
    print("  target: p99 engine overhead < 100 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="60 s instead of 10 s")
    parser.add_argument("--rate", type=float, default=200.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--pairs", type=int, default=200, help="issue pairs to change")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    seconds = args.seconds or (60.0 if args.full else 10.0)
    asyncio.run(run(args.rate, seconds, args.pairs, args.workers))


if __name__ == "__main__":
    main()
