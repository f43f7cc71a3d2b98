"""The converter against Atlassian's transformer, live (needs Node and scripts/oracle.sh)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jirabridge.markup import wiki_to_adf
from jirabridge.markup.conformance import evaluate, load_corpus, normalise, run_oracle

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO / "tests/data/markup/corpus.jsonl"
ORACLE = REPO / ".cache/oracle"

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def oracle_dir() -> Path:
    if shutil.which("node") is None or not (ORACLE / "node_modules").is_dir():
        pytest.skip("oracle not installed: run scripts/oracle.sh (needs Node and npm)")
    return ORACLE


def test_corpus_is_large_and_covers_three_sources() -> None:
    cases = load_corpus(CORPUS)
    assert len(cases) >= 300
    assert len({c["id"] for c in cases}) == len(cases)
    assert {c["category"] for c in cases} == {"fixture", "notation", "edge"}
    assert all(isinstance(c["wiki"], str) for c in cases)


def test_conformance_targets(oracle_dir: Path, shared_dir: Path) -> None:
    result = evaluate(load_corpus(CORPUS), oracle_dir, shared_dir / "specs/adf-schema-v1-full.json")
    print(
        f"cases={result.cases} equal={result.equal_pct:.2f}% "
        f"schema={result.schema_valid_pct:.2f}% stable={result.stable_pct:.2f}% "
        f"reverse={result.reverse_pct:.2f}%"
    )
    assert not result.oracle_errors
    assert result.equal_pct >= 95.0, result.unequal
    assert result.schema_valid_pct == 100.0, result.details
    assert result.stable_pct >= 98.0, result.unstable


def test_the_comparison_can_fail(oracle_dir: Path) -> None:
    """A different document must compare unequal after normalisation."""
    answer = run_oracle([{"id": "a", "wiki": "*bold*"}], oracle_dir)["a"]
    assert normalise(answer["adf"]) == normalise(wiki_to_adf("*bold*"))
    assert normalise(answer["adf"]) != normalise(wiki_to_adf("_bold_"))
