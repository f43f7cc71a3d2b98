"""``check`` reports every permission the integration user lacks, at the line that needs it."""

from __future__ import annotations

from typing import Any

import yaml

from jirabridge.sync.check_permissions import needs
from jirabridge.sync.config import Side, parse_config

from .check_sites import CheckSites, check_with, good_config


def by_path(problems: list[Any]) -> dict[str, Any]:
    found = {p.path: p for p in problems}
    assert len(found) == len(problems), [str(p) for p in problems]
    return found


async def test_the_good_config_needs_nothing_the_bots_lack() -> None:
    cfg = good_config()
    pair = cfg["pairs"][0]
    pair["deletes"] = "mirror"
    pair["sprints"] = "both"
    pair["fields"] += [{"name": "assignee"}, {"name": "reporter"}, {"name": "duedate"}]
    problems, _ = await check_with(cfg)
    assert problems == []


async def test_missing_permissions_are_reported_at_the_setting_that_needs_them() -> None:
    cfg = good_config()
    pair = cfg["pairs"][0]
    pair["create"] = "server_to_cloud"
    pair["deletes"] = "mirror"
    pair["comments"] = {"direction": "both", "edits": True}

    seen: list[CheckSites] = []

    def prepare(sites: CheckSites) -> None:
        seen.append(sites)
        sites.deny("cloud", "CREATE_ISSUES", "DELETE_ISSUES")
        sites.deny("server", "ADD_COMMENTS")
        sites.deny("server", "EDIT_ALL_COMMENTS")  # editing its own copies is enough

    problems, lines = await check_with(cfg, prepare)
    found = by_path(problems)
    assert set(found) == {
        "pairs[0].create",
        "pairs[0].deletes",
        "pairs[0].comments.direction",
    }, [str(p) for p in problems]
    create = found["pairs[0].create"]
    assert lines[create.line - 1].strip() == "create: server_to_cloud"
    who = f"Bot ({seen[0].c_bot.key})"  # Cloud users by accountId (an e-mail is personal)
    for text in ("CREATE_ISSUES", "project OPS", "'cld'", who, "mirrors"):
        assert text in create.message, create.message
    deletes = found["pairs[0].deletes"]
    assert lines[deletes.line - 1].strip() == "deletes: mirror"
    assert "DELETE_ISSUES" in deletes.message and "'cld'" in deletes.message
    comments = found["pairs[0].comments.direction"]
    assert "direction: both" in lines[comments.line - 1]
    assert "ADD_COMMENTS" in comments.message and "'srv'" in comments.message
    assert "svc-jirabridge" in comments.message and "copy comments from cloud" in comments.message


async def test_one_problem_per_permission_with_every_reason_and_either_of_two() -> None:
    cfg = good_config()

    def prepare(sites: CheckSites) -> None:
        sites.deny("server", "EDIT_ISSUES", "EDIT_OWN_COMMENTS", "EDIT_ALL_COMMENTS")

    problems, lines = await check_with(cfg, prepare)
    messages = [p.message for p in problems]
    assert len(problems) == 2, messages
    edit = next(p for p in problems if "lacks EDIT_ISSUES" in p.message)
    # pairs are marked (entity property) and fields written: one problem, every reason
    assert "entity property" in edit.message and "'summary'" in edit.message
    assert "'points'" in edit.message, edit.message
    assert edit.path == "pairs[0].server.project"
    assert "project: OPS" in lines[edit.line - 1]
    either = next(p for p in problems if "EDIT_OWN_COMMENTS or EDIT_ALL_COMMENTS" in p.message)
    assert "update copied comments" in either.message


