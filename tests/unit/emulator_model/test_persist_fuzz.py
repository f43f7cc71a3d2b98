"""Mutated state files must either load or fail with StateFileError: never another error."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jirabridge.emulator.model import Clock, Flavour, Site, StateFileError

from .conftest import FROZEN


def _base_state() -> dict[str, Any]:
    site = Site(Flavour.SERVER, clock=Clock(FROZEN))
    site.create_project("ABC", "Abc", site.admin_key)
    issue = site.create_issue(
        site.admin_key,
        {"project": {"key": "ABC"}, "issuetype": {"name": "Task"}, "summary": "s"},
    )
    site.add_comment(site.admin_key, issue.key, "body")
    site.add_attachment(site.admin_key, issue.key, "a.txt", b"x")
    return json.loads(json.dumps(site.to_state()))


BASE = _base_state()

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 20000) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["$rec", "$dt", "$set", "$map", "f", "id", "x"]), inner, max_size=3
        )
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for n, v in enumerate(node):
            out += _paths(v, (*prefix, n))
    return out


PATHS = [p for p in _paths(BASE) if p]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), _json), min_size=1, max_size=3))
def test_mutated_state_loads_or_fails_cleanly(mutations: list[tuple[tuple[Any, ...], Any]]) -> None:
    data = copy.deepcopy(BASE)
    for path, value in mutations:
        node: Any = data
        try:
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    site = Site(Flavour.SERVER, clock=Clock(FROZEN))
    before = site.to_state()
    try:
        site.restore(data)
    except StateFileError:
        assert site.to_state() == before  # all or nothing
