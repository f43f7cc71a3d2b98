"""Engine CPU per Jira request: ``JiraHttp`` (GET issue, PUT issue) against a Server emulator
served by uvicorn in a child process over loopback, so only the client's side is counted.

    .venv/bin/python bench/http_overhead.py [--requests 2000] [--concurrency 1 8]

For each concurrency it prints CPU microseconds per request of this process
(``time.process_time``) and the wall time, for ``JiraHttp`` (its default transport,
``KeepAliveTransport``, whose connections parse with httptools), ``JiraHttp`` over httpx's
own pool (``AsyncHTTPTransport``, what it used before), and as a reference a bare
``httpx.AsyncClient`` doing the same calls (no governor, retries or counters; ``JiraHttp``
through ``AsyncClient.send`` cost a little more than this line).

Then the emulator's webhook delivery: CPU per delivery of a ``DeliveryWorker`` posting to a
receiver in the child (batches of ``--concurrency`` deliveries), and a bare
``AsyncClient.post`` loop of the same batches as the reference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

import httpx
from sync_live import _listening  # a loopback socket with TCP_NODELAY on accepted ones

from jirabridge.jira._auth import basic_auth
from jirabridge.jira._http import JiraHttp

Call = Callable[[int], Awaitable[None]]


def emulator_main(conn: Connection, issues: int) -> None:
    """The child: a Server emulator with ``issues`` issues, served until told to stop."""
    asyncio.run(_emulator(conn, issues))


async def _emulator(conn: Connection, issues: int) -> None:
    import uvicorn

    from jirabridge.emulator import create_app

    sock, url = _listening()
    app = create_app("server", base_url=url)
    app.site.create_user("Bot", name="svc", password="pw", groups=["jira-administrators"])
    site = app.site
    site.create_project("OPS", "Ops", site.admin_key)
    task = site.issue_type_by_name("Task").id
    keys = [
        site.create_issue(
            site.admin_key,
            {"project": {"key": "OPS"}, "issuetype": {"id": str(task)}, "summary": f"i{i}"},
        ).key
        for i in range(issues)
    ]
    hook_sock, hook_url = _listening()
    servers = [
        uvicorn.Server(
            uvicorn.Config(asgi, log_level="warning", access_log=False, lifespan="on", backlog=1024)
        )
        for asgi in (app, _receiver)
    ]
    serving = [
        asyncio.create_task(srv.serve(sockets=[s]))
        for srv, s in zip(servers, (sock, hook_sock), strict=True)
    ]
    while not all(srv.started for srv in servers):  # noqa: ASYNC110 (uvicorn has no event)
        await asyncio.sleep(0.01)
    conn.send({"url": url, "keys": keys, "hooks": f"{hook_url}/hook"})
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    for srv in servers:
        srv.should_exit = True
    await asyncio.gather(*serving)


async def _receiver(scope: Any, receive: Any, send: Any) -> None:
    """A webhook receiver that reads the body and answers 204."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def jira_calls(http: JiraHttp, keys: list[str]) -> tuple[Call, Call]:
    async def get(n: int) -> None:
        await http.json_object("GET", f"/rest/api/2/issue/{keys[n % len(keys)]}")

    async def put(n: int) -> None:
        await http.request(
            "PUT",
            f"/rest/api/2/issue/{keys[n % len(keys)]}",
            json_body={"fields": {"summary": f"s{n}"}},
        )

    return get, put


def bare_calls(client: httpx.AsyncClient, keys: list[str]) -> tuple[Call, Call]:
    async def get(n: int) -> None:
        response = await client.get(f"/rest/api/2/issue/{keys[n % len(keys)]}")
        response.raise_for_status()
        json.loads(response.content)

    async def put(n: int) -> None:
        response = await client.put(
            f"/rest/api/2/issue/{keys[n % len(keys)]}",
            json={"fields": {"summary": f"s{n}"}},
        )
        response.raise_for_status()

    return get, put


async def measure(call: Call, requests: int, concurrency: int) -> tuple[float, float]:
    """CPU and wall microseconds per request for ``requests`` calls, ``concurrency`` at once."""
    for n in range(20):  # warm the pool and the caches
        await call(n)
    counter = iter(range(requests))

    async def worker() -> None:
        for n in counter:
            await call(n)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / requests * 1e6, wall / requests * 1e6


