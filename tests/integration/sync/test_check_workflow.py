"""``check`` reports mapped statuses that no transition reaches or no workflow holds."""

from __future__ import annotations

from typing import Any

from jirabridge.emulator.model import StatusCategory
from jirabridge.emulator.model import Transition as WfTransition

from .check_sites import check_with, good_config


def gated(site: Any, *, fill: bool) -> None:
    """Cloud OPS: To Do -> Review -> Done -> To Do; Archived -> To Do but nothing into
    Archived; Blocked exists on the site, in no workflow. ``fill``: an issue in each status."""
    todo = next(st for st in site.statuses.values() if st.name == "To Do")
    done = next(st for st in site.statuses.values() if st.name == "Done")
    review = site.create_status("Review", StatusCategory.INDETERMINATE)
    archived = site.create_status("Archived", StatusCategory.DONE)
    site.create_status("Blocked", StatusCategory.INDETERMINATE)
    site.create_workflow(
        "Gated",
        todo.id,
        [
            WfTransition(11, "Review", review.id, (todo.id,)),
            WfTransition(21, "Approve", done.id, (review.id,)),
            WfTransition(31, "Reopen", todo.id, (done.id,)),
            WfTransition(41, "Restore", todo.id, (archived.id,)),
        ],
    )
    site.create_workflow("Old", archived.id, [WfTransition(41, "Restore", todo.id, ())])
    if not fill:
        site.set_workflow("OPS", "Gated")
        return
    actor = site.admin_key

    def make() -> Any:
        fields = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "x"}
        return site.create_issue(actor, fields)

    site.set_workflow("OPS", "Old")
    make()  # stays in Archived: the only way there was a workflow since replaced
    site.set_workflow("OPS", "Gated")
    make()  # To Do
    site.transition_issue(actor, make().key, 11)  # Review
    one = make()
    site.transition_issue(actor, one.key, 11)
    site.transition_issue(actor, one.key, 21)  # Done


async def run(config: dict[str, Any], *, fill: bool) -> tuple[list[Any], list[str]]:
    return await check_with(config, lambda sites: gated(sites.cloud.site, fill=fill))


def config() -> dict[str, Any]:
    cfg = good_config()
    cfg["pairs"][0]["translations"]["status"]["map"].update(
        {"In Progress": "Archived", "Blocked": "Blocked", "Open": "Review"}
    )
    return cfg


async def test_unreachable_and_out_of_workflow_statuses_are_reported() -> None:
    problems, lines = await run(config(), fill=True)
    found = {p.path: p for p in problems}
    by_path: dict[str, list[str]] = {}
    for p in problems:
        by_path.setdefault(p.path, []).append(p.message)
    archived = found["pairs[0].translations.status.map.In Progress"]
    assert "reached by no transition" in archived.message
    assert "In Progress" in lines[archived.line - 1]
    blocked = by_path["pairs[0].translations.status.map.Blocked"]
    assert len(blocked) == 2  # missing on Server (value check), in no workflow on Cloud
    assert any("does not exist" in m and "'srv'" in m for m in blocked), blocked
    assert any("is in no workflow" in m and "'cld'" in m for m in blocked), blocked
    # Server has an "Open" status, but the OPS workflow does not hold it
    [open_] = by_path["pairs[0].translations.status.map.Open"]
    assert "is in no workflow" in open_ and "'srv'" in open_
    assert len(problems) == 4, [str(p) for p in problems]


async def test_reachable_statuses_pass_and_unknown_graphs_are_not_guessed() -> None:
    cfg = good_config()
    cfg["pairs"][0]["translations"]["status"]["map"]["To Do"] = "Review"
    problems, _ = await run(cfg, fill=True)
    assert problems == []
    # no issues to look into: Archived may be reachable for all we know, so no report
    cfg["pairs"][0]["translations"]["status"]["map"]["In Progress"] = "Archived"
    problems, _ = await run(cfg, fill=False)
    assert problems == []
