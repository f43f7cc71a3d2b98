from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from jirabridge.migrate.synth import Defect, SynthSpec, write_backup_zip

MakeBackup = Callable[..., Path]


@pytest.fixture
def real_backup(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "backups" / "jira-8.8.0-h2" / "backup.zip"


@pytest.fixture
def make_backup(tmp_path: Path) -> MakeBackup:
    counter = iter(range(1000))

    def make(*defects: Defect, **spec: object) -> Path:
        path = tmp_path / f"backup-{next(counter)}.zip"
        return write_backup_zip(path, SynthSpec(defects=frozenset(defects), **spec))  # type: ignore[arg-type]

    return make


@pytest.fixture
def make_zip(tmp_path: Path) -> Callable[[dict[str, bytes]], Path]:
    counter = iter(range(1000))

    def make(members: dict[str, bytes]) -> Path:
        path = tmp_path / f"raw-{next(counter)}.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        return path

    return make


AO = b"<?xml version='1.0' encoding='UTF-8'?>\n<backup xmlns=\"http://www.atlassian.com/ao\"/>\n"
