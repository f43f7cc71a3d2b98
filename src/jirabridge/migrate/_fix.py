"""``migrate fix``: write a corrected copy of a backup; the input is never modified.

Fixes: invalid XML characters removed, the zip re-rooted (``entities.xml`` and
``activeobjects.xml`` at the root, nothing else copied), ``addon_`` usernames renamed, email
addresses replaced from a mapping. The entities are rewritten streaming (lxml ``iterparse``
in, ``xmlfile`` out, one entity in memory at a time). The output is then checked again.
"""

from __future__ import annotations

import csv
import enum
import json
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from lxml import etree

from jirabridge.errors import BadInputError
from jirabridge.migrate._archive import ACTIVEOBJECTS, ENTITIES, BackupArchive, open_backup
from jirabridge.migrate._check import CheckReport, check_backup
from jirabridge.migrate._model import CheckOptions, email_problem
from jirabridge.migrate._scan import ScanMode, ScanningReader
from jirabridge.migrate._stream import parse_entities

__all__ = ["Change", "ChangeKind", "FixReport", "fix_backup", "load_email_map"]

ProgressFn = Callable[[int, int], None]
_MAX_CHANGES_LISTED = 1000


class _Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class ChangeKind(enum.Enum):
    INVALID_CHARS_REMOVED = "invalid_chars_removed"
    REROOTED = "rerooted"
    MEMBER_DROPPED = "member_dropped"
    USER_RENAMED = "user_renamed"
    EMAIL_CHANGED = "email_changed"


@dataclass(frozen=True)
class Change:
    """One change made to the copy."""

    kind: ChangeKind
    detail: str
    location: str = ""

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind.value, "detail": self.detail, "location": self.location}


@dataclass
class FixReport:
    """What ``fix`` changed, and the check of the written copy."""

    source: str
    output: str
    changes: list[Change] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    unused_email_keys: list[str] = field(default_factory=list)
    after: CheckReport | None = None

    def add(self, change: Change) -> None:
        self.counts[change.kind.value] = self.counts.get(change.kind.value, 0) + 1
        if len(self.changes) < _MAX_CHANGES_LISTED:
            self.changes.append(change)

    @property
    def exit_code(self) -> int:
        return self.after.exit_code if self.after is not None else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "output": self.output,
            "counts": self.counts,
            "changes": [c.to_json() for c in self.changes],
            "unused_email_keys": self.unused_email_keys,
            "after": self.after.to_json() if self.after else None,
        }


