"""``migrate check``: every pre-import check over one streaming pass of the backup.

Per-row data that can grow with the site (users, issues, attachments, memberships) is
spilled to a temporary SQLite file, so memory stays flat whatever the backup size; the
rules are then SQL queries (the duplicate-email rule is the guide's own ``GROUP BY``).
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jirabridge.errors import BadInputError
from jirabridge.migrate._archive import BackupArchive, open_backup
from jirabridge.migrate._findings import Finding, Severity
from jirabridge.migrate._model import (
    ADMIN_PERMISSIONS,
    NEVER_IMPORTED_GROUPS,
    CheckOptions,
    CloudGroup,
    UserStrategy,
    email_problem,
    parse_version,
    user_tier,
)
from jirabridge.migrate._scan import ScanMode, ScanningReader, UrlStats
from jirabridge.migrate._stream import AttrHandler, parse_entities

__all__ = ["CheckReport", "ProjectStats", "check_backup"]

ProgressFn = Callable[[int, int], None]
_BATCH = 5000
_MAX_LIST = 50
CLOUD_ATTACHMENTS_PER_ISSUE = 2000


@dataclass(frozen=True)
class ProjectStats:
    """Per project: issues and the attachments the backup references."""

    id: str
    key: str
    name: str
    issues: int
    attachments: int
    attachment_bytes: int


@dataclass
class CheckReport:
    """The result of ``check``: findings plus the facts they were derived from."""

    source: str
    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    projects: list[ProjectStats] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    version: str | None = None
    build: str | None = None
    base_url: str | None = None
    server_groups: dict[str, list[str]] = field(default_factory=dict)

    @property
    def blockers(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.BLOCKER]

    @property
    def exit_code(self) -> int:
        return 1 if self.blockers else 0

    def rules(self) -> set[str]:
        return {f.rule for f in self.findings}

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (f.severity.rank, f.rule))

    def to_json(self) -> dict[str, Any]:
        counts = {s.value: 0 for s in Severity}
        for f in self.findings:
            counts[f.severity.value] += 1
        return {
            "source": self.source,
            "ok": not self.blockers,
            "counts": counts,
            "version": self.version,
            "build": self.build,
            "base_url": self.base_url,
            "stats": self.stats,
            "projects": [p.__dict__ for p in self.projects],
            "links_to_map": self.links,
            "findings": [f.to_json() for f in self.sorted_findings()],
        }


class _Collector:
    """Receives entities and spills rows to SQLite."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript(
            """
            CREATE TABLE users(id TEXT, dir TEXT, name TEXT, lname TEXT, active INT,
                               email TEXT, lemail TEXT);
            CREATE TABLE issues(id TEXT, project TEXT);
            CREATE TABLE attach(issue TEXT, size INT);
            CREATE TABLE members(lgroup TEXT, luser TEXT, dir TEXT);
            """
        )
        self._users: list[tuple[str, str, str, str, int, str, str]] = []
        self._issues: list[tuple[str, str]] = []
        self._attach: list[tuple[str, int]] = []
        self._members: list[tuple[str, str, str]] = []
        self.prop_keys: dict[str, str] = {}
        self.prop_strings: dict[str, str] = {}
        self.projects: dict[str, tuple[str, str]] = {}
        self.project_issues: dict[str, int] = {}  # filled from SQL after the parse
        self.groups: dict[str, str] = {}  # lower name -> name
        self.group_perms: dict[str, set[str]] = {}
        self.directories: dict[str, str] = {}
        # Actions (comments; worklogs have their own entity since Jira 4) are counted by a C
        # iterator: the parser calls next(counter, attrs), no Python frame per comment.
        self._actions = itertools.count(1)
        self.comments = 0
        self.issues = 0
        self.attachments = 0
        self.bad_sizes = 0
        self.upgrade_version: str | None = None

    def handlers(self) -> dict[str, AttrHandler]:
        return {
            "User": self.user,
            "Issue": self.issue,
            "FileAttachment": self.attachment,
            "Membership": self.membership,
            "Group": self.group,
            "Action": functools.partial(next, self._actions),
            "Project": self.project,
            "OSPropertyEntry": self.prop_entry,
            "OSPropertyString": self.prop_string,
            "GlobalPermissionEntry": self.global_perm,
            "LicenseRoleGroup": self.license_group,
            "Directory": self.directory,
            "UpgradeVersionHistory": self.upgrade,
        }

    def user(self, a: Mapping[str, str]) -> None:
        name = a.get("userName", "")
        email = a.get("emailAddress", "")
        self._users.append(
            (
                a.get("id", ""),
                a.get("directoryId", ""),
                name,
                a.get("lowerUserName", name.lower()),
                1 if a.get("active", "1") == "1" else 0,
                email,
                email.strip().lower(),
            )
        )
        if len(self._users) >= _BATCH:
            self.flush()

    def issue(self, a: Mapping[str, str]) -> None:
        issues = self._issues
        issues.append((a.get("id", ""), a.get("project", "")))
        if len(issues) >= _BATCH:
            self.flush()

    def attachment(self, a: Mapping[str, str]) -> None:
        self.attachments += 1
        try:
            size = int(a.get("filesize", "0") or 0)
        except ValueError:
            size = 0
            self.bad_sizes += 1
        self._attach.append((a.get("issue", ""), size))
        if len(self._attach) >= _BATCH:
            self.flush()

    def membership(self, a: Mapping[str, str]) -> None:
        if a.get("membershipType", "GROUP_USER") != "GROUP_USER":
            return
        group = a.get("lowerParentName") or a.get("parentName", "").lower()
        user = a.get("lowerChildName") or a.get("childName", "").lower()
        self._members.append((group, user, a.get("directoryId", "")))
        if len(self._members) >= _BATCH:
            self.flush()

    def group(self, a: Mapping[str, str]) -> None:
        name = a.get("groupName", "")
        self.groups.setdefault(name.lower(), name)

    def project(self, a: Mapping[str, str]) -> None:
        self.projects[a.get("id", "")] = (a.get("key", ""), a.get("name", ""))

    def prop_entry(self, a: Mapping[str, str]) -> None:
        key = a.get("propertyKey", "")
        if key in ("jira.baseurl", "jira.version", "jira.version.patched"):
            self.prop_keys[a.get("id", "")] = key

    def prop_string(self, a: Mapping[str, str]) -> None:
        # short values (base URL, version) are attributes; long ones are children, not needed
        value = a.get("value")
        if value is not None and len(value) <= 2000 and len(self.prop_strings) < 100_000:
            self.prop_strings[a.get("id", "")] = value

    def global_perm(self, a: Mapping[str, str]) -> None:
        group = a.get("group_id", "").lower()
        if group:
            self.group_perms.setdefault(group, set()).add(a.get("permission", "").upper())

    def license_group(self, a: Mapping[str, str]) -> None:
        group = a.get("groupId", "").lower()
        if group:  # the group gives product access (a licence seat)
            self.group_perms.setdefault(group, set()).add("USER")

    def directory(self, a: Mapping[str, str]) -> None:
        self.directories[a.get("id", "")] = a.get("directoryName", "")

    def upgrade(self, a: Mapping[str, str]) -> None:
        version = a.get("targetversion")
        if version:
            self.upgrade_version = version

    def flush(self) -> None:
        if self._users:
            self.db.executemany("INSERT INTO users VALUES (?,?,?,?,?,?,?)", self._users)
            self._users = []
        if self._issues:
            self.db.executemany("INSERT INTO issues VALUES (?,?)", self._issues)
            self._issues = []
        if self._attach:
            self.db.executemany("INSERT INTO attach VALUES (?,?)", self._attach)
            self._attach = []
        if self._members:
            self.db.executemany("INSERT INTO members VALUES (?,?,?)", self._members)
            self._members = []

    def count_issues(self) -> None:
        """Totals after the parse: issues per project (SQL) and comments (the counter)."""
        self.comments = next(self._actions) - 1
        for project, n in self.db.execute("SELECT project, COUNT(*) FROM issues GROUP BY project"):
            self.project_issues[project] = n
        self.issues = sum(self.project_issues.values())

    def property(self, key: str) -> str | None:
        for pid, k in self.prop_keys.items():
            if k == key and pid in self.prop_strings:
                return self.prop_strings[pid]
        return None


