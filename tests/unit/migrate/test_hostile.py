"""Hostile backups: each gets a clear blocker or error, nothing crashes, nothing is written."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from jirabridge.errors import BadInputError
from jirabridge.migrate import CheckOptions, Severity, ZipLimits, check_backup, open_backup
from tests.unit.migrate.conftest import AO

HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _blocker(report, rule: str) -> str:
    found = [f for f in report.blockers if f.rule == rule]
    assert found, report.sorted_findings()
    return found[0].message


def test_billion_laughs_is_refused_before_parsing(make_zip) -> None:
    lol = b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10 if i else b"lol") for i in range(10)
    )
    xml = HEAD + b"<!DOCTYPE lolz [" + lol + b"]>\n<entity-engine-xml>&lol9;</entity-engine-xml>"
    report = check_backup(make_zip({"entities.xml": xml, "activeobjects.xml": AO}))
    assert "DOCTYPE" in _blocker(report, "XML003")


def test_external_entity_is_refused_and_never_read(make_zip, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xml = (
        HEAD + b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://' + str(secret).encode() + b'">]>\n'
        b'<entity-engine-xml><User id="1" userName="&xxe;"/></entity-engine-xml>'
    )
    report = check_backup(make_zip({"entities.xml": xml, "activeobjects.xml": AO}))
    _blocker(report, "XML003")
    assert "TOPSECRET" not in repr(report.to_json())


def test_doctype_inside_cdata_is_not_a_doctype(make_zip) -> None:
    # real backups carry workflow descriptors with a DOCTYPE inside CDATA
    xml = (
        HEAD + b'<entity-engine-xml>\n<Workflow id="1"><descriptor><![CDATA[<?xml version="1.0"?>'
        b'<!DOCTYPE workflow PUBLIC "-//x//EN" "http://x/y.dtd"><workflow/>]]></descriptor>'
        b"</Workflow>\n</entity-engine-xml>\n"
    )
    report = check_backup(make_zip({"entities.xml": xml, "activeobjects.xml": AO}))
    assert not [f for f in report.blockers if f.rule.startswith("XML")]


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "a/../../evil.txt", "C:\\evil"])
def test_zip_slip_members_are_reported(make_zip, name: str, tmp_path: Path) -> None:
    before = set(os.listdir(tmp_path.parent))
    path = make_zip(
        {"entities.xml": HEAD + b"<entity-engine-xml/>", "activeobjects.xml": AO, name: b"x"}
    )
    report = check_backup(path)
    assert "unsafe path" in _blocker(report, "ZIP004")
    assert set(os.listdir(tmp_path.parent)) == before  # nothing extracted anywhere


def test_symlink_member_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("entities.xml", HEAD + b"<entity-engine-xml/>")
        zf.writestr("activeobjects.xml", AO)
        info = zipfile.ZipInfo("evil")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    assert "symbolic link" in _blocker(check_backup(path), "ZIP004")


def test_zip_bomb_is_refused_by_ratio(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "entities.xml",
            HEAD + b"<entity-engine-xml>" + b" " * (30 << 20) + b"</entity-engine-xml>",
        )
        zf.writestr("activeobjects.xml", AO)
    assert path.stat().st_size < 1 << 20
    report = check_backup(path, CheckOptions(zip_limits=ZipLimits(max_ratio=100)))
    assert "zip bomb" in _blocker(report, "FILE001")


def test_zip_total_size_limit(make_backup) -> None:
    report = check_backup(make_backup(), CheckOptions(zip_limits=ZipLimits(max_total_bytes=1000)))
    assert "limit" in _blocker(report, "FILE001")


def test_truncated_zip_is_a_clear_error(make_backup, tmp_path: Path) -> None:
    data = make_backup().read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])
    assert "truncated" in _blocker(check_backup(cut), "FILE001")
    with pytest.raises(BadInputError, match="truncated"):
        open_backup(cut)


def test_corrupt_member_data_is_a_clear_error(make_backup, tmp_path: Path) -> None:
    src = make_backup(issues_per_project=50)
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo("entities.xml")
    start = info.header_offset + 30 + len(info.filename) + 200
    data[start : start + 64] = b"\x00" * 64
    bad = tmp_path / "corrupt.zip"
    bad.write_bytes(bytes(data))
    report = check_backup(bad)
    assert report.exit_code == 1
    assert any(f.rule in ("XML001", "XML003") for f in report.blockers)


def test_utf16_is_refused(make_zip) -> None:
    xml = '<?xml version="1.0" encoding="UTF-16"?>\n<entity-engine-xml/>'.encode("utf-16")
    report = check_backup(make_zip({"entities.xml": xml, "activeobjects.xml": AO}))
    assert "UTF-16" in _blocker(report, "XML003")


def test_invalid_utf8_is_located(make_zip) -> None:
    xml = HEAD + b'<entity-engine-xml>\n<User id="1" userName="caf\xe9"/>\n</entity-engine-xml>\n'
    report = check_backup(make_zip({"entities.xml": xml, "activeobjects.xml": AO}))
    message = _blocker(report, "XML001")
    assert "line 3" in message


def test_other_declared_encoding_is_a_warning(make_zip) -> None:
    xml = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<entity-engine-xml>caf\xe9'
    xml += b"</entity-engine-xml>"
    report = check_backup(make_zip({"entities.xml": xml, "activeobjects.xml": AO}))
    assert [f for f in report.findings if f.rule == "ENC001" and f.severity is Severity.WARNING]


def test_huge_single_line_is_a_clear_error(make_zip) -> None:
    xml = (
        HEAD
        + b'<entity-engine-xml><Issue id="1"><description>'
        + os.urandom(6 << 20).hex().encode()
    )
    xml += b"</description></Issue></entity-engine-xml>"
    report = check_backup(make_zip({"entities.xml": xml, "activeobjects.xml": AO}))
    (long_line,) = [f for f in report.findings if f.rule == "LINE001"]
    assert long_line.data["line"] == 2 and long_line.data["bytes"] > 12_000_000
    assert report.stats["complete"] is True  # streamed through, not loaded


def test_not_a_backup_at_all(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"hello, not a zip")
    assert "neither" in _blocker(check_backup(junk), "FILE001")
    assert "no such file" in _blocker(check_backup(tmp_path / "missing.zip"), "FILE001")


def test_wrong_root_element(make_zip) -> None:
    report = check_backup(make_zip({"entities.xml": HEAD + b"<html/>", "activeobjects.xml": AO}))
    _blocker(report, "XML004")


def test_member_stream_refuses_more_than_declared() -> None:
    from jirabridge.migrate._archive import _BoundedStream

    stream = _BoundedStream(io.BytesIO(b"x" * 100), 10, "entities.xml")
    with pytest.raises(BadInputError, match="larger than"):
        stream.read(100)


def test_encrypted_member_is_reported_once(tmp_path: Path) -> None:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        zf.writestr("entities.xml", HEAD + b"<entity-engine-xml/>")
        zf.writestr("activeobjects.xml", AO)
    data = bytearray(raw.getvalue())
    data[data.find(b"PK\x03\x04") + 6] |= 1  # set the "encrypted" flag of the first member
    data[data.find(b"PK\x01\x02") + 8] |= 1
    path = tmp_path / "enc.zip"
    path.write_bytes(bytes(data))
    report = check_backup(path)
    assert "encrypted" in _blocker(report, "ZIP006")
    assert "ZIP001" not in report.rules()
