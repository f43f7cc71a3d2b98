"""Check emulator answers against Atlassian's published OpenAPI specs.

``assert_matches_spec(method, path, status, body, spec="platform"|"software")`` finds the
operation whose templated path matches ``path``, takes the response schema for ``status``
(then ``4XX``-style ranges, then ``default``), resolves ``$ref``s against the whole spec and
validates ``body`` with jsonschema's OpenAPI 3.0 dialect (``nullable``, ``readOnly``/
``writeOnly`` in a response context) from ``openapi-schema-validator``. Formats are not
checked: the spec's ``date-time`` is documentation, Jira itself answers ``+0000`` offsets.

Error answers (4xx/5xx) the spec leaves without a body schema are checked against the spec's
``ErrorCollection`` (``{"errorMessages": [...], "errors": {...}}``), Jira's error shape.
A ``/rest/api/2/...`` path with no match of its own is looked up as ``/rest/api/3/...``, and
a ``/rest/agile/...`` path is looked up in the Software spec even when ``spec`` is left at
``"platform"``.

The spec is read and indexed once per process (it is 2.4 MB); validators are cached per
response schema.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30ReadValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

__all__ = [
    "SPEC_FILES",
    "SpecIndex",
    "assert_matches_spec",
    "response_schema_pointer",
    "spec_index",
]

SPEC_FILES = {
    "platform": "jira-cloud-platform.v3.openapi.json",
    "software": "jira-software-cloud.v3.openapi.json",
}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_MAX_ERRORS = 5


def _shared_dir() -> Path:
    """Same rule as ``tests/conftest.py``: ``$JIRABRIDGE_SHARED`` or ``../shared``."""
    repo = Path(__file__).resolve().parents[2]
    return Path(os.environ.get("JIRABRIDGE_SHARED", repo.parent / "shared"))


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class _Route:
    template: str
    regex: re.Pattern[str]
    literal_chars: int
    params: int


class SpecIndex:
    """One loaded spec: its operations indexed by method, and a ``$ref`` registry."""

    def __init__(self, name: str, document: dict[str, Any]) -> None:
        self.name = name
        self.document = document
        self.uri = f"urn:jirabridge-spec:{name}"
        self.registry: Registry[Any] = Registry().with_resource(
            self.uri, Resource.from_contents(document, default_specification=DRAFT4)
        )
        self.routes: dict[str, list[_Route]] = {m: [] for m in _METHODS}
        for template, ops in document.get("paths", {}).items():
            regex, literal, params = self._compile(template)
            for method in _METHODS:
                if method in ops:
                    self.routes[method].append(_Route(template, regex, literal, params))
        for routes in self.routes.values():
            # most literal first: /issue/createmeta beats /issue/{issueIdOrKey}
            routes.sort(key=lambda r: (r.params, -r.literal_chars))

    @staticmethod
    def _compile(template: str) -> tuple[re.Pattern[str], int, int]:
        parts = re.split(r"(\{[^}]+\})", template)
        out, literal, params = [], 0, 0
        for part in parts:
            if part.startswith("{") and part.endswith("}"):
                out.append(r"[^/]+")
                params += 1
            else:
                out.append(re.escape(part))
                literal += len(part)
        return re.compile("".join(out) + r"/?\Z"), literal, params

    def find(self, method: str, path: str) -> str | None:
        """The templated path of the operation ``method path`` answers, or None."""
        for route in self.routes.get(method.lower(), []):
            if route.regex.match(path):
                return route.template
        return None

    def templates_for(self, path: str) -> list[str]:
        """Every templated path matching ``path`` (any method), for error messages."""
        seen = []
        for routes in self.routes.values():
            for route in routes:
                if route.regex.match(path) and route.template not in seen:
                    seen.append(route.template)
        return seen


@cache
def spec_index(spec: str = "platform") -> SpecIndex:
    """Load and index ``spec`` once per process."""
    if spec not in SPEC_FILES:
        raise ValueError(f"unknown spec {spec!r}; choose one of {sorted(SPEC_FILES)}")
    file = _shared_dir() / "specs" / SPEC_FILES[spec]
    with file.open(encoding="utf-8") as fh:
        return SpecIndex(spec, json.load(fh))


def _normalise_path(path: str) -> str:
    parts = urlsplit(path)
    out = parts.path or "/"
    out = re.sub(r"^/ex/jira/[^/]+", "", out)  # OAuth 2.0 gateway prefix
    return out


def _pick_media(content: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    for media in ("application/json", *content):
        entry = content.get(media)
        if isinstance(entry, dict) and ("json" in media or media == "*/*"):
            return media, entry
    return None


def response_schema_pointer(
    method: str, path: str, status: int, *, spec: str = "platform"
) -> tuple[str | None, str]:
    """JSON pointer (into the spec) of the response schema for ``method path status``.

    Returns ``(pointer, description)``: pointer None means "no body documented".
    Raises AssertionError when the operation or status is not in the spec.
    """
    concrete = _normalise_path(path)
    if spec == "platform" and concrete.startswith("/rest/agile/"):
        spec = "software"  # the agile API lives in the Jira Software spec
    index = spec_index(spec)
    template = index.find(method, concrete)
    if template is None and concrete.startswith("/rest/api/2/"):
        template = index.find(method, "/rest/api/3/" + concrete[len("/rest/api/2/") :])
    if template is None:
        others = index.templates_for(concrete)
        hint = f" (the path exists for other methods: {others})" if others else ""
        raise AssertionError(
            f"{method.upper()} {concrete}: no such operation in the {spec} spec{hint}"
        )
    op = index.document["paths"][template][method.lower()]
    responses: dict[str, Any] = op.get("responses", {})
    label = f"{method.upper()} {template} ({op.get('operationId', '?')})"
    for code in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
        if code in responses:
            break
    else:
        if status >= 400:
            if "ErrorCollection" not in index.document["components"]["schemas"]:
                return None, f"{label} -> {status}"  # the Software spec has no error schema
            return "/components/schemas/ErrorCollection", f"{label} -> {status} (ErrorCollection)"
        raise AssertionError(
            f"{label}: status {status} is not documented; documented: {sorted(responses)}"
        )
    response = responses[code]
    base = f"/paths/{_escape(template)}/{method.lower()}/responses/{_escape(code)}"
    if "$ref" in response:
        base = response["$ref"].lstrip("#")
        response = _deref(index.document, base)
    picked = _pick_media(response.get("content", {}))
    if picked is None or "schema" not in picked[1]:
        if status >= 400 and "ErrorCollection" in index.document["components"]["schemas"]:
            return "/components/schemas/ErrorCollection", f"{label} -> {status} (ErrorCollection)"
        return None, f"{label} -> {code}"
    media, _ = picked
    return f"{base}/content/{_escape(media)}/schema", f"{label} -> {code}"


def _deref(document: dict[str, Any], pointer: str) -> dict[str, Any]:
    node: Any = document
    for token in pointer.strip("/").split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    assert isinstance(node, dict)
    return node


@cache
def _validator(spec: str, pointer: str) -> OAS30ReadValidator:
    index = spec_index(spec)
    return OAS30ReadValidator({"$ref": f"{index.uri}#{pointer}"}, registry=index.registry)


def _json_path(error: ValidationError) -> str:
    out = "$"
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _leaf_errors(errors: Iterator[ValidationError]) -> list[ValidationError]:
    """Flatten anyOf/oneOf groups to their deepest causes, deepest first."""
    flat: list[ValidationError] = []
    for err in errors:
        if err.context:
            flat.extend(_leaf_errors(iter(err.context)))
        else:
            flat.append(err)
    return sorted(flat, key=lambda e: (-len(e.absolute_path), _json_path(e)))


def _schema_name(spec: str, pointer: str) -> str:
    """``IssueBean`` for a component or an inline ``$ref`` to one; else the pointer."""
    if pointer.startswith("/components/schemas/"):
        return pointer.rsplit("/", 1)[-1]
    node = _deref(spec_index(spec).document, pointer)
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else f"inline at {pointer}"


def _short(value: object) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def assert_matches_spec(
    method: str, path: str, status: int, body: object, *, spec: str = "platform"
) -> None:
    """Fail (AssertionError) unless ``body`` is what the spec documents for this answer.

    ``path`` is the concrete request path (query string and host are ignored); ``body`` is the
    decoded JSON (None or ``""`` for an empty body).
    """
    if spec == "platform" and _normalise_path(path).startswith("/rest/agile/"):
        spec = "software"
    pointer, label = response_schema_pointer(method, path, status, spec=spec)
    empty = body is None or body == "" or body == b""
    if pointer is None:
        if not empty:
            raise AssertionError(f"{label}: the spec documents no body, got {_short(body)}")
        return
    if empty:
        raise AssertionError(f"{label}: the spec documents a JSON body, got an empty one")
    errors = _leaf_errors(_validator(spec, pointer).iter_errors(body))
    if not errors:
        return
    schema_name = _schema_name(spec, pointer)
    lines = [f"{label}: body does not match the spec (schema {schema_name}):"]
    for err in errors[:_MAX_ERRORS]:
        lines.append(f"  at {_json_path(err)}: {err.message}")
    if len(errors) > _MAX_ERRORS:
        lines.append(f"  ... and {len(errors) - _MAX_ERRORS} more")
    raise AssertionError("\n".join(lines))
