"""``migrate media``: pack a Jira home's attachments, avatars and logos into Site Import zips.

Layout inside every zip: ``data/attachments/<KEY>/<bucket>/<ISSUE-KEY>/<attachment id>``,
``data/avatars/<file>``, ``logos/<file>``. Zips are split so none exceeds the limit, never
splitting one issue's folder; each file's SHA-256 goes into ``<zip>.sha256`` and the
chunk list into ``manifest.json``. The home is walked in a fixed order and packed as it is
walked (only the current folder's listing is in memory), so the chunk boundaries can be
recomputed on a second run: chunks already written and verified are skipped (resume).
Each zip is written to ``.part``, verified (CRC of every member, names, sizes, count), then
renamed. Thumbnails (``thumbs/``) are left out: Cloud makes its own. Symbolic links are
never followed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jirabridge.errors import BadInputError, FixConfigError
from jirabridge.migrate._layout import attachment_bucket
from jirabridge.migrate._media_refs import AttachmentRefs, RefCheck

__all__ = ["MediaChunk", "MediaReport", "pack_media", "parse_size"]

ProgressFn = Callable[[int, int], None]
_ISSUE_DIR = re.compile(r"^([A-Z][A-Z0-9_]*)-([0-9]+)$")
_MANIFEST = "manifest.json"
_END_RECORDS = 22 + 56 + 20  # end of central directory + zip64 end record and locator


def parse_size(text: str) -> int:
    """``"4GB"`` -> 4_000_000_000; accepts B, KB, MB, GB, TB and KiB, MiB, GiB, TiB."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?i?B?)\s*", text, re.IGNORECASE)
    if not m:
        raise BadInputError(f"not a size: {text!r} (try 4GB or 500MiB)")
    number, unit = float(m.group(1)), m.group(2).upper().rstrip("B")
    powers = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    binary = {"KI": 2**10, "MI": 2**20, "GI": 2**30, "TI": 2**40}
    factor = binary.get(unit) or powers.get(unit)
    if factor is None:
        raise BadInputError(f"not a size: {text!r}")
    return int(number * factor)


@dataclass(frozen=True)
class _File:
    path: Path
    arcname: str
    size: int


@dataclass(frozen=True)
class _Unit:
    """What must stay in one zip: one issue's folder, or the avatars, or the logos."""

    id: str
    files: tuple[_File, ...]
    project: str = ""

    @property
    def size(self) -> int:
        return sum(f.size + _entry_overhead(f.arcname) for f in self.files)


def _entry_overhead(arcname: str) -> int:
    # local header (30 + name + zip64 extra 20) + central header (46 + name + extra 28)
    return 124 + 2 * len(arcname.encode("utf-8"))


@dataclass(frozen=True)
class MediaChunk:
    """One zip written: its name, the units it holds, counts, sizes and SHA-256."""

    index: int
    file: str
    first: str
    last: str
    files: int
    content_bytes: int
    zip_bytes: int
    sha256: str
    oversize: bool = False


@dataclass
class MediaReport:
    """What ``media`` produced (or found already done), and what it skipped."""

    out_dir: str
    chunks: list[MediaChunk] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    refs: RefCheck | None = None

    @property
    def files(self) -> int:
        return sum(c.files for c in self.chunks)

    def to_json(self) -> dict[str, Any]:
        return {
            "out_dir": self.out_dir,
            "chunks": [asdict(c) for c in self.chunks],
            "resumed": self.resumed,
            "skipped": self.skipped[:1000],
            "warnings": self.warnings,
            "backup_cross_check": self.refs.to_json() if self.refs else None,
        }


def _sorted_entries(folder: Path) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as it:
        return sorted(it, key=lambda e: _natural(e.name))


def _natural(name: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"([0-9]+)", name))


def _files_in(folder: Path, prefix: str, report: MediaReport) -> tuple[_File, ...]:
    files = []
    for entry in _sorted_entries(folder):
        if entry.is_symlink():
            report.skipped.append(f"{entry.path} (symbolic link)")
        elif entry.is_file(follow_symlinks=False):
            size = entry.stat(follow_symlinks=False).st_size
            files.append(_File(Path(entry.path), f"{prefix}/{entry.name}", size))
        elif entry.is_dir(follow_symlinks=False) and entry.name == "thumbs":
            continue
        else:
            report.skipped.append(f"{entry.path} (not a regular file)")
    return tuple(files)


