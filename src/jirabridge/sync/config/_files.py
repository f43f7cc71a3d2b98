"""The files `jirabridge init` writes: the commented example and the JSON schema."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from jirabridge.errors import FixConfigError
from jirabridge.sync.config._models import SyncConfig

__all__ = ["example_text", "json_schema", "write_example", "write_schema"]


def example_text() -> str:
    """The commented example configuration."""
    return (resources.files("jirabridge.sync.config") / "example.yaml").read_text("utf-8")


def json_schema() -> dict[str, Any]:
    """JSON schema of the configuration file (draft 2020-12), for editors."""
    schema = SyncConfig.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "jirabridge configuration"
    return schema


def _write(path: Path, text: str, force: bool) -> None:
    if path.exists() and not force:
        raise FixConfigError(f"{path} exists; pass --force to overwrite it")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise FixConfigError(f"cannot write {path}: {exc.strerror}") from exc


def write_example(path: str | Path, *, force: bool = False) -> Path:
    target = Path(path)
    _write(target, example_text(), force)
    return target


def write_schema(path: str | Path, *, force: bool = False) -> Path:
    target = Path(path)
    _write(target, json.dumps(json_schema(), indent=2, sort_keys=True) + "\n", force)
    return target
