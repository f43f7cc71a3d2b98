from __future__ import annotations

import json
from pathlib import Path

import pytest

from jirabridge.migrate import (
    CheckOptions,
    CloudGroup,
    CloudPlan,
    Severity,
    UserStrategy,
    check_backup,
    email_problem,
    render_html,
    render_json,
    render_text,
    user_tier,
)
from jirabridge.migrate.synth import Defect, SynthSpec, write_entities


def test_real_backup_is_read_and_has_no_blockers(real_backup: Path) -> None:
    report = check_backup(real_backup)
    assert report.exit_code == 0, [f.message for f in report.blockers]
    assert (report.version, report.build) == ("8.8.0", "808000")
    assert report.base_url == "http://localhost:8080"
    assert report.stats["users"] == 1 and report.stats["issues"] == 3
    assert [(p.key, p.issues) for p in report.projects] == [("EX", 3)]
    assert "GRP001" in report.rules()  # jira-administrators exists in the real backup


def test_clean_synthetic_backup_has_no_blockers(make_backup) -> None:
    report = check_backup(make_backup())
    assert report.blockers == []
    assert report.stats["issues"] == 8 and report.stats["comments"] == 16
    assert report.stats["attachments"] == 8


@pytest.mark.parametrize(
    ("defect", "rule", "severity"),
    [
        (Defect.INVALID_CHARS, "XML002", Severity.BLOCKER),
        (Defect.MALFORMED_XML, "XML001", Severity.BLOCKER),
        (Defect.ZIPPED_FOLDER, "ZIP002", Severity.BLOCKER),
        (Defect.NO_ACTIVEOBJECTS, "ZIP003", Severity.BLOCKER),
        (Defect.OLD_VERSION, "VER001", Severity.BLOCKER),
        (Defect.MAY_WORK_VERSION, "VER001", Severity.WARNING),
        (Defect.EMAIL_NO_DOMAIN, "USR001", Severity.BLOCKER),
        (Defect.EMAIL_NO_TLD, "USR002", Severity.BLOCKER),
        (Defect.EXAMPLE_EMAIL, "USR003", Severity.BLOCKER),
        (Defect.DUPLICATE_EMAIL, "USR004", Severity.BLOCKER),
        (Defect.ADDON_USER, "USR005", Severity.BLOCKER),
        (Defect.ADMIN_GROUPS, "GRP002", Severity.WARNING),
    ],
)
def test_each_planted_defect_is_found(make_backup, defect: Defect, rule: str, severity) -> None:
    clean = check_backup(make_backup())
    report = check_backup(make_backup(defect))
    found = [f for f in report.findings if f.rule == rule and f.severity is severity]
    assert found, report.sorted_findings()
    assert not [f for f in clean.findings if f.rule == rule and f.severity is severity]
    assert report.exit_code == (1 if severity is Severity.BLOCKER else 0)


def test_invalid_characters_are_all_counted_and_located(make_backup, tmp_path: Path) -> None:
    spec = SynthSpec(defects=frozenset({Defect.INVALID_CHARS}))
    with (tmp_path / "e.xml").open("wb") as fh:
        write_entities(fh, spec)
    raw = (tmp_path / "e.xml").read_bytes()
    expected = []
    for lineno, line in enumerate(raw.split(b"\n"), start=1):
        for col in range(len(line)):
            if line[col] in (1, 11) or line[col : col + 3] in (b"\xef\xbf\xbf", b"\xef\xbf\xbe"):
                expected.append((lineno, col + 1))
    report = check_backup(make_backup(Defect.INVALID_CHARS))
    (finding,) = [f for f in report.findings if f.rule == "XML002"]
    assert finding.data["count"] == len(expected) == 6
    assert [(c["line"], c["column"]) for c in finding.data["locations"]] == expected
    assert report.stats["complete"] is True  # blanked, so the parse went on to the end


def test_malformed_xml_reports_line_and_column(make_backup) -> None:
    report = check_backup(make_backup(Defect.MALFORMED_XML))
    (finding,) = [f for f in report.findings if f.rule == "XML001"]
    line = int(finding.location.split(":")[1])
    assert line > 100 and "line" in finding.message
    assert report.stats["complete"] is False


def test_duplicate_emails_span_directories_case_insensitively(make_backup) -> None:
    report = check_backup(make_backup(Defect.DUPLICATE_EMAIL))
    (finding,) = [f for f in report.findings if f.rule == "USR004"]
    assert finding.data["email"] == "user1@acme.io"
    assert sorted(finding.data["users"]) == ["dup.ldap", "user1"]
    assert "Corporate LDAP" in finding.message and "Jira Internal Directory" in finding.message