@contextmanager
def _spill_db(spill_dir: Path | None) -> Iterator[sqlite3.Connection]:
    with tempfile.TemporaryDirectory(prefix="jb-check-", dir=spill_dir) as tmp:
        db = sqlite3.connect(Path(tmp) / "spill.sqlite")
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-32000")  # 32 MB page cache at most
        try:
            yield db
        finally:
            db.close()


def check_backup(
    path: Path, options: CheckOptions | None = None, *, progress: ProgressFn | None = None
) -> CheckReport:
    """Run every check on the backup at ``path`` and return the report.

    Problems in the backup never raise: they become findings. The first pass leaves invalid
    characters to lxml (the fast path for clean backups); when the XML turns out broken, a
    second pass blanks and locates every invalid character so the rest can still be checked.
    """
    options = options or CheckOptions()
    report = CheckReport(source=str(path))
    try:
        archive = open_backup(path, options.zip_limits)
    except BadInputError as exc:
        report.findings.append(
            Finding("FILE001", Severity.BLOCKER, str(exc), str(path), "give a complete backup zip")
        )
        return report
    with archive:
        report.findings.extend(archive.findings)
        total = archive.entities_size + archive.activeobjects_size
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(done, total)

        if archive.entities_name is not None:
            for careful in (False, True):
                done = 0
                attempt = CheckReport(source=str(path))
                with _spill_db(options.spill_dir) as db:
                    collector = _Collector(db)
                    status = _scan_entities(archive, collector, attempt, options, tick, careful)
                    if status == "broken" and not careful:
                        continue  # find every invalid character, then check what can be
                    collector.flush()
                    _rules(collector, attempt, options, complete=status == "ok")
                _merge(report, attempt)
                break
        if archive.activeobjects_name is not None:
            done = archive.entities_size
            _scan_xml_only(archive, archive.activeobjects_name, report, options, tick)
    return report


