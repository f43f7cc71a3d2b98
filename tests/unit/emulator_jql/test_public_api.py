"""The curated public surface of the JQL engine and the search adapter."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("module", ["jirabridge.emulator.jql", "jirabridge.emulator.search"])
def test_all_names_exist_and_are_public(module: str) -> None:
    mod = importlib.import_module(module)
    names = list(mod.__all__)
    assert len(names) == len(set(names))
    for name in names:
        assert not name.startswith("_")
        assert hasattr(mod, name), f"{module}.{name} is listed in __all__ but missing"


def test_engine_does_not_import_the_model() -> None:
    """The engine is pure: only the search adapter knows the model."""
    import ast
    from pathlib import Path

    import jirabridge.emulator.jql as jql

    for path in Path(jql.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("jirabridge.emulator.model"), path.name
                assert not node.module.startswith("jirabridge.emulator.faces"), path.name
