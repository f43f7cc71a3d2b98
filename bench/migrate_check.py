"""Benchmark `migrate check` against plain lxml iterparse over the same entities.xml.

Generates a synthetic entities.xml in .cache/migrate/ (small by default, >= 1 GB with --full),
then runs, each in a fresh child process: (a) plain lxml iterparse with the usual
clear-and-delete-siblings loop, (b) `check_backup` on the same file, alternately, --rounds
times each (the machine is shared: the best time of each is kept). Prints both throughputs,
their ratio (target >= 0.8) and each run's peak RSS (target < 200 MB). The ratio is given
by wall-clock time and by CPU time: on a busy machine the CPU-time ratio is the stable one.

    .venv/bin/python bench/migrate_check.py            # ~150 MB, about a minute
    .venv/bin/python bench/migrate_check.py --full     # >= 1 GB
    .venv/bin/python bench/migrate_check.py --media 100000   # also: pack a Jira home of N files
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "migrate"
BYTES_PER_ISSUE = 2850  # measured for the spec below


def _spec(target_bytes: int):  # type: ignore[no-untyped-def]
    from jirabridge.migrate.synth import Defect, SynthSpec

    issues = int(target_bytes * 1.05 / BYTES_PER_ISSUE) + 1
    return SynthSpec(
        projects=10,
        issues_per_project=issues // 10 + 1,
        users=500,
        comments_per_issue=3,
        text_size=600,
        defects=frozenset({Defect.DUPLICATE_EMAIL, Defect.ADDON_USER}),  # plain lxml must parse it
    )


def generate(target_bytes: int) -> Path:
    from jirabridge.migrate.synth import write_entities

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"bench-entities-{target_bytes // 1_000_000}MB.xml"
    if path.exists() and path.stat().st_size >= target_bytes:
        return path
    tmp = path.with_suffix(".part")
    started = time.perf_counter()
    with tmp.open("wb") as fh:
        size = write_entities(fh, _spec(target_bytes))
    tmp.rename(path)
    print(f"generated {path} ({size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
    return path


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(kind: str, path: Path) -> None:
    from lxml import etree

    from jirabridge.migrate import check_backup  # imports stay out of the timed part

    cpu_started = _cpu()
    started = time.perf_counter()
    if kind == "lxml":
        for _event, el in etree.iterparse(
            str(path), events=("end",), resolve_entities=False, no_network=True, huge_tree=False
        ):
            el.clear()
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
        extra: dict[str, object] = {}
    else:
        report = check_backup(path)
        extra = {
            "blockers": sorted({f.rule for f in report.blockers}),
            "issues": report.stats.get("issues"),
        }
    elapsed = time.perf_counter() - started
    cpu = _cpu() - cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "peak_rss": peak, **extra}))


def media_child(home: Path, out: Path) -> None:
    import shutil

    from jirabridge.migrate import pack_media

    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    report = pack_media(home, out, max_bytes=64 * 10**6)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    size = sum(c.content_bytes for c in report.chunks)
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "peak_rss": peak,
                "files": report.files,
                "zips": len(report.chunks),
                "bytes": size,
            }
        )
    )


def bench_media(files: int) -> None:
    from jirabridge.migrate.synth import SynthSpec, write_jira_home

    home = CACHE / f"home-{files}"
    spec = SynthSpec(
        projects=10, issues_per_project=max(files // 20, 1), attachments_per_issue=2,
        attachment_size=1000, comments_per_issue=0,
    )  # fmt: skip
    if not (home / "logos").exists():
        started = time.perf_counter()
        write_jira_home(home, spec)
        print(f"generated {home} in {time.perf_counter() - started:.1f} s")
    out = subprocess.run(
        [sys.executable, __file__, "--media-child", str(home), str(CACHE / f"media-{files}")],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"media: {r['files']} files, {r['bytes'] / 1e6:.0f} MB into {r['zips']} zip(s) in "
        f"{r['seconds']:.1f} s ({r['files'] / r['seconds']:.0f} files/s); "
        f"peak RSS {r['peak_rss'] / 1e6:.0f} MB"
    )


def run(kind: str, path: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="use a >= 1 GB entities.xml")
    parser.add_argument("--size-mb", type=int, default=150, help="size when not --full")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each, alternating")
    parser.add_argument("--media", type=int, default=0, help="also pack a home of N files")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--media-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    if args.media_child:
        media_child(Path(args.media_child[0]), Path(args.media_child[1]))
        return
    if args.media:
        bench_media(args.media)
        return
    target = 1_000_000_000 if args.full else args.size_mb * 1_000_000
    path = generate(target)
    size = path.stat().st_size
    bases, ourses = [], []
    for _ in range(args.rounds):
        bases.append(run("lxml", path))
        ourses.append(run("check", path))
    base = min(bases, key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
    ours = min(ourses, key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
    base["peak_rss"] = max(int(r["peak_rss"]) for r in bases)  # type: ignore[call-overload]
    ours["peak_rss"] = max(int(r["peak_rss"]) for r in ourses)  # type: ignore[call-overload]
    print(
        "runs (s): lxml "
        + " ".join(f"{float(r['seconds']):.2f}" for r in bases)  # type: ignore[arg-type]
        + " | check "
        + " ".join(f"{float(r['seconds']):.2f}" for r in ourses)
    )  # type: ignore[arg-type]
    base_mb_s = size / 1e6 / float(base["seconds"])  # type: ignore[arg-type]
    ours_mb_s = size / 1e6 / float(ours["seconds"])  # type: ignore[arg-type]
    print(f"file: {path} ({size / 1e6:.0f} MB)")
    print(f"lxml iterparse : {base_mb_s:7.1f} MB/s  peak RSS {int(base['peak_rss']) / 1e6:6.0f} MB")  # type: ignore[call-overload]
    print(f"migrate check  : {ours_mb_s:7.1f} MB/s  peak RSS {int(ours['peak_rss']) / 1e6:6.0f} MB")  # type: ignore[call-overload]
    print(f"ratio check/lxml: {ours_mb_s / base_mb_s:.2f} by wall clock (target >= 0.80)")
    base_cpu = min(float(r["cpu_seconds"]) for r in bases)  # type: ignore[arg-type]
    ours_cpu = min(float(r["cpu_seconds"]) for r in ourses)  # type: ignore[arg-type]
    print(
        f"CPU time: lxml {base_cpu:.2f} s ({size / 1e6 / base_cpu:.1f} MB/s), check "
        f"{ours_cpu:.2f} s ({size / 1e6 / ours_cpu:.1f} MB/s); ratio {base_cpu / ours_cpu:.2f}"
    )
    print(f"check found: issues={ours['issues']} blockers={ours['blockers']}")


if __name__ == "__main__":
    main()