def _merge(report: CheckReport, attempt: CheckReport) -> None:
    report.findings.extend(attempt.findings)
    report.stats.update(attempt.stats)
    report.projects = attempt.projects
    report.links = attempt.links
    report.version, report.build, report.base_url = attempt.version, attempt.build, attempt.base_url
    report.server_groups = attempt.server_groups


def _xml_findings(
    name: str, reader: ScanningReader, report: CheckReport, options: CheckOptions
) -> None:
    if reader.invalid_count:
        where = ", ".join(
            f"line {c.line} col {c.column} (U+{c.codepoint:04X})" for c in reader.invalid[:10]
        )
        report.findings.append(
            Finding(
                "XML002",
                Severity.BLOCKER,
                f"{name}: {reader.invalid_count} invalid XML character(s); the import fails with "
                "a SAXParseException. First: " + where,
                f"{name}:{reader.invalid[0].line}:{reader.invalid[0].column}",
                "run `jirabridge migrate fix` (removes them)",
                {
                    "count": reader.invalid_count,
                    "locations": [c.__dict__ for c in reader.invalid[: options.max_locations]],
                },
            )
        )
    for line, length in reader.long_lines[:10]:
        report.findings.append(
            Finding(
                "LINE001",
                Severity.WARNING,
                f"{name}: line {line} is {length / 1e6:.1f} MB long; read streaming here, but "
                "such values are usually pasted logs or binary data",
                f"{name}:{line}",
                "check that entity; trim the text in Jira before the backup if it is junk",
                {"line": line, "bytes": length},
            )
        )
    if reader.encoding_note:
        report.findings.append(
            Finding(
                "ENC001",
                Severity.WARNING,
                f"{name} declares encoding {reader.encoding_note}; Jira writes UTF-8",
                name,
                "re-export the backup from Jira rather than converting it by hand",
            )
        )


