from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from jirabridge.errors import FixConfigError, SkipItemError
from jirabridge.sync.config import (
    ConfigError,
    Direction,
    Side,
    Unmapped,
    ValueMap,
    example_text,
    json_schema,
    load_config,
    parse_config,
    write_example,
    write_schema,
)

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))

GOOD = textwrap.dedent(
    """\
    version: 1
    sites:
      s:
        flavour: server
        url: https://jira.example.com
        auth: pat
        credential: env:S_TOKEN
        integration_user: bot
      c:
        flavour: cloud
        url: https://x.atlassian.net
        auth: api_token
        username: bot@example.com
        credential: store:c
        integration_user: acc-1
    pairs:
      - id: p1
        server: {site: s, project: OPS}
        cloud: {site: c, project: OPS}
        fields:
          - {name: summary}
          - {name: priority}
    """
)


def problems_of(text: str) -> list[tuple[int, int, str]]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, name="t.yaml")
    assert isinstance(info.value, FixConfigError)
    return [(p.line, p.column, p.message) for p in info.value.problems]


def test_good_config_loads() -> None:
    loaded = parse_config(GOOD)
    pair = loaded.config.pairs[0]
    assert pair.field("summary") is not None
    assert pair.field("summary").direction is Direction.BOTH  # type: ignore[union-attr]
    assert len(loaded.sha256) == 64


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_loads_and_matches_the_json_schema(path: Path) -> None:
    loaded = load_config(path)
    assert loaded.config.pairs
    jsonschema.validate(yaml.safe_load(path.read_text()), json_schema())


def test_there_are_four_scenario_examples() -> None:
    names = {p.stem for p in EXAMPLES}
    assert names >= {
        "realtime-bidirectional",
        "cloud-creates-server",
        "server-done-resolves-cloud",
        "priority-propagation",
    }


def test_init_example_loads(tmp_path: Path) -> None:
    target = write_example(tmp_path / "jirabridge.yaml")
    assert load_config(target).config.pairs[0].id == "ops"
    assert "#" in example_text()  # it is commented
    with pytest.raises(FixConfigError):
        write_example(target)
    write_example(target, force=True)


def test_schema_file_is_valid_json_schema(tmp_path: Path) -> None:
    path = write_schema(tmp_path / "s.json")
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    bad = yaml.safe_load(GOOD)
    bad["pairs"][0]["fields"][0]["direction"] = "sideways"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_wrong_value_is_reported_at_its_line_and_column() -> None:
    text = GOOD.replace("- {name: summary}", "- {name: summary, direction: sideways}")
    [(line, col, msg)] = problems_of(text)
    assert (line, col) == (21, 36)  # the value `sideways`
    assert "both" in msg and "sideways" not in msg.split("should be")[0]


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = (
        GOOD.replace("flavour: cloud", "flavour: moon")
        .replace("project: OPS}\n    cloud", "project: ops}\n    cloud")
        .replace("- {name: priority}", "- {name: priority, colour: red}")
    )
    found = problems_of(text)
    assert [line for line, _, _ in found] == [10, 18, 22]
    assert "unknown key 'colour'" in found[2][2]


def test_missing_key_points_at_its_parent() -> None:
    text = GOOD.replace("    integration_user: acc-1\n", "")
    [(line, col, msg)] = problems_of(text)
    assert (line, col) == (9, 3)
    assert msg == "missing required key 'integration_user'"


def test_secret_in_the_file_is_refused_without_echoing_it() -> None:
    text = GOOD.replace("credential: env:S_TOKEN", "credential: ghp_SuperSecretValue123")
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert "ghp_SuperSecretValue123" not in str(info.value)
    assert info.value.problems[0].line == 7


def test_yaml_syntax_error_has_a_line() -> None:
    [(line, _, msg)] = problems_of(GOOD + "  - [unclosed\n")
    assert line >= 23
    assert msg.startswith("YAML:")


