"""The package's public surface is the curated ``__all__``; everything else is private."""

from __future__ import annotations

import importlib
import pkgutil

import jirabridge.markup as markup


def test_all_is_the_documented_api() -> None:
    assert {
        "wiki_to_adf",
        "adf_to_wiki",
        "MarkupContext",
        "UserDirectory",
        "ConversionReport",
    } <= set(markup.__all__)
    for name in markup.__all__:
        assert getattr(markup, name) is not None


def test_implementation_modules_are_private() -> None:
    names = [m.name for m in pkgutil.iter_modules(markup.__path__)]
    public = [n for n in names if not n.startswith("_")]
    assert public == ["conformance"]  # a development tool, not imported by the package
    for name in names:
        module = importlib.import_module(f"jirabridge.markup.{name}")
        assert hasattr(module, "__all__"), name
