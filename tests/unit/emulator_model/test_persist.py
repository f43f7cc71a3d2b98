from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from jirabridge.emulator.model import Clock, Flavour, Site, StateFileError
from jirabridge.emulator.seed import seed_demo
from jirabridge.errors import BadInputError

from .conftest import FROZEN, bug, rich


def test_round_trip_keeps_everything(site: Site, tmp_path: Path) -> None:
    issue = bug(site, labels=["x"], duedate="2026-03-01")
    site.add_comment(site.admin_key, issue.key, rich(site, "c"))
    site.add_attachment(site.admin_key, issue.key, "bin.dat", bytes(range(256)))
    site.set_property("issue", issue.key, "p", {"nested": [1, {"$odd": "key"}]})
    site.transition_issue(site.admin_key, issue.key, 5)
    path = tmp_path / "state.json.gz"
    site.save(path)
    loaded = Site.load(path, clock=Clock(FROZEN))
    assert loaded.to_state() == site.to_state()
    again = loaded.get_issue(issue.key)
    assert again is not issue
    assert again.fields == issue.fields
    assert loaded.issue_attachments(issue.key)[0].content == bytes(range(256))
    assert loaded.get_property("issue", issue.key, "p") == {"nested": [1, {"$odd": "key"}]}
    # the loaded site keeps working and keeps counting ids where the saved one stopped
    nxt = bug(loaded, "after load")
    assert nxt.id == bug(site, "after load").id


def test_round_trip_of_a_seeded_site(tmp_path: Path) -> None:
    site = Site(Flavour.CLOUD)
    seed_demo(site, seed=3)
    path = tmp_path / "s.json.gz"
    site.save(path)
    assert Site.load(path).to_state() == site.to_state()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x1f\x8b\x08\x00garbage", "not valid gzip"),
        (b"{not json", "not valid JSON"),
        (b'{"format": "something-else", "flavour": "server"}', "not a jirabridge emulator state"),
        (b"[1, 2, 3]", "not a jirabridge emulator state"),
    ],
)
def test_corrupt_state_files_fail_clearly(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json.gz"
    path.write_bytes(content)
    with pytest.raises(StateFileError) as err:
        Site.load(path)
    assert message in str(err.value)
    assert isinstance(err.value, BadInputError)


def _saved(site: Site, tmp_path: Path) -> dict:
    """The state as the JSON document form (which load also accepts)."""
    return json.loads(json.dumps(site.to_state()))


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "edited.json.gz"
    path.write_bytes(gzip.compress(json.dumps(data).encode()))
    return path


def test_truncated_file(site: Site, tmp_path: Path) -> None:
    path = tmp_path / "ok.json.gz"
    site.save(path)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(StateFileError, match="gzip"):
        Site.load(path)


def test_newer_version_and_wrong_flavour(site: Site, tmp_path: Path) -> None:
    data = _saved(site, tmp_path)
    data["version"] = 99
    with pytest.raises(StateFileError, match="version 99"):
        Site.load(_write(tmp_path, data))
    data["version"] = 1
    other = Site(Flavour.CLOUD if site.flavour is Flavour.SERVER else Flavour.SERVER)
    with pytest.raises(StateFileError, match="site"):
        other.load_into(_write(tmp_path, data))


def test_unknown_record_types_are_refused_and_nothing_changes(site: Site, tmp_path: Path) -> None:
    issue = bug(site)
    data = _saved(site, tmp_path)
    key = next(iter(data["stores"]["issues"]["$map"]))
    key[1] = {"$rec": "os.system", "f": {"command": "rm -rf /"}}
    before = site.to_state()
    with pytest.raises(StateFileError, match="unknown record type"):
        site.load_into(_write(tmp_path, data))
    assert site.to_state() == before
    assert site.get_issue(issue.key) is issue


def test_inconsistent_state_is_refused(site: Site, tmp_path: Path) -> None:
    bug(site)
    data = _saved(site, tmp_path)
    data["stores"]["issues_by_key"] = {}
    with pytest.raises(StateFileError, match="inconsistent"):
        Site.load(_write(tmp_path, data))
    data = _saved(site, tmp_path)
    del data["stores"]["comments"]
    with pytest.raises(StateFileError, match="incomplete"):
        Site.load(_write(tmp_path, data))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="Cannot read"):
        Site.load(tmp_path / "nope.json.gz")


