from __future__ import annotations

import hashlib
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from jirabridge.errors import BadInputError
from jirabridge.migrate import check_backup
from jirabridge.migrate._fix import ChangeKind, fix_backup, load_email_map
from jirabridge.migrate.synth import Defect
from tests.unit.migrate.conftest import AO

FIXABLE = (
    Defect.INVALID_CHARS,
    Defect.ZIPPED_FOLDER,
    Defect.ADDON_USER,
    Defect.EMAIL_NO_DOMAIN,
    Defect.EMAIL_NO_TLD,
    Defect.EXAMPLE_EMAIL,
    Defect.DUPLICATE_EMAIL,
)
EMAILS = {
    "nodomain": "nodomain@acme.io",
    "notld@localhost": "notld@acme.io",
    "tester": "tester@acme.io",
    "dup.ldap": "dup.ldap@acme.io",
}


def _entities(path: Path) -> list[etree._Element]:
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if n.endswith("entities.xml"))
        data = zf.read(name)
    for bad in (b"\x01", b"\x0b", "\uffff".encode()):
        data = data.replace(bad, b"")
    return list(etree.fromstring(data))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_fixable_defect_is_fixed_and_nothing_else_changes(make_backup, tmp_path: Path):
    src = make_backup(*FIXABLE)
    before = _digest(src)
    assert {"XML002", "ZIP002", "USR001", "USR002", "USR003", "USR004", "USR005"} <= {
        f.rule for f in check_backup(src).blockers
    }
    out = tmp_path / "fixed.zip"
    report = fix_backup(src, out, emails=EMAILS)
    assert _digest(src) == before  # the input is never modified
    assert report.after is not None and report.after.blockers == []
    assert report.exit_code == 0
    assert report.counts == {
        "rerooted": 2,
        "email_changed": 4,
        "user_renamed": 1,
        "invalid_chars_removed": 1,
    }
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["activeobjects.xml", "entities.xml"]
    old, new = _entities(src), _entities(out)
    assert Counter(e.tag for e in old) == Counter(e.tag for e in new)
    for a, b in zip(old, new, strict=True):
        if a.tag in ("User", "Membership", "ApplicationUser"):
            continue
        assert dict(a.attrib) == dict(b.attrib)
        assert [(c.tag, c.text) for c in a] == [(c.tag, c.text) for c in b]
    users = {u.get("id"): u for u in new if u.tag == "User"}
    renamed = [u for u in users.values() if u.get("userName") == "migrated_com.acme.bot"]
    assert len(renamed) == 1 and renamed[0].get("lowerUserName") == "migrated_com.acme.bot"
    members = [
        m for m in new if m.tag == "Membership" and m.get("childName", "").startswith("addon_")
    ]
    assert members == []
    emails = sorted(u.get("emailAddress") for u in users.values())
    assert len(set(e.lower() for e in emails)) == len(emails)


def test_real_backup_round_trips(real_backup: Path, tmp_path: Path) -> None:
    out = tmp_path / "fixed.zip"
    report = fix_backup(real_backup, out)
    assert report.changes == []
    assert report.after is not None
    original = check_backup(real_backup)
    assert report.after.stats["issues"] == original.stats["issues"]
    assert report.after.stats["users"] == original.stats["users"]
    old, new = _entities(real_backup), _entities(out)
    assert [(e.tag, dict(e.attrib)) for e in old] == [(e.tag, dict(e.attrib)) for e in new]
    assert [[c.text for c in e] for e in old] == [[c.text for c in e] for e in new]


def test_renames_avoid_existing_names(make_zip, tmp_path: Path) -> None:
    xml = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<entity-engine-xml>\n'
        b'<User id="1" userName="addon_x" lowerUserName="addon_x" emailAddress="a@acme.io"/>\n'
        b'<User id="2" userName="migrated_x" lowerUserName="migrated_x"'
        b' emailAddress="b@acme.io"/>\n'
        b"</entity-engine-xml>\n"
    )
    src = make_zip({"entities.xml": xml, "activeobjects.xml": AO})
    report = fix_backup(src, tmp_path / "out.zip")
    (change,) = [c for c in report.changes if c.kind is ChangeKind.USER_RENAMED]
    assert change.detail == "addon_x -> migrated_x_2"