def _scan_entities(
    archive: BackupArchive,
    collector: _Collector,
    report: CheckReport,
    options: CheckOptions,
    tick: Callable[[int], None],
    careful: bool,
) -> str:
    """One pass over entities.xml: ``"ok"``, ``"broken"`` (not well-formed) or ``"refused"``."""
    name = archive.entities_name
    assert name is not None
    try:
        with archive.open_member(name) as raw:
            reader = ScanningReader(
                raw,
                mode=ScanMode.BLANK,
                scan_invalid=careful,
                max_locations=options.max_locations,
                on_bytes=tick,
            )
            result = parse_entities(reader, collector.handlers())
    except BadInputError as exc:
        report.findings.append(
            Finding(
                "XML003", Severity.BLOCKER, f"{name}: {exc}", name, "re-export the backup from Jira"
            )
        )
        return "refused"
    _xml_findings(name, reader, report, options)
    _url_links(reader.urls, collector, report)
    if result.build_comment:
        report.version, report.build = result.build_comment
    if result.root not in (None, "entity-engine-xml"):
        report.findings.append(
            Finding(
                "XML004",
                Severity.BLOCKER,
                f"{name}: the root element is <{result.root}>, not <entity-engine-xml>",
                name,
                "this is not a Jira backup's entities.xml",
            )
        )
    if result.problem is not None:
        p = result.problem
        report.findings.append(
            Finding(
                "XML001",
                Severity.BLOCKER,
                f"{name} is not well-formed at line {p.line}, column {p.column}: {p.message}. "
                "Site Import fails with a SAXParseException; the checks below cover only the "
                "part before this point",
                f"{name}:{p.line}:{p.column}",
                "repair the XML at that place (or re-export the backup)",
            )
        )
        return "broken"
    report.stats["lines"] = reader.lines
    return "ok"


def _scan_xml_only(
    archive: BackupArchive,
    name: str,
    report: CheckReport,
    options: CheckOptions,
    tick: Callable[[int], None],
) -> None:
    try:
        with archive.open_member(name) as raw:
            reader = ScanningReader(
                raw,
                mode=ScanMode.BLANK,
                max_locations=options.max_locations,
                on_bytes=tick,
                collect_urls=False,
            )
            result = parse_entities(reader, {})
    except BadInputError as exc:
        report.findings.append(
            Finding(
                "XML003", Severity.BLOCKER, f"{name}: {exc}", name, "re-export the backup from Jira"
            )
        )
        return
    _xml_findings(name, reader, report, options)
    if result.problem is not None:
        p = result.problem
        report.findings.append(
            Finding(
                "XML001",
                Severity.BLOCKER,
                f"{name} is not well-formed at line {p.line}, column {p.column}: {p.message}",
                f"{name}:{p.line}:{p.column}",
                "repair the XML at that place (or re-export the backup)",
            )
        )


def _url_links(urls: dict[str, UrlStats], collector: _Collector, report: CheckReport) -> None:
    base = collector.property("jira.baseurl")
    report.base_url = base
    base_origin = None
    if base:
        parts = base.split("/")
        base_origin = "/".join(parts[:3]).lower() if len(parts) >= 3 else base.lower()
    links: list[dict[str, Any]] = []
    for origin, stats in sorted(urls.items(), key=lambda kv: -kv[1].count):
        is_base = origin == base_origin
        if not is_base and not stats.jira_like:
            continue
        links.append(
            {
                "origin": origin,
                "base_url": is_base,
                "occurrences": stats.count,
                "jira_links": stats.jira_like,
                "samples": stats.samples,
            }
        )
    report.links = links
    if base:
        n = next((lk["occurrences"] for lk in links if lk["base_url"]), 0)
        report.findings.append(
            Finding(
                "URL001",
                Severity.INFO,
                f"server base URL {base}: {n} occurrence(s) in the backup; links in text keep "
                "pointing at the old server after the import",
                "OSPropertyString jira.baseurl",
                "map these links to the Cloud site after the import (see links_to_map)",
                {"base_url": base, "occurrences": n},
            )
        )
    else:
        report.findings.append(
            Finding("URL003", Severity.WARNING, "the backup has no jira.baseurl property", "", "")
        )
    others = [lk for lk in links if not lk["base_url"]]
    if others:
        report.findings.append(
            Finding(
                "URL002",
                Severity.INFO,
                f"{len(others)} other Jira-like origin(s) linked from text: "
                + ", ".join(f"{lk['origin']} ({lk['jira_links']})" for lk in others[:10]),
                "",
                "decide for each whether it maps to the Cloud site",
                {"origins": others},
            )
        )


