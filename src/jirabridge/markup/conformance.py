"""Conformance of the converter against Atlassian's own transformer (a development tool).

Used by ``bench/markup_conformance.py`` and the ``oracle`` tests; not imported by the package.
The oracle is ``convert.js`` from ``shared/oracles/wikimarkup`` installed by
``scripts/oracle.sh`` into ``.cache/oracle`` (Node.js runs it; nothing here runs at run time).

Comparison is structural after these normalisations, and only these (what the transformer
leaves unspecified or what ADF defines as defaults):

1. attribute order and key order (dicts compare unordered);
2. attributes whose value is ``null`` are dropped, and ``attrs`` that end up empty;
3. ``localId`` attributes are dropped (random per run);
4. ``media`` ``width``/``height`` are dropped (display sizes the transformer invents);
5. a missing ``content`` on a ``paragraph`` equals an empty one.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs installed

from jirabridge.errors import FixConfigError
from jirabridge.markup._api import adf_to_wiki, wiki_to_adf

__all__ = [
    "AdfResult",
    "ConformanceResult",
    "evaluate",
    "evaluate_adf",
    "load_corpus",
    "normalise",
    "run_oracle",
    "schema_validator",
]


def normalise(value: Any) -> Any:
    """Apply the documented normalisations to an ADF value (see the module docstring)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item is None or key == "localId":
                continue
            if key == "attrs" and isinstance(item, Mapping):
                attrs = {
                    k: normalise(v) for k, v in item.items() if v is not None and k != "localId"
                }
                if value.get("type") == "media":
                    attrs.pop("width", None)
                    attrs.pop("height", None)
                if attrs:
                    out[key] = attrs
                continue
            out[key] = normalise(item)
        if out.get("type") == "paragraph" and "content" not in out:
            out["content"] = []
        return out
    if isinstance(value, list):
        return [normalise(item) for item in value]
    return value


def load_corpus(path: Path) -> list[dict[str, str]]:
    cases = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            cases.append(json.loads(line))
    return cases


