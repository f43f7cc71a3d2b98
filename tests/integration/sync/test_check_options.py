"""``check`` reports table values that are no option of their field, at their lines."""

from __future__ import annotations

from typing import Any

from jirabridge.emulator.model import FieldConfiguration

from .check_sites import CheckSites, check_with, good_config

SERVER_TEAM = "customfield_10500"
CLOUD_TEAM = "customfield_10600"
CLOUD_REGION = "customfield_10601"
CLOUD_TAGS = "customfield_10602"
CLOUD_SEVERITY = "customfield_10603"


def option_fields(sites: CheckSites) -> None:
    """Team (select) on both sides, Region (cascading) and Tags (multi-select) on Cloud."""
    srv, cld = sites.server.site, sites.cloud.site
    srv.create_custom_field("Team", "select", options=["Red", "Blue"], field_id=SERVER_TEAM)
    srv.add_field_option(SERVER_TEAM, "Green", disabled=True)
    cld.create_custom_field("Team", "select", options=["Rot", "blau"], field_id=CLOUD_TEAM)
    cld.create_custom_field("Region", "cascadingselect", options=["EU"], field_id=CLOUD_REGION)
    eu = next(o for o in cld.fields[CLOUD_REGION].options.values() if o.value == "EU")
    cld.add_field_option(CLOUD_REGION, "Berlin", parent_id=eu.id)
    tags = [f"tag{i:02}" for i in range(20)]
    cld.create_custom_field("Tags", "multiselect", options=tags, field_id=CLOUD_TAGS)


def config(**tables: Any) -> dict[str, Any]:
    cfg = good_config()
    pair = cfg["pairs"][0]
    pair["fields"] += [
        {"name": "team", "server": SERVER_TEAM, "cloud": CLOUD_TEAM},
        {"name": "region", "server": "labels", "cloud": CLOUD_REGION, "values": tables["region"]},
        {"name": "tags", "server": "labels", "cloud": CLOUD_TAGS, "values": "tagmap"},
    ]
    pair["translations"]["team"] = tables["team"]
    pair["translations"]["tagmap"] = tables["tagmap"]
    return cfg


async def test_unknown_and_disabled_options_are_reported_with_the_allowed_values() -> None:
    cfg = config(
        team={"map": {"Red": "Rot", "Blue": "Blau", "Green": "Rot"}, "reverse": {"Rot": "Red"}},
        region={"map": {"emea": "EU", "berlin": "Berlin", "paris": "Paris"}},
        tagmap={"map": {"a": "tag03", "b": "tag99"}},
    )
    problems, lines = await check_with(cfg, option_fields)
    found = {p.path: p for p in problems}
    assert set(found) == {
        "pairs[0].translations.team.map.Blue",  # Cloud: 'Blau' is spelt 'blau' there
        "pairs[0].translations.team.map.Green",  # Server: Green is disabled
        "pairs[0].fields[5].values.map.paris",  # Cloud: no Paris (Berlin is a child of EU)
        "pairs[0].translations.tagmap.map.b",
    }, [str(p) for p in problems]
    blue = found["pairs[0].translations.team.map.Blue"]
    assert "Blue: Blau" in lines[blue.line - 1]
    assert "'Blau' is not an option of field 'team' (customfield_10600)" in blue.message
    assert "did you mean 'blau'?" in blue.message and "'cld'" in blue.message
    assert "its options: 'Rot', 'blau'" in blue.message
    green = found["pairs[0].translations.team.map.Green"]
    assert "disabled option" in green.message and "'srv'" in green.message
    paris = found["pairs[0].fields[5].values.map.paris"]
    assert "paris: Paris" in lines[paris.line - 1]
    assert "'Berlin'" in paris.message and "'EU'" in paris.message
    tags = found["pairs[0].translations.tagmap.map.b"].message
    assert "'tag00'" in tags and "'tag11'" in tags and "'tag12'" not in tags
    assert "and 8 more" in tags, tags


async def test_known_options_pass() -> None:
    cfg = config(
        team={"map": {"Red": "Rot", "Blue": "blau"}},
        region={"map": {"emea": "EU", "berlin": "Berlin"}},
        tagmap={"map": {"a": "tag03"}},
    )
    problems, _ = await check_with(cfg, option_fields)
    assert problems == []


async def test_a_differently_named_priority_table_is_checked_too() -> None:
    cfg = good_config()
    pair = cfg["pairs"][0]
    pair["fields"][1]["values"] = "prio"
    pair["translations"]["prio"] = {"map": {"Blocker": "Highest", "High": "Urgent"}}
    problems, lines = await check_with(cfg)
    found = {p.path: p for p in problems}
    assert set(found) == {
        "pairs[0].translations.prio.map.Blocker",  # no Blocker on Server
        "pairs[0].translations.prio.map.High",  # no Urgent on Cloud
    }, [str(p) for p in problems]
    assert "Blocker" in lines[found["pairs[0].translations.prio.map.Blocker"].line - 1]
    assert "'srv'" in found["pairs[0].translations.prio.map.Blocker"].message
    assert "'cld'" in found["pairs[0].translations.prio.map.High"].message


def severity_on_edit_screen_only(sites: CheckSites, *, issue: bool) -> None:
    """Cloud Severity (select S1, S2) is on OPS's edit screen but no create screen."""
    cld = sites.cloud.site
    cld.create_custom_field(
        "Severity", "select", options=["S1", "S2"], field_id=CLOUD_SEVERITY, on_screens=False
    )
    base = cld.default_field_config
    edit_only = FieldConfiguration(
        create_fields=list(base.create_fields),
        edit_fields=[*base.edit_fields, CLOUD_SEVERITY],
        required=set(base.required),
    )
    cld.set_field_configuration("OPS", edit_only)
    if issue:
        fields = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "x"}
        cld.create_issue(cld.admin_key, fields)


async def test_a_field_on_no_create_screen_is_judged_by_an_issue_edit_screen() -> None:
    cfg = good_config()
    cfg["pairs"][0]["fields"].append(
        {
            "name": "severity",
            "server": "labels",
            "cloud": CLOUD_SEVERITY,
            "values": {"map": {"minor": "S2", "trivial": "S3"}},
        }
    )
    problems, _ = await check_with(cfg, lambda s: severity_on_edit_screen_only(s, issue=True))
    [problem] = problems
    assert problem.path == "pairs[0].fields[4].values.map.trivial"
    assert "'S3' is not an option" in problem.message and "'S1', 'S2'" in problem.message
    # no issue to look into and on no create screen: cannot tell, so no verdict
    problems, _ = await check_with(cfg, lambda s: severity_on_edit_screen_only(s, issue=False))
    assert problems == []
