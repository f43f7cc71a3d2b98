"""Save and load the whole state of a site: versioned, gzip-compressed JSON, never pickle.

The file may come from anywhere, so loading only ever builds the record classes of
:mod:`._records` (by a fixed table), plain JSON values and a few tagged scalars (datetimes,
dates, bytes, sets, tuples, enums); anything else, a wrong format name, a newer version, a
truncated gzip stream or more than ``max_bytes`` of JSON is refused with
:class:`StateFileError`, and the site being loaded into is left untouched.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import gzip
import io
import json
import os
import tempfile
import zlib
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jirabridge.emulator.model import _records
from jirabridge.emulator.model._errors import StateFileError
from jirabridge.emulator.model._ids import IdSource

if TYPE_CHECKING:
    from jirabridge.emulator.model._site import Site

__all__ = [
    "FORMAT",
    "VERSION",
    "dump_state",
    "read_state_file",
    "restore_state",
    "write_state_file",
]

FORMAT = "jirabridge-emulator-state"
VERSION = 1
MAX_BYTES = 4 << 30

_RECORDS: dict[str, type[Any]] = {
    name: getattr(_records, name)
    for name in _records.__all__
    if dataclasses.is_dataclass(getattr(_records, name))
}
_ENUMS: dict[str, type[enum.Enum]] = {
    name: getattr(_records, name)
    for name in _records.__all__
    if isinstance(getattr(_records, name), type) and issubclass(getattr(_records, name), enum.Enum)
}
_STORES = (
    "users",
    "users_by_name",
    "groups",
    "projects",
    "projects_by_key",
    "components",
    "versions",
    "issue_types",
    "priorities",
    "statuses",
    "resolutions",
    "workflows",
    "fields",
    "field_configs",
    "default_field_config",
    "issues",
    "issues_by_key",
    "moved_keys",
    "issues_by_project",
    "subtasks",
    "comments",
    "comments_by_issue",
    "changelog",
    "link_types",
    "links",
    "links_by_issue",
    "remote_links",
    "remote_links_by_issue",
    "attachments",
    "attachments_by_issue",
    "worklogs",
    "worklogs_by_issue",
    "boards",
    "sprints",
    "properties",
    "next_rank",
)


def _enc(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return {"$enum": type(value).__name__, "name": value.name}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode("ascii")}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        return {
            "$rec": name,
            "f": {f.name: _enc(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _enc(v) for k, v in value.items()}
        return {"$map": [[_enc(k), _enc(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [_enc(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [_enc(v) for v in value]}
    if isinstance(value, set):
        return {"$set": [_enc(v) for v in sorted(value, key=_set_order)]}
    raise TypeError(f"cannot save a value of type {type(value).__name__}")


def _set_order(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def _dec(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_dec(v) for v in value]
    if not isinstance(value, dict):
        raise StateFileError(f"unexpected JSON value of type {type(value).__name__}")
    if not any(isinstance(k, str) and k.startswith("$") for k in value):
        return {k: _dec(v) for k, v in value.items()}
    if "$rec" in value:
        cls = _RECORDS.get(value["$rec"])
        data = value.get("f")
        if cls is None or not isinstance(data, dict):
            raise StateFileError(f"unknown record type {value.get('$rec')!r}")
        try:
            return cls(**{k: _dec(v) for k, v in data.items()})
        except TypeError as exc:
            raise StateFileError(f"bad {value['$rec']} record: {exc}") from exc
    if "$enum" in value:
        ecls = _ENUMS.get(value["$enum"])
        if ecls is None or value.get("name") not in ecls.__members__:
            raise StateFileError(f"unknown enum value {value!r}")
        return ecls[value["name"]]
    try:
        if "$dt" in value:
            parsed = datetime.fromisoformat(value["$dt"])
            if parsed.tzinfo is None:
                raise StateFileError("a saved datetime has no time zone")
            return parsed
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        if "$b64" in value:
            return base64.b64decode(value["$b64"], validate=True)
    except (TypeError, ValueError) as exc:
        raise StateFileError(f"bad tagged value: {exc}") from exc
    if "$tuple" in value and isinstance(value["$tuple"], list):
        return tuple(_dec(v) for v in value["$tuple"])
    if "$set" in value and isinstance(value["$set"], list):
        return {_dec(v) for v in value["$set"]}
    if "$map" in value and isinstance(value["$map"], list):
        out = {}
        for pair in value["$map"]:
            if not isinstance(pair, list) or len(pair) != 2:
                raise StateFileError("bad map entry")
            key = _dec(pair[0])
            if isinstance(key, list):
                key = tuple(key)
            out[key] = _dec(pair[1])
        return out
    raise StateFileError(f"unknown tag in {sorted(value)!r}")


def dump_state(site: Site) -> dict[str, Any]:
    """The site's whole state as plain JSON-ready data."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "flavour": site.flavour.value,
        "seed": site.seed,
        "adminKey": site.admin_key,
        "ids": site.ids.state(),
        "stores": {name: _enc(getattr(site, name)) for name in _STORES},
    }


