"""Save and load the whole state of a site: versioned, gzip-compressed JSON, never pickle.

File layout (format ``jirabridge-emulator-state``, version 1): gzip text of JSON lines; the
first line is the header (format, version, flavour, seed, adminKey, ids, ``"layout":
"lines"``), each further line one store (``{"store": name, "value": ...}``) or a chunk of a
dict store (``{"store": name, "items": [[key, value], ...]}``, at most :data:`CHUNK`
entries), so neither saving nor loading holds more than one chunk of raw JSON. A single JSON
document of :func:`dump_state` (plain or gzip) loads too.

The file may come from anywhere, so loading only ever builds the record classes of
:mod:`._records` (by a fixed table), plain JSON values and a few tagged scalars (datetimes,
dates, bytes, sets, tuples, enums); anything else, a wrong format name, a newer version, a
truncated gzip stream or more than ``max_bytes`` of JSON is refused with
:class:`StateFileError`, and the site being loaded into is left untouched.

Why a small hand-written codec rather than a library: pickle (and anything built on it) is
unsafe for files from elsewhere; pydantic or msgspec would need a second, parallel set of
models for every ``slots`` record (kept as plain dataclasses for seeding speed). The codec
is the standard library's ``json`` plus a fixed whitelist of record classes.
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
    "CHUNK",
    "FORMAT",
    "VERSION",
    "dump_state",
    "load_state_file",
    "peek_flavour",
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


_PRIMITIVES = (type(None), bool, int, float, str)
_REC_FIELDS: dict[type[Any], tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _RECORDS.values()
}


_json_text = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


def _plain_json(value: Any, *, from_file: bool = False) -> bool:
    """Whether ``value`` (a dict or list that came from JSON: rich text, a property) can be
    written (or read back) as is: it is exactly what JSON would give back and holds no
    ``"$`` text that could read as a tag. Checked with the C encoder and decoder, far faster
    than walking it in Python. Values read from a file are JSON already."""
    try:
        text = _json_text.encode(value)
    except (TypeError, ValueError):
        return False
    if '"$' in text:
        return False
    return from_file or bool(json.loads(text) == value)


def _enc_opaque(value: Any) -> Any:
    """Rich text bodies and property values: as is when plain JSON, else the tagged form."""
    kind = type(value)
    if (kind is dict or kind is list) and _plain_json(value):
        return value
    return _enc(value)


def _enc_values(value: Any) -> Any:
    """A dict of fields or properties: dict values (rich text, JSON) go the opaque way."""
    if type(value) is not dict or not all(type(k) is str and not k.startswith("$") for k in value):
        return _enc(value)
    return {k: _enc_opaque(v) if type(v) is dict else _enc(v) for k, v in value.items()}


#: record fields that hold opaque JSON (rich text, entity properties, Jira-style fields)
_OPAQUE = {
    ("Comment", "body"): _enc_opaque,
    ("Worklog", "comment"): _enc_opaque,
    ("Comment", "properties"): _enc_values,
    ("Worklog", "properties"): _enc_values,
    ("Issue", "properties"): _enc_values,
    ("Issue", "fields"): _enc_values,
}


def _enc(value: Any) -> Any:
    kind = type(value)
    if kind in _PRIMITIVES:
        return value
    names = _REC_FIELDS.get(kind)
    if names is not None:
        rec = kind.__name__
        return {
            "$rec": rec,
            "f": {n: _OPAQUE.get((rec, n), _enc)(getattr(value, n)) for n in names},
        }
    if kind is datetime:
        return {"$dt": value.isoformat()}
    if kind is list:
        return [_enc(v) for v in value]
    if kind is dict:
        if all(type(k) is str and not k.startswith("$") for k in value):
            return {k: _enc(v) for k, v in value.items()}
        return {"$map": [[_enc(k), _enc(v)] for k, v in value.items()]}
    if kind is set:
        return {"$set": [_enc(v) for v in sorted(value, key=_set_order)]}
    if kind is tuple:
        return {"$tuple": [_enc(v) for v in value]}
    if kind is date:
        return {"$date": value.isoformat()}
    if kind is bytes:
        return {"$b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, enum.Enum):
        return {"$enum": type(value).__name__, "name": value.name}
    raise TypeError(f"cannot save a value of type {kind.__name__}")


def _set_order(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def _dec(value: Any) -> Any:
    kind = type(value)
    if kind is list:
        return [_dec(v) for v in value]
    if kind is not dict:
        if kind in _PRIMITIVES:
            return value
        raise StateFileError(f"unexpected JSON value of type {kind.__name__}")
    if len(value) <= 2:
        if "$rec" in value:
            return _dec_record(value)
        if "$dt" in value:
            return _dec_scalar(value)
    if not any(k.startswith("$") for k in value):
        return {k: _dec(v) for k, v in value.items()}
    return _dec_tagged(value)


def _dec_opaque(value: Any) -> Any:
    """The inverse of :func:`_enc_opaque`: plain JSON comes back as is (no copy)."""
    kind = type(value)
    if (kind is dict or kind is list) and _plain_json(value, from_file=True):
        return value
    return _dec(value)


def _dec_values(value: Any) -> Any:
    if type(value) is not dict or any(k.startswith("$") for k in value):
        return _dec(value)
    return {k: _dec_opaque(v) if type(v) is dict else _dec(v) for k, v in value.items()}


_OPAQUE_DEC = {
    ("Comment", "body"): _dec_opaque,
    ("Worklog", "comment"): _dec_opaque,
    ("Comment", "properties"): _dec_values,
    ("Worklog", "properties"): _dec_values,
    ("Issue", "properties"): _dec_values,
    ("Issue", "fields"): _dec_values,
}


def _dec_record(value: dict[str, Any]) -> Any:
    rec = value["$rec"]
    cls = _RECORDS.get(rec)
    data = value.get("f")
    if cls is None or type(data) is not dict:
        raise StateFileError(f"unknown record type {value.get('$rec')!r}")
    try:
        return cls(**{k: _OPAQUE_DEC.get((rec, k), _dec)(v) for k, v in data.items()})
    except TypeError as exc:
        raise StateFileError(f"bad {value['$rec']} record: {exc}") from exc


def _dec_scalar(value: dict[str, Any]) -> Any:
    try:
        if "$dt" in value:
            parsed = datetime.fromisoformat(value["$dt"])
            if parsed.tzinfo is None:
                raise StateFileError("a saved datetime has no time zone")
            return parsed
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        return base64.b64decode(value["$b64"], validate=True)
    except (TypeError, ValueError) as exc:
        raise StateFileError(f"bad tagged value: {exc}") from exc


def _dec_tagged(value: dict[str, Any]) -> Any:
    if "$rec" in value:
        return _dec_record(value)
    if "$enum" in value:
        ecls = _ENUMS.get(value["$enum"])
        if ecls is None or value.get("name") not in ecls.__members__:
            raise StateFileError(f"unknown enum value {value!r}")
        return ecls[value["name"]]
    if "$dt" in value or "$date" in value or "$b64" in value:
        return _dec_scalar(value)
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


def dump_state_header(site: Site) -> dict[str, Any]:
    """Everything of :func:`dump_state` but the stores."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "flavour": site.flavour.value,
        "seed": site.seed,
        "adminKey": site.admin_key,
        "ids": site.ids.state(),
    }