def test_plain_json_is_accepted(site: Site, tmp_path: Path) -> None:
    bug(site)
    path = tmp_path / "plain.json"
    path.write_text(json.dumps(site.to_state()))
    assert Site.load(path).to_state() == site.to_state()


def _lines(path: Path) -> list[str]:
    return gzip.decompress(path.read_bytes()).decode().splitlines()


def test_file_is_json_lines_in_bounded_chunks(site: Site, tmp_path: Path) -> None:
    from jirabridge.emulator.model import _persist

    for n in range(5):
        bug(site, f"b{n}")
    path = tmp_path / "s.json.gz"
    old_chunk = _persist.CHUNK
    _persist.CHUNK = 2
    try:
        site.save(path)
    finally:
        _persist.CHUNK = old_chunk
    lines = _lines(path)
    head = json.loads(lines[0])
    assert head["layout"] == "lines" and head["flavour"] == site.flavour.value
    issue_lines = [json.loads(x) for x in lines[1:] if json.loads(x).get("store") == "issues"]
    assert [len(x["items"]) for x in issue_lines] == [2, 2, 1]
    assert Site.load(path).to_state() == site.to_state()


def _rewrite(path: Path, lines: list[str]) -> None:
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))


def test_damaged_lines_are_refused_and_nothing_changes(site: Site, tmp_path: Path) -> None:
    issue = bug(site)
    path = tmp_path / "s.json.gz"
    site.save(path)
    lines = _lines(path)
    target = Site(site.flavour)
    before = target.to_state()
    n = next(i for i, x in enumerate(lines) if json.loads(x).get("store") == "issues")
    cases = {
        "not valid JSON": [*lines[:n], lines[n][: len(lines[n]) // 2], *lines[n + 1 :]],
        "incomplete": lines[:n] + lines[n + 1 :],
        "unknown store": [*lines, json.dumps({"store": "evil", "value": 1})],
        "unknown record type": [
            *lines[:n],
            json.dumps({"store": "issues", "items": [[issue.id, {"$rec": "os", "f": {}}]]}),
            *lines[n + 1 :],
        ],
    }
    for message, damaged in cases.items():
        _rewrite(path, damaged)
        with pytest.raises(StateFileError, match=message):
            target.load_into(path)
        assert target.to_state() == before, message


def test_size_limit(site: Site, tmp_path: Path) -> None:
    from jirabridge.emulator.model._persist import load_state_file

    path = tmp_path / "s.json.gz"
    site.save(path)
    with pytest.raises(StateFileError, match="more than 1000 bytes"):
        load_state_file(Site(site.flavour), path, max_bytes=1000)


def test_rich_text_with_dollar_keys_and_values_round_trips(site: Site, tmp_path: Path) -> None:
    issue = bug(site)
    if site.flavour is Flavour.CLOUD:
        odd = {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "$5 fee"}]}],
            "attrs": {"$rec": "Issue", "f": {}},
        }
    else:
        odd = "$rec costs $5"
    comment = site.add_comment(site.admin_key, issue.key, odd)
    site.set_property("comment", comment.id, "$weird", {"$dt": "not a date", "n": [1, 2]})
    path = tmp_path / "s.json.gz"
    site.save(path)
    loaded = Site.load(path)
    assert loaded.comments[comment.id].body == odd
    assert loaded.get_property("comment", comment.id, "$weird") == {
        "$dt": "not a date",
        "n": [1, 2],
    }
    assert loaded.to_state() == site.to_state()
