"""JQL over the emulator's model: scans of many issues, and searches after a bulk seed.

Two parts, both in-process (no HTTP):

- ``scan``: issues inserted straight into a Server site's stores (no changelog, no events),
  then a set of JQL queries through ``jirabridge.emulator.search.search`` and one pure
  predicate scan with a compiled query; milliseconds per query and hits.
- ``seeded``: ``seed_bulk`` on a Server and a Cloud site (issues, as many comments, 50 users,
  5 sprints), the seed time, then typical sync-engine queries (project, updated window,
  text search, sprint functions).

    .venv/bin/python bench/emulator_jql.py           # small: 10,000 scanned / 2,000 seeded
    .venv/bin/python bench/emulator_jql.py --full    # 100,000 scanned / 20,000 seeded

Figures depend on the machine and its load; compare runs made one after the other.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta


def scan(n: int) -> None:
    from jirabridge.emulator.jql import compile_query, parse
    from jirabridge.emulator.model import Flavour, Issue, Site
    from jirabridge.emulator.search import SiteResolver, search

    site = Site(Flavour.SERVER)
    admin = site.admin_key
    pids = [site.create_project(k, k.title(), admin).id for k in ("OPS", "DEV", "WEB", "APP")]
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    statuses = list(site.statuses)
    for i in range(n):
        pid = pids[i % 4]
        key = f"{site.projects[pid].key}-{i // 4 + 1}"
        iid = 100_000 + i
        created = t0 + timedelta(minutes=i)
        fields = {
            "project": pid,
            "issuetype": 3,
            "status": statuses[i % len(statuses)],
            "summary": f"Issue number {i} about printers" if i % 10 == 0 else f"Issue {i}",
            "priority": 1 + i % 5,
            "reporter": admin,
            "labels": ["a", "b"] if i % 3 else [],
        }
        site.issues[iid] = Issue(
            iid, key, pid, fields, created, created + timedelta(minutes=i % 77)
        )
        site.issues_by_key[key] = iid
        site.issues_by_project.setdefault(pid, {})[iid] = None
    print(f"scan: {n:,} issues inserted into a Server site")
    queries = [
        "priority = High",
        "project = OPS",
        'project = OPS AND updated >= "2026/02/01 03:10" ORDER BY updated ASC, key ASC',
        "status = Done OR labels = a",
        "summary ~ printers",
        "key in (OPS-5, DEV-7)",
        "",
    ]
    for jql in queries:
        t = time.perf_counter()
        result = search(site, jql, viewer_key=admin)
        dt = time.perf_counter() - t
        print(f"  {dt * 1000:9.1f} ms {result.total:8,d} hits  {jql!r}")
    compiled = compile_query(parse("priority = High"), SiteResolver(site, admin, Flavour.SERVER))
    issues = list(site.issues.values())
    t = time.perf_counter()
    hits = sum(1 for i in issues if compiled.matches(i))
    dt = time.perf_counter() - t
    print(f"  {dt * 1000:9.1f} ms {hits:8,d} hits  pure predicate scan 'priority = High'")
    print(f"  predicate rate: {len(issues) / dt:,.0f} issues/s")


def seeded(n: int) -> None:
    from jirabridge.emulator.model import Flavour, Site
    from jirabridge.emulator.search import search
    from jirabridge.emulator.seed import seed_bulk

    for flavour in (Flavour.SERVER, Flavour.CLOUD):
        site = Site(flavour)
        t = time.perf_counter()
        seed_bulk(site, projects=4, issues=n, comments=n, users=50, sprints=5, seed=1)
        dt = time.perf_counter() - t
        print(
            f"seeded {flavour.value}: {len(site.issues):,} issues, {len(site.comments):,} "
            f"comments in {dt:.3f} s ({len(site.issues) / dt:,.0f} issues/s)"
        )
        key = next(iter(site.projects.values())).key
        for jql in (
            f"project = {key}",
            f'project = {key} AND updated >= "-1d" ORDER BY updated ASC, key ASC',
            "statusCategory != Done ORDER BY priority",
            'text ~ "error"',
            "assignee is EMPTY",
            "sprint in openSprints()",
            "",
        ):
            t = time.perf_counter()
            result = search(site, jql, viewer_key=site.admin_key)
            dt = time.perf_counter() - t
            print(f"  {dt * 1000:9.1f} ms {result.total:8,d} hits  {jql}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="100,000 scanned, 20,000 seeded")
    parser.add_argument("--scan", type=int, default=None, help="issues to scan")
    parser.add_argument("--seed", type=int, default=None, help="issues to seed per flavour")
    args = parser.parse_args()
    scan(args.scan or (100_000 if args.full else 10_000))
    seeded(args.seed or (20_000 if args.full else 2_000))


if __name__ == "__main__":
    main()