def dump_state(site: Site) -> dict[str, Any]:
    """The site's whole state as plain JSON-ready data."""
    return {**dump_state_header(site), "stores": {n: _enc(getattr(site, n)) for n in _STORES}}


def _header(site: Site, data: Any) -> tuple[IdSource, int]:
    """Check a header (format, version, flavour, ids, seed, admin); the id source and seed."""
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
    try:
        ids = IdSource.from_state(data["ids"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateFileError("The state file's id source is corrupt.") from exc
    seed = data.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise StateFileError("The state file's seed is corrupt.")
    if not isinstance(data.get("adminKey"), str):
        raise StateFileError("The state file's administrator is missing.")
    return ids, seed


def _install(
    site: Site, head: dict[str, Any], decoded: dict[str, Any], ids: IdSource, seed: int
) -> None:
    """Check the decoded stores, then (and only then) replace the site's state."""
    try:
        _check(decoded, head)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise StateFileError(f"The state file is corrupt: {exc}") from exc
    for name, value in decoded.items():
        setattr(site, name, value)
    site.ids = ids
    site.seed = seed
    site._admin_key = str(head["adminKey"])


def restore_state(site: Site, data: Any, *, consume: bool = False) -> None:
    """Replace the site's state with ``data`` (from :func:`dump_state`); all or nothing.

    ``consume`` lets the decoder drop each raw store from ``data`` once decoded."""
    ids, seed = _header(site, data)
    stores = data.get("stores")
    if not isinstance(stores, dict) or set(stores) != set(_STORES):
        raise StateFileError("The state file is incomplete.")
    decoded: dict[str, Any] = {}
    try:
        for name in _STORES:
            decoded[name] = _dec(stores[name])
            if consume:
                stores[name] = None
    except RecursionError as exc:
        raise StateFileError("The state file is nested too deeply.") from exc
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise StateFileError(f"The state file is corrupt: {exc}") from exc
    _install(site, data, decoded, ids, seed)


def _check(decoded: dict[str, Any], data: dict[str, Any]) -> None:
    """Cheap consistency checks, so a corrupt file fails here and not on a later request."""
    for name, cls in _RECORD_STORES:
        store = decoded[name]
        if not isinstance(store, dict) or not all(isinstance(v, cls) for v in store.values()):
            raise StateFileError(f"The state file's {name} are corrupt.")
    if not isinstance(decoded["default_field_config"], _records.FieldConfiguration):
        raise StateFileError("The state file's field configuration is corrupt.")
    for name, target in _INDEXES:
        index = decoded[name]
        if not isinstance(index, dict) or not all(
            isinstance(ids, list | dict) and all(x in decoded[target] for x in ids)
            for ids in index.values()
        ):
            raise StateFileError(f"The state file's {name} index is corrupt.")
    for iid, issue in decoded["issues"].items():
        if (
            iid != issue.id
            or not isinstance(issue.fields, dict)
            or not isinstance(issue.key, str)
            or issue.project_id not in decoded["projects"]
            or decoded["issues_by_key"].get(issue.key) != issue.id
            or issue.id not in decoded["issues_by_project"].get(issue.project_id, {})
        ):
            raise StateFileError(f"The state file's issue {issue.key!r} is inconsistent.")
    for comment in decoded["comments"].values():
        if comment.issue_id not in decoded["issues"]:
            raise StateFileError(f"The state file's comment {comment.id} has no issue.")
    if not isinstance(data.get("adminKey"), str) or data["adminKey"] not in decoded["users"]:
        raise StateFileError("The state file's administrator is missing.")


_RECORD_STORES: tuple[tuple[str, type[Any]], ...] = (
    ("users", _records.User),
    ("groups", _records.Group),
    ("projects", _records.Project),
    ("components", _records.Component),
    ("versions", _records.Version),
    ("issue_types", _records.IssueType),
    ("priorities", _records.Priority),
    ("statuses", _records.Status),
    ("resolutions", _records.Resolution),
    ("workflows", _records.Workflow),
    ("fields", _records.FieldDef),
    ("field_configs", _records.FieldConfiguration),
    ("issues", _records.Issue),
    ("comments", _records.Comment),
    ("link_types", _records.IssueLinkType),
    ("links", _records.IssueLink),
    ("remote_links", _records.RemoteLink),
    ("attachments", _records.Attachment),
    ("worklogs", _records.Worklog),
    ("boards", _records.Board),
    ("sprints", _records.Sprint),
)
_INDEXES = (
    ("issues_by_project", "issues"),
    ("subtasks", "issues"),
    ("comments_by_issue", "comments"),
    ("links_by_issue", "links"),
    ("remote_links_by_issue", "remote_links"),
    ("attachments_by_issue", "attachments"),
    ("worklogs_by_issue", "worklogs"),
)


#: entries per line of a dict store in a state file: bounds the memory of saving and loading
CHUNK = 2000


def write_state_file(site: Site, path: str | os.PathLike[str]) -> None:
    """Write the state atomically (temp file + rename) as gzip JSON lines: a header line,
    then one line per store, dict stores in chunks of :data:`CHUNK` ``[key, value]`` pairs."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".state-", dir=target.parent or Path("."))
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=3, mtime=0) as gz,
            io.TextIOWrapper(gz, encoding="utf-8") as out,
        ):
            _write_lines(site, out)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_lines(site: Site, out: io.TextIOBase) -> None:
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
    out.write(encoder.encode({**dump_state_header(site), "layout": "lines"}) + "\n")
    for name in _STORES:
        value = getattr(site, name)
        if not isinstance(value, dict):
            out.write(encoder.encode({"store": name, "value": _enc(value)}) + "\n")
            continue
        items = list(value.items())
        for start in range(0, max(len(items), 1), CHUNK):
            part = [[_enc(k), _enc(v)] for k, v in items[start : start + CHUNK]]
            out.write(encoder.encode({"store": name, "items": part}) + "\n")


class _Lines:
    """Text lines of a (gzip or plain) file, refusing more than ``max_bytes`` characters and
    turning gzip and encoding failures into :class:`StateFileError`."""

    def __init__(self, path: str | os.PathLike[str], max_bytes: int) -> None:
        self._path = path
        self._max = max_bytes
        self._seen = 0
        try:
            with open(path, "rb") as probe:
                magic = probe.read(2)
            if magic == b"\x1f\x8b":
                self._file: io.TextIOBase = io.TextIOWrapper(
                    gzip.GzipFile(path, "rb"), encoding="utf-8"
                )
            else:
                self._file = open(path, encoding="utf-8")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise StateFileError(
                f"Cannot read the state file {os.fspath(path)!r}: {exc.strerror}"
            ) from exc

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        try:
            line = self._file.readline(self._max - self._seen + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise StateFileError(
                "The state file is not valid gzip (truncated or corrupt)."
            ) from exc
        except UnicodeDecodeError as exc:
            raise StateFileError("The state file is not valid JSON (not UTF-8).") from exc
        if not line:
            raise StopIteration
        self._seen += len(line)
        if self._seen > self._max:
            raise StateFileError(f"The state file holds more than {self._max} bytes.")
        return line

    def rest(self) -> str:
        return "".join(self)

    def close(self) -> None:
        self._file.close()


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise StateFileError("The state file is not valid JSON.") from exc


def load_state_file(
    site: Site, path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES
) -> None:
    """Replace the site's state with a file written by :func:`write_state_file` (or a plain
    JSON document of :func:`dump_state`); all or nothing. Decodes line by line, so the raw
    JSON of only one chunk is in memory at a time."""
    lines = _Lines(path, max_bytes)
    try:
        first = next(lines, "")
        try:
            head = json.loads(first)
        except (ValueError, RecursionError):
            head = _json(first + lines.rest())  # a pretty-printed document
        if isinstance(head, dict) and "stores" in head:
            restore_state(site, head, consume=True)
            return
        ids, seed = _header(site, head)
        if head.get("layout") != "lines":
            raise StateFileError("The state file is incomplete.")
        decoded: dict[str, Any] = {}
        try:
            for line in lines:
                _decode_line(decoded, _json(line))
        except RecursionError as exc:
            raise StateFileError("The state file is nested too deeply.") from exc
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise StateFileError(f"The state file is corrupt: {exc}") from exc
        if set(decoded) != set(_STORES):
            raise StateFileError("The state file is incomplete.")
        _install(site, head, decoded, ids, seed)
    finally:
        lines.close()


def peek_flavour(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> str:
    """The flavour a state file holds, read from its header."""
    lines = _Lines(path, max_bytes)
    try:
        first = next(lines, "")
        try:
            head = json.loads(first)
        except (ValueError, RecursionError):
            head = _json(first + lines.rest())
    finally:
        lines.close()
    flavour = head.get("flavour") if isinstance(head, dict) else None
    if head is None or not isinstance(head, dict) or head.get("format") != FORMAT:
        raise StateFileError("This is not a jirabridge emulator state file.")
    if not isinstance(flavour, str):
        raise StateFileError("The state file does not say which flavour it holds.")
    return flavour


def _decode_line(decoded: dict[str, Any], entry: Any) -> None:
    if not isinstance(entry, dict) or entry.get("store") not in _STORES:
        raise StateFileError("The state file holds an unknown store.")
    name = entry["store"]
    if "value" in entry:
        if name in decoded:
            raise StateFileError(f"The state file holds {name} twice.")
        decoded[name] = _dec(entry["value"])
        return
    items = entry.get("items")
    if not isinstance(items, list):
        raise StateFileError(f"The state file's {name} are corrupt.")
    target = decoded.setdefault(name, {})
    if not isinstance(target, dict):
        raise StateFileError(f"The state file's {name} are corrupt.")
    for pair in items:
        if not isinstance(pair, list) or len(pair) != 2:
            raise StateFileError("bad map entry")
        key = _dec(pair[0])
        if isinstance(key, list):
            key = tuple(key)
        target[key] = _dec(pair[1])
