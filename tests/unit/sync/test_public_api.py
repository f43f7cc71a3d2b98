"""Every public sync module has a curated ``__all__`` whose names exist."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "jirabridge.sync.apply",
    "jirabridge.sync.check",
    "jirabridge.sync.config",
    "jirabridge.sync.cursor",
    "jirabridge.sync.diff",
    "jirabridge.sync.engine",
    "jirabridge.sync.notices",
    "jirabridge.sync.pairs",
    "jirabridge.sync.queue",
    "jirabridge.sync.runner",
    "jirabridge.sync.secrets",
    "jirabridge.sync.state",
    "jirabridge.sync.store",
    "jirabridge.sync.webhooks",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_curated(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(set(exported)) == len(exported)
    for item in exported:
        assert hasattr(module, item), f"{name}.{item} is missing"
        assert not item.startswith("_")


def test_importing_the_package_is_cheap() -> None:
    import subprocess
    import sys

    code = "import sys, jirabridge.sync; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
