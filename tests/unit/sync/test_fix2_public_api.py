"""The new sync modules have a curated ``__all__`` whose names exist."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("name", ["jirabridge.sync.dryrun", "jirabridge.sync.rebuild"])
def test_all_is_curated(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__ == sorted(module.__all__)
    for item in module.__all__:
        assert hasattr(module, item), item