def _rules(
    collector: _Collector, report: CheckReport, options: CheckOptions, complete: bool
) -> None:
    collector.count_issues()
    _version_rule(collector, report)
    _user_rules(collector, report)
    _group_rules(collector, report, options)
    _attachment_rules(collector, report, options)
    report.stats.update(
        {
            "projects": len(collector.projects),
            "issues": collector.issues,
            "comments": collector.comments,
            "attachments": collector.attachments,
            "groups": len(collector.groups),
            "complete": complete,
        }
    )


def _version_rule(c: _Collector, report: CheckReport) -> None:
    version = c.property("jira.version") or report.version or c.upgrade_version
    build = c.property("jira.version.patched") or report.build
    report.version, report.build = version, build
    parsed = parse_version(version) if version else None
    if parsed is None:
        report.findings.append(
            Finding(
                "VER002",
                Severity.WARNING,
                "the backup does not tell its Jira version",
                "OSPropertyString jira.version",
                "check the version in Administration > System info (7.6.0 or later is supported)",
            )
        )
        return
    loc = f"jira.version {version} (build {build})"
    if parsed < (7, 0):
        report.findings.append(
            Finding(
                "VER001",
                Severity.BLOCKER,
                f"Jira {version} is older than 7.0.0: Site Import does not accept it",
                loc,
                "upgrade the server to 7.6.0 or later, then take a new backup",
            )
        )
    elif parsed < (7, 6):
        report.findings.append(
            Finding(
                "VER001",
                Severity.WARNING,
                f"Jira {version} is between 7.0.0 and 7.6.0: the import may work, not guaranteed",
                loc,
                "upgrade to 7.6.0 or later before migrating (recommended)",
            )
        )
    else:
        report.findings.append(
            Finding("VER001", Severity.INFO, f"Jira {version}: supported by Site Import", loc, "")
        )


def _dir_name(c: _Collector, directory: str) -> str:
    return c.directories.get(directory, f"directory {directory}")


def _user_rules(c: _Collector, report: CheckReport) -> None:
    db = c.db
    add = report.findings.append
    for uid, directory, name, email in db.execute(
        "SELECT id, dir, name, email FROM users ORDER BY lname"
    ):
        problem = email_problem(email)
        if problem is None:
            continue
        rule = (
            "USR003"
            if "example.com" in problem
            else ("USR002" if "top-level" in problem else "USR001")
        )
        add(
            Finding(
                rule,
                Severity.BLOCKER,
                f"user {name!r} ({_dir_name(c, directory)}): email {email!r}: {problem}",
                f"User id={uid}",
                "give the user a real address (a mapping file for `migrate fix --emails`)",
                {"user": name, "email": email},
            )
        )
    dups = db.execute(
        "SELECT lemail, COUNT(*) FROM users WHERE lemail != '' GROUP BY lemail HAVING COUNT(*) > 1"
        " ORDER BY lemail"
    ).fetchall()
    for lemail, count in dups:
        holders = db.execute(
            "SELECT name, dir FROM users WHERE lemail = ? ORDER BY name", (lemail,)
        ).fetchall()
        who = ", ".join(f"{n} ({_dir_name(c, d)})" for n, d in holders[:_MAX_LIST])
        add(
            Finding(
                "USR004",
                Severity.BLOCKER,
                f"email {lemail!r} is used by {count} users (case-insensitive, across "
                f"directories): {who}",
                f"User emailAddress={lemail}",
                "give each user a unique address (mapping file for `migrate fix --emails`)",
                {"email": lemail, "users": [n for n, _d in holders]},
            )
        )
    for uid, name in db.execute(
        "SELECT id, name FROM users WHERE lname LIKE 'addon\\_%' ESCAPE '\\' ORDER BY lname"
    ):
        add(
            Finding(
                "USR005",
                Severity.BLOCKER,
                f"username {name!r} starts with 'addon_', which Cloud reserves for apps",
                f"User id={uid}",
                "rename the user (`jirabridge migrate fix` renames to 'migrated_...') or remove it",
                {"user": name},
            )
        )
    (active,) = db.execute("SELECT COUNT(DISTINCT lname) FROM users WHERE active = 1").fetchone()
    (total,) = db.execute("SELECT COUNT(*) FROM users").fetchone()
    tier = user_tier(active)
    report.stats.update({"users": total, "active_users": active, "user_tier": tier})
    add(
        Finding(
            "USR006",
            Severity.INFO,
            f"{active} active user(s) of {total}: the Cloud site needs the {tier} user tier",
            "User active=1",
            "",
            {"active_users": active, "users": total, "tier": tier},
        )
    )


