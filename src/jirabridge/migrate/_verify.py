"""``migrate verify``: compare the source (backup or Server API) with the Cloud site after
the import: projects, issue counts, per-issue content, comments and attachments.

Both sides are read through :class:`SiteSnapshotReader` and spilled into a temporary SQLite
file, so the comparison is a few SQL joins and memory stays flat for large sites.
"""

from __future__ import annotations

import enum
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from jirabridge.errors import BadInputError
from jirabridge.migrate._archive import open_backup
from jirabridge.migrate._digest import (
    IssueDigest,
    ProjectDigest,
    content_hash,
    fingerprint,
    wiki_words,
)
from jirabridge.migrate._scan import ScanMode, ScanningReader
from jirabridge.migrate._stream import Entity, parse_entities

__all__ = [
    "BackupSnapshotReader",
    "Difference",
    "DifferenceKind",
    "SiteSnapshotReader",
    "VerifyReport",
    "verify",
]

_MAX_LISTED = 10_000


class SiteSnapshotReader(Protocol):
    """One side of a verification: a backup, a Server site, or a Cloud site."""

    @property
    def label(self) -> str: ...

    def projects(self) -> AsyncIterator[ProjectDigest]: ...

    def issues(self) -> AsyncIterator[IssueDigest]: ...


class DifferenceKind(enum.Enum):
    PROJECT_MISSING = "project_missing"
    PROJECT_EXTRA = "project_extra"
    PROJECT_NAME = "project_name"
    ISSUE_COUNT = "issue_count"
    ISSUE_MISSING = "issue_missing"
    ISSUE_EXTRA = "issue_extra"
    CONTENT = "content"
    FIELDS = "fields"
    COMMENTS = "comments"
    ATTACHMENTS = "attachments"


@dataclass(frozen=True)
class Difference:
    kind: DifferenceKind
    key: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind.value, "key": self.key, "detail": self.detail}


@dataclass
class VerifyReport:
    source: str
    target: str
    projects: int = 0
    issues_source: int = 0
    issues_target: int = 0
    differences: list[Difference] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, diff: Difference) -> None:
        self.counts[diff.kind.value] = self.counts.get(diff.kind.value, 0) + 1
        if len(self.differences) < _MAX_LISTED:
            self.differences.append(diff)

    @property
    def ok(self) -> bool:
        return not self.counts

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "ok": self.ok,
            "projects": self.projects,
            "issues_source": self.issues_source,
            "issues_target": self.issues_target,
            "counts": self.counts,
            "differences": [d.to_json() for d in self.differences],
        }

    def render_text(self) -> str:
        lines = [
            f"verify: {self.source} -> {self.target}",
            f"projects {self.projects}   issues {self.issues_source} -> {self.issues_target}",
        ]
        for d in self.differences:
            lines.append(f"  [{d.kind.value}] {d.key}: {d.detail}")
        hidden = sum(self.counts.values()) - len(self.differences)
        if hidden > 0:
            lines.append(f"  ... and {hidden} more")
        lines.append("no differences" if self.ok else f"{sum(self.counts.values())} difference(s)")
        return "\n".join(lines) + "\n"


