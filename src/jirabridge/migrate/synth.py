"""Synthetic Jira Server backups and Jira homes, in the real entity format, with planted defects.

The entity format follows the real Jira 8.8 backup in ``shared/fixtures/backups``: one
``<entity-engine-xml>`` root, entities sorted by name, attributes for short values and
CDATA children for long text. Everything is deterministic for a given seed. Tests and the
``bench/migrate_check.py`` benchmark use this module; it streams, so multi-GB files are fine.
"""

from __future__ import annotations

import enum
import random
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.sax.saxutils import quoteattr

from jirabridge.migrate._layout import attachment_bucket

__all__ = [
    "Defect",
    "SynthSpec",
    "attachment_bucket",
    "write_backup_zip",
    "write_entities",
    "write_jira_home",
]


class Defect(enum.Enum):
    """A problem planted on purpose, each found by a rule of ``migrate check``."""

    INVALID_CHARS = "invalid_chars"  # control chars and U+FFFF in text
    MALFORMED_XML = "malformed_xml"  # a broken tag near the end
    ZIPPED_FOLDER = "zipped_folder"  # files under backup/ instead of the zip root
    NO_ACTIVEOBJECTS = "no_activeobjects"
    OLD_VERSION = "old_version"  # Jira 6.4.14: must upgrade first
    MAY_WORK_VERSION = "may_work_version"  # Jira 7.2.4: may work
    EMAIL_NO_DOMAIN = "email_no_domain"
    EMAIL_NO_TLD = "email_no_tld"
    EXAMPLE_EMAIL = "example_email"
    DUPLICATE_EMAIL = "duplicate_email"  # same address, other case, other directory
    ADDON_USER = "addon_user"
    ADMIN_GROUPS = "admin_groups"  # site-admins / system-administrators groups


@dataclass(frozen=True)
class SynthSpec:
    """What to generate. Sizes are small by default; the benchmark raises them."""

    projects: int = 2
    issues_per_project: int = 4
    users: int = 4
    comments_per_issue: int = 2
    attachments_per_issue: int = 1
    attachment_size: int = 2048
    changes_per_issue: int = 1
    text_size: int = 0  # extra filler characters per description
    issue_number_start: int = 1
    base_url: str = "https://jira.acme.io"
    version: str = "8.8.0"
    build: str = "808000"
    seed: int = 1
    defects: frozenset[Defect] = field(default_factory=frozenset)

    @property
    def project_keys(self) -> list[str]:
        return [_project_key(p) for p in range(self.projects)]


def _project_key(p: int) -> str:
    letters = ""
    n = p
    while True:
        letters = chr(ord("A") + n % 26) + letters
        n = n // 26 - 1
        if n < 0:
            break
    return "P" + letters


@dataclass(frozen=True)
class _User:
    id: int
    directory: int
    name: str
    key: str
    email: str
    active: bool


def _users(spec: SynthSpec) -> list[_User]:
    users = [
        _User(10000 + u, 1, f"user{u}", f"JIRAUSER{10000 + u}", f"user{u}@acme.io", True)
        for u in range(spec.users)
    ]
    users[0] = _User(10000, 1, "admin", "JIRAUSER10000", "admin@acme.io", True)
    extra = 10000 + spec.users
    planted: list[tuple[Defect, str, str, int]] = [
        (Defect.EMAIL_NO_DOMAIN, "nodomain", "nodomain@", 1),
        (Defect.EMAIL_NO_TLD, "notld", "notld@localhost", 1),
        (Defect.EXAMPLE_EMAIL, "tester", "tester@example.com", 1),
        (Defect.DUPLICATE_EMAIL, "dup.ldap", "User1@ACME.io", 10000),
        (Defect.ADDON_USER, "addon_com.acme.bot", "bot@acme.io", 1),
    ]
    for defect, name, email, directory in planted:
        if defect in spec.defects:
            users.append(_User(extra, directory, name, f"JIRAUSER{extra}", email, True))
            extra += 1
    users.append(_User(extra, 1, "olduser", f"JIRAUSER{extra}", "old@acme.io", False))
    return users


def _groups(spec: SynthSpec) -> list[str]:
    groups = ["developers", "jira-administrators", "jira-software-users"]
    if Defect.ADMIN_GROUPS in spec.defects:
        groups += ["site-admins", "system-administrators"]
    return sorted(groups)


def _text(rng: random.Random, words: int) -> str:
    vocab = ("deploy", "rollback", "cache", "выполнить", "index", "queue", "latency", "ß", "日志")
    return " ".join(rng.choice(vocab) for _ in range(words))