def test_merge_into_cloud_admin_group_is_an_escalation_with_users(make_backup) -> None:
    groups = (
        CloudGroup("developers", frozenset({"ADMINISTER"}), permissions_known=True),
        CloudGroup("jira-software-users", frozenset({"USER_PICKER"}), permissions_known=True),
    )
    report = check_backup(make_backup(), CheckOptions(cloud_groups=groups))
    escalations = [f for f in report.findings if f.rule == "GRP003"]
    assert len(escalations) == 1  # jira-software-users gains nothing it did not have
    (esc,) = escalations
    assert esc.severity is Severity.BLOCKER
    assert esc.data["group"] == "developers" and esc.data["gained"] == ["ADMINISTER"]
    assert "admin" in esc.data["users"]
    overwrite = check_backup(
        make_backup(), CheckOptions(cloud_groups=groups, strategy=UserStrategy.OVERWRITE)
    )
    assert "GRP003" not in overwrite.rules() and "GRP004" in overwrite.rules()


def test_cloud_administrators_group_merges_with_jira_administrators(make_backup) -> None:
    report = check_backup(make_backup(), CheckOptions(cloud_groups=(CloudGroup("administrators"),)))
    (esc,) = [f for f in report.findings if f.rule == "GRP003"]
    assert esc.severity is Severity.WARNING and esc.data["users"] == ["admin"]


def test_attachments_per_project_and_plan_storage(make_backup) -> None:
    path = make_backup(attachment_size=300_000_000, projects=3, issues_per_project=3)
    report = check_backup(path, CheckOptions(plan=CloudPlan.FREE))
    assert [(p.key, p.attachments, p.attachment_bytes) for p in report.projects] == [
        ("PA", 3, 900_000_000),
        ("PB", 3, 900_000_000),
        ("PC", 3, 900_000_000),
    ]
    assert "ATT002" in {f.rule for f in report.blockers}
    assert "ATT002" not in check_backup(path, CheckOptions(plan=CloudPlan.STANDARD)).rules()


def test_links_to_map_include_base_url_and_other_jira(make_backup) -> None:
    report = check_backup(make_backup())
    origins = {lk["origin"]: lk for lk in report.links}
    assert origins["https://jira.acme.io"]["base_url"] is True
    assert origins["https://jira.acme.io"]["jira_links"] == 16 + 8  # comments + descriptions
    assert origins["https://old-jira.acme.io"]["occurrences"] == 8
    assert "https://wiki.acme.io" not in origins  # not a Jira link


@pytest.mark.parametrize(
    ("users", "tier"),
    [(1, "1-10"), (10, "1-10"), (11, "11-25"), (125, "101-200"), (10001, "10001-15000")],
)
def test_user_tier(users: int, tier: str) -> None:
    assert user_tier(users) == tier


def test_user_tier_beyond_the_largest() -> None:
    assert "Enterprise" in user_tier(60_000)


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("a@acme.io", True),
        ("a.b+c@mail.acme.co.uk", True),
        ("", False),
        ("a@", False),
        ("@acme.io", False),
        ("a@localhost", False),
        ("a@acme.1", False),
        ("a@example.com", False),
        ("a@EXAMPLE.COM", False),
        ("a@b@acme.io", False),
        ("a@-acme.io", False),
    ],
)
def test_email_problem(email: str, ok: bool) -> None:
    assert (email_problem(email) is None) is ok


def test_renderings_escape_and_hide_secrets(make_backup) -> None:
    report = check_backup(make_backup(*Defect))
    text, page, data = render_text(report), render_html(report), render_json(report)
    parsed = json.loads(data)
    assert parsed["ok"] is False and parsed["counts"]["blocker"] == len(report.blockers)
    for out in (text, page, data):
        assert "c2VjcmV0" not in out and "PKCS5S2" not in out  # password hashes never shown
        assert "USR005" in out
    assert "<script" not in page and page.startswith("<!DOCTYPE html>")
    assert "BLOCKER" in text


def test_html_escapes_hostile_names(make_zip) -> None:
    from tests.unit.migrate.conftest import AO

    xml = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<entity-engine-xml>\n'
        b'<User id="1" directoryId="1" userName="&lt;script&gt;x" lowerUserName="&lt;script&gt;x"'
        b' active="1" emailAddress="bad"/>\n</entity-engine-xml>\n'
    )
    report = check_backup(make_zip({"entities.xml": xml, "activeobjects.xml": AO}))
    assert "USR001" in report.rules()
    page = render_html(report)
    assert "<script>" not in page and "&lt;script&gt;" in page
