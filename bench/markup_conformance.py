"""Conformance of jirabridge.markup against Atlassian's own wiki markup transformer.

    bash scripts/oracle.sh                      # once: installs the oracle into .cache/oracle
    .venv/bin/python bench/markup_conformance.py [--corpus FILE] [--oracle DIR] [--schema FILE]

Prints: cases, equal to oracle (%), ADF schema valid (%), round-trip stable (%), the reverse
check (Atlassian reads our ADF -> wiki output back to the same document, %), and the failing
ids; then the same for ``tests/data/markup/adf_corpus.jsonl`` (documents written by Cloud or
given in the API spec: written as wiki, read back by the oracle). Exits 1 when a target is
missed (equal >= 95%, schema valid = 100%, stable >= 98%, ADF corpus stable = 100%).
The corpora have one size; ``--full`` is accepted for symmetry with the other benchmarks.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from jirabridge.markup.conformance import evaluate, evaluate_adf, load_corpus

REPO = Path(__file__).resolve().parent.parent
TARGET_EQUAL = 95.0
TARGET_SCHEMA = 100.0
TARGET_STABLE = 98.0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=REPO / "tests/data/markup/corpus.jsonl")
    parser.add_argument("--oracle", type=Path, default=REPO / ".cache/oracle")
    parser.add_argument(
        "--schema", type=Path, default=REPO.parent / "shared/specs/adf-schema-v1-full.json"
    )
    parser.add_argument(
        "--adf-corpus", type=Path, default=REPO / "tests/data/markup/adf_corpus.jsonl"
    )
    parser.add_argument("--full", action="store_true", help="same as the default (one corpus)")
    args = parser.parse_args()
    cases = load_corpus(args.corpus)
    started = time.perf_counter()
    result = evaluate(cases, args.oracle, args.schema)
    adf_result = evaluate_adf(load_corpus(args.adf_corpus), args.oracle)
    elapsed = time.perf_counter() - started
    categories: dict[str, int] = {}
    for case in cases:
        categories[case["category"]] = categories.get(case["category"], 0) + 1
    print(f"cases                    {result.cases}  {categories}")
    print(f"equal to oracle          {result.equal_pct:6.2f} %  (target >= {TARGET_EQUAL})")
    print(f"ADF schema valid         {result.schema_valid_pct:6.2f} %  (target = {TARGET_SCHEMA})")
    print(f"round-trip stable        {result.stable_pct:6.2f} %  (target >= {TARGET_STABLE})")
    print(f"oracle reads our wiki    {result.reverse_pct:6.2f} %  (ADF -> wiki, informative)")
    print(f"oracle errors            {len(result.oracle_errors)}")
    print(f"ADF corpus               {adf_result.cases} Cloud/spec documents -> wiki")
    print(
        f"  read back the same     {adf_result.faithful_pct:6.2f} %  (by the oracle, informative)"
    )
    print(f"  stable                 {adf_result.stable_pct:6.2f} %  (target = 100.0)")
    print(f"elapsed                  {elapsed:.1f} s")
    for label, ids in (
        ("not equal", result.unequal),
        ("schema invalid", result.schema_invalid),
        ("unstable", result.unstable),
        ("oracle errors", result.oracle_errors),
        ("reverse not faithful", result.reverse_unfaithful),
        ("ADF corpus lossy", adf_result.lossy),
        ("ADF corpus unstable", adf_result.unstable),
    ):
        if ids:
            print(f"{label}: {' '.join(ids)}")
    ok = (
        result.equal_pct >= TARGET_EQUAL
        and result.schema_valid_pct >= TARGET_SCHEMA
        and result.stable_pct >= TARGET_STABLE
        and adf_result.stable_pct == 100.0
    )
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