class BackupSnapshotReader:
    """Reads projects and issue digests from a Site Import backup (streaming, spilled)."""

    def __init__(self, path: Path, *, spill_dir: Path | None = None) -> None:
        self.path = path
        self._spill_dir = spill_dir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._db: sqlite3.Connection | None = None

    @property
    def label(self) -> str:
        return f"backup {self.path.name}"

    def _load(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        self._tmp = tempfile.TemporaryDirectory(prefix="jb-verify-", dir=self._spill_dir)
        db = sqlite3.connect(Path(self._tmp.name) / "backup.sqlite")
        db.executescript(
            """
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
            CREATE TABLE projects(id TEXT, key TEXT, name TEXT);
            CREATE TABLE issues(id TEXT, key TEXT, project TEXT, number TEXT, content TEXT,
                                type TEXT, status TEXT);
            CREATE TABLE names(kind TEXT, id TEXT, name TEXT);
            CREATE TABLE comments(issue TEXT, fp TEXT);
            CREATE TABLE attach(issue TEXT, name TEXT, size INT);
            """
        )

        def project(a: Mapping[str, str]) -> None:
            db.execute(
                "INSERT INTO projects VALUES (?,?,?)",
                (a.get("id", ""), a.get("key", ""), a.get("name", "")),
            )

        def issue(e: Entity) -> None:
            a = e.attrs
            summary = a.get("summary") or e.children.get("summary", "")
            words = wiki_words(e.get("description"))
            db.execute(
                "INSERT INTO issues VALUES (?,?,?,?,?,?,?)",
                (
                    a.get("id", ""),
                    a.get("key", ""),
                    a.get("project", ""),
                    a.get("number", ""),
                    content_hash(summary, words),
                    a.get("type", ""),
                    a.get("status", ""),
                ),
            )

        def named(kind: str) -> Callable[[Mapping[str, str]], None]:
            def handler(a: Mapping[str, str]) -> None:
                db.execute("INSERT INTO names VALUES (?,?,?)", (kind, a.get("id"), a.get("name")))

            return handler

        def action(e: Entity) -> None:
            if e.attrs.get("type") == "comment":
                fp = fingerprint(wiki_words(e.get("body")))
                db.execute("INSERT INTO comments VALUES (?,?)", (e.attrs.get("issue", ""), fp))

        def attachment(a: Mapping[str, str]) -> None:
            try:
                size = int(a.get("filesize", "0") or 0)
            except ValueError:
                size = -1
            db.execute(
                "INSERT INTO attach VALUES (?,?,?)",
                (a.get("issue", ""), a.get("filename", ""), size),
            )

        with open_backup(self.path) as archive:
            if archive.entities_name is None:
                raise BadInputError(f"{self.path}: no entities.xml")
            with archive.open_member(archive.entities_name) as raw:
                reader = ScanningReader(raw, mode=ScanMode.STRIP, collect_urls=False)
                result = parse_entities(
                    reader,
                    {
                        "Project": project,
                        "FileAttachment": attachment,
                        "IssueType": named("type"),
                        "Status": named("status"),
                    },
                    {"Issue": issue, "Action": action},
                )
        if result.problem is not None:
            p = result.problem
            raise BadInputError(
                f"{self.path}: entities.xml is not well-formed at line {p.line}, column "
                f"{p.column}: {p.message}"
            )
        db.executescript(
            """
            UPDATE issues SET key = (SELECT p.key FROM projects p WHERE p.id = issues.project)
                || '-' || number WHERE key = '';
            CREATE INDEX ic ON comments(issue); CREATE INDEX ia ON attach(issue);
            """
        )
        db.commit()
        self._db = db
        return db

    async def projects(self) -> AsyncIterator[ProjectDigest]:
        db = self._load()
        for key, name in db.execute("SELECT key, name FROM projects ORDER BY key").fetchall():
            yield ProjectDigest(key, name)

    async def issues(self) -> AsyncIterator[IssueDigest]:
        db = self._load()
        cur = db.execute(
            "SELECT i.id, i.key, p.key, i.content, COALESCE(s.name, ''), COALESCE(t.name, '') "
            "FROM issues i LEFT JOIN projects p ON p.id = i.project "
            "LEFT JOIN names s ON s.kind = 'status' AND s.id = i.status "
            "LEFT JOIN names t ON t.kind = 'type' AND t.id = i.type ORDER BY i.key"
        )
        for iid, key, project, content, status, issuetype in cur:
            comments = tuple(
                sorted(r[0] for r in db.execute("SELECT fp FROM comments WHERE issue=?", (iid,)))
            )
            attachments = tuple(
                sorted(
                    (n, s)
                    for n, s in db.execute("SELECT name, size FROM attach WHERE issue=?", (iid,))
                )
            )
            yield IssueDigest(key, project or "", content, comments, attachments, status, issuetype)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


async def _load_side(db: sqlite3.Connection, side: str, reader: SiteSnapshotReader) -> None:
    async for p in reader.projects():
        db.execute("INSERT INTO projects VALUES (?,?,?)", (side, p.key, p.name))
    batch: list[tuple[str, str, str, str, str, str, int, str, str]] = []
    async for i in reader.issues():
        batch.append(
            (
                side,
                i.key,
                i.project,
                i.content,
                "\n".join(i.comments),
                "\n".join(f"{n}\t{s}" for n, s in i.attachments),
                len(i.comments),
                i.status,
                i.issuetype,
            )
        )
        if len(batch) >= 2000:
            db.executemany("INSERT INTO issues VALUES (?,?,?,?,?,?,?,?,?)", batch)
            batch = []
    db.executemany("INSERT INTO issues VALUES (?,?,?,?,?,?,?,?,?)", batch)


async def verify(
    source: SiteSnapshotReader, target: SiteSnapshotReader, *, spill_dir: Path | None = None
) -> VerifyReport:
    """List every difference between ``source`` and ``target`` (the Cloud site)."""
    report = VerifyReport(source.label, target.label)
    with tempfile.TemporaryDirectory(prefix="jb-verify-", dir=spill_dir) as tmp:
        db = sqlite3.connect(Path(tmp) / "diff.sqlite")
        try:
            db.executescript(
                """
                PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
                CREATE TABLE projects(side TEXT, key TEXT, name TEXT);
                CREATE TABLE issues(side TEXT, key TEXT, project TEXT, content TEXT,
                                    comments TEXT, attach TEXT, ncomments INT, status TEXT,
                                    type TEXT);
                """
            )
            await _load_side(db, "s", source)
            await _load_side(db, "t", target)
            db.execute("CREATE INDEX ik ON issues(side, key)")
            _compare(db, report)
        finally:
            db.close()
    return report


def _compare(db: sqlite3.Connection, report: VerifyReport) -> None:
    q = db.execute
    for key, name in q(
        "SELECT key, name FROM projects s WHERE side='s' AND NOT EXISTS "
        "(SELECT 1 FROM projects t WHERE t.side='t' AND t.key=s.key) ORDER BY key"
    ).fetchall():
        report.add(
            Difference(DifferenceKind.PROJECT_MISSING, key, f"project {name!r} not in Cloud")
        )
    for key, name in q(
        "SELECT key, name FROM projects t WHERE side='t' AND NOT EXISTS "
        "(SELECT 1 FROM projects s WHERE s.side='s' AND s.key=t.key) ORDER BY key"
    ).fetchall():
        report.add(Difference(DifferenceKind.PROJECT_EXTRA, key, f"project {name!r} only in Cloud"))
    for key, sname, tname in q(
        "SELECT s.key, s.name, t.name FROM projects s JOIN projects t ON s.key=t.key "
        "WHERE s.side='s' AND t.side='t' AND s.name != t.name ORDER BY s.key"
    ).fetchall():
        report.add(Difference(DifferenceKind.PROJECT_NAME, key, f"name {sname!r} -> {tname!r}"))
    (report.projects,) = q("SELECT COUNT(*) FROM projects WHERE side='s'").fetchone()
    (report.issues_source,) = q("SELECT COUNT(*) FROM issues WHERE side='s'").fetchone()
    (report.issues_target,) = q("SELECT COUNT(*) FROM issues WHERE side='t'").fetchone()
    counts: dict[str, list[int]] = {}
    for side, project, n in q("SELECT side, project, COUNT(*) FROM issues GROUP BY side, project"):
        counts.setdefault(project, [0, 0])[0 if side == "s" else 1] = n
    for project, (ns, nt) in sorted(counts.items()):
        if ns != nt:
            report.add(Difference(DifferenceKind.ISSUE_COUNT, project, f"{ns} issue(s) -> {nt}"))
    for (key,) in q(
        "SELECT key FROM issues s WHERE side='s' AND NOT EXISTS "
        "(SELECT 1 FROM issues t WHERE t.side='t' AND t.key=s.key) ORDER BY key"
    ):
        report.add(Difference(DifferenceKind.ISSUE_MISSING, key, "not in Cloud"))
    for (key,) in q(
        "SELECT key FROM issues t WHERE side='t' AND NOT EXISTS "
        "(SELECT 1 FROM issues s WHERE s.side='s' AND s.key=t.key) ORDER BY key"
    ):
        report.add(Difference(DifferenceKind.ISSUE_EXTRA, key, "only in Cloud"))
    rows = q(
        "SELECT s.key, s.content != t.content, s.comments != t.comments, s.ncomments, "
        "t.ncomments, s.attach, t.attach, s.status, t.status, s.type, t.type "
        "FROM issues s JOIN issues t ON s.key = t.key "
        "WHERE s.side='s' AND t.side='t' AND (s.content != t.content OR "
        "s.comments != t.comments OR s.attach != t.attach OR s.status != t.status OR "
        "s.type != t.type) ORDER BY s.key"
    )
    for key, content, comments, ns, nt, sa, ta, ss, ts, sty, tty in rows:
        if content:
            report.add(Difference(DifferenceKind.CONTENT, key, "summary or description differs"))
        changed = [
            f"{label} {a!r} -> {b!r}"
            for label, a, b in (("status", ss, ts), ("type", sty, tty))
            if a != b
        ]
        if changed:
            report.add(Difference(DifferenceKind.FIELDS, key, "; ".join(changed)))
        if comments:
            detail = f"{ns} comment(s) -> {nt}" if ns != nt else "comment text differs"
            report.add(Difference(DifferenceKind.COMMENTS, key, detail))
        if sa != ta:
            src = set(sa.split("\n")) - {""}
            tgt = set(ta.split("\n")) - {""}
            missing = sorted(x.split("\t")[0] for x in src - tgt)
            extra = sorted(x.split("\t")[0] for x in tgt - src)
            parts = []
            if missing:
                parts.append("missing or changed in Cloud: " + ", ".join(missing[:20]))
            if extra:
                parts.append("only in Cloud: " + ", ".join(extra[:20]))
            report.add(Difference(DifferenceKind.ATTACHMENTS, key, "; ".join(parts)))
