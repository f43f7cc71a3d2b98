"""Cross-check a Jira home's attachment files against the attachments a backup references.

The backup's ``FileAttachment`` rows (with their issue and project) become the expected
paths of the media layout, spilled to SQLite (flat memory). While ``media`` walks the home,
each file is looked up: files the backup does not know are orphans, sizes that differ are
reported, and what was never seen is missing on disk (the import would show it broken).
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jirabridge.errors import BadInputError
from jirabridge.migrate._archive import open_backup
from jirabridge.migrate._layout import attachment_bucket
from jirabridge.migrate._scan import ScanMode, ScanningReader
from jirabridge.migrate._stream import parse_entities

__all__ = ["AttachmentRefs", "RefCheck"]

_SAMPLES = 20


@dataclass
class RefCheck:
    """The outcome of the cross-check."""

    referenced: int = 0
    found: int = 0
    missing: int = 0
    missing_bytes: int = 0
    orphans: int = 0
    size_mismatch: int = 0
    missing_samples: list[str] = field(default_factory=list)
    orphan_samples: list[str] = field(default_factory=list)
    mismatch_samples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class AttachmentRefs:
    """The attachments of a backup as media-layout paths, for lookups during packing."""

    def __init__(self, backup: Path, *, spill_dir: Path | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="jb-media-", dir=spill_dir)
        self._db = sqlite3.connect(Path(self._tmp.name) / "refs.sqlite")
        self.result = RefCheck()
        try:
            self._load(backup)
        except BaseException:
            self.close()
            raise

    def _load(self, backup: Path) -> None:
        db = self._db
        db.executescript(
            """
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
            CREATE TABLE att(id TEXT, issue TEXT, size INT);
            CREATE TABLE issues(id TEXT, key TEXT, project TEXT, number TEXT);
            CREATE TABLE projects(id TEXT, key TEXT);
            """
        )

        def att(a: Mapping[str, str]) -> None:
            try:
                size = int(a.get("filesize", "-1") or -1)
            except ValueError:
                size = -1
            db.execute("INSERT INTO att VALUES (?,?,?)", (a.get("id"), a.get("issue"), size))

        def issue(a: Mapping[str, str]) -> None:
            db.execute(
                "INSERT INTO issues VALUES (?,?,?,?)",
                (a.get("id"), a.get("key", ""), a.get("project"), a.get("number", "0")),
            )

        def project(a: Mapping[str, str]) -> None:
            db.execute("INSERT INTO projects VALUES (?,?)", (a.get("id"), a.get("key")))

        with open_backup(backup) as archive:
            if archive.entities_name is None:
                raise BadInputError(f"{backup}: no entities.xml")
            with archive.open_member(archive.entities_name) as raw:
                reader = ScanningReader(raw, mode=ScanMode.STRIP, collect_urls=False)
                result = parse_entities(
                    reader, {"FileAttachment": att, "Issue": issue, "Project": project}
                )
        if result.problem is not None:
            raise BadInputError(
                f"{backup}: entities.xml is not well-formed at line {result.problem.line}"
            )
        db.execute("CREATE TABLE refs(path TEXT PRIMARY KEY, size INT, seen INT DEFAULT 0)")
        rows = db.execute(
            "SELECT a.id, a.size, p.key, i.key, i.number FROM att a JOIN issues i ON i.id = a.issue"
            " JOIN projects p ON p.id = i.project"
        ).fetchall()
        for aid, size, pkey, ikey, number in rows:
            key = ikey or f"{pkey}-{number}"
            try:
                bucket = attachment_bucket(int(key.rsplit("-", 1)[1]))
            except (ValueError, IndexError):
                continue
            db.execute(
                "INSERT OR IGNORE INTO refs(path, size) VALUES (?, ?)",
                (f"data/attachments/{pkey}/{bucket}/{key}/{aid}", size),
            )
        (self.result.referenced,) = db.execute("SELECT COUNT(*) FROM refs").fetchone()

    def saw(self, arcname: str, size: int) -> None:
        """Record one attachment file found in the home."""
        row = self._db.execute("SELECT size FROM refs WHERE path = ?", (arcname,)).fetchone()
        r = self.result
        if row is None:
            r.orphans += 1
            if len(r.orphan_samples) < _SAMPLES:
                r.orphan_samples.append(arcname)
            return
        self._db.execute("UPDATE refs SET seen = 1 WHERE path = ?", (arcname,))
        if row[0] >= 0 and row[0] != size:
            r.size_mismatch += 1
            if len(r.mismatch_samples) < _SAMPLES:
                r.mismatch_samples.append(f"{arcname}: backup {row[0]} bytes, disk {size}")

    def finish(self) -> RefCheck:
        r = self.result
        (r.found,) = self._db.execute("SELECT COUNT(*) FROM refs WHERE seen = 1").fetchone()
        r.missing, missing_bytes = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(MAX(size, 0)), 0) FROM refs WHERE seen = 0"
        ).fetchone()
        r.missing_bytes = int(missing_bytes)
        r.missing_samples = [
            p
            for (p,) in self._db.execute(
                "SELECT path FROM refs WHERE seen = 0 ORDER BY path LIMIT ?", (_SAMPLES,)
            )
        ]
        return r

    def close(self) -> None:
        self._db.close()
        self._tmp.cleanup()
