from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from jirabridge.cli import app

runner = CliRunner()


def test_wiki_to_adf_reads_stdin_writes_json() -> None:
    result = runner.invoke(app, ["markup", "wiki-to-adf", "--compact"], input="*hi*")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["content"][0]["content"][0] == {
        "type": "text",
        "text": "hi",
        "marks": [{"type": "strong"}],
    }


def test_adf_to_wiki_reads_json_writes_wiki() -> None:
    doc = {
        "version": 1,
        "type": "doc",
        "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "T"}]}
        ],
    }
    result = runner.invoke(app, ["markup", "adf-to-wiki"], input=json.dumps(doc))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "h2. T"


def test_user_map_translates_mentions_both_ways(tmp_path: Path) -> None:
    user_map = tmp_path / "users.json"
    user_map.write_text(
        json.dumps(
            [
                {
                    "accountId": "5b10ac8d82e05b22cc7d4ef5",
                    "username": "jsmith",
                    "displayName": "John Smith",
                }
            ]
        )
    )
    to_adf = runner.invoke(
        app, ["markup", "wiki-to-adf", "--compact", "--user-map", str(user_map)], input="[~jsmith]"
    )
    assert to_adf.exit_code == 0
    mention = json.loads(to_adf.stdout)["content"][0]["content"][0]
    assert mention["attrs"]["id"] == "5b10ac8d82e05b22cc7d4ef5"
    assert mention["attrs"]["text"] == "@John Smith"
    back = runner.invoke(
        app, ["markup", "adf-to-wiki", "--user-map", str(user_map)], input=to_adf.stdout
    )
    assert back.exit_code == 0
    assert back.stdout.strip() == "[~jsmith]"


def test_unresolved_user_is_reported_on_stderr(tmp_path: Path) -> None:
    user_map = tmp_path / "users.json"
    user_map.write_text(json.dumps({"someone": "acc-1"}))
    result = runner.invoke(
        app, ["markup", "wiki-to-adf", "--compact", "--user-map", str(user_map)], input="[~ghost]"
    )
    assert result.exit_code == 0
    assert "unresolved_user: ghost" in result.stderr
    assert "@ghost" in result.stdout


def test_bad_json_exits_2_with_a_clear_message() -> None:
    result = runner.invoke(app, ["markup", "adf-to-wiki"], input="{not json")
    assert result.exit_code == 2
    assert "not JSON" in result.stderr
    assert result.stdout == ""


def test_json_that_is_not_adf_exits_2_with_the_path() -> None:
    doc = {"type": "doc", "content": [{"type": "paragraph", "content": "oops"}]}
    result = runner.invoke(app, ["markup", "adf-to-wiki"], input=json.dumps(doc))
    assert result.exit_code == 2
    assert "$.content[0].content must be a list" in result.stderr


def test_bad_user_map_exits_2(tmp_path: Path) -> None:
    user_map = tmp_path / "users.json"
    user_map.write_text("[1, 2]")
    result = runner.invoke(app, ["markup", "wiki-to-adf", "--user-map", str(user_map)], input="x")
    assert result.exit_code == 2
    assert "accountId" in result.stderr


def test_non_utf8_input_exits_2() -> None:
    result = runner.invoke(app, ["markup", "wiki-to-adf"], input=b"\xff\xfe\xfa")
    assert result.exit_code == 2
    assert "UTF-8" in result.stderr


def test_absurdly_nested_json_exits_2() -> None:
    result = runner.invoke(app, ["markup", "adf-to-wiki"], input="[" * 100_000)
    assert result.exit_code == 2
    assert "error:" in result.stderr
