"""Shared pytest configuration.

Fixtures that several families use live here; each family keeps its own in its folder.
"""

from __future__ import annotations

import os
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
