"""GET-issue reads per second against the emulator, in-process and over HTTP.

In-process: ``httpx.AsyncClient`` over ``httpx.ASGITransport`` (no sockets).
Over HTTP: uvicorn on 127.0.0.1 in a child process, several concurrent keep-alive
connections from this process. The HTTP client is a minimal hand-written HTTP/1.1 one (fixed
request, Content-Length framing): httpx costs about half a millisecond per request on the
client side, which on a 2-core machine would measure the client rather than the emulator.

    .venv/bin/python bench/emulator_reads.py            # small: ~2,000 reads each way
    .venv/bin/python bench/emulator_reads.py --full     # longer: 20,000 reads each way

Targets on a 2-core machine: >= 2,000 reads/s in-process, >= 500 reads/s over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing
import os
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

AUTH = {"server": ("admin", "admin"), "cloud": ("admin@jirabridge.test", "admin")}


def build_site(flavour: str, issues: int) -> Any:
    """A site with one project and ``issues`` issues, each with two comments."""
    from jirabridge.emulator.model import Flavour, Site

    site = Site(Flavour(flavour))
    admin = site.admin_key
    site.create_project("BENCH", "Bench", admin)
    cloud = flavour == "cloud"
    for n in range(issues):
        body: Any = f"Description of issue {n} with *some* wiki text"
        if cloud:
            body = {
                "type": "doc",
                "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": body}]}],
            }
        issue = site.create_issue(
            admin,
            {
                "project": {"key": "BENCH"},
                "issuetype": {"name": "Task"},
                "summary": f"Issue {n}",
                "description": body,
                "labels": ["bench"],
            },
        )
        for _ in range(2):
            site.add_comment(admin, issue.key, body)
    return site


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(flavour: str, issues: int, port: int) -> None:
    import uvicorn

    from jirabridge.emulator import create_app

    app = create_app(flavour, build_site(flavour, issues), base_url=f"http://127.0.0.1:{port}")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


async def _reads(
    client: httpx.AsyncClient, path: str, keys: list[str], total: int, workers: int
) -> float:
    counter = iter(range(total))

    async def worker() -> None:
        for n in counter:
            response = await client.get(f"{path}/{keys[n % len(keys)]}")
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code}: {response.text[:200]}")

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return total / (time.perf_counter() - start)


async def in_process(flavour: str, issues: int, total: int) -> float:
    from jirabridge.emulator import create_app

    site = build_site(flavour, issues)
    app = create_app(flavour, site)
    keys = [i.key for i in site.issues.values()]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url=app.base_url, auth=AUTH[flavour]
    ) as client:
        await _reads(client, _path(flavour), keys, min(200, total), 1)  # warm up
        return await _reads(client, _path(flavour), keys, total, 4)


async def _raw_reads(
    port: int, flavour: str, keys: list[str], total: int, connections: int
) -> float:
    """Reads over ``connections`` keep-alive sockets; returns reads per second."""
    token = base64.b64encode(":".join(AUTH[flavour]).encode()).decode()
    path = _path(flavour)
    counter = iter(range(total))

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for n in counter:
                request = (
                    f"GET {path}/{keys[n % len(keys)]} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Authorization: Basic {token}\r\nAccept: application/json\r\n\r\n"
                )
                writer.write(request.encode())
                head = await reader.readuntil(b"\r\n\r\n")
                status = head.split(b" ", 2)[1]
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                if status != b"200":
                    raise RuntimeError(f"{status.decode()}: {body[:200]!r}")
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    return total / (time.perf_counter() - start)


async def over_http(flavour: str, issues: int, total: int, connections: int) -> float:
    port = free_port()
    proc = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(flavour, issues, port), daemon=True
    )
    proc.start()
    try:
        base = f"http://127.0.0.1:{port}"
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=base, auth=AUTH[flavour], limits=limits) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await client.get("/rest/api/2/serverInfo")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or not proc.is_alive():
                    raise RuntimeError("the emulator did not start")
                await asyncio.sleep(0.1)
        keys = [f"BENCH-{n + 1}" for n in range(issues)]
        await _raw_reads(port, flavour, keys, min(200, total), connections)
        return await _raw_reads(port, flavour, keys, total, connections)
    finally:
        proc.terminate()
        proc.join(10)


def _path(flavour: str) -> str:
    return "/rest/api/3/issue" if flavour == "cloud" else "/rest/api/2/issue"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="longer run (20,000 reads each way)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds per figure (best and median printed)"
    )
    args = parser.parse_args()
    total = 20_000 if args.full else 2_000
    issues = 1_000 if args.full else 200
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"GET issue reads; {issues} issues with 2 comments each; {total} reads per round; "
        f"{args.rounds} rounds; {os.cpu_count()} CPUs, load average {load:.1f} at start"
    )
    for flavour in ("server", "cloud"):
        local = [asyncio.run(in_process(flavour, issues, total)) for _ in range(args.rounds)]
        http = [
            asyncio.run(over_http(flavour, issues, total, args.connections))
            for _ in range(args.rounds)
        ]
        print(
            f"{flavour:6}  in-process (ASGITransport): best {max(local):6.0f}, median "
            f"{statistics.median(local):6.0f} reads/s   HTTP (uvicorn, {args.connections} "
            f"connections): best {max(http):6.0f}, median {statistics.median(http):6.0f} reads/s"
        )


if __name__ == "__main__":
    main()
