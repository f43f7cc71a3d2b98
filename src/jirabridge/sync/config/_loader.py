"""Load the YAML file and report every problem with its line and column.

PyYAML's composer keeps a ``start_mark`` on every node, so the loader builds plain Python
values from the node tree itself, remembering where each mapping key and value sits. pydantic
error locations (``("pairs", 0, "fields", 2, "direction")``) are then mapped back to marks.
Duplicate keys (which PyYAML would silently resolve to the last one) are reported too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from jirabridge.errors import FixConfigError
from jirabridge.sync.config._checks import Loc, cross_check
from jirabridge.sync.config._models import SyncConfig

__all__ = ["ConfigError", "ConfigProblem", "LoadedConfig", "load_config", "parse_config"]

MAX_CONFIG_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in the file: where (1-based line and column) and what."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f" ({self.path})" if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {self.message}{where}"


class ConfigError(FixConfigError):
    """The configuration file has problems; ``problems`` lists every one."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the configuration:\n{lines}")


@dataclass(frozen=True)
class LoadedConfig:
    """A valid configuration and the fingerprint of the text it came from."""

    config: SyncConfig
    source: str
    sha256: str
    marks: Mapping[Loc, tuple[int, int]] = field(default_factory=dict, compare=False, repr=False)

    def problem_at(self, loc: Loc, message: str) -> ConfigProblem:
        """A problem found later (e.g. by live checks), pointed at its place in the file."""
        probe = loc
        while probe and probe not in self.marks:
            probe = probe[:-1]
        line, column = self.marks.get(probe, (1, 1))
        return ConfigProblem(self.source, line, column, _dotted(loc), message)


@dataclass(frozen=True)
class _Mark:
    line: int
    column: int


class _Composer:
    """Turns a composed YAML node tree into Python values and a path -> mark table."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.marks: dict[Loc, _Mark] = {}
        self.problems: list[ConfigProblem] = []

    def build(self, node: yaml.Node, path: Loc) -> Any:
        self.marks[path] = _Mark(node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self._problem(key_node, path, "YAML merge keys (<<) are not supported")
                    continue
                key = self.build(key_node, (*path, "\x00key"))
                if not isinstance(key, str | int):
                    self._problem(key_node, path, "mapping keys must be strings")
                    continue
                if key in out:
                    self._problem(key_node, (*path, key), f"duplicate key {key!r}")
                out[key] = self.build(value_node, (*path, key))
                # the key's own mark is where "missing field" errors under it point
                self.marks[(*path, key, "\x00key")] = _Mark(
                    key_node.start_mark.line + 1, key_node.start_mark.column + 1
                )
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        raise AssertionError(f"unknown YAML node {node!r}")  # pragma: no cover

    def _problem(self, node: yaml.Node, path: Loc, message: str) -> None:
        self.problems.append(
            ConfigProblem(
                self.name,
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                _dotted(path),
                message,
            )
        )


def _scalar(node: yaml.ScalarNode) -> Any:
    """The safe-loader value of one scalar (null, bool, int, float, str; no custom tags)."""
    try:
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except yaml.constructor.ConstructorError:
        return node.value


def _dotted(loc: Loc) -> str:
    parts: list[str] = []
    for item in loc:
        if item == "\x00key":
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def parse_config(text: str, *, name: str = "<config>") -> LoadedConfig:
    """Validate configuration text; raise :class:`ConfigError` listing every problem."""
    if len(text.encode("utf-8", "replace")) > MAX_CONFIG_BYTES:
        raise ConfigError([ConfigProblem(name, 1, 1, "", "file is larger than 4 MiB")])
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        msg = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ConfigError([ConfigProblem(name, line, col, "", f"YAML: {msg}")]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(name, 1, 1, "", f"YAML: {exc}")]) from exc
    if len(nodes) != 1 or nodes[0] is None:
        what = "is empty" if not nodes or nodes[0] is None else "holds several YAML documents"
        raise ConfigError([ConfigProblem(name, 1, 1, "", f"the file {what}")])
    composer = _Composer(name)
    data = composer.build(nodes[0], ())
    problems = list(composer.problems)
    config: SyncConfig | None = None
    if not isinstance(data, dict):
        problems.append(ConfigProblem(name, 1, 1, "", "the file must be a mapping (key: value)"))
    else:
        try:
            config = SyncConfig.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = _clean_loc(tuple(err["loc"]))
                problems.append(_at(composer, name, loc, err["type"], err["msg"]))
    if config is not None:
        for loc, message in cross_check(config):
            problems.append(_at(composer, name, loc, "cross_check", message))
    if problems or config is None:
        problems.sort(key=lambda p: (p.line, p.column))
        raise ConfigError(problems)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    marks = {loc: (m.line, m.column) for loc, m in composer.marks.items() if "\x00key" not in loc}
    return LoadedConfig(config=config, source=name, sha256=digest, marks=marks)


def _clean_loc(loc: tuple[Any, ...]) -> Loc:
    """Drop pydantic's union-branch names (``ValueMap``, ``str``, tagged ``create_mirror``)."""
    out: list[str | int] = []
    for item in loc:
        if isinstance(item, str) and (
            item[:1].isupper()
            or item in {"str", "int", "float", "bool", "none"}
            or item.startswith(("function-", "tagged-union"))
        ):
            continue
        out.append(item)
    return tuple(out)


def _at(composer: _Composer, name: str, loc: Loc, kind: str, message: str) -> ConfigProblem:
    if kind == "missing" and loc:
        # point at the mapping that lacks the key
        parent = loc[:-1]
        mark = _find(composer, (*parent, "\x00key")) if parent else None
        mark = mark or _find(composer, parent)
        message = f"missing required key {loc[-1]!r}"
    elif kind == "extra_forbidden":
        mark = _find(composer, (*loc, "\x00key")) or _find(composer, loc)
        message = f"unknown key {loc[-1]!r}"
    else:
        mark = _find(composer, loc)
        message = message.removeprefix("Value error, ")
    mark = mark or _Mark(1, 1)
    return ConfigProblem(name, mark.line, mark.column, _dotted(loc), message)


def _find(composer: _Composer, loc: Loc) -> _Mark | None:
    while True:
        if loc in composer.marks:
            return composer.marks[loc]
        if not loc:
            return None
        loc = loc[:-1]


def load_config(path: str | Path) -> LoadedConfig:
    """Read and validate a configuration file."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(
            [ConfigProblem(str(file), 1, 1, "", f"cannot read the file: {exc.strerror}")]
        ) from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError([ConfigProblem(str(file), 1, 1, "", "file is larger than 4 MiB")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [ConfigProblem(str(file), 1, 1, "", "the file is not UTF-8 text")]
        ) from exc
    return parse_config(text, name=str(file))
