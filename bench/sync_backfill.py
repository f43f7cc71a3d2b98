"""Backfill speed: a seeded Server site into an empty Cloud site limited to 50 requests/s.

The Server emulator is seeded with ``seed_bulk`` (one project, N issues, 4N comments); the
Cloud emulator gets the same project, empty, with a burst limit of 50 requests per second on
every endpoint and 30 ms of latency on every request (both through the control plane). The
real engine (``SyncRunner.backfill``, clients from ``client_for_site``) runs in this process;
both emulators are reached in-process over ``httpx.ASGITransport`` (the latency and the rate
limit are the emulator's, so no socket cost is measured).

The minimum number of Cloud calls per issue, the figure the limit is compared against:

- creating the issue: 1/50 of a call (``POST /rest/api/3/issue/bulk`` takes 50 issues, and
  it can carry the cross-reference entity property in each issue's ``properties``),
- one ``POST .../comment`` per comment (Jira has no bulk comment API): C = comments/issue,
- cross-reference writes on Cloud: 0 beyond the create (the property rides in the create;
  the key written back to Server costs Server calls, not Cloud ones),
- reads: 0 per issue (the empty Cloud project is searched once per page of 5,000 issues).

The emulator's Cloud burst limit, like Jira's ``jira-burst-based`` one, counts per endpoint
and method, so a spread of endpoints can exceed 50 calls/s in total; the script therefore
also prints the per-endpoint ceiling (the busiest endpoint, comment POSTs, at C per issue).

So ``min_calls = 1/50 + C`` and the ceiling is ``50 / min_calls`` issues per second. The
script prints issues/s, its ratio to that ceiling (target >= 0.9) and the engine's Cloud
calls per issue from the emulator's request counters against the minimum.

The Cloud site is configured with ``max_requests_per_second: 50``, so the engine holds all
its Cloud calls to 50/s in total, whatever the emulator's per-endpoint rule would allow: the
ratio can only reach 0.9 near the minimum number of calls. The visible link on the Cloud
mirror is therefore the pair's ``cross_reference.url_fields`` (a URL field set in the bulk
create); ``--remote-link`` measures a remote link per mirror instead (one more call each).

    .venv/bin/python bench/sync_backfill.py           # 500 issues, 2,000 comments
    .venv/bin/python bench/sync_backfill.py --full    # 5,000 issues, 20,000 comments
    .venv/bin/python bench/sync_backfill.py --remote-link  # remote links on Cloud mirrors
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

LIMIT = 50  # Cloud requests per second
LATENCY_MS = 30
SECRETS = {"env:SRV_PW": "pw", "env:CLD_TOKEN": "tok"}
URL_FIELD = "customfield_10095"  # Cloud URL field: the mirror's visible link to its source


def build(issues: int, comments: int) -> tuple[Any, Any, str, str, str]:
    from jirabridge.emulator import create_app
    from jirabridge.emulator.model import Flavour, Site
    from jirabridge.emulator.seed import seed_bulk

    site = Site(Flavour.SERVER)
    seed_bulk(site, projects=1, issues=issues, comments=comments, users=20, sprints=0, seed=7)
    server = create_app("server", site, base_url="http://server.bench")
    cloud = create_app("cloud", base_url="http://cloud.bench")
    s_bot = server.site.create_user(
        "Sync Bot", name="svc-bench", password="pw", groups=["jira-administrators"]
    )
    c_bot = cloud.site.create_user(
        "Sync Bot", email="bot@bench.io", api_token="tok", groups=["site-admins", "jira-admins"]
    )
    project = next(iter(server.site.projects.values())).key
    cloud.site.create_project(project, "Bench", cloud.site.admin_key)
    cloud.site.create_custom_field("Server issue", "url", field_id=URL_FIELD)
    return server, cloud, project, s_bot.key, c_bot.key


def config(
    project: str, s_bot: str, c_bot: str, store: str, workers: int, remote_link: bool
) -> Any:
    from jirabridge.sync.config import SyncConfig

    return SyncConfig.model_validate(
        {
            "sites": {
                "srv": {
                    "flavour": "server",
                    "url": "http://server.bench",
                    "auth": "basic",
                    "username": "svc-bench",
                    "credential": "env:SRV_PW",
                    "integration_user": s_bot,
                    "max_requests_per_second": 1000,
                },
                "cld": {
                    "flavour": "cloud",
                    "url": "http://cloud.bench",
                    "auth": "api_token",
                    "username": "bot@bench.io",
                    "credential": "env:CLD_TOKEN",
                    "integration_user": c_bot,
                    "max_requests_per_second": LIMIT,
                },
            },
            "store": {"url": store},
            "queue": {"coalesce_seconds": 0, "workers": workers},
            "pairs": [
                {
                    "id": "bench",
                    "server": {"site": "srv", "project": project},
                    "cloud": {"site": "cld", "project": project},
                    "create": "server_to_cloud",
                    "fields": [
                        {"name": "summary"},
                        {"name": "description"},
                        {"name": "priority"},
                        {"name": "labels"},
                    ],
                    "comments": {"attribution_template": "{author} wrote:"},
                    # the visible link on the Cloud mirror: a URL field set in the create
                    # (no call), or with --remote-link a remote link (one call per issue)
                    "cross_reference": (
                        {"remote_links": ["server", "cloud"]}
                        if remote_link
                        else {"remote_links": ["server"], "url_fields": {"cloud": URL_FIELD}}
                    ),
                }
            ],
        }
    )


async def run(issues: int, comments: int, workers: int, remote_link: bool) -> None:
    from jirabridge.emulator.infra import ControlClient
    from jirabridge.sync.runner import SyncRunner, client_for_site
    from jirabridge.sync.store import open_store

    server, cloud, project, s_bot, c_bot = build(issues, comments)
    seeded_comments = len(server.site.comments)
    per_issue = seeded_comments / issues
    transports = {"srv": httpx.ASGITransport(app=server), "cld": httpx.ASGITransport(app=cloud)}
    async with ControlClient("http://cloud.bench", transport=transports["cld"]) as ctl:
        await ctl.rate_limits(burst_per_second=LIMIT, per_issue_writes=[[1000, 1]])
        await ctl.latency(ms=LATENCY_MS)
        await ctl.reset_counters()
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(f"sqlite:///{Path(tmp) / 'state.db'}")
            cfg = config(
                project,
                s_bot,
                c_bot,
                f"sqlite:///{Path(tmp) / 'state.db'}",
                workers,
                remote_link,
            )
            clients = {
                n: client_for_site(s, SECRETS.__getitem__, transport=transports[n], name=n)
                for n, s in cfg.sites.items()
            }
            runner = SyncRunner(cfg, store, clients=clients)
            t = time.perf_counter()
            result = await runner.backfill()
            elapsed = time.perf_counter() - t
            stats = runner.queue.stats()
            for c in clients.values():
                await c.aclose()
            store.dispose()
        counters = await ctl.counters()
    made = len(cloud.site.issues)
    made_comments = len(cloud.site.comments)
    calls = int(counters["total"])
    limited = int(counters.get("rateLimited", 0))
    by_endpoint: Counter[str] = Counter()
    for row in counters["calls"]:
        by_endpoint[f"{row['method']} {row['endpoint']}"] += int(row["count"])
    min_calls = 1 / 50 + per_issue
    ceiling = LIMIT / min_calls
    rate = made / elapsed if elapsed else 0.0
    print(
        f"backfill: {issues:,} Server issues, {seeded_comments:,} comments ({per_issue:.2f}/issue)"
    )
    print(f"  Cloud limit {LIMIT} requests/s, latency {LATENCY_MS} ms; engine workers {workers}")
    link = "remote link (1 call/issue)" if remote_link else f"URL field {URL_FIELD} in the create"
    print(f"  visible link on the Cloud mirror: {link}")
    print(
        f"  poll errors: {len(result.errors)}; dead letters: {stats.dead}; queued: {stats.queued}"
    )
    print(f"  created on Cloud: {made:,} issues, {made_comments:,} comments in {elapsed:.1f} s")
    print(f"  minimum Cloud calls per issue: 1/50 + {per_issue:.2f} = {min_calls:.2f}")
    print(f"  ceiling: {LIMIT} / {min_calls:.2f} = {ceiling:.2f} issues/s")
    print(
        f"  measured: {rate:.2f} issues/s  ratio to ceiling: {rate / ceiling:.2f} (target >= 0.9)"
    )
    # the emulator, like Jira's jira-burst-based limit, counts per endpoint and method: the
    # busiest endpoint (comment POSTs, C per issue) then bounds the rate at LIMIT / C
    busiest = max(per_issue, 1.0)
    print(
        f"  per-endpoint ceiling (the emulator's rule): {LIMIT} / {busiest:.2f} = "
        f"{LIMIT / busiest:.2f} issues/s, ratio {rate / (LIMIT / busiest):.2f}"
    )
    per_made = calls / max(made, 1)
    print(
        f"  if {LIMIT} req/s were one budget for all endpoints: {per_made:.2f} calls/issue allow "
        f"at most {LIMIT / per_made:.2f} issues/s (ratio <= {LIMIT / per_made / ceiling:.2f}); "
        f"measured total rate {calls / elapsed:.0f} req/s"
    )
    print(
        f"  Cloud calls: {calls:,} ({calls / max(made, 1):.2f} per issue, "
        f"{calls / max(made, 1) / min_calls:.2f}x the minimum); answered 429: {limited:,}"
    )
    print("  Cloud calls by endpoint:")
    for name, n in by_endpoint.most_common(12):
        print(f"    {n:7,d}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="5,000 issues, 20,000 comments")
    parser.add_argument("--issues", type=int, default=None)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument(
        "--remote-link",
        action="store_true",
        help="a remote link on the Cloud mirror too (one Cloud call per issue) instead of "
        "the URL field set in the create",
    )
    args = parser.parse_args()
    issues = args.issues or (5_000 if args.full else 500)
    asyncio.run(run(issues, issues * 4, args.workers, args.remote_link))


if __name__ == "__main__":
    main()
