"""Cost of the emulators' cross-cutting layer (``jirabridge.emulator.infra``).

- ``overhead``: microseconds per request of a trivial route, bare Starlette vs wrapped by
  ``Infra.wrap`` (auth, counters, faults, rate limits off), vs wrapped with a Server token
  bucket that never runs dry; in-process over ``httpx.ASGITransport``.
- ``delivery``: webhook events queued per second (``Infra.on_event``) and delivered per
  second to an in-process receiver, for each flavour (Server queue, Cloud retrying queue).

    .venv/bin/python bench/emulator_infra.py          # small: 1,000 requests, 1,000 events
    .venv/bin/python bench/emulator_infra.py --full   # 10,000 requests, 10,000 events

Figures depend on the machine and its load; compare runs made one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import time
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def _ok(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _per_request(app: Any, headers: dict[str, str], n: int) -> float:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for _ in range(min(50, n)):
            await c.get("/rest/api/2/myself", headers=headers)
        t = time.perf_counter()
        for _ in range(n):
            r = await c.get("/rest/api/2/myself", headers=headers)
        if r.status_code != 200:
            raise SystemExit(f"unexpected answer {r.status_code}")
        return (time.perf_counter() - t) / n * 1e6


async def overhead(n: int) -> None:
    from jirabridge.emulator.infra import Infra, InfraOptions, ServerRateLimitConfig
    from jirabridge.emulator.model import Flavour, Site

    site = Site(Flavour.SERVER)
    site.create_user("Dev", name="dev", password="pw")
    headers = {"Authorization": "Basic " + base64.b64encode(b"dev:pw").decode()}
    bare = Starlette(routes=[Route("/rest/api/2/myself", _ok)])
    infra = Infra(site, "server")
    wrapped = infra.wrap(Starlette(routes=[*infra.routes(), Route("/rest/api/2/myself", _ok)]))
    bucket = ServerRateLimitConfig(capacity=10**9, fill_rate=10**9)
    infra2 = Infra(site, "server", options=InfraOptions(server_rate_limit=bucket))
    limited = infra2.wrap(Starlette(routes=[*infra2.routes(), Route("/rest/api/2/myself", _ok)]))
    a = await _per_request(bare, headers, n)
    b = await _per_request(wrapped, headers, n)
    c = await _per_request(limited, headers, n)
    print(f"overhead: {n:,} requests each, in-process")
    print(f"  bare starlette      {a:8.0f} us/request")
    print(f"  + infra             {b:8.0f} us/request  (+{b - a:.0f} us, {b / a:.2f}x)")
    print(f"  + infra + bucket    {c:8.0f} us/request  (+{c - a:.0f} us, {c / a:.2f}x)")


async def _hook(request: Request) -> Response:
    await request.body()
    return Response(status_code=204)


async def delivery(n: int) -> None:
    from jirabridge.emulator.infra import Infra, InfraOptions

    receiver = Starlette(routes=[Route("/h", _hook, methods=["POST"])])
    print(f"delivery: {n:,} events per flavour to an in-process receiver")
    for flavour in ("server", "cloud"):
        options = InfraOptions(
            webhook_transport=httpx.ASGITransport(app=receiver), server_queue_capacity=10**6
        )
        infra = Infra(object(), flavour, options=options)
        infra.set_payload_builder(
            lambda e: {"webhookEvent": "jira:issue_created", "issue": {"key": f"P-{e}"}}
        )
        infra.webhooks.create_admin(
            name="h",
            url="http://r.test/h",
            events=["jira:issue_created"],
            jql=None,
            exclude_body=False,
            enabled=True,
            user_key="u",
            now=infra.clock.now(),
        )
        t = time.perf_counter()
        for i in range(n):
            infra.on_event(i)
        queued = time.perf_counter() - t
        t = time.perf_counter()
        idle = await infra.flush_webhooks(within=300)
        delivered = time.perf_counter() - t
        await infra.stop()
        print(
            f"  {flavour:6s} queue {n / queued:10,.0f} events/s   deliver {n / delivered:8,.0f} "
            f"events/s   idle={idle} summary={infra.deliveries.summary()}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="10,000 requests and events")
    args = parser.parse_args()
    n = 10_000 if args.full else 1_000
    asyncio.run(overhead(n))
    asyncio.run(delivery(n))


if __name__ == "__main__":
    main()