def test_broken_structure_is_refused_without_output(make_backup, tmp_path: Path) -> None:
    out = tmp_path / "out.zip"
    with pytest.raises(BadInputError, match="not well-formed"):
        fix_backup(make_backup(Defect.MALFORMED_XML), out)
    assert not out.exists() and not list(tmp_path.glob("out.zip*"))


def test_output_must_differ_from_input(make_backup) -> None:
    src = make_backup()
    with pytest.raises(BadInputError, match="new file"):
        fix_backup(src, src)


def test_hostile_members_are_dropped(make_zip, tmp_path: Path) -> None:
    xml = b'<?xml version="1.0" encoding="UTF-8"?>\n<entity-engine-xml/>\n'
    src = make_zip({"entities.xml": xml, "activeobjects.xml": AO, "../../evil.sh": b"rm -rf /"})
    report = fix_backup(src, tmp_path / "out.zip")
    assert [c.location for c in report.changes if c.kind is ChangeKind.MEMBER_DROPPED] == [
        "../../evil.sh"
    ]
    assert not (tmp_path.parent / "evil.sh").exists()
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert sorted(zf.namelist()) == ["activeobjects.xml", "entities.xml"]


def test_doctype_is_refused_by_fix(make_zip, tmp_path: Path) -> None:
    xml = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<entity-engine-xml/>'
    with pytest.raises(BadInputError, match="DOCTYPE"):
        fix_backup(make_zip({"entities.xml": xml, "activeobjects.xml": AO}), tmp_path / "o.zip")
    assert not (tmp_path / "o.zip").exists()


def test_email_map_formats(tmp_path: Path) -> None:
    j = tmp_path / "m.json"
    j.write_text('{"Bob": "bob@acme.io", "OLD@x.io": "new@acme.io"}')
    assert load_email_map(j) == {"bob": "bob@acme.io", "old@x.io": "new@acme.io"}
    c = tmp_path / "m.csv"
    c.write_text("user,email\nbob,bob@acme.io\n\nalice,alice@acme.io\n")
    assert load_email_map(c) == {"bob": "bob@acme.io", "alice": "alice@acme.io"}


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("bad.json", '{"bob": "bob@example.com"}', "not valid"),
        ("bad2.json", '["bob"]', "object"),
        ("bad3.json", "{nope", "invalid JSON"),
        ("bad.csv", "bob,bob@acme.io,extra\n", "two columns"),
        ("bad2.csv", "bob,bob@localhost\n", "not valid"),
    ],
)
def test_bad_email_maps_are_rejected(tmp_path: Path, name: str, text: str, match: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(BadInputError, match=match):
        load_email_map(path)


def test_invalid_character_references_are_found_and_removed(make_zip, tmp_path: Path) -> None:
    xml = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<entity-engine-xml>\n'
        b'<Issue id="1" key="A-1" summary="bad &#x1f; ref &#10; ok"/>\n'
        b'<Action id="2" issue="1" type="comment" body="x&#0;y"/>\n</entity-engine-xml>\n'
    )
    src = make_zip({"entities.xml": xml, "activeobjects.xml": AO})
    report = check_backup(src)
    (finding,) = [f for f in report.blockers if f.rule == "XML002"]
    assert finding.data["count"] == 2
    assert [(c["line"], c["codepoint"]) for c in finding.data["locations"]] == [(3, 0x1F), (4, 0)]
    assert "XML001" not in report.rules()
    fixed = fix_backup(src, tmp_path / "fixed.zip")
    assert fixed.after is not None and fixed.after.blockers == []
    (issue,) = [e for e in _entities(tmp_path / "fixed.zip") if e.tag == "Issue"]
    assert issue.get("summary") == "bad  ref \n ok"
