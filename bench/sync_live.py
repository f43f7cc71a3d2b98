"""Live sync latency: changes made on the Server side at a steady rate, mirrored to Cloud.

Setup: a Server and a Cloud emulator in a CHILD process (as in production, where the Jira
sites are other machines), each served by uvicorn on a loopback port, with the Server's
admin webhooks delivered over HTTP by the emulator's own delivery worker to the engine's
receiver, served by uvicorn in THIS process next to the real engine (``SyncRunner.run``:
workers, with polling only as a slow backstop). ``P`` issue pairs are made by a backfill.
Then ``--rate`` summary changes per second for ``--seconds`` are made on Server issues
(round robin) through the emulator's model in the child, so the change itself costs the
engine's process nothing. ``--in-process`` keeps the older setup: both emulators in this
process behind ``httpx.ASGITransport`` (then the emulators' CPU competes with the engine's).

For every change the script records when it was made (``t0``, in the child; the monotonic
clock is the machine's, so the processes agree), when its webhook reached the engine's
receiver (``ta``) and, by wrapping the engine's Cloud client, when the engine's write
carrying that summary was answered (``t1``). Latency is ``t1 - t0``. Emulator time is
measured at the engine's boundary: every HTTP call the engine makes goes through a timing
transport, and the time spent inside those calls during the job that wrote the change is
summed (a context variable per job); over loopback it includes the HTTP round trip.
Engine overhead = latency - emulator time (the webhook delivery, the receiver, the queue,
waiting for a worker, diffing and the store all count as the engine's: a receiver that
answers slowly holds the site's delivery slots, so deliveries queue up because of the
engine). A change overtaken by a later change of the same issue before the engine wrote it
is counted as superseded (coalesced), not measured.

    .venv/bin/python bench/sync_live.py                # 200 changes/s for 10 s
    .venv/bin/python bench/sync_live.py --full         # 200 changes/s for 60 s (a minute)
    .venv/bin/python bench/sync_live.py --rate 60      # below saturation
    .venv/bin/python bench/sync_live.py --in-process   # emulators in the engine's process

The engine runs with ``queue.workers: 32`` (``--workers``): a job spends most of its time
waiting on the sites, so 200 changes/s need a few dozen in flight (the default of 4 suits
a few changes per second).

The latency is also split: ``change->received`` (the webhook delivery, including waiting for
a delivery slot while the receiver answers others), ``received->job`` (the receiver storing
the notice, waiting in the queue for a worker) and ``job->written`` (the apply up to the
answer of the mirror's write, emulator time included). The engine process's CPU per job,
the emulator process's CPU and the machine's load are printed too: a saturated core shows
as queueing.

Target: p99 engine overhead under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import multiprocessing
import os
import socket
import statistics
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

SECRETS = {"env:SRV_PW": "pw", "env:CLD_TOKEN": "tok", "env:HOOK": "bench-hook-secret"}
_spent: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("spent", default=None)
_job_start: contextvars.ContextVar[float] = contextvars.ContextVar("job_start", default=0.0)
now = time.monotonic  # CLOCK_MONOTONIC: one clock for both processes


class TimedTransport(httpx.AsyncBaseTransport):
    """Adds the time of every request to the current job's accumulator."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls = 0
        self.seconds = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        t = now()
        response = await self.inner.handle_async_request(request)
        await response.aread()
        spent = now() - t
        self.calls += 1
        self.seconds += spent
        acc = _spent.get()
        if acc is not None:
            acc[0] += spent
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# ---- the emulated sites (in the child process, or in this one with --in-process) -----------


@dataclass
class Sites:
    server: Any  # the Server emulator's app
    cloud: Any
    keys: list[str]  # the Server issues that change
    s_bot: str  # user keys
    c_bot: str
    alice: str


def build_sites(
    pairs: int, server_url: str, cloud_url: str, webhooks: httpx.AsyncBaseTransport | None
) -> Sites:
    from jirabridge.emulator import create_app
    from jirabridge.emulator.infra import InfraOptions

    server = create_app(
        "server",
        base_url=server_url,
        options=InfraOptions(base_url=server_url, webhook_transport=webhooks),
    )
    cloud = create_app("cloud", base_url=cloud_url)
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
    return Sites(server, cloud, keys, s_bot.key, c_bot.key, alice.key)


