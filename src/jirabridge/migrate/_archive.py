"""Open a backup (zip or bare ``entities.xml``) defensively.

The zip is hostile until checked: members with absolute or ``..`` paths, symlinks,
encrypted members, too many members, too-high compression ratios (zip bombs) and too-large
totals are reported, truncated archives are refused with a clear error, and member streams
refuse to yield more bytes than the central directory declared. Nothing is ever extracted to
disk: members are read as streams.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

from jirabridge.errors import BadInputError
from jirabridge.migrate._findings import Finding, Severity

__all__ = ["BackupArchive", "ZipLimits", "is_unsafe_member_name", "open_backup"]

ENTITIES = "entities.xml"
ACTIVEOBJECTS = "activeobjects.xml"


@dataclass(frozen=True)
class ZipLimits:
    """Limits applied to every zip jirabridge reads (all configurable)."""

    max_members: int = 100_000
    max_ratio: float = 1000.0
    max_member_bytes: int = 1 << 40  # 1 TiB uncompressed per member
    max_total_bytes: int = 4 << 40  # 4 TiB uncompressed in all
    ratio_floor_bytes: int = 10 << 20  # members under 10 MiB are never called bombs


def is_unsafe_member_name(name: str) -> bool:
    """True for names that would land outside an extraction folder (zip slip)."""
    if not name or "\x00" in name:
        return True
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return True
    return any(part == ".." for part in PurePosixPath(norm).parts)


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = (info.external_attr >> 16) & 0xFFFF
    return info.create_system == 3 and stat.S_ISLNK(mode)


class _BoundedStream:
    """A member stream that refuses to give more than the declared size."""

    def __init__(self, raw: IO[bytes], declared: int, name: str) -> None:
        self._raw = raw
        self._left = declared
        self._name = name
        self.bytes_read = 0

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._raw.read(n if n is not None and n >= 0 else 1 << 20)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            raise BadInputError(
                f"{self._name}: the zip member is corrupt or truncated ({exc})"
            ) from exc
        except Exception as exc:  # zlib.error and friends
            raise BadInputError(f"{self._name}: cannot decompress ({exc})") from exc
        self.bytes_read += len(data)
        self._left -= len(data)
        if self._left < 0:
            raise BadInputError(f"{self._name}: member is larger than its zip header declares")
        return data

    def close(self) -> None:
        self._raw.close()


@dataclass
class BackupArchive:
    """An opened backup: where ``entities.xml`` and ``activeobjects.xml`` are, and findings."""

    path: Path
    is_zip: bool
    entities_name: str | None
    activeobjects_name: str | None
    findings: list[Finding] = field(default_factory=list)
    entities_size: int = 0
    activeobjects_size: int = 0
    _zip: zipfile.ZipFile | None = None

    @contextmanager
    def open_member(self, name: str) -> Iterator[_BoundedStream]:
        """A bounded binary stream over one member (or the bare XML file)."""
        if not self.is_zip:
            with self.path.open("rb") as fh:
                yield _BoundedStream(fh, self.path.stat().st_size, name)
            return
        assert self._zip is not None
        info = self._zip.getinfo(name)
        try:
            raw = self._zip.open(info)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
            raise BadInputError(f"{name}: cannot open the zip member ({exc})") from exc
        stream = _BoundedStream(raw, info.file_size, name)
        try:
            yield stream
        finally:
            stream.close()

    def member_names(self) -> list[str]:
        """Every file member of the zip (none for a bare XML file)."""
        if self._zip is None:
            return []
        return [i.filename for i in self._zip.infolist() if not i.is_dir()]

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> BackupArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_backup(path: Path, limits: ZipLimits | None = None) -> BackupArchive:
    """Open ``path`` (a Site Import zip, or a bare ``entities.xml``) and check its layout.

    Raises :class:`BadInputError` when the file is missing, truncated or not a zip/XML file.
    Layout and safety problems that do not prevent reading become findings.
    """
    limits = limits or ZipLimits()
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        with path.open("rb") as fh:
            head = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"PK"):
            raise BadInputError(f"{path}: the zip is truncated or corrupt (no central directory)")
        if head.startswith(b"<") or head.startswith((b"\xff\xfe", b"\xfe\xff")):
            arch = BackupArchive(path, False, path.name, None, entities_size=path.stat().st_size)
            arch.findings.append(
                Finding(
                    "ZIP005",
                    Severity.INFO,
                    "a bare XML file was given, not a backup zip: zip layout not checked",
                    str(path),
                    "give the zip Jira wrote (Administration > System > Backup system)",
                )
            )
            return arch
        raise BadInputError(f"{path}: neither a zip nor an XML file")
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BadInputError(f"{path}: the zip is truncated or corrupt ({exc})") from exc
    arch = BackupArchive(path, True, None, None, _zip=zf)
    try:
        _inspect_members(arch, infos, limits)
    except BaseException:
        zf.close()
        raise
    return arch


def _inspect_members(arch: BackupArchive, infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    add = arch.findings.append
    if len(infos) > limits.max_members:
        raise BadInputError(
            f"{arch.path}: {len(infos)} members, more than the limit of {limits.max_members}"
        )
    total = 0
    nested_entities: list[str] = []
    refused: set[str] = set()  # unsafe, linked or encrypted: reported once, never read
    for info in infos:
        name = info.filename
        total += info.file_size
        if is_unsafe_member_name(name):
            add(
                Finding(
                    "ZIP004",
                    Severity.BLOCKER,
                    f"member with an unsafe path {name!r} (absolute or '..': zip slip)",
                    name,
                    "rebuild the zip from Jira's backup; jirabridge never extracts such members",
                )
            )
            continue
        if _is_symlink(info):
            add(
                Finding(
                    "ZIP004",
                    Severity.BLOCKER,
                    f"member {name!r} is a symbolic link",
                    name,
                    "rebuild the zip without links",
                )
            )
            continue
        if info.flag_bits & 0x1:
            refused.add(name.rsplit("/", 1)[-1])
            add(
                Finding(
                    "ZIP006",
                    Severity.BLOCKER,
                    f"member {name!r} is encrypted",
                    name,
                    "Site Import needs an unencrypted zip",
                )
            )
            continue
        if info.file_size > limits.max_member_bytes:
            raise BadInputError(
                f"{name}: {info.file_size} bytes uncompressed, more than the limit "
                f"{limits.max_member_bytes}"
            )
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise BadInputError(
                f"{name}: compression ratio {info.file_size / max(info.compress_size, 1):.0f}:1 "
                f"exceeds the limit {limits.max_ratio:.0f}:1 (zip bomb?)"
            )
        base = name.rsplit("/", 1)[-1]
        if name == ENTITIES:
            arch.entities_name, arch.entities_size = name, info.file_size
        elif name == ACTIVEOBJECTS:
            arch.activeobjects_name, arch.activeobjects_size = name, info.file_size
        elif base in (ENTITIES, ACTIVEOBJECTS) and not name.endswith("/"):
            nested_entities.append(name)
    if total > limits.max_total_bytes:
        raise BadInputError(
            f"{arch.path}: {total} bytes uncompressed in all, more than the limit "
            f"{limits.max_total_bytes} (zip bomb?)"
        )
    for name in nested_entities:
        base = name.rsplit("/", 1)[-1]
        folder = name.rsplit("/", 1)[0]
        if base == ENTITIES and arch.entities_name is None:
            arch.entities_name = name
            arch.entities_size = next(i.file_size for i in infos if i.filename == name)
        if base == ACTIVEOBJECTS and arch.activeobjects_name is None:
            arch.activeobjects_name = name
            arch.activeobjects_size = next(i.file_size for i in infos if i.filename == name)
        add(
            Finding(
                "ZIP002",
                Severity.BLOCKER,
                f"{base} is inside the folder {folder!r}, not at the zip root: a zipped folder"
                + (
                    ". Site Import fails with \"The import archive doesn't contain entities.xml "
                    'file"'
                    if base == ENTITIES
                    else ""
                ),
                name,
                "run `jirabridge migrate fix` (re-roots the zip), or zip the files, not the folder",
            )
        )
    if arch.entities_name is None and ENTITIES not in refused:
        add(
            Finding(
                "ZIP001",
                Severity.BLOCKER,
                "the zip has no entities.xml: \"The import archive doesn't contain entities.xml "
                'file"',
                str(arch.path),
                "use the zip Jira's backup wrote (it holds entities.xml and activeobjects.xml)",
            )
        )
    if arch.activeobjects_name is None and ACTIVEOBJECTS not in refused:
        add(
            Finding(
                "ZIP003",
                Severity.BLOCKER,
                "the zip has no activeobjects.xml (app data): Site Import needs both files",
                str(arch.path),
                "use the zip Jira's backup wrote, not a hand-made one",
            )
        )