def _units(home: Path, report: MediaReport) -> Iterator[_Unit]:
    avatars = home / "data" / "avatars"
    if avatars.is_dir():
        files = _files_in(avatars, "data/avatars", report)
        if files:
            yield _Unit("data/avatars", files)
    logos = home / "logos"
    if logos.is_dir():
        files = _files_in(logos, "logos", report)
        if files:
            yield _Unit("logos", files)
    root = home / "data" / "attachments"
    if not root.is_dir():
        report.warnings.append(f"{root} does not exist: no attachments packed")
        return
    for project in _sorted_entries(root):
        if not project.is_dir(follow_symlinks=False):
            report.skipped.append(f"{project.path} (not a project folder)")
            continue
        for sub in _sorted_entries(Path(project.path)):
            if not sub.is_dir(follow_symlinks=False):
                report.skipped.append(f"{sub.path} (not a folder)")
            elif sub.name.isdigit():
                for issue in _sorted_entries(Path(sub.path)):
                    yield from _issue_unit(project.name, issue, report)
            else:  # pre-7.0 layout: <KEY>/<ISSUE-KEY>/ without buckets
                yield from _issue_unit(project.name, sub, report)


def _issue_unit(project: str, entry: os.DirEntry[str], report: MediaReport) -> Iterator[_Unit]:
    m = _ISSUE_DIR.match(entry.name)
    if not entry.is_dir(follow_symlinks=False) or m is None:
        report.skipped.append(f"{entry.path} (not an issue folder)")
        return
    prefix = f"data/attachments/{project}/{attachment_bucket(int(m.group(2)))}/{entry.name}"
    files = _files_in(Path(entry.path), prefix, report)
    if files:
        yield _Unit(prefix, files, project)


