"""Requests per second the clients sustain against a rate-limited emulator, as a share of
the limit, and how many 429s they earned on the way.

The emulator runs in-process (``httpx.ASGITransport``) with its rate limits set through the
control plane (``POST /_emulator/ratelimits``): Server/DC a per-user token bucket of
``capacity`` tokens refilled with ``limit`` tokens every second; Cloud a burst limit of
``limit`` calls per second per endpoint. Several tasks share one client (and so one
:class:`~jirabridge.jira.RateGovernor`) and read issues for ``--seconds``. The sustained rate
is measured after the warm-up (the DC bucket's initial burst, one second on Cloud).

Target (project issue #3): ratio >= 0.9 with no 429 beyond the first probe.

    .venv/bin/python bench/client_ratelimit.py            # limit 20/s, 20 s per flavour
    .venv/bin/python bench/client_ratelimit.py --full     # limit 100/s, 60 s per flavour
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import httpx

from jirabridge.emulator import create_app
from jirabridge.jira import (
    CloudClient,
    IssueInput,
    PlainCodec,
    RateGovernor,
    ServerClient,
    basic_auth,
    cloud_api_token_auth,
)


async def run(flavour: str, limit: int, seconds: float, workers: int) -> dict[str, Any]:
    app = create_app(flavour)
    site = app.site
    site.create_project("BEN", "Bench", site.admin_key)
    transport = httpx.ASGITransport(app=app)
    capacity = limit  # the DC bucket starts full: one second's worth of burst
    limits = {
        "capacity": capacity,
        "fillRate": limit,
        "intervalSeconds": 1,
        "burstPerSecond": limit,
    }
    async with httpx.AsyncClient(transport=transport, base_url=app.base_url) as control:
        # no limits while the issues to read are created
        (await control.post("/_emulator/ratelimits", json={"enabled": False})).raise_for_status()
    auth = (
        cloud_api_token_auth("admin@jirabridge.test", "admin")
        if flavour == "cloud"
        else basic_auth("admin", "admin")
    )
    cls = CloudClient if flavour == "cloud" else ServerClient
    client = cls(
        app.base_url, auth=auth, transport=transport, codec=PlainCodec(), governor=RateGovernor()
    )
    keys = [
        r.key
        for r in await client.bulk_create(
            [IssueInput(project_key="BEN", issue_type="Task", summary=f"b{n}") for n in range(10)]
        )
        if r.key
    ]
    async with httpx.AsyncClient(transport=transport, base_url=app.base_url) as control:
        (await control.post("/_emulator/ratelimits", json=limits)).raise_for_status()
        await control.delete("/_emulator/counters")
    before_429 = client.stats.rate_limited
    done: list[float] = []
    start = time.monotonic()
    stop_at = start + seconds

    async def worker(n: int) -> None:
        i = n
        while time.monotonic() < stop_at:
            await client.get_issue_raw(keys[i % len(keys)], fields=["summary"])
            done.append(time.monotonic())
            i += 1

    await asyncio.gather(*(worker(n) for n in range(workers)))
    end = time.monotonic()
    warm = start + (capacity / limit + 1.0 if flavour == "server" else 1.0)
    steady = [t for t in done if t >= warm]
    rate = len(steady) / (end - warm)
    async with httpx.AsyncClient(transport=transport, base_url=app.base_url) as control:
        counters = (await control.get("/_emulator/counters")).json()
    await client.aclose()
    return {
        "flavour": flavour,
        "limit": limit,
        "requests": len(done),
        "steady_rate": rate,
        "ratio": rate / limit,
        "client_429": client.stats.rate_limited - before_429,
        "emulator_429": counters.get("rateLimited"),
        "wait_s": client.stats.wait_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="limit 100/s for 60 s per flavour")
    parser.add_argument("--flavour", choices=["server", "cloud"], action="append")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    limit = args.limit or (100 if args.full else 20)
    seconds = args.seconds or (60.0 if args.full else 20.0)
    print(f"rate-limited emulator, limit {limit}/s, {seconds:.0f} s, {args.workers} tasks")
    print(
        f"{'flavour':8} {'requests':>9} {'steady/s':>9} {'ratio':>6} {'429 client':>10} "
        f"{'429 emulator':>12}"
    )
    for flavour in args.flavour or ["server", "cloud"]:
        result = asyncio.run(run(flavour, limit, seconds, args.workers))
        print(
            f"{result['flavour']:8} {result['requests']:9d} {result['steady_rate']:9.2f} "
            f"{result['ratio']:6.3f} {result['client_429']:10d} {result['emulator_429']!s:>12}"
        )


if __name__ == "__main__":
    main()
