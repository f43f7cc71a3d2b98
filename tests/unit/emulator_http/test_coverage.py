"""COVERAGE.md lists exactly the routes each emulator serves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jirabridge.emulator import create_app
from jirabridge.emulator.faces._coverage import normalise, served_routes

COVERAGE = Path(__file__).resolve().parents[3] / "COVERAGE.md"
ROW = re.compile(r"^\| (GET|POST|PUT|DELETE|PATCH) \| `([^`]+)` \| (yes|no) \| (yes|no) \|")


def table() -> dict[str, set[tuple[str, str]]]:
    listed: dict[str, set[tuple[str, str]]] = {"server": set(), "cloud": set()}
    for line in COVERAGE.read_text().splitlines():
        match = ROW.match(line)
        if match is None:
            continue
        method, path, server, cloud = match.groups()
        if server == "yes":
            listed["server"].add((method, path))
        if cloud == "yes":
            listed["cloud"].add((method, path))
    return listed


@pytest.mark.parametrize("flavour", ["server", "cloud"])
def test_coverage_lists_every_served_route(flavour: str) -> None:
    served = served_routes(create_app(flavour).starlette.routes)
    listed = table()[flavour]
    fix = "regenerate it: python -m jirabridge.emulator.faces._coverage > COVERAGE.md"
    assert served - listed == set(), f"served but missing from COVERAGE.md; {fix}"
    assert listed - served == set(), f"listed in COVERAGE.md but not served; {fix}"
    assert len(listed) > 100


def test_normalise() -> None:
    assert normalise("/rest/api/3/issue/{k}") == "/rest/api/*/issue/{k}"
    assert normalise("/rest/api/latest/search") == "/rest/api/*/search"
    assert normalise("/rest/agile/1.0/board") == "/rest/agile/1.0/board"


def test_table_parser_sees_rows() -> None:
    listed = table()
    assert ("GET", "/rest/api/*/issue/{issueIdOrKey}") in listed["server"]
    assert ("GET", "/rest/api/*/search/jql") in listed["cloud"]
    assert ("GET", "/rest/api/*/search/jql") not in listed["server"]