class _ChunkWriter:
    def __init__(self, out_dir: Path, index: int) -> None:
        self.index = index
        self.name = f"media-{index:03d}.zip"
        self.path = out_dir / self.name
        self.part = out_dir / (self.name + ".part")
        self.sums_part = out_dir / (self.name + ".sha256.part")
        self.zip = zipfile.ZipFile(self.part, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
        self.sums = self.sums_part.open("w", encoding="utf-8")
        self.expected: dict[str, int] = {}

    def add(self, f: _File, on_bytes: Callable[[int], None]) -> None:
        digest = hashlib.sha256()
        info = zipfile.ZipInfo(f.arcname, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        written = 0
        try:
            with f.path.open("rb") as src, self.zip.open(info, "w", force_zip64=True) as dst:
                while block := src.read(1 << 20):
                    digest.update(block)
                    dst.write(block)
                    written += len(block)
                    on_bytes(len(block))
        except OSError as exc:
            raise BadInputError(f"{f.path}: cannot read ({exc.strerror})") from exc
        self.expected[f.arcname] = written
        self.sums.write(f"{digest.hexdigest()}  {f.arcname}\n")

    def finish(self) -> tuple[int, str]:
        self.zip.close()
        self.zip.filelist.clear()  # the central directory is written: free its entries
        self.zip.NameToInfo.clear()
        self.sums.close()
        _verify(self.part, self.expected)
        sha = _sha256_file(self.part)
        os.replace(self.sums_part, self.path.with_name(self.name + ".sha256"))
        os.replace(self.part, self.path)
        return self.path.stat().st_size, sha

    def abort(self) -> None:
        self.zip.close()
        self.sums.close()
        self.part.unlink(missing_ok=True)
        self.sums_part.unlink(missing_ok=True)


def _verify(path: Path, expected: dict[str, int]) -> None:
    """Re-read the zip: every member's CRC, the names, the sizes and the count."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadInputError(f"{path.name}: the written zip does not read back ({exc})") from exc
    if bad is not None:
        raise BadInputError(f"{path.name}: CRC error in {bad} after writing")
    found = {i.filename: i.file_size for i in infos}
    if found != expected or len(infos) != len(expected):
        raise BadInputError(f"{path.name}: the written zip does not hold what was written")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _load_manifest(out_dir: Path, settings: dict[str, Any]) -> dict[int, MediaChunk]:
    path = out_dir / _MANIFEST
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        chunks = {c["index"]: MediaChunk(**c) for c in raw["chunks"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FixConfigError(f"{path}: unreadable manifest ({exc}); use an empty folder") from exc
    if raw.get("settings") != settings:
        raise FixConfigError(
            f"{out_dir} holds media packed with other settings ({raw.get('settings')}); "
            "use an empty folder or the same --jira-home and --max-size"
        )
    return chunks


def _save_manifest(out_dir: Path, settings: dict[str, Any], chunks: list[MediaChunk]) -> None:
    tmp = out_dir / (_MANIFEST + ".part")
    tmp.write_text(
        json.dumps({"settings": settings, "chunks": [asdict(c) for c in chunks]}, indent=2),
        encoding="utf-8",
    )
    os.replace(tmp, out_dir / _MANIFEST)


def pack_media(
    jira_home: Path,
    out_dir: Path,
    *,
    max_bytes: int,
    by_project: bool = False,
    backup: Path | None = None,
    progress: ProgressFn | None = None,
) -> MediaReport:
    """Pack ``jira_home``'s media into zips of at most ``max_bytes`` in ``out_dir``.

    Re-running with the same arguments resumes: verified chunks are kept, the rest is
    (re)written. With ``by_project`` a zip never holds two projects' attachments. With
    ``backup``, every attachment file is checked against the backup's references (missing
    files, orphans, size mismatches in ``report.refs``).
    Raises :class:`FixConfigError` when ``out_dir`` holds another packing, and
    :class:`BadInputError` when ``jira_home`` is not a folder or a written zip fails to verify.
    """
    if not jira_home.is_dir():
        raise BadInputError(f"{jira_home}: not a folder (give the Jira home)")
    if max_bytes < 64 << 10:
        raise BadInputError("--max-size must be at least 64 KiB")
    out_dir.mkdir(parents=True, exist_ok=True)
    if out_dir.resolve().is_relative_to(jira_home.resolve()):
        raise BadInputError("the output folder must not be inside the Jira home")
    refs = AttachmentRefs(backup) if backup is not None else None
    settings = {
        "jira_home": str(jira_home.resolve()),
        "max_bytes": max_bytes,
        "by_project": by_project,
    }
    done_before = _load_manifest(out_dir, settings)
    report = MediaReport(str(out_dir))
    for stale in out_dir.glob("*.part"):
        stale.unlink()
    total = 0
    if progress is not None:
        total = sum(u.size for u in _units(jira_home, MediaReport(str(out_dir))))
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    budget = max_bytes - _END_RECORDS
    index, size, first, last, count, content, project = 1, 0, "", "", 0, 0, ""
    writer: _ChunkWriter | None = None
    chunks: list[MediaChunk] = []

    def close_chunk() -> None:
        nonlocal writer
        oversize = size > budget
        previous = done_before.get(index)
        if writer is None:
            assert previous is not None
            if (previous.first, previous.last) != (first, last):
                raise FixConfigError(
                    f"the Jira home changed since {previous.file} was written; pack again into "
                    "an empty folder"
                )
            chunks.append(previous)
            report.resumed.append(index)
        else:
            zip_bytes, sha = writer.finish()
            chunks.append(
                MediaChunk(
                    index, writer.name, first, last, count, content, zip_bytes, sha, oversize
                )
            )
            writer = None
        if oversize:
            report.warnings.append(
                f"media-{index:03d}.zip: {first} alone is larger than the limit; an issue's "
                "folder is never split"
            )
        _save_manifest(out_dir, settings, chunks)

    try:
        for unit in _units(jira_home, report):
            usize = unit.size
            new_project = by_project and unit.project != project and bool(project)
            project = unit.project or project
            if count and (size + usize > budget or new_project):
                close_chunk()
                index, size, first, count, content = index + 1, 0, "", 0, 0
            if not count:
                first = unit.id
                previous = done_before.get(index)
                resumable = previous is not None and (out_dir / previous.file).is_file()
                if resumable and previous is not None:
                    resumable = (out_dir / previous.file).stat().st_size == previous.zip_bytes
                if not resumable:
                    done_before.pop(index, None)
                    writer = _ChunkWriter(out_dir, index)
            for f in unit.files:
                if refs is not None and f.arcname.startswith("data/attachments/"):
                    refs.saw(f.arcname, f.size)
                if writer is not None:
                    writer.add(f, tick)
                else:
                    tick(f.size)
                content += f.size
            size += usize
            count += len(unit.files)
            last = unit.id
        if count:
            close_chunk()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        if refs is not None:
            report.refs = refs.finish()
            refs.close()
    report.chunks = chunks
    r = report.refs
    if r is not None and r.missing:
        report.warnings.append(
            f"{r.missing} attachment(s) the backup references are not in the Jira home "
            f"({r.missing_bytes:,} bytes), e.g. {r.missing_samples[0]}: they will be broken "
            "in Cloud"
        )
    if r is not None and r.size_mismatch:
        report.warnings.append(f"{r.size_mismatch} attachment(s) differ in size from the backup")
    if r is not None and r.orphans:
        report.warnings.append(
            f"{r.orphans} file(s) in the Jira home belong to no attachment of the backup"
        )
    return report
