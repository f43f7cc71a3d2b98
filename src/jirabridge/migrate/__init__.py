"""Site Import toolkit: check, fix and pack a Jira Server backup for Jira Cloud, then verify.

Public API::

    check_backup(path, options=None, *, progress=None) -> CheckReport
    fix_backup(src, dst, *, emails=None, options=None, progress=None) -> FixReport
    pack_media(jira_home, out_dir, *, max_bytes, progress=None) -> MediaReport
    build_plan(report, strategy) -> Plan
    verify(source, target) -> VerifyReport
"""

from __future__ import annotations

from jirabridge.migrate._archive import BackupArchive, ZipLimits, open_backup
from jirabridge.migrate._check import CheckReport, ProjectStats, check_backup
from jirabridge.migrate._findings import Finding, Severity
from jirabridge.migrate._model import (
    CheckOptions,
    CloudGroup,
    CloudPlan,
    UserStrategy,
    email_problem,
    load_cloud_groups,
    parse_version,
    user_tier,
)
from jirabridge.migrate._render import render_html, render_json, render_text

__all__ = [
    "BackupArchive",
    "CheckOptions",
    "CheckReport",
    "CloudGroup",
    "CloudPlan",
    "Finding",
    "ProjectStats",
    "Severity",
    "UserStrategy",
    "ZipLimits",
    "check_backup",
    "email_problem",
    "load_cloud_groups",
    "open_backup",
    "parse_version",
    "render_html",
    "render_json",
    "render_text",
    "user_tier",
]
