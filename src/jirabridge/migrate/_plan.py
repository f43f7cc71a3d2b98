"""``migrate plan``: the guide's eight steps, each with its state for this backup, and the
chosen user strategy with its consequences."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jirabridge.migrate._check import CheckReport
from jirabridge.migrate._findings import Finding, Severity
from jirabridge.migrate._model import NEVER_IMPORTED_GROUPS, UserStrategy

__all__ = ["Plan", "PlanStep", "StepState", "build_plan"]


class StepState(enum.Enum):
    DONE = "done"  # nothing left to do for this backup
    ACTION = "action"  # the import will work, but something needs a decision or a look
    BLOCKED = "blocked"  # a blocker must be fixed first
    MANUAL = "manual"  # a person does this outside jirabridge


@dataclass(frozen=True)
class PlanStep:
    number: int
    title: str
    state: StepState
    notes: tuple[str, ...]
    command: str = ""


@dataclass
class Plan:
    source: str
    strategy: UserStrategy
    steps: list[PlanStep] = field(default_factory=list)
    consequences: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return all(s.state is not StepState.BLOCKED for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "strategy": self.strategy.value,
            "ready": self.ready,
            "steps": [
                {
                    "step": s.number,
                    "title": s.title,
                    "state": s.state.value,
                    "notes": list(s.notes),
                    "command": s.command,
                }
                for s in self.steps
            ],
            "consequences": self.consequences,
        }

    def render_text(self) -> str:
        mark = {
            StepState.DONE: "[x]",
            StepState.ACTION: "[!]",
            StepState.BLOCKED: "[X]",
            StepState.MANUAL: "[ ]",
        }
        lines = [f"Site Import plan for {self.source} (user strategy: {self.strategy.value})", ""]
        for s in self.steps:
            lines.append(f"{mark[s.state]} {s.number}. {s.title}  ({s.state.value})")
            lines += [f"      - {note}" for note in s.notes]
            if s.command:
                lines.append(f"      $ {s.command}")
        lines += ["", f"Consequences of '{self.strategy.value}':"]
        lines += [f"  - {c}" for c in self.consequences]
        lines += ["", "ready to import" if self.ready else "blocked: fix the [X] steps first"]
        return "\n".join(lines) + "\n"


def _state(findings: list[Finding]) -> StepState:
    if any(f.severity is Severity.BLOCKER for f in findings):
        return StepState.BLOCKED
    if any(f.severity is Severity.WARNING for f in findings):
        return StepState.ACTION
    return StepState.DONE


def _notes(findings: list[Finding], limit: int = 8) -> tuple[str, ...]:
    shown = [f"{f.rule}: {f.message}" for f in findings if f.severity is not Severity.INFO]
    more = len(shown) - limit
    return tuple(shown[:limit] + ([f"... and {more} more"] if more > 0 else []))


def _media_state(media_dir: Path | None) -> tuple[StepState, tuple[str, ...]]:
    if media_dir is None or not (media_dir / "manifest.json").is_file():
        return StepState.MANUAL, ("no media packed yet",)
    try:
        chunks = json.loads((media_dir / "manifest.json").read_text(encoding="utf-8"))["chunks"]
    except (OSError, ValueError, KeyError):
        return StepState.ACTION, (f"{media_dir}/manifest.json is unreadable: pack again",)
    files = sum(int(c.get("files", 0)) for c in chunks)
    return StepState.DONE, (f"{len(chunks)} verified zip(s), {files} file(s) in {media_dir}",)


def build_plan(
    report: CheckReport, strategy: UserStrategy, *, media_dir: Path | None = None
) -> Plan:
    """The eight steps of the Site Import guide, with this backup's state in each."""
    by_rule: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_rule.setdefault(f.rule[:3], []).append(f)
    src = report.source
    plan = Plan(src, strategy)
    version = by_rule.get("VER", [])
    plan.steps.append(
        PlanStep(
            1,
            "Check the server version (7.6.0 or later; below 7.0 upgrade first)",
            _state(version),
            tuple(f.message for f in version),
        )
    )
    users = by_rule.get("USR", [])
    tier = report.stats.get("user_tier", "?")
    plan.steps.append(
        PlanStep(
            2,
            "Clean up users: valid unique emails, no addon_ usernames; pick the user tier",
            _state(users),
            (*_notes(users), f"active users: {report.stats.get('active_users', '?')}, tier {tier}"),
            f"jirabridge migrate fix {src} --out FIXED.zip --emails emails.json"
            if _state(users) is not StepState.DONE
            else "",
        )
    )
    groups = by_rule.get("GRP", [])
    group_notes = list(_notes(groups))
    if strategy is UserStrategy.MERGE and not any(f.rule == "GRP003" for f in groups):
        group_notes.append(
            "escalations not assessed: give the Cloud groups with --cloud-groups FILE"
        )
    plan.steps.append(
        PlanStep(
            3,
            f"Choose the user strategy ({strategy.value}) and review groups and permissions",
            _state(groups) if groups else StepState.ACTION,
            tuple(group_notes),
            f"jirabridge migrate check {src} --cloud-groups cloud-groups.json",
        )
    )
    backup = by_rule.get("ZIP", []) + by_rule.get("XML", []) + by_rule.get("FIL", [])
    backup += by_rule.get("ENC", []) + by_rule.get("LIN", [])
    plan.steps.append(
        PlanStep(
            4,
            "Prepare the backup zip (entities.xml + activeobjects.xml at the root, valid XML)",
            _state(backup),
            _notes(backup),
            f"jirabridge migrate fix {src} --out FIXED.zip"
            if _state(backup) is not StepState.DONE
            else "",
        )
    )
    attach = by_rule.get("ATT", [])
    media_state, media_notes = _media_state(media_dir)
    state = _state(attach)
    if state is StepState.DONE:
        state = media_state
    plan.steps.append(
        PlanStep(
            5,
            "Pack attachments, avatars and logos into media zips (2-5 GB each)",
            state,
            (
                *_notes(attach),
                *media_notes,
                f"{report.stats.get('attachments', 0)} attachment(s), "
                f"{int(report.stats.get('attachment_bytes', 0)) / 1e9:.2f} GB",
            ),
            "jirabridge migrate media --jira-home JIRA_HOME --out media/ --max-size 4GB",
        )
    )
    plan.steps.append(
        PlanStep(
            6,
            "Back up the Cloud site (the import overwrites its data)",
            StepState.MANUAL,
            ("Settings > System > Backup manager in the Cloud site",),
        )
    )
    blocked = [s for s in plan.steps if s.state is StepState.BLOCKED]
    plan.steps.append(
        PlanStep(
            7,
            "Import: upload the backup, then the media zips (Settings > System > Import)",
            StepState.BLOCKED if blocked else StepState.MANUAL,
            (f"blocked by step(s) {', '.join(str(s.number) for s in blocked)}",)
            if blocked
            else ("choose '" + strategy.value + "' when asked about users",),
        )
    )
    links = by_rule.get("URL", [])
    plan.steps.append(
        PlanStep(
            8,
            "After the import: verify nothing was lost, map old links, restore admin rights",
            StepState.MANUAL,
            (
                *[f.message for f in links],
                f"{len(report.links)} origin(s) to map" if report.links else "no links to map",
            ),
            f"jirabridge migrate verify --source {src} --cloud https://SITE.atlassian.net",
        )
    )
    plan.consequences = _consequences(report, strategy)
    return plan


def _consequences(report: CheckReport, strategy: UserStrategy) -> list[str]:
    out = [
        "all ids change; links, filters and boards that use ids are rewritten by the import",
        "the person running the import loses their groups; keep a site-admin ready",
    ]
    if strategy is UserStrategy.OVERWRITE:
        out += [
            "the Cloud site's users and groups are replaced by the backup's; Cloud-only users "
            "lose access",
            "no group merge, so no permission escalation through same-named groups",
        ]
    else:
        out += [
            "users are matched by email; same-named groups are merged, so server members get the "
            "Cloud group's permissions (possible escalation)",
        ]
        escalations = [f for f in report.findings if f.rule == "GRP003"]
        for f in escalations:
            out.append(f"escalation: {f.message}")
    out.append("jira-administrators becomes 'administrators'")
    admin_groups = sorted(g for g in report.server_groups if g.lower() in NEVER_IMPORTED_GROUPS)
    if admin_groups:
        out.append("never imported: " + ", ".join(admin_groups))
    return out
