from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jirabridge.errors import BadInputError, FixConfigError
from jirabridge.migrate._media import pack_media, parse_size
from jirabridge.migrate.synth import SynthSpec, attachment_bucket, write_jira_home

SPEC = SynthSpec(
    projects=3, issues_per_project=4, attachments_per_issue=2, attachment_size=100_000,
    issue_number_start=9999,
)  # fmt: skip
LIMIT = 520_000  # two issues (4 x 100 kB) per zip at most


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return write_jira_home(tmp_path / "home", SPEC)


def _members(out: Path) -> dict[str, tuple[str, bytes]]:
    found: dict[str, tuple[str, bytes]] = {}
    for z in sorted(out.glob("media-*.zip")):
        with zipfile.ZipFile(z) as zf:
            for name in zf.namelist():
                assert name not in found, f"{name} packed twice"
                found[name] = (z.name, zf.read(name))
    return found


def test_bucket_rule() -> None:
    assert [attachment_bucket(n) for n in (1, 9999, 10000, 10001, 20000, 20001)] == [
        10000, 10000, 10000, 20000, 20000, 30000,
    ]  # fmt: skip
    with pytest.raises(BadInputError, match="start at 1"):
        attachment_bucket(0)


def test_backup_reader_does_not_import_the_test_data_writer() -> None:
    # the layout rule lives in a small module of its own; reading a backup must not load synth
    code = (
        "import sys, jirabridge.migrate._media, jirabridge.migrate._media_refs;"
        " print('jirabridge.migrate.synth' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_layout_chunks_and_checksums(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "media"
    report = pack_media(home, out, max_bytes=LIMIT)
    assert len(report.chunks) >= 4
    members = _members(out)
    # every attachment of the home is packed exactly once, in the exact layout
    expected = {}
    for path in (home / "data" / "attachments").rglob("*"):
        if path.is_file() and "thumbs" not in path.parts:
            key, issue = path.parts[-4], path.parts[-2]
            number = int(issue.rsplit("-", 1)[1])
            expected[f"data/attachments/{key}/{attachment_bucket(number)}/{issue}/{path.name}"] = (
                path.read_bytes()
            )
    assert {n: d for n, (_z, d) in members.items() if n.startswith("data/attachments/")} == expected
    assert {n for n in members if n.startswith("data/avatars/")} == {
        f"data/avatars/{p.name}" for p in (home / "data" / "avatars").iterdir()
    }
    assert {n for n in members if n.startswith("logos/")} == {"logos/jira-logo-scaled.png"}
    assert not [n for n in members if "thumbs" in n]
    # PA-10001 lives in the 20000 bucket
    assert "data/attachments/PA/20000/PA-10001/10004" in members
    # no zip above the limit, no issue folder split
    for z in out.glob("media-*.zip"):
        assert z.stat().st_size <= LIMIT
    folders: dict[str, set[str]] = {}
    for name, (z, _d) in members.items():
        folders.setdefault(name.rsplit("/", 1)[0], set()).add(z)
    assert all(len(zips) == 1 for zips in folders.values())
    # checksum files list every member with its SHA-256
    for chunk in report.chunks:
        lines = (out / f"{chunk.file}.sha256").read_text().splitlines()
        assert len(lines) == chunk.files
        for line in lines:
            digest, name = line.split("  ", 1)
            assert hashlib.sha256(members[name][1]).hexdigest() == digest
        assert hashlib.sha256((out / chunk.file).read_bytes()).hexdigest() == chunk.sha256
    manifest = json.loads((out / "manifest.json").read_text())
    assert [c["file"] for c in manifest["chunks"]] == [c.file for c in report.chunks]


def test_resume_after_interruption_keeps_finished_zips(home: Path, tmp_path: Path) -> None:
    clean = pack_media(home, tmp_path / "clean", max_bytes=LIMIT)
    out = tmp_path / "media"

    class Stop(Exception):
        pass

    def interrupt(done: int, total: int) -> None:
        if done > total // 2:
            raise Stop

    with pytest.raises(Stop):
        pack_media(home, out, max_bytes=LIMIT, progress=interrupt)
    finished = {p.name: p.stat().st_mtime_ns for p in out.glob("media-*.zip")}
    assert finished and not list(out.glob("*.part"))
    resumed = pack_media(home, out, max_bytes=LIMIT)
    assert resumed.resumed == list(range(1, len(finished) + 1))
    for name, mtime in finished.items():
        assert (out / name).stat().st_mtime_ns == mtime  # not rewritten
    assert [c.sha256 for c in resumed.chunks] == [c.sha256 for c in clean.chunks]
    assert _members(out).keys() == _members(tmp_path / "clean").keys()


def test_corrupted_finished_zip_is_rewritten_on_resume(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "media"
    first = pack_media(home, out, max_bytes=LIMIT)
    with (out / "media-002.zip").open("ab") as fh:
        fh.write(b"garbage")
    again = pack_media(home, out, max_bytes=LIMIT)
    assert 2 not in again.resumed and 1 in again.resumed
    assert [c.sha256 for c in again.chunks] == [c.sha256 for c in first.chunks]


def test_other_settings_in_the_same_folder_are_refused(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "media"
    pack_media(home, out, max_bytes=LIMIT)
    with pytest.raises(FixConfigError, match="other settings"):
        pack_media(home, out, max_bytes=LIMIT * 2)


def test_by_project_never_mixes_projects(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "media"
    pack_media(home, out, max_bytes=10_000_000, by_project=True)
    for z in out.glob("media-*.zip"):
        with zipfile.ZipFile(z) as zf:
            keys = {n.split("/")[2] for n in zf.namelist() if n.startswith("data/attachments/")}
        assert len(keys) <= 1
    assert len(list(out.glob("media-*.zip"))) == 3


def test_oversize_issue_gets_its_own_zip(tmp_path: Path) -> None:
    home = write_jira_home(
        tmp_path / "home", SynthSpec(projects=1, issues_per_project=2, attachment_size=1_500_000)
    )
    report = pack_media(home, tmp_path / "m", max_bytes=1 << 20)
    assert any(c.oversize for c in report.chunks)
    assert any("never split" in w for w in report.warnings)


def test_symlinks_and_strays_are_skipped(home: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("do not pack")
    issue_dir = next((home / "data" / "attachments" / "PA").rglob("PA-9999"))
    os.symlink(secret, issue_dir / "99999")
    (home / "data" / "attachments" / "PA" / "stray.txt").write_text("x")
    report = pack_media(home, tmp_path / "m", max_bytes=LIMIT)
    members = _members(tmp_path / "m")
    assert not [n for n in members if n.endswith("/99999")]
    assert any("symbolic link" in s for s in report.skipped)
    assert any("stray.txt" in s for s in report.skipped)


def test_pre_70_layout_gets_buckets(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "data" / "attachments" / "OLD" / "OLD-12345").mkdir(parents=True)
    (home / "data" / "attachments" / "OLD" / "OLD-12345" / "10100").write_bytes(b"x" * 10)
    pack_media(home, tmp_path / "m", max_bytes=LIMIT)
    assert list(_members(tmp_path / "m")) == ["data/attachments/OLD/20000/OLD-12345/10100"]


def test_bad_arguments(home: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not a folder"):
        pack_media(tmp_path / "nope", tmp_path / "m", max_bytes=LIMIT)
    with pytest.raises(BadInputError, match="inside the Jira home"):
        pack_media(home, home / "out", max_bytes=LIMIT)
    with pytest.raises(BadInputError, match="at least"):
        pack_media(home, tmp_path / "m", max_bytes=1000)


@pytest.mark.parametrize(
    ("text", "value"),
    [("4GB", 4 * 10**9), ("500MiB", 500 * 2**20), ("1.5 GB", 1_500_000_000), ("1024", 1024)],
)
def test_parse_size(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "GB", "4XB", "-1GB"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(BadInputError):
        parse_size(text)


def test_cross_check_with_the_backup(home: Path, tmp_path: Path) -> None:
    from jirabridge.migrate.synth import write_backup_zip

    backup = write_backup_zip(tmp_path / "b.zip", SPEC)
    clean = pack_media(home, tmp_path / "m1", max_bytes=LIMIT, backup=backup)
    assert clean.refs is not None
    assert clean.refs.referenced == clean.refs.found == 3 * 4 * 2
    assert (clean.refs.missing, clean.refs.orphans, clean.refs.size_mismatch) == (0, 0, 0)
    assert clean.warnings == []
    issue = home / "data" / "attachments" / "PB" / "10000" / "PB-9999"
    first, second = sorted(issue.iterdir(), key=lambda p: p.name)[:2]
    first.unlink()  # missing on disk
    second.write_bytes(b"short")  # size differs
    (issue / "99999").write_bytes(b"stray")  # orphan
    report = pack_media(home, tmp_path / "m2", max_bytes=LIMIT, backup=backup)
    refs = report.refs
    assert refs is not None
    assert (refs.missing, refs.orphans, refs.size_mismatch) == (1, 1, 1)
    assert refs.missing_samples == [f"data/attachments/PB/10000/PB-9999/{first.name}"]
    assert refs.orphan_samples == ["data/attachments/PB/10000/PB-9999/99999"]
    assert len(report.warnings) == 3
    assert report.to_json()["backup_cross_check"]["missing"] == 1