async def test_rules_ask_for_their_own_permissions() -> None:
    cfg = good_config()
    pair = cfg["pairs"][0]
    pair["create"] = "server_to_cloud"
    pair["fields"] = [{"name": "summary", "direction": "server_to_cloud"}]
    pair["comments"] = {"direction": "none"}
    pair["attachments"] = "none"
    pair["links"] = "none"
    pair["rules"].append(
        {
            "name": "escalate",
            "when": {"side": "server", "event": "created"},
            "then": [{"action": "create_mirror", "write_back_field": "customfield_10206"}],
        }
    )

    def prepare(sites: CheckSites) -> None:
        sites.deny("cloud", "TRANSITION_ISSUES", "RESOLVE_ISSUES", "CREATE_ISSUES")
        sites.deny("server", "EDIT_ISSUES", "LINK_ISSUES")

    problems, lines = await check_with(cfg, prepare)
    found = by_path(problems)
    assert set(found) == {
        "pairs[0].rules[0].then[0].to_status",
        "pairs[0].rules[0].then[0].resolution",
        "pairs[0].create",
        "pairs[0].rules[1].then[0].write_back_field",
        "pairs[0].server.project",
    }, [str(p) for p in problems]
    assert "TRANSITION_ISSUES" in found["pairs[0].rules[0].then[0].to_status"].message
    assert "RESOLVE_ISSUES" in found["pairs[0].rules[0].then[0].resolution"].message
    create = found["pairs[0].create"].message  # one problem, the rule among its reasons
    assert "CREATE_ISSUES" in create and "rule 'escalate'" in create, create
    write_back = found["pairs[0].rules[1].then[0].write_back_field"]
    assert "EDIT_ISSUES" in write_back.message and "'srv'" in write_back.message
    assert "write_back_field" in lines[write_back.line - 1]
    assert "LINK_ISSUES" in found["pairs[0].server.project"].message  # the pair's remote link


async def test_a_project_the_bot_cannot_browse_is_one_problem() -> None:
    problems, lines = await check_with(
        good_config(), lambda sites: sites.deny("cloud", "BROWSE_PROJECTS")
    )
    [problem] = problems
    assert problem.path == "pairs[0].cloud.project"
    assert "OPS" in lines[problem.line - 1]


def test_one_way_settings_need_nothing_of_their_source_side() -> None:
    cfg = good_config()
    pair = cfg["pairs"][0]
    pair.update(
        create="server_to_cloud",
        attachments="server_to_cloud",
        links="none",
        comments={"direction": "server_to_cloud"},
        rules=[],
        fields=[
            {"name": "summary", "direction": "server_to_cloud"},
            {"name": "assignee", "direction": "both"},
        ],
    )
    loaded = parse_config(yaml.safe_dump(cfg, sort_keys=False), name="c")

    def keys(side: Side) -> set[str]:
        return {k for n in needs(loaded, loaded.config.pairs[0], 0, side) for k in n.any_of}

    # the Server side is only read, but every new pair is marked and linked on both sides
    assert keys(Side.SERVER) == {"BROWSE_PROJECTS", "EDIT_ISSUES", "LINK_ISSUES", "ASSIGN_ISSUES"}
    assert keys(Side.CLOUD) == {
        "BROWSE_PROJECTS",
        "CREATE_ISSUES",
        "EDIT_ISSUES",
        "LINK_ISSUES",
        "ASSIGN_ISSUES",
        "ADD_COMMENTS",
        "EDIT_OWN_COMMENTS",
        "EDIT_ALL_COMMENTS",
        "DELETE_OWN_COMMENTS",
        "DELETE_ALL_COMMENTS",
        "CREATE_ATTACHMENTS",
    }


def test_link_issues_is_needed_only_on_the_sides_that_get_remote_links() -> None:
    cfg = good_config()
    pair = cfg["pairs"][0]
    pair.update(links="cloud_to_server", cross_reference={"remote_links": ["server"]})
    loaded = parse_config(yaml.safe_dump(cfg, sort_keys=False), name="c")

    def link_needs(side: Side) -> list[str]:
        return [
            n.why
            for n in needs(loaded, loaded.config.pairs[0], 0, side)
            if "LINK_ISSUES" in n.any_of
        ]

    assert link_needs(Side.CLOUD) == []  # no remote link there, and links flow to Server only
    assert any("remote link" in why for why in link_needs(Side.SERVER))
