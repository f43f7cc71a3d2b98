"""Seed an emulated site in bulk and print the time and peak memory.

Default: 10,000 issues / 30,000 comments on each flavour. ``--full``: 100,000 / 300,000
(issue #2 asks for under a minute within 2 GB). Also times a save/load round trip and a
batch of simple reads (``get_issue`` by key + comments of the issue).

    .venv/bin/python bench/emulator_seed.py [--full] [--flavour server|cloud] [--no-save]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time

import psutil

from jirabridge.emulator.model import Flavour, Site
from jirabridge.emulator.seed import seed_bulk


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="100,000 issues / 300,000 comments")
    parser.add_argument("--flavour", choices=["server", "cloud"], action="append")
    parser.add_argument("--no-save", action="store_true", help="skip the save/load round trip")
    args = parser.parse_args()
    issues, comments = (100_000, 300_000) if args.full else (10_000, 30_000)
    peak = _rss_mb()
    for flavour in args.flavour or ["server", "cloud"]:
        site = Site(Flavour(flavour), seed=1)
        before = _rss_mb()
        t0 = time.perf_counter()
        seed_bulk(
            site, projects=10, issues=issues, comments=comments, users=200, sprints=20, seed=1
        )
        seconds = time.perf_counter() - t0
        after = _rss_mb()
        peak = max(peak, after)
        print(
            f"{flavour}: seeded {len(site.issues):,} issues, {len(site.comments):,} comments "
            f"in {seconds:.2f} s; RSS {before:.0f} -> {after:.0f} MB"
        )
        keys = list(site.issues_by_key)[:: max(1, len(site.issues_by_key) // 20_000)]
        t0 = time.perf_counter()
        for key in keys:
            issue = site.get_issue(key)
            site.issue_comments(issue.id)
        reads = len(keys) / (time.perf_counter() - t0)
        print(f"{flavour}: {len(keys):,} get_issue + issue_comments reads at {reads:,.0f}/s")
        if not args.no_save:
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "state.json.gz")
                t0 = time.perf_counter()
                site.save(path)
                saved = time.perf_counter() - t0
                size = os.path.getsize(path) / 2**20
                t0 = time.perf_counter()
                loaded = Site.load(path)
                load_s = time.perf_counter() - t0
                peak = max(peak, _rss_mb())
                print(
                    f"{flavour}: save {saved:.2f} s ({size:.1f} MB gzip), load {load_s:.2f} s, "
                    f"{len(loaded.issues):,} issues back"
                )
                del loaded
        del site
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    maxrss_mb = maxrss / 2**20 if sys.platform == "darwin" else maxrss / 2**10
    print(f"peak RSS {maxrss_mb:.0f} MB (getrusage; sampled max {peak:.0f} MB)")


if __name__ == "__main__":
    main()