def test_duplicate_keys_are_reported() -> None:
    text = GOOD.replace("  c:\n", "  s:\n")
    found = problems_of(text)
    assert any("duplicate key 's'" in m for _, _, m in found)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("a: 1\n---\nb: 2\n", "several YAML documents"),
        ("- 1\n- 2\n", "must be a mapping"),
        ("version: 2\nsites: {}\n", "Input should be 1"),
    ],
)
def test_degenerate_files(text: str, needle: str) -> None:
    found = problems_of(text)
    assert any(needle in m for _, _, m in found)


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("{site: c, project: OPS}", "{site: nowhere, project: OPS}", "unknown site 'nowhere'"),
        ("{site: c, project: OPS}", "{site: s, project: OPS}", "is a server site"),
        ("- {name: priority}", "- {name: summary}", "listed more than once"),
        ("- {name: priority}", "- {name: priority, values: prio}", "no translation table"),
        ("auth: pat", "auth: oauth2", "only on Cloud"),
        ("auth: api_token", "auth: pat", "only on Server"),
        ("timezone: x", "timezone: x", ""),
    ],
)
def test_cross_section_rules(old: str, new: str, needle: str) -> None:
    if not needle:
        text = GOOD.replace(
            "integration_user: bot", "integration_user: bot\n    timezone: Mars/Base"
        )
        needle = "unknown time zone"
    else:
        text = GOOD.replace(old, new)
    found = problems_of(text)
    assert any(needle in m for _, _, m in found), found


def test_rules_are_checked_against_the_pair() -> None:
    text = GOOD + (
        "    create: server_to_cloud\n"
        "    rules:\n"
        "      - name: r\n"
        "        when: {side: cloud, event: field_changed, field: labels}\n"
        "        then:\n"
        "          - {action: create_mirror}\n"
        "          - {action: teleport}\n"
    )
    found = problems_of(text)
    teleport_line = len(GOOD.splitlines()) + 7  # the "- {action: teleport}" line
    assert [(line, col) for line, col, _ in found] == [(teleport_line, 13)], found
    message = found[0][2]
    assert "'teleport'" in message and "'action'" in message, message
    assert "'create_mirror'" in message  # the message names the actions that exist
    text = text.replace("          - {action: teleport}\n", "")
    found = problems_of(text)
    messages = " | ".join(m for _, _, m in found)
    assert "not synced in this pair" in messages
    assert "create_mirror from the cloud side" in messages


def test_template_placeholders_are_checked() -> None:
    text = GOOD + "    comments: {attribution_template: '{who} said'}\n"
    assert any("unknown placeholder {who}" in m for _, _, m in problems_of(text))


def test_value_map_both_ways() -> None:
    table = ValueMap(map={"Blocker": "Highest", "Critical": "High"})
    assert table.to_cloud("Blocker") == "Highest"
    assert table.to_server("High") == "Critical"
    assert table.to_server("Unknown") == "Unknown"
    skip = ValueMap(map={"a": "b"}, unmapped=Unmapped.SKIP)
    assert skip.to_cloud("z") is None
    strict = ValueMap(map={"a": "b"}, unmapped=Unmapped.ERROR)
    with pytest.raises(SkipItemError):
        strict.to_server("z")


def test_ambiguous_value_map_needs_reverse() -> None:
    with pytest.raises(ValueError, match="reverse"):
        ValueMap(map={"Resolved": "Done", "Closed": "Done"})
    table = ValueMap(map={"Resolved": "Done", "Closed": "Done"}, reverse={"Done": "Closed"})
    assert table.to_server("Done") == "Closed"


def test_direction_flows() -> None:
    assert Direction.BOTH.flows_to(Side.CLOUD) and Direction.BOTH.flows_to(Side.SERVER)
    assert Direction.SERVER_TO_CLOUD.flows_to(Side.CLOUD)
    assert not Direction.SERVER_TO_CLOUD.flows_to(Side.SERVER)
    assert not Direction.NONE.flows_to(Side.CLOUD)
    assert Side.SERVER.other is Side.CLOUD


def test_unreadable_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(binary)


@pytest.mark.parametrize(
    ("place", "line", "column", "message"),
    [
        ("extra", len(GOOD.splitlines()) + 1, 1, "unknown key 'extra'"),
        ("url", 5, 10, "Input should be a valid string"),
    ],
)
def test_yaml_tags_do_not_execute(
    tmp_path: Path, place: str, line: int, column: int, message: str
) -> None:
    sentinel = tmp_path / "tag-was-executed"
    tag = f"!!python/object/apply:os.system ['touch {sentinel}']"
    if place == "extra":
        text = GOOD + f"extra: {tag}\n"
    else:
        text = GOOD.replace("url: https://jira.example.com", f"url: {tag}")
    found = problems_of(text)
    assert found == [(line, column, message)]
    assert not sentinel.exists()
    # the same tag run by an unsafe loader does write the sentinel: the check can fail
    yaml.unsafe_load(f"x: {tag}")
    assert sentinel.exists()