def _members(c: _Collector, lgroup: str) -> list[str]:
    rows = c.db.execute(
        "SELECT DISTINCT luser FROM members WHERE lgroup = ? ORDER BY luser", (lgroup,)
    ).fetchall()
    return [r[0] for r in rows]


def _group_rules(c: _Collector, report: CheckReport, options: CheckOptions) -> None:
    add = report.findings.append
    for lgroup, name in sorted(c.groups.items()):
        report.server_groups[name] = sorted(c.group_perms.get(lgroup, set()))
    if "jira-administrators" in c.groups:
        members = _members(c, "jira-administrators")
        add(
            Finding(
                "GRP001",
                Severity.WARNING,
                f"group jira-administrators ({len(members)} member(s)) becomes 'administrators' "
                "in Cloud",
                "Group jira-administrators",
                "check who is in it: they all become Jira administrators in Cloud",
                {"members": members[:1000]},
            )
        )
    for lgroup in sorted(NEVER_IMPORTED_GROUPS & set(c.groups)):
        members = _members(c, lgroup)
        add(
            Finding(
                "GRP002",
                Severity.WARNING,
                f"group {c.groups[lgroup]!r} is an admin group Site Import never imports: its "
                f"{len(members)} member(s) lose that membership",
                f"Group {c.groups[lgroup]}",
                "grant the rights again in Cloud after the import",
                {"members": members[:1000]},
            )
        )
    if options.cloud_groups is None:
        return
    if options.strategy is UserStrategy.OVERWRITE:
        add(
            Finding(
                "GRP004",
                Severity.INFO,
                f"user strategy 'overwrite': the {len(options.cloud_groups)} Cloud group(s) are "
                "replaced, not merged: no escalation, but Cloud-only users and groups are removed",
                "",
                "keep a site-admin that is also in the backup, or you lose access",
            )
        )
        return
    _escalations(c, report, options.cloud_groups)


def _escalations(c: _Collector, report: CheckReport, cloud: tuple[CloudGroup, ...]) -> None:
    for group in sorted(cloud, key=lambda g: g.name.lower()):
        cname = group.name.lower()
        server_lgroup = "jira-administrators" if cname == "administrators" else cname
        if server_lgroup not in c.groups or server_lgroup in NEVER_IMPORTED_GROUPS:
            continue
        members = _members(c, server_lgroup)
        server_perms = _cloud_equivalents(c.group_perms.get(server_lgroup, set()))
        gained = sorted(group.permissions - server_perms)
        if group.permissions_known and not gained:
            continue
        admin = bool(set(gained) & ADMIN_PERMISSIONS)
        what = (
            f"gains {', '.join(gained)}"
            if group.permissions_known
            else "gets whatever the Cloud group grants (its permissions were not given)"
        )
        shown = ", ".join(members[:_MAX_LIST]) + (" ..." if len(members) > _MAX_LIST else "")
        report.findings.append(
            Finding(
                "GRP003",
                Severity.BLOCKER if admin else Severity.WARNING,
                f"merge: server group {c.groups[server_lgroup]!r} merges into Cloud group "
                f"{group.name!r}; its {len(members)} member(s) {what}: {shown}",
                f"Group {c.groups[server_lgroup]}",
                "rename the server group before the backup, or use the overwrite strategy",
                {"group": group.name, "gained": gained, "users": members},
            )
        )