def run_oracle(
    requests: Sequence[Mapping[str, Any]], oracle_dir: Path, timeout: float = 300
) -> dict[str, dict[str, Any]]:
    """Send JSON-line requests to ``convert.js``; answers by id."""
    script = oracle_dir / "convert.js"
    if not script.exists():
        raise FixConfigError(f"oracle not installed at {oracle_dir}: run scripts/oracle.sh")
    payload = "".join(json.dumps(r) + "\n" for r in requests)
    try:
        proc = subprocess.run(
            ["node", str(script.resolve())],
            input=payload,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=oracle_dir,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FixConfigError(f"cannot run the oracle: {exc}") from exc
    if proc.returncode != 0:
        raise FixConfigError(f"oracle failed: {proc.stderr[-500:]}")
    answers = {}
    for line in proc.stdout.split("\n"):
        if line.strip():
            answer = json.loads(line)
            answers[str(answer["id"])] = answer
    return answers


def schema_validator(schema_path: Path) -> Any:
    """A validator for the ADF JSON schema (draft taken from the file's ``$schema``).

    ``anyOf`` lists of node definitions are filtered by the node's ``type`` before trying
    them: the same verdict (an alternative whose ``type`` enum excludes the node fails
    anyway), without the exponential retrying that makes big tables take seconds.
    """
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    base = jsonschema.validators.validator_for(schema)
    base.check_schema(schema)
    definitions: Mapping[str, Any] = schema.get("definitions", {})
    base_any_of = base.VALIDATORS["anyOf"]

    def type_enum(subschema: Mapping[str, Any]) -> Sequence[Any] | None:
        ref = subschema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            subschema = definitions.get(ref[len("#/definitions/") :], {})
        enum = subschema.get("properties", {}).get("type", {}).get("enum")
        return enum if isinstance(enum, list) else None

    def any_of(
        validator: Any, subschemas: Sequence[Mapping[str, Any]], instance: Any, schema: Any
    ) -> Iterable[Any]:
        if isinstance(instance, Mapping) and isinstance(instance.get("type"), str):
            kind = instance["type"]
            matching = [s for s in subschemas if (e := type_enum(s)) is None or kind in e]
            if matching:
                subschemas = matching
        yield from base_any_of(validator, subschemas, instance, schema)

    fast = jsonschema.validators.extend(base, {"anyOf": any_of})
    return fast(schema)


@dataclass
class ConformanceResult:
    cases: int = 0
    equal: list[str] = field(default_factory=list)
    unequal: list[str] = field(default_factory=list)
    schema_invalid: list[str] = field(default_factory=list)
    unstable: list[str] = field(default_factory=list)
    oracle_errors: list[str] = field(default_factory=list)
    reverse_checked: int = 0
    reverse_faithful: list[str] = field(default_factory=list)
    reverse_unfaithful: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def _pct(part: int, whole: int) -> float:
        return 100.0 * part / whole if whole else 100.0

    @property
    def equal_pct(self) -> float:
        return self._pct(len(self.equal), len(self.equal) + len(self.unequal))

    @property
    def schema_valid_pct(self) -> float:
        return self._pct(self.cases - len(self.schema_invalid), self.cases)

    @property
    def stable_pct(self) -> float:
        return self._pct(self.cases - len(self.unstable), self.cases)

    @property
    def reverse_pct(self) -> float:
        return self._pct(len(self.reverse_faithful), self.reverse_checked)


def _stable(wiki: str) -> bool:
    once = adf_to_wiki(wiki_to_adf(wiki))
    twice = adf_to_wiki(wiki_to_adf(once))
    return once == twice


def evaluate(
    cases: Iterable[Mapping[str, str]], oracle_dir: Path, schema_path: Path
) -> ConformanceResult:
    """Compare every case with the oracle, validate our ADF, check round trips.

    Reverse direction: for each ADF document the oracle produced, our ``adf_to_wiki`` output is
    read back by the oracle; it is faithful when the oracle reads the same document.
    """
    cases = list(cases)
    validator = schema_validator(schema_path)
    answers = run_oracle([{"id": c["id"], "wiki": c["wiki"]} for c in cases], oracle_dir)
    result = ConformanceResult(cases=len(cases))
    ours_by_id: dict[str, dict[str, Any]] = {}
    reverse_requests = []
    for case in cases:
        case_id = case["id"]
        ours = wiki_to_adf(case["wiki"])
        ours_by_id[case_id] = ours
        errors = list(validator.iter_errors(ours))
        if errors:
            result.schema_invalid.append(case_id)
            result.details[case_id] = f"schema: {errors[0].message[:200]}"
        if not _stable(case["wiki"]):
            result.unstable.append(case_id)
        answer = answers.get(case_id, {})
        if "adf" not in answer:
            result.oracle_errors.append(case_id)
            continue
        if normalise(ours) == normalise(answer["adf"]):
            result.equal.append(case_id)
        else:
            result.unequal.append(case_id)
        reverse_requests.append(
            {"id": case_id, "wiki": adf_to_wiki(answer["adf"]), "expect": answer["adf"]}
        )
    back = run_oracle([{"id": r["id"], "wiki": r["wiki"]} for r in reverse_requests], oracle_dir)
    for request in reverse_requests:
        result.reverse_checked += 1
        answer = back.get(request["id"], {})
        if "adf" in answer and normalise(answer["adf"]) == normalise(request["expect"]):
            result.reverse_faithful.append(request["id"])
        else:
            result.reverse_unfaithful.append(request["id"])
    return result


@dataclass
class AdfResult:
    """ADF -> wiki on documents that did not come from wiki markup."""

    cases: int = 0
    faithful: list[str] = field(default_factory=list)
    lossy: list[str] = field(default_factory=list)
    unstable: list[str] = field(default_factory=list)

    @property
    def faithful_pct(self) -> float:
        return 100.0 * len(self.faithful) / self.cases if self.cases else 100.0

    @property
    def stable_pct(self) -> float:
        return 100.0 * (self.cases - len(self.unstable)) / self.cases if self.cases else 100.0


def _strip_defaults(value: Any) -> Any:
    """Normalise, and drop what every reader adds or leaves out (``version``, empty marks)."""
    value = normalise(value)
    if isinstance(value, dict):
        value = {k: _strip_defaults(v) for k, v in value.items() if k != "version"}
        if value.get("marks") == []:
            value.pop("marks")
        return value
    if isinstance(value, list):
        return [_strip_defaults(v) for v in value]
    return value


def evaluate_adf(cases: Iterable[Mapping[str, Any]], oracle_dir: Path) -> AdfResult:
    """For each ADF document: write wiki with ``adf_to_wiki``; faithful when Atlassian's
    transformer reads that wiki back to the same document; stable when writing it again
    after our own reading gives the same wiki."""
    cases = list(cases)
    result = AdfResult(cases=len(cases))
    written = {str(c["id"]): adf_to_wiki(c["adf"]) for c in cases}
    back = run_oracle([{"id": i, "wiki": w} for i, w in written.items()], oracle_dir)
    for case in cases:
        case_id = str(case["id"])
        wiki = written[case_id]
        if adf_to_wiki(wiki_to_adf(wiki)) != wiki:
            result.unstable.append(case_id)
        answer = back.get(case_id, {})
        if "adf" in answer and _strip_defaults(answer["adf"]) == _strip_defaults(case["adf"]):
            result.faithful.append(case_id)
        else:
            result.lossy.append(case_id)
    return result
