from __future__ import annotations

from pathlib import Path

from jirabridge.migrate import CheckOptions, CloudGroup, UserStrategy, check_backup
from jirabridge.migrate._media import pack_media
from jirabridge.migrate._plan import StepState, build_plan
from jirabridge.migrate.synth import Defect, SynthSpec, write_jira_home


def _states(plan) -> dict[int, StepState]:
    return {s.number: s.state for s in plan.steps}


def test_clean_backup_plan_is_ready(make_backup) -> None:
    plan = build_plan(check_backup(make_backup()), UserStrategy.OVERWRITE)
    assert [s.number for s in plan.steps] == list(range(1, 9))
    assert plan.ready
    states = _states(plan)
    assert states[1] is StepState.DONE and states[2] is StepState.DONE
    assert states[4] is StepState.DONE
    assert states[6] is StepState.MANUAL and states[7] is StepState.MANUAL
    assert any("replaced by the backup" in c for c in plan.consequences)


def test_blockers_block_their_steps_and_the_import(make_backup) -> None:
    report = check_backup(make_backup(Defect.ADDON_USER, Defect.ZIPPED_FOLDER, Defect.OLD_VERSION))
    plan = build_plan(report, UserStrategy.MERGE)
    states = _states(plan)
    assert states[1] is StepState.BLOCKED
    assert states[2] is StepState.BLOCKED
    assert states[4] is StepState.BLOCKED
    assert states[7] is StepState.BLOCKED
    assert "1, 2, 4" in plan.steps[6].notes[0]
    assert not plan.ready
    text = plan.render_text()
    assert "[X] 2." in text and "migrate fix" in text


def test_merge_consequences_list_escalations(make_backup) -> None:
    options = CheckOptions(
        cloud_groups=(CloudGroup("developers", frozenset({"ADMINISTER"}), permissions_known=True),)
    )
    plan = build_plan(check_backup(make_backup(), options), UserStrategy.MERGE)
    assert _states(plan)[3] is StepState.BLOCKED
    assert any(c.startswith("escalation:") and "developers" in c for c in plan.consequences)
    unassessed = build_plan(check_backup(make_backup()), UserStrategy.MERGE)
    assert any("not assessed" in n for n in unassessed.steps[2].notes)


def test_media_step_follows_the_manifest(make_backup, tmp_path: Path) -> None:
    report = check_backup(make_backup())
    assert _states(build_plan(report, UserStrategy.MERGE))[5] is StepState.MANUAL
    home = write_jira_home(tmp_path / "home", SynthSpec())
    pack_media(home, tmp_path / "media", max_bytes=10_000_000)
    plan = build_plan(report, UserStrategy.MERGE, media_dir=tmp_path / "media")
    assert _states(plan)[5] is StepState.DONE
    assert plan.to_json()["steps"][4]["state"] == "done"