def _cloud_equivalents(perms: set[str]) -> set[str]:
    """Server global permissions with the Cloud access they correspond to."""
    out = set(perms)
    if "SYSTEM_ADMIN" in perms:
        out |= {"SITE-ADMIN", "ADMIN", "ADMINISTER"}
    if "ADMINISTER" in perms:
        out |= {"ADMIN"}
    if out & {"ADMIN", "SITE-ADMIN"}:
        out.add("USER")
    return out


def _attachment_rules(c: _Collector, report: CheckReport, options: CheckOptions) -> None:
    db = c.db
    db.execute("CREATE INDEX i_issues ON issues(id)")
    rows = db.execute(
        "SELECT i.project, COUNT(*), SUM(a.size) FROM attach a JOIN issues i ON i.id = a.issue"
        " GROUP BY i.project"
    ).fetchall()
    per_project = {p: (n, s or 0) for p, n, s in rows}
    (orphans,) = db.execute(
        "SELECT COUNT(*) FROM attach a LEFT JOIN issues i ON i.id = a.issue WHERE i.id IS NULL"
    ).fetchone()
    projects = []
    for pid, (key, name) in sorted(c.projects.items(), key=lambda kv: kv[1][0]):
        n, size = per_project.get(pid, (0, 0))
        projects.append(ProjectStats(pid, key, name, c.project_issues.get(pid, 0), n, size))
    report.projects = projects
    total = sum(p.attachment_bytes for p in projects)
    report.stats["attachment_bytes"] = total
    report.findings.append(
        Finding(
            "ATT001",
            Severity.INFO,
            f"{c.attachments} attachment(s), {total / 1e9:.2f} GB referenced by the backup, in "
            f"{sum(1 for p in projects if p.attachments)} project(s)",
            "FileAttachment",
            "pack them with `jirabridge migrate media`",
            {"per_project": [p.__dict__ for p in projects]},
        )
    )
    if options.plan is not None:
        limit = options.plan.storage_bytes
        if limit is not None and total > limit:
            report.findings.append(
                Finding(
                    "ATT002",
                    Severity.BLOCKER,
                    f"attachments need {total / 1e9:.2f} GB; the {options.plan.value} plan stores "
                    f"{limit / 1e9:.0f} GB",
                    "FileAttachment",
                    "choose a larger plan or remove old attachments before the backup",
                )
            )
    if orphans:
        report.findings.append(
            Finding(
                "ATT003",
                Severity.WARNING,
                f"{orphans} attachment(s) belong to issues that are not in the backup",
                "FileAttachment",
                "run Jira's integrity checker before the backup",
            )
        )
    crowded = db.execute(
        "SELECT issue, COUNT(*) AS n FROM attach GROUP BY issue HAVING n > ? ORDER BY n DESC",
        (CLOUD_ATTACHMENTS_PER_ISSUE,),
    ).fetchall()
    for issue, n in crowded[:_MAX_LIST]:
        report.findings.append(
            Finding(
                "ATT004",
                Severity.WARNING,
                f"issue id {issue} has {n} attachments; Cloud keeps at most "
                f"{CLOUD_ATTACHMENTS_PER_ISSUE} per issue",
                f"Issue id={issue}",
                "move attachments off that issue before migrating",
            )
        )
    if c.bad_sizes:
        report.findings.append(
            Finding(
                "ATT005",
                Severity.WARNING,
                f"{c.bad_sizes} attachment(s) have no numeric filesize",
                "FileAttachment filesize",
                "",
            )
        )
