"""Check reports as terminal text, JSON for automation, and a self-contained HTML page."""

from __future__ import annotations

import html
import json

from jirabridge.errors import redact
from jirabridge.migrate._check import CheckReport
from jirabridge.migrate._findings import Severity

__all__ = ["render_html", "render_json", "render_text"]

_MARK = {Severity.BLOCKER: "BLOCKER", Severity.WARNING: "WARNING", Severity.INFO: "info"}


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)  # pragma: no cover


def render_text(report: CheckReport) -> str:
    """A readable report for a terminal."""
    lines = [f"jirabridge migrate check: {report.source}"]
    if report.version:
        lines.append(f"Jira {report.version} (build {report.build})   base URL: {report.base_url}")
    stats = report.stats
    if stats:
        lines.append(
            "users {users} (active {active}, tier {tier})   projects {projects}   issues {issues}"
            "   comments {comments}   attachments {attachments}".format(
                users=stats.get("users", "?"),
                active=stats.get("active_users", "?"),
                tier=stats.get("user_tier", "?"),
                projects=stats.get("projects", "?"),
                issues=stats.get("issues", "?"),
                comments=stats.get("comments", "?"),
                attachments=stats.get("attachments", "?"),
            )
        )
    lines.append("")
    for f in report.sorted_findings():
        lines.append(f"[{_MARK[f.severity]}] {f.rule} {f.message}")
        if f.location:
            lines.append(f"    at:  {f.location}")
        if f.fix:
            lines.append(f"    fix: {f.fix}")
    if report.projects:
        lines += [
            "",
            "Attachments per project:",
            f"  {'key':<12}{'issues':>10}{'files':>10}{'size':>12}",
        ]
        for p in report.projects:
            lines.append(
                f"  {p.key:<12}{p.issues:>10}{p.attachments:>10}{_size(p.attachment_bytes):>12}"
            )
    if report.links:
        lines += ["", "Links to map:"]
        for link in report.links:
            tag = " (server base URL)" if link["base_url"] else ""
            lines.append(f"  {link['origin']}{tag}: {link['occurrences']} occurrence(s)")
    n = len(report.blockers)
    lines += ["", f"{n} blocker(s): " + ("fix them before the import" if n else "ready to import")]
    return redact("\n".join(lines)) + "\n"


def render_json(report: CheckReport) -> str:
    """The report as JSON (stable keys; findings sorted by severity then rule)."""
    return redact(json.dumps(report.to_json(), indent=2, ensure_ascii=False, default=str)) + "\n"


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#172b4d}
h1{font-size:20px} table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #dfe1e6;padding:4px 8px;text-align:left;vertical-align:top}
.blocker{background:#ffebe6}.warning{background:#fffae6}.info{background:#f4f5f7}
.sev{font-weight:bold;text-transform:uppercase}.ok{color:#006644}.bad{color:#bf2600}
"""


def render_html(report: CheckReport) -> str:
    """A self-contained HTML page (inline CSS, no scripts, everything escaped)."""
    e = html.escape
    n = len(report.blockers)
    rows = []
    for f in report.sorted_findings():
        rows.append(
            f'<tr class="{f.severity.value}"><td class="sev">{e(f.severity.value)}</td>'
            f"<td>{e(f.rule)}</td><td>{e(f.message)}</td><td>{e(f.location)}</td>"
            f"<td>{e(f.fix)}</td></tr>"
        )
    projects = "".join(
        f"<tr><td>{e(p.key)}</td><td>{e(p.name)}</td><td>{p.issues}</td><td>{p.attachments}</td>"
        f"<td>{e(_size(p.attachment_bytes))}</td></tr>"
        for p in report.projects
    )
    links = "".join(
        f"<tr><td>{e(lk['origin'])}</td><td>{'yes' if lk['base_url'] else ''}</td>"
        f"<td>{lk['occurrences']}</td><td>{e(', '.join(lk['samples']))}</td></tr>"
        for lk in report.links
    )
    stats = "".join(
        f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in report.stats.items()
    )
    verdict = (
        f'<p class="bad">{n} blocker(s): fix them before the import.</p>'
        if n
        else '<p class="ok">No blockers: ready to import.</p>'
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>jirabridge migrate check</title><style>{_CSS}</style></head><body>
<h1>Site Import check: {e(report.source)}</h1>
<p>Jira {e(str(report.version))} (build {e(str(report.build))}),
base URL {e(str(report.base_url))}</p>
{verdict}
<h2>Findings</h2>
<table><tr><th>severity</th><th>rule</th><th>problem</th><th>where</th><th>fix</th></tr>
{"".join(rows)}</table>
<h2>Figures</h2><table>{stats}</table>
<h2>Attachments per project</h2>
<table><tr><th>key</th><th>name</th><th>issues</th><th>files</th><th>size</th></tr>{projects}</table>
<h2>Links to map</h2>
<table><tr><th>origin</th><th>base URL</th><th>occurrences</th><th>samples</th></tr>{links}</table>
</body></html>
"""
    return redact(page)
