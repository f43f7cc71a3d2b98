"""Every public sync module has a curated ``__all__`` whose names exist."""

from __future__ import annotations

import importlib

import pytest


def _public_modules() -> list[str]:
    """Every public module of the package, found by walking it (so none can be forgotten)."""
    import pkgutil

    import jirabridge.sync as package

    return sorted(
        info.name
        for info in pkgutil.walk_packages(package.__path__, "jirabridge.sync.")
        if not any(part.startswith("_") for part in info.name.split("."))
        and ".migrations" not in info.name
    )


MODULES = _public_modules()


def test_the_walk_finds_the_known_modules() -> None:
    assert {
        "jirabridge.sync.apply",
        "jirabridge.sync.dryrun",
        "jirabridge.sync.rebuild",
        "jirabridge.sync.runner",
        "jirabridge.sync.webhooks",
    } <= set(MODULES)


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