def _a(**attrs: object) -> str:
    return " ".join(f"{k}={quoteattr(str(v))}" for k, v in attrs.items() if v is not None)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _issues(spec: SynthSpec) -> Iterator[tuple[int, int, str, int, int]]:
    """(issue id, project index, key, number, global index) for every issue, in id order."""
    g = 0
    for p in range(spec.projects):
        key = _project_key(p)
        for i in range(spec.issues_per_project):
            number = spec.issue_number_start + i
            yield 10000 + g, p, f"{key}-{number}", number, g
            g += 1


def _entities(spec: SynthSpec) -> Iterator[str]:
    rng = random.Random(spec.seed)
    users = _users(spec)
    groups = _groups(spec)
    n_users = len(users)
    bad = "bad\x01char\x0bhere\uffff" if Defect.INVALID_CHARS in spec.defects else ""
    version = spec.version
    build = spec.build
    if Defect.OLD_VERSION in spec.defects:
        version, build = "6.4.14", "64026"
    elif Defect.MAY_WORK_VERSION in spec.defects:
        version, build = "7.2.4", "72006"
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield f"<!--\n     JIRA Build : {version}#{build}\n     (synthetic backup)\n -->\n"
    yield '<entity-engine-xml date="1745763540623">\n'
    # Action (comments)
    cid = 10000
    for iid, _p, ikey, _n, g in _issues(spec):
        for c in range(spec.comments_per_issue):
            author = users[(g + c) % n_users].key
            mention = users[c % n_users].name
            body = f"See {spec.base_url}/browse/{ikey} and [~{mention}] {_text(rng, 6)}"
            if bad and g == 0 and c == 0:
                body += bad
            yield (
                f"    <Action {_a(id=cid, issue=iid, author=author, type='comment')} "
                f"{_a(created='2025-04-13 19:07:02.814', updateauthor=author)} "
                f"{_a(updated='2025-04-13 19:07:02.814')}>\n"
                f"        <body>{_cdata(body)}</body>\n    </Action>\n"
            )
            cid += 1
    for u in users:
        yield f"    <ApplicationUser {_a(id=u.id, userKey=u.key, lowerUserName=u.name.lower())}/>\n"
    # ChangeGroup / ChangeItem
    chg = 10000
    for iid, _p, _k, _n, g in _issues(spec):
        for _c in range(spec.changes_per_issue):
            author = users[g % n_users].key
            yield (
                f"    <ChangeGroup {_a(id=chg + _c, issue=iid, author=author)}"
                f' created="2025-04-27 13:08:53.262"/>\n'
            )
        chg += spec.changes_per_issue
    chg = 10000
    for _iid, _p, _k, _n, _g in _issues(spec):
        for _c in range(spec.changes_per_issue):
            yield (
                f"    <ChangeItem {_a(id=chg + _c, group=chg + _c, fieldtype='jira')} "
                'field="status" oldvalue="10000" oldstring="Backlog" newvalue="3" '
                'newstring="In Progress"/>\n'
            )
        chg += spec.changes_per_issue
    yield (
        '    <CustomField id="10200" customfieldtypekey="com.atlassian.jira.plugin.system.'
        'customfieldtypes:textarea" name="Release notes" description=""/>\n'
    )
    for iid, _p, ikey, _n, g in _issues(spec):
        yield (
            f"    <CustomFieldValue {_a(id=10000 + g, issue=iid, customfield=10200)} "
            f'updated="1744571049531">\n        <textvalue>'
            f"{_cdata(f'Notes for {ikey}: https://wiki.acme.io/display/OPS/{g}')}</textvalue>\n"
            "    </CustomFieldValue>\n"
        )
    yield (
        '    <Directory id="1" directoryName="Jira Internal Directory" lowerDirectoryName='
        '"jira internal directory" active="1" implementationClass="com.atlassian.crowd.directory.'
        'InternalDirectory" type="INTERNAL" position="0"/>\n'
    )
    if Defect.DUPLICATE_EMAIL in spec.defects:
        yield (
            '    <Directory id="10000" directoryName="Corporate LDAP" lowerDirectoryName='
            '"corporate ldap" active="1" implementationClass="com.atlassian.crowd.directory.'
            'OpenLDAP" type="CONNECTOR" position="1"/>\n'
        )
    aid = 10000
    for iid, _p, _k, _n, g in _issues(spec):
        for a in range(spec.attachments_per_issue):
            yield (
                f"    <FileAttachment {_a(id=aid, issue=iid, mimetype='application/octet-stream')} "
                f"{_a(filename=f'file-{g}-{a}.bin', created='2025-04-13 19:07:02.814')} "
                f"{_a(filesize=spec.attachment_size, author=users[g % n_users].key)} "
                'zip="0" thumbnailable="0"/>\n'
            )
            aid += 1
    for gp_id, perm, gp_group in (
        (10000, "ADMINISTER", "jira-administrators"),
        (10006, "SYSTEM_ADMIN", "jira-administrators"),
        (10100, "USER_PICKER", "jira-software-users"),
    ):
        yield f"    <GlobalPermissionEntry {_a(id=gp_id, permission=perm, group_id=gp_group)}/>\n"
    for gi, gname in enumerate(groups):
        yield (
            f"    <Group {_a(id=10000 + gi, groupName=gname, lowerGroupName=gname)} "
            'active="1" local="0" type="GROUP" directoryId="1"/>\n'
        )
    filler = ("lorem ipsum dolor sit amet " * (spec.text_size // 27 + 1))[: spec.text_size]
    for iid, p, ikey, number, g in _issues(spec):
        desc = (
            f"h1. {ikey}\nSee {spec.base_url}/browse/{_project_key(p)}-1 and "
            f"https://old-jira.acme.io/browse/LEGACY-{g}\n{_text(rng, 12)}\n{filler}"
        )
        if bad and g == 1:
            desc += bad
        reporter = users[g % n_users].key
        yield (
            f"    <Issue {_a(id=iid, key=ikey, number=number, project=10000 + p)} "
            f"{_a(reporter=reporter, assignee=users[(g + 1) % n_users].key, creator=reporter)} "
            f"{_a(type=10000, summary=f'Issue {g} {_text(rng, 3)}', priority=3, status=10000)} "
            'created="2025-04-09 13:09:52.223" updated="2025-04-27 13:39:48.062" votes="0" '
            f'watches="1" workflowId="{iid}" archived="N">\n'
            f"        <description>{_cdata(desc)}</description>\n    </Issue>\n"
        )
    yield '    <IssueType id="10000" name="Task" style="" description="A task." avatar="10318"/>\n'
    yield '    <IssueType id="10001" name="Bug" style="" description="Broken." avatar="10303"/>\n'
    yield (
        '    <LicenseRoleGroup id="10000" licenseRoleName="jira-software" '
        'groupId="jira-software-users" primaryGroup="Y"/>\n'
        '    <LicenseRoleGroup id="10001" licenseRoleName="jira-software" '
        'groupId="jira-administrators" primaryGroup="N"/>\n'
    )
    mid = 10000
    for u in users:
        member_of = ["jira-software-users"]
        if u.name == "admin":
            member_of += ["jira-administrators", "developers"]
            if Defect.ADMIN_GROUPS in spec.defects:
                member_of += ["site-admins"]
        elif u.id % 2 == 0:
            member_of.append("developers")
        for gname in member_of:
            yield (
                f"    <Membership {_a(id=mid, parentId=10000 + groups.index(gname), childId=u.id)} "
                f'membershipType="GROUP_USER" {_a(parentName=gname, lowerParentName=gname)} '
                f"{_a(childName=u.name, lowerChildName=u.name.lower())} "
                f"{_a(directoryId=u.directory)}/>\n"
            )
            mid += 1
    props = [(1, "jira.version.patched", build), (13, "jira.version", version)]
    props.append((10205, "jira.baseurl", spec.base_url))
    for pid, pkey, _v in props:
        yield (
            f"    <OSPropertyEntry {_a(id=pid, entityName='jira.properties', entityId=1)} "
            f'{_a(propertyKey=pkey)} type="5"/>\n'
        )
    for pid, _k, value in props:
        yield f"    <OSPropertyString {_a(id=pid, value=value)}/>\n"
    counter = spec.issue_number_start + spec.issues_per_project - 1
    for p in range(spec.projects):
        key = _project_key(p)
        yield (
            f"    <Project {_a(id=10000 + p, name=f'Project {key}', url='', lead='JIRAUSER10000')} "
            f'description="" {_a(key=key, counter=counter)} '
            f'assigneetype="3" avatar="10324" {_a(originalkey=key)} projecttype="software"/>\n'
        )
    for p in range(spec.projects):
        pk = _a(id=10000 + p, projectId=10000 + p, projectKey=_project_key(p))
        yield f"    <ProjectKey {pk}/>\n"
    yield '    <Status id="10000" name="To Do" statuscategory="2" sequence="1"/>\n'
    yield '    <Status id="10001" name="Done" statuscategory="3" sequence="2"/>\n'
    yield (
        f'    <UpgradeVersionHistory id="10000" timeperformed="2025-04-08 18:21:36.562" '
        f"{_a(targetbuild=build, targetversion=version)}/>\n"
    )
    for u in users:
        first, last = u.name, "Tester"
        yield (
            f"    <User {_a(id=u.id, directoryId=u.directory, userName=u.name)} "
            f"{_a(lowerUserName=u.name.lower(), active='1' if u.active else '0')} "
            f"{_a(firstName=first, lastName=last, displayName=f'{first} {last}')} "
            f"{_a(emailAddress=u.email, lowerEmailAddress=u.email.lower())} "
            'credential="{PKCS5S2}c2VjcmV0LWhhc2gtbmV2ZXItc2hvd24="/>\n'
        )
    if Defect.MALFORMED_XML in spec.defects:
        yield '    <User id="99999" userName="broken" <oops/>\n'
    yield "</entity-engine-xml>\n"


def write_entities(out: IO[bytes], spec: SynthSpec, *, flush_every: int = 1 << 20) -> int:
    """Write ``entities.xml`` for ``spec`` to ``out``; returns the number of bytes written."""
    buf: list[str] = []
    size = 0
    written = 0
    for piece in _entities(spec):
        buf.append(piece)
        size += len(piece)
        if size >= flush_every:
            data = "".join(buf).encode("utf-8")
            out.write(data)
            written += len(data)
            buf, size = [], 0
    data = "".join(buf).encode("utf-8")
    out.write(data)
    return written + len(data)


_AO = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<backup xmlns="http://www.atlassian.com/ao" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    '  <database>\n    <meta key="database.name" value="H2"/>\n  </database>\n'
    '  <table name="AO_60DB71_RAPIDVIEW">\n'
    '    <column name="ID" primaryKey="true" autoIncrement="true" sqlType="-5" precision="19"/>\n'
    '    <column name="NAME" primaryKey="false" autoIncrement="false" sqlType="12" '
    'precision="255"/>\n  </table>\n'
    '  <data tableName="AO_60DB71_RAPIDVIEW">\n    <column name="ID"/>\n    <column name="NAME"/>\n'
    "    <row>\n      <integer>1</integer>\n      <string>Board</string>\n    </row>\n  </data>\n"
    "</backup>\n"
)


def write_backup_zip(path: Path, spec: SynthSpec) -> Path:
    """Write a Site Import zip (``entities.xml`` + ``activeobjects.xml``) for ``spec``."""
    prefix = "backup/" if Defect.ZIPPED_FOLDER in spec.defects else ""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open(prefix + "entities.xml", "w", force_zip64=True) as fh:
            write_entities(fh, spec)
        if Defect.NO_ACTIVEOBJECTS not in spec.defects:
            zf.writestr(prefix + "activeobjects.xml", _AO)
    return path


def write_jira_home(home: Path, spec: SynthSpec) -> Path:
    """Write a Jira home with the attachments of ``spec``, avatars and logos.

    Layout: ``data/attachments/<KEY>/<bucket>/<ISSUE-KEY>/<attachment id>`` (plus a
    ``thumbs/`` folder for the first issue), ``data/avatars/<id>_<name>.png``, ``logos/``.
    Contents are seeded random bytes, so they do not compress.
    """
    rng = random.Random(spec.seed)
    aid = 10000
    for _iid, p, ikey, number, _g in _issues(spec):
        folder = home / "data" / "attachments" / _project_key(p) / str(attachment_bucket(number))
        folder = folder / ikey
        folder.mkdir(parents=True, exist_ok=True)
        for _ in range(spec.attachments_per_issue):
            (folder / str(aid)).write_bytes(rng.randbytes(spec.attachment_size))
            aid += 1
        if _g == 0:
            (folder / "thumbs").mkdir(exist_ok=True)
            (folder / "thumbs" / "_thumb_10000.png").write_bytes(b"\x89PNG thumb")
    avatars = home / "data" / "avatars"
    avatars.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        (avatars / f"{10500 + i}_avatar{i}.png").write_bytes(rng.randbytes(512))
    logos = home / "logos"
    logos.mkdir(parents=True, exist_ok=True)
    (logos / "jira-logo-scaled.png").write_bytes(rng.randbytes(256))
    return home