def load_email_map(path: Path) -> dict[str, str]:
    """Read the email fixes: JSON ``{"username or old email": "new email"}`` or a two-column
    CSV (``user,email``; a header row is allowed). Keys are matched case-insensitively."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read the email mapping ({exc})") from exc
    pairs: list[tuple[str, str]] = []
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInputError(f"{path}: invalid JSON ({exc})") from exc
        if not isinstance(raw, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
        ):
            raise BadInputError(f"{path}: expected a JSON object of strings")
        pairs = list(raw.items())
    else:
        for i, row in enumerate(csv.reader(text.splitlines()), start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) != 2:
                raise BadInputError(f"{path}:{i}: expected two columns (user or email, new email)")
            if i == 1 and email_problem(row[1].strip()) is not None and "@" not in row[1]:
                continue  # header
            pairs.append((row[0], row[1]))
    mapping: dict[str, str] = {}
    for key, new in pairs:
        new = new.strip()
        problem = email_problem(new)
        if problem is not None:
            raise BadInputError(f"{path}: new email {new!r} for {key!r} is not valid: {problem}")
        mapping[key.strip().lower()] = new
    return mapping


def _plan_renames(archive: BackupArchive, prefix: str) -> dict[str, str]:
    """lower username -> new username, for every ``addon_`` user (unique among all users)."""
    names: set[str] = set()

    def user(attrs: Mapping[str, str]) -> None:
        names.add(attrs.get("lowerUserName", attrs.get("userName", "")).lower())

    assert archive.entities_name is not None
    with archive.open_member(archive.entities_name) as raw:
        reader = ScanningReader(raw, mode=ScanMode.STRIP, collect_urls=False)
        result = parse_entities(reader, {"User": user})
    if result.problem is not None:
        p = result.problem
        raise BadInputError(
            f"{archive.entities_name} is not well-formed at line {p.line}, column {p.column}: "
            f"{p.message}; fix cannot repair broken structure, only invalid characters"
        )
    renames: dict[str, str] = {}
    taken = set(names)
    for lname in sorted(n for n in names if n.startswith("addon_")):
        base = prefix + lname[len("addon_") :]
        new, i = base, 2
        while new in taken:
            new, i = f"{base}_{i}", i + 1
        taken.add(new)
        renames[lname] = new
    return renames


class _Rewriter:
    def __init__(
        self, renames: Mapping[str, str], emails: Mapping[str, str], report: FixReport
    ) -> None:
        self.renames = renames
        self.emails = emails
        self.used_email_keys: set[str] = set()
        self.report = report

    def _rename(self, el: etree._Element, attr: str, lower_attr: str | None, where: str) -> None:
        old = el.get(attr)
        if old is None:
            return
        new = self.renames.get(old.lower())
        if new is None:
            return
        el.set(attr, new)
        if lower_attr is not None and el.get(lower_attr) is not None:
            el.set(lower_attr, new.lower())
        if where:
            self.report.add(Change(ChangeKind.USER_RENAMED, f"{old} -> {new}", where))

    def entity(self, el: etree._Element) -> None:
        tag = el.tag
        if tag == "User":
            lname = (el.get("lowerUserName") or el.get("userName") or "").lower()
            self._rename(el, "userName", "lowerUserName", f"User id={el.get('id')}")
            shown_email = el.get("emailAddress") or ""
            old_email = shown_email.strip().lower()
            key = lname if lname in self.emails else old_email
            new_email = self.emails.get(key) if key else None
            if new_email is not None:
                self.used_email_keys.add(key)
                el.set("emailAddress", new_email)
                el.set("lowerEmailAddress", new_email.lower())
                self.report.add(
                    Change(
                        ChangeKind.EMAIL_CHANGED,
                        f"{el.get('userName')}: {shown_email or '(none)'} -> {new_email}",
                        f"User id={el.get('id')}",
                    )
                )
        elif tag == "ApplicationUser":
            self._rename(el, "lowerUserName", None, "")
        elif tag == "Membership":
            self._rename(el, "childName", "lowerChildName", "")


def _rewrite_entities(
    src: _Readable, dst: IO[bytes], rewriter: _Rewriter, on_bytes: Callable[[int], None]
) -> ScanningReader:
    reader = ScanningReader(src, mode=ScanMode.STRIP, collect_urls=False, on_bytes=on_bytes)
    events = etree.iterparse(
        reader,
        events=("start", "end", "comment"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    depth = 0
    try:
        with etree.xmlfile(dst, encoding="UTF-8") as xf:
            xf.write_declaration()
            it = iter(events)
            root_cm = None
            for event, el in it:
                if event == "comment":
                    if depth <= 1:
                        xf.write(etree.Comment(el.text or ""))
                        if depth == 1:
                            xf.write("\n")
                    continue
                if event == "start":
                    depth += 1
                    if depth == 1:
                        root_cm = xf.element(el.tag, dict(el.attrib))
                        root_cm.__enter__()
                        xf.write("\n")
                    continue
                depth -= 1
                if depth == 1:
                    rewriter.entity(el)
                    el.tail = None
                    xf.write("    ")
                    xf.write(el)
                    xf.write("\n")
                    el.clear()
                    parent = el.getparent()
                    if parent is not None:
                        while el.getprevious() is not None:
                            del parent[0]
                elif depth == 0 and root_cm is not None:
                    root_cm.__exit__(None, None, None)
    except etree.XMLSyntaxError as exc:
        line, col = exc.position if exc.position else (0, 0)
        raise BadInputError(
            f"entities.xml is not well-formed at line {line}, column {col}: {exc.msg}; fix "
            "removes invalid characters but cannot repair broken structure"
        ) from exc
    return reader


def fix_backup(
    src: Path,
    dst: Path,
    *,
    emails: Mapping[str, str] | None = None,
    rename_prefix: str = "migrated_",
    options: CheckOptions | None = None,
    progress: ProgressFn | None = None,
) -> FixReport:
    """Write a fixed copy of ``src`` to ``dst`` and check it; returns what changed.

    Raises :class:`BadInputError` when ``src`` cannot be fixed (truncated zip, broken XML
    structure, no entities.xml, hostile XML) and leaves no partial ``dst`` behind.
    """
    if dst.resolve() == src.resolve():
        raise BadInputError("the output must be a new file: the input is never modified")
    emails = {k.lower(): v for k, v in (emails or {}).items()}
    options = options or CheckOptions()
    report = FixReport(str(src), str(dst))
    archive = open_backup(src, options.zip_limits)
    part = dst.with_name(dst.name + ".part")
    try:
        with archive:
            if archive.entities_name is None:
                raise BadInputError(f"{src}: no entities.xml to fix")
            kept = {archive.entities_name, archive.activeobjects_name}
            for member in archive.member_names():
                if member not in kept:
                    report.add(
                        Change(
                            ChangeKind.MEMBER_DROPPED, "not part of a Site Import backup", member
                        )
                    )
            for name in (archive.entities_name, archive.activeobjects_name):
                if name is not None and name not in (ENTITIES, ACTIVEOBJECTS):
                    report.add(
                        Change(ChangeKind.REROOTED, f"{name} -> {name.rsplit('/', 1)[-1]}", name)
                    )
            renames = _plan_renames(archive, rename_prefix)
            rewriter = _Rewriter(renames, emails, report)
            total = archive.entities_size + archive.activeobjects_size
            done = 0

            def tick(n: int) -> None:
                nonlocal done
                done += n
                if progress is not None:
                    progress(done, total)

            with zipfile.ZipFile(
                part, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1
            ) as zf:
                with (
                    archive.open_member(archive.entities_name) as raw,
                    zf.open(ENTITIES, "w", force_zip64=True) as out,
                ):
                    reader = _rewrite_entities(raw, out, rewriter, tick)
                _note_invalid(report, archive.entities_name, reader.invalid_count, reader)
                if archive.activeobjects_name is not None:
                    with (
                        archive.open_member(archive.activeobjects_name) as raw,
                        zf.open(ACTIVEOBJECTS, "w", force_zip64=True) as out,
                    ):
                        ao_reader = ScanningReader(
                            raw, mode=ScanMode.STRIP, collect_urls=False, on_bytes=tick
                        )
                        while chunk := ao_reader.read(1 << 20):
                            out.write(chunk)
                    _note_invalid(
                        report, archive.activeobjects_name, ao_reader.invalid_count, ao_reader
                    )
        report.unused_email_keys = sorted(set(emails) - rewriter.used_email_keys)
        os.replace(part, dst)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    report.after = check_backup(dst, options)
    return report


def _note_invalid(report: FixReport, name: str, count: int, reader: ScanningReader) -> None:
    if not count:
        return
    first = reader.invalid[:5]
    where = ", ".join(f"{c.line}:{c.column}" for c in first)
    report.add(
        Change(
            ChangeKind.INVALID_CHARS_REMOVED,
            f"{count} invalid XML character(s) removed (first at {where})",
            name,
        )
    )