async def make_changes(
    sites: Sites, rate: float, seconds: float
) -> tuple[dict[str, float], dict[str, str], float]:
    """``rate`` summary changes a second on the Server issues, round robin: when each change
    was made (by summary), the last summary of each issue, and the rate achieved."""
    made: dict[str, float] = {}
    latest: dict[str, str] = {}
    total = int(rate * seconds)
    start = now()
    for n in range(total):
        delay = start + n / rate - now()
        if delay > 0:
            await asyncio.sleep(delay)
        key = sites.keys[n % len(sites.keys)]
        summary = f"change {n}"
        made[summary] = now()
        latest[key] = summary
        sites.server.site.edit_issue(sites.alice, key, {"summary": summary})
    return made, latest, total / (now() - start)


class Serving:
    """ASGI middleware in the child: the emulator's own time per request (from the request
    reaching the app to its last response byte), to tell it from the engine's waiting."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls = 0
        self.seconds = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t = now()
        try:
            await self.app(scope, receive, send)
        finally:
            self.calls += 1
            self.seconds += now() - t


def _listening() -> tuple[socket.socket, str]:
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on the accepted connections only
    # then (with Nagle left on, a response written in two parts waits ~40 ms for the
    # client's delayed ACK: every GET took 44 ms over loopback)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


def emulators_main(conn: Connection, pairs: int) -> None:
    """The child process: both emulators served over loopback until told to stop."""
    asyncio.run(_emulators(conn, pairs))


async def _emulators(conn: Connection, pairs: int) -> None:
    import uvicorn

    loop = asyncio.get_running_loop()
    cpu0 = time.process_time()
    (s_sock, s_url), (c_sock, c_url) = _listening(), _listening()
    sites = build_sites(pairs, s_url, c_url, None)
    serving = [Serving(sites.server), Serving(sites.cloud)]
    servers = [
        uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", backlog=1024)
        )
        for app in serving
    ]
    tasks = [
        asyncio.create_task(srv.serve(sockets=[sock]))
        for srv, sock in zip(servers, (s_sock, c_sock), strict=True)
    ]
    while not all(srv.started for srv in servers):  # noqa: ASYNC110 (uvicorn has no event)
        await asyncio.sleep(0.01)
    conn.send(
        {"server": s_url, "cloud": c_url, "keys": sites.keys}
        | {"s_bot": sites.s_bot, "c_bot": sites.c_bot}
    )
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command[0] == "changes":
            cpu0 = time.process_time()
            for app in serving:
                app.calls, app.seconds = 0, 0.0
            made, latest, achieved = await make_changes(sites, command[1], command[2])
            conn.send((made, latest, achieved))
        elif command[0] == "cpu":
            calls = sum(app.calls for app in serving)
            conn.send((time.process_time() - cpu0, calls, sum(app.seconds for app in serving)))
        else:
            break
    for srv in servers:
        srv.should_exit = True
    await asyncio.gather(*tasks)


# ---- the engine (this process) ----------------------------------------------------------


async def run(rate: float, seconds: float, pairs: int, workers: int, in_process: bool) -> None:
    from jirabridge._gc import tune_gc
    from jirabridge.sync.config import SyncConfig
    from jirabridge.sync.runner import SyncRunner, client_for_site, serve_app
    from jirabridge.sync.store import open_store

    arrived: dict[str, float] = {}  # summary -> when its webhook reached the receiver
    bodies: list[tuple[bytes, float]] = []  # parsed after the run: not the engine's CPU
    answering: list[float] = []  # ms from a delivery reaching the receiver to its answer

    class Late:
        """The receiver, set later; notes when each change's webhook arrived."""

        app: Any = None

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if self.app is None:  # the run is over (its store is gone): the site retries
                await send({"type": "http.response.start", "status": 503, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            chunks: list[bytes] = []

            async def noting() -> Any:
                message = await receive()
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    bodies.append((b"".join(chunks), now()))
                return message

            t = now()
            await self.app(scope, noting, send)
            answering.append((now() - t) * 1000)

    def note_arrival(body: bytes, at: float) -> None:
        try:
            items = json.loads(body).get("changelog", {}).get("items", [])
        except (ValueError, AttributeError):
            return
        for item in items:
            if item.get("field") == "summary" and item.get("toString"):
                arrived.setdefault(item["toString"], at)

    receiver = Late()
    stop_receiver = asyncio.Event()
    child: Any = None
    conn: Connection | None = None
    serving: asyncio.Task[None] | None = None
    if in_process:
        sites = build_sites(
            pairs,
            "http://server.bench",
            "http://cloud.bench",
            httpx.ASGITransport(app=receiver),
        )
        urls = {"server": "http://server.bench", "cloud": "http://cloud.bench"}
        keys, s_bot, c_bot = sites.keys, sites.s_bot, sites.c_bot
        receiver_url = "http://receiver.bench"
        inner: dict[str, httpx.AsyncBaseTransport] = {
            "srv": httpx.ASGITransport(app=sites.server),
            "cld": httpx.ASGITransport(app=sites.cloud),
        }
    else:
        conn, child_end = multiprocessing.Pipe()
        child = multiprocessing.get_context("spawn").Process(
            target=emulators_main, args=(child_end, pairs), daemon=True
        )
        child.start()
        info = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        urls = {"server": info["server"], "cloud": info["cloud"]}
        keys, s_bot, c_bot = info["keys"], info["s_bot"], info["c_bot"]
        bound: list[str] = []
        listening = asyncio.Event()
        serving = asyncio.create_task(
            serve_app(
                receiver,  # type: ignore[arg-type]
                host="127.0.0.1",
                port=0,
                stop=stop_receiver,
                started=lambda host, port: (bound.append(f"http://{host}:{port}"), listening.set()),
            )
        )
        await listening.wait()
        receiver_url = bound[0]
        # the transport the engine's clients have in production (JiraHttp's default)
        from jirabridge.jira._http import KeepAliveTransport

        inner = {"srv": KeepAliveTransport(), "cld": KeepAliveTransport()}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'state.db'}"
        config = SyncConfig.model_validate(
            {
                "sites": {
                    "srv": {
                        "flavour": "server",
                        "url": urls["server"],
                        "username": "svc",
                        "credential": "env:SRV_PW",
                        "integration_user": s_bot,
                        "webhook_secret": "env:HOOK",
                        "max_requests_per_second": 5000,
                    },
                    "cld": {
                        "flavour": "cloud",
                        "url": urls["cloud"],
                        "auth": "api_token",
                        "username": "bot@b.io",
                        "credential": "env:CLD_TOKEN",
                        "integration_user": c_bot,
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
        transports = {n: TimedTransport(t) for n, t in inner.items()}
        clients = {
            n: client_for_site(s, SECRETS.__getitem__, transport=transports[n], name=n)
            for n, s in config.sites.items()
        }
        runner = SyncRunner(config, store, clients=clients)
        tune_gc()  # as `jirabridge run` does once it is set up
        receiver.app = runner.receiver_app(SECRETS.__getitem__)
        t = now()
        await runner.backfill()
        print(f"live: {pairs} pairs made by a backfill in {now() - t:.1f} s")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sites.server) if in_process else None,
            base_url=urls["server"],
        ) as c:
            r = await c.post(
                "/rest/webhooks/1.0/webhook",
                auth=("svc", "pw"),
                json={
                    "name": "jb",
                    "url": f"{receiver_url}/webhooks/srv",
                    "events": ["jira:issue_updated"],
                    "secret": SECRETS["env:HOOK"],
                },
            )
            r.raise_for_status()
        if in_process:
            await sites.server.infra.start()

        written: dict[str, tuple[float, float, float]] = {}  # summary -> (t1, emulator, start)
        real_edit = clients["cld"].edit_issue

        async def timed_edit(key: str, data: Any, *a: Any, **kw: Any) -> Any:
            result = await real_edit(key, data, *a, **kw)
            t1 = now()
            acc = _spent.get()
            if data.summary and data.summary.startswith("change "):
                written[data.summary] = (t1, acc[0] if acc else 0.0, _job_start.get())
            return result

        clients["cld"].edit_issue = timed_edit  # type: ignore[method-assign]
        real_apply = runner.applier

        jobs: list[float] = []  # start time of every job the engine ran

        async def apply_with_timer(job: Any) -> bool:
            jobs.append(now())
            _spent.set([0.0])
            _job_start.set(now())
            return bool(await real_apply(job))

        runner._apply = apply_with_timer  # type: ignore[method-assign]

        stop = asyncio.Event()
        lags: list[float] = []  # how late a 5 ms sleep of the engine's event loop wakes up

        async def lag_probe() -> None:
            while not stop.is_set():
                t = now()
                await asyncio.sleep(0.005)
                lags.append((now() - t - 0.005) * 1000)

        probe = asyncio.create_task(lag_probe())
        engine = asyncio.create_task(runner.run(stop))
        cpu0 = time.process_time()
        for tr in transports.values():
            tr.calls, tr.seconds = 0, 0.0
        start = now()
        if conn is None:
            made, latest, achieved = await make_changes(sites, rate, seconds)
        else:
            conn.send(("changes", rate, seconds))
            made, latest, achieved = await asyncio.get_running_loop().run_in_executor(
                None, conn.recv
            )
        deadline = now() + 60
        while now() < deadline and not all(s in written for s in latest.values()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        drained = now()
        cpu = time.process_time() - cpu0
        child_cpu, served, serving_s = float("nan"), 0, float("nan")
        if conn is not None:
            conn.send(("cpu",))
            child_cpu, served, serving_s = conn.recv()
        calls = sum(tr.calls for tr in transports.values())
        calls_s = sum(tr.seconds for tr in transports.values())
        load = os.getloadavg()[0]
        jobs_during = sum(1 for t in jobs if t >= start)
        stop.set()
        await engine
        await probe
        if in_process:
            await sites.server.infra.stop()
        for c in clients.values():
            await c.aclose()
        receiver.app = None
        store.dispose()
    if conn is not None and child is not None and serving is not None:
        conn.send(("stop",))
        stop_receiver.set()
        await serving
        child.join(timeout=15)

    for body, at in bodies:
        note_arrival(body, at)
    total = len(made)
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
    mode = "emulators in this process" if in_process else "emulators in a child process"
    print(f"  changes made: {total:,} at {achieved:.0f}/s for {seconds:.0f} s on Server ({mode})")
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
    print(
        f"  receiver's answer   p50 {pct(answering, 0.5):7.1f} ms   "
        f"p99 {pct(answering, 0.99):7.1f} ms   (a delivery holds one of the site's slots that"
        " long; the rest of change->received is the site's own queueing and sending)"
    )
    busy = drained - start
    print(
        f"  engine jobs: {jobs_during:,} in {busy:.1f} s ({jobs_during / busy:.0f} jobs/s; "
        f"{jobs_during / max(total, 1):.2f} jobs per change) on {len(keys)} issues changing "
        f"{rate / len(keys):.1f} times/s each"
    )
    what = "emulators included" if in_process else "engine only"
    print(
        f"  engine process CPU {cpu:.1f} s in {busy:.1f} s ({cpu / busy:.0%} of a core; {what}),"
        f" {cpu / max(jobs_during, 1) * 1000:.1f} ms per job; emulator process CPU "
        f"{child_cpu:.1f} s; load average {load:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"  engine HTTP calls: {calls:,} ({calls / max(jobs_during, 1):.1f} per job), "
        f"{calls_s / max(calls, 1) * 1000:.1f} ms each as the engine waits"
        + (
            ""
            if in_process
            else f"; the emulators' own time {serving_s / max(served, 1) * 1000:.1f} ms each "
            f"({served:,} requests served, webhooks to the engine not included)"
        )
    )
    print(
        f"  engine event loop lag (a 5 ms sleep wakes late by): p50 {pct(lags, 0.5):.1f} ms, "
        f"p99 {pct(lags, 0.99):.1f} ms, max {max(lags, default=float('nan')):.1f} ms"
    )
    print("  target: p99 engine overhead < 100 ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="60 s instead of 10 s")
    parser.add_argument("--rate", type=float, default=200.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--pairs", type=int, default=200, help="issue pairs to change")
    parser.add_argument(
        "--workers",
        type=int,
        default=32,
        help="queue.workers: jobs in flight (each waits on the sites most of its time)",
    )
    parser.add_argument(
        "--in-process", action="store_true", help="both emulators in the engine's process"
    )
    args = parser.parse_args()
    seconds = args.seconds or (60.0 if args.full else 10.0)
    asyncio.run(run(args.rate, seconds, args.pairs, args.workers, args.in_process))


if __name__ == "__main__":
    main()