async def measure_webhooks(hook_url: str, deliveries: int, batch: int) -> tuple[float, float]:
    """CPU microseconds per delivery: the emulator's worker, then a bare ``AsyncClient``."""
    from jirabridge.emulator.infra import DeliveryQueue, DeliveryWorker, FlavourName
    from jirabridge.emulator.infra._webhooks import Target, TargetKind
    from jirabridge.emulator.model import Clock

    clock = Clock()
    queue = DeliveryQueue(FlavourName.CLOUD, capacity=deliveries + batch)
    worker = DeliveryWorker(queue, clock, concurrency=batch)
    target = Target(TargetKind.REST, 1, hook_url)
    payload = {"webhookEvent": "jira:issue_updated", "issue": {"key": "OPS-1", "fields": {}}}

    async def one_batch() -> None:
        for _ in range(batch):
            queue.enqueue(target, "jira:issue_updated", payload, clock.monotonic(), clock.now())
        await worker.process_due()

    results = []
    for _ in range(3):  # warm
        await one_batch()
    cpu = time.process_time()
    for _ in range(deliveries // batch):
        await one_batch()
    results.append((time.process_time() - cpu) / (deliveries // batch * batch) * 1e6)
    await worker.stop()
    assert queue.summary()["failed"] == 0, queue.summary()

    body = json.dumps(payload).encode()
    async with httpx.AsyncClient(timeout=10.0, follow_redirects=False) as client:

        async def post() -> None:
            response = await client.post(hook_url, content=body, headers={"X-A": "1"})
            response.raise_for_status()

        for _ in range(3):
            await asyncio.gather(*(post() for _ in range(batch)))
        cpu = time.process_time()
        for _ in range(deliveries // batch):
            await asyncio.gather(*(post() for _ in range(batch)))
        results.append((time.process_time() - cpu) / (deliveries // batch * batch) * 1e6)
    return results[0], results[1]


async def run(url: str, keys: list[str], requests: int, concurrencies: list[int]) -> None:
    http = JiraHttp(url, auth=basic_auth("svc", "pw"))
    httpx_pool = JiraHttp(url, auth=basic_auth("svc", "pw"), transport=httpx.AsyncHTTPTransport())
    bare = httpx.AsyncClient(
        base_url=url, auth=httpx.BasicAuth("svc", "pw"), headers={"Accept": "application/json"}
    )
    paths: dict[str, tuple[Call, Call]] = {
        "JiraHttp": jira_calls(http, keys),
        "JiraHttp+httpxpool": jira_calls(httpx_pool, keys),
        "httpx.AsyncClient": bare_calls(bare, keys),
    }
    print(f"{'client':<18} {'conc':>4} {'op':<4} {'cpu us/req':>10} {'wall us/req':>11}")
    try:
        for concurrency in concurrencies:
            for name, (get, put) in paths.items():
                for op, call in (("GET", get), ("PUT", put)):
                    cpu, wall = await measure(call, requests, concurrency)
                    print(f"{name:<18} {concurrency:>4} {op:<4} {cpu:>10.0f} {wall:>11.0f}")
    finally:
        for closing in (http, httpx_pool):
            await closing.aclose()
        await bare.aclose()


async def run_webhooks(hook_url: str, deliveries: int, concurrencies: list[int]) -> None:
    print(f"\n{'webhook delivery':<18} {'conc':>4} {'cpu us/delivery':>15}")
    for concurrency in concurrencies:
        worker, bare = await measure_webhooks(hook_url, deliveries, concurrency)
        print(f"{'DeliveryWorker':<18} {concurrency:>4} {worker:>15.0f}")
        print(f"{'AsyncClient.post':<18} {concurrency:>4} {bare:>15.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per client, op and concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--issues", type=int, default=50)
    args = parser.parse_args()
    conn, child_end = multiprocessing.Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=emulator_main, args=(child_end, args.issues), daemon=True
    )
    child.start()
    info: dict[str, Any] = conn.recv()
    try:
        asyncio.run(run(info["url"], info["keys"], args.requests, args.concurrency))
        asyncio.run(run_webhooks(info["hooks"], args.requests, args.concurrency))
    finally:
        conn.send("stop")
        child.join(10)


if __name__ == "__main__":
    main()
