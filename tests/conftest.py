"""Shared pytest configuration.

Fixtures that several families use live here; each family keeps its own in its folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("JIRABRIDGE_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ``shared/`` folder beside the checkout (specs, fixtures, oracles)."""
    if not SHARED.is_dir():
        pytest.fail(f"shared/ folder not found at {SHARED}; set JIRABRIDGE_SHARED")
    return SHARED


@pytest.fixture(autouse=True)
def _cloud_answers_match_the_spec() -> Iterator[None]:
    """Issue #2: every Cloud answer a test exercises validates against Atlassian's OpenAPI
    specs. The guard sees every Cloud emulator app of this process; a test whose requests got
    an answer that does not match fails, naming the answers."""
    from tests.support import spec_guard

    spec_guard.install()
    spec_guard.take_violations()
    yield
    found = spec_guard.take_violations()
    if found:
        pytest.fail(
            f"{len(found)} Cloud answer(s) do not match the OpenAPI spec:\n" + "\n".join(found[:5]),
            pytrace=False,
        )
