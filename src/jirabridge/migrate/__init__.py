"""Site Import toolkit: check, fix and pack a Jira Server backup for Jira Cloud, then verify.

Public API::

    check_backup(path, options=None, *, progress=None) -> CheckReport
    render_text / render_json / render_html(report) -> str
    fix_backup(src, dst, *, emails=None, rename_prefix="migrated_", options=None,
               progress=None) -> FixReport
    load_email_map(path) -> dict[str, str];  load_cloud_groups(path) -> tuple[CloudGroup, ...]
    pack_media(jira_home, out_dir, *, max_bytes, by_project=False, progress=None) -> MediaReport
    build_plan(report, strategy, *, media_dir=None) -> Plan
    await verify(source, target, *, spill_dir=None) -> VerifyReport
        with SiteSnapshotReader sides: BackupSnapshotReader(path) or
        ApiSnapshotReader(base_url, cloud=..., email_or_user=..., token=..., transport=...)

``jirabridge.migrate.synth`` writes synthetic backups and Jira homes with planted defects.
"""

from __future__ import annotations

from jirabridge.migrate._api_reader import ApiSnapshotReader
from jirabridge.migrate._archive import BackupArchive, ZipLimits, open_backup
from jirabridge.migrate._check import CheckReport, ProjectStats, check_backup
from jirabridge.migrate._digest import IssueDigest, ProjectDigest
from jirabridge.migrate._findings import Finding, Severity
from jirabridge.migrate._fix import Change, ChangeKind, FixReport, fix_backup, load_email_map
from jirabridge.migrate._media import MediaChunk, MediaReport, pack_media, parse_size
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
from jirabridge.migrate._plan import Plan, PlanStep, StepState, build_plan
from jirabridge.migrate._render import render_html, render_json, render_text
from jirabridge.migrate._verify import (
    BackupSnapshotReader,
    Difference,
    DifferenceKind,
    SiteSnapshotReader,
    VerifyReport,
    verify,
)

__all__ = [
    "ApiSnapshotReader",
    "BackupArchive",
    "BackupSnapshotReader",
    "Change",
    "ChangeKind",
    "CheckOptions",
    "CheckReport",
    "CloudGroup",
    "CloudPlan",
    "Difference",
    "DifferenceKind",
    "Finding",
    "FixReport",
    "IssueDigest",
    "MediaChunk",
    "MediaReport",
    "Plan",
    "PlanStep",
    "ProjectDigest",
    "ProjectStats",
    "Severity",
    "SiteSnapshotReader",
    "StepState",
    "UserStrategy",
    "VerifyReport",
    "ZipLimits",
    "build_plan",
    "check_backup",
    "email_problem",
    "fix_backup",
    "load_cloud_groups",
    "load_email_map",
    "open_backup",
    "pack_media",
    "parse_size",
    "parse_version",
    "render_html",
    "render_json",
    "render_text",
    "user_tier",
    "verify",
]