def restore_state(site: Site, data: Any) -> None:
    """Replace the site's state with ``data`` (from :func:`dump_state`); all or nothing."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateFileError("This is not a jirabridge emulator state file.")
    version = data.get("version")
    if not isinstance(version, int) or version > VERSION or version < 1:
        raise StateFileError(
            f"State file version {version!r} is not supported (this build reads {VERSION})."
        )
    if data.get("flavour") != site.flavour.value:
        raise StateFileError(
            f"The state file holds a {data.get('flavour')} site; "
            f"this is a {site.flavour.value} site."
        )
    stores = data.get("stores")
    if not isinstance(stores, dict) or set(stores) != set(_STORES):
        raise StateFileError("The state file is incomplete.")
    try:
        ids = IdSource.from_state(data["ids"])
    except (KeyError, TypeError, ValueError) as exc:
        raise StateFileError("The state file's id source is corrupt.") from exc
    try:
        decoded = {name: _dec(stores[name]) for name in _STORES}
    except RecursionError as exc:
        raise StateFileError("The state file is nested too deeply.") from exc
    _check(decoded, data)
    for name, value in decoded.items():
        setattr(site, name, value)
    site.ids = ids
    site.seed = int(data.get("seed") or 1)
    site._admin_key = str(data["adminKey"])


def _check(decoded: dict[str, Any], data: dict[str, Any]) -> None:
    """Cheap consistency checks, so a corrupt file fails here and not on a later request."""
    for name, cls in (
        ("issues", _records.Issue),
        ("users", _records.User),
        ("projects", _records.Project),
        ("comments", _records.Comment),
    ):
        store = decoded[name]
        if not isinstance(store, dict) or not all(isinstance(v, cls) for v in store.values()):
            raise StateFileError(f"The state file's {name} are corrupt.")
    for issue in decoded["issues"].values():
        if (
            issue.project_id not in decoded["projects"]
            or decoded["issues_by_key"].get(issue.key) != issue.id
        ):
            raise StateFileError(f"The state file's issue {issue.key!r} is inconsistent.")
    for comment in decoded["comments"].values():
        if comment.issue_id not in decoded["issues"]:
            raise StateFileError(f"The state file's comment {comment.id} has no issue.")
    if not isinstance(data.get("adminKey"), str) or data["adminKey"] not in decoded["users"]:
        raise StateFileError("The state file's administrator is missing.")


def write_state_file(site: Site, path: str | os.PathLike[str]) -> None:
    """Write the state atomically (temp file + rename) as gzip JSON."""
    target = Path(path)
    payload = json.dumps(dump_state(site), separators=(",", ":"), ensure_ascii=False).encode()
    fd, tmp = tempfile.mkstemp(prefix=".state-", dir=target.parent or Path("."))
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5, mtime=0) as gz,
        ):
            gz.write(payload)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_state_file(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> Any:
    """The decoded JSON of a state file (gzip or plain), refusing more than ``max_bytes``."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise StateFileError(
            f"Cannot read the state file {os.fspath(path)!r}: {exc.strerror}"
        ) from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as gz:
                text = gz.read(max_bytes + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise StateFileError(
                "The state file is not valid gzip (truncated or corrupt)."
            ) from exc
    else:
        text = raw
    if len(text) > max_bytes:
        raise StateFileError(f"The state file holds more than {max_bytes} bytes.")
    try:
        return json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise StateFileError("The state file is not valid JSON.") from exc
