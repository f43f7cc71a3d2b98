"""Webhook payloads have the structure of Jira's real captures for the same event kinds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jirabridge.emulator.faces import payload_builder
from jirabridge.emulator.model import Visibility
from tests.unit.emulator_http.sites import adf, small_site

#: Keys Jira no longer sends on Cloud users (removed for GDPR in 2019; e-mail only when the
#: user allows it) and that older captures still show.
CLOUD_USER_VARIABLE = {"name", "key", "emailAddress", "accountType"}
#: Fields that differ per site configuration, not per Jira version.
SITE_SPECIFIC_FIELDS = {"security", "lastViewed", "environment"}
#: Keys that come and go between Jira versions in the captures themselves (one Server capture
#: has ``projectTypeKey``/``avatarId``, the next does not; Cloud added ``hierarchyLevel`` and
#: ``simplified`` after 2019).
VERSION_DEPENDENT = {"projectTypeKey", "avatarId", "hierarchyLevel", "simplified"}
#: Keys present only for some data: ``percent`` with time tracked, ``visibility`` on
#: restricted comments; the time-tracking object lists only the estimates that are set.
DATA_DEPENDENT = {"percent", "visibility"}


def _is_user(value: dict[str, Any]) -> bool:
    return "displayName" in value and "avatarUrls" in value


def shape_diff(ours: Any, theirs: Any, *, cloud: bool, path: str = "$") -> list[str]:
    """Differences of key sets between two JSON values, recursively (None matches anything)."""
    if ours is None or theirs is None:
        return []
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [f"{path}: object expected, got {type(ours).__name__}"]
        ignore: set[str] = set()
        if cloud and _is_user(theirs):
            ignore |= CLOUD_USER_VARIABLE
        if path.endswith(".fields"):
            ignore |= SITE_SPECIFIC_FIELDS
        if path.endswith(".timetracking"):
            return []
        ignore |= VERSION_DEPENDENT | DATA_DEPENDENT
        mine = {k for k in ours if not k.startswith("customfield_")} - ignore
        real = {k for k in theirs if not k.startswith("customfield_")} - ignore
        out = []
        if mine != real:
            out.append(f"{path}: missing {sorted(real - mine)}, extra {sorted(mine - real)}")
        for key in mine & real:
            out += shape_diff(ours[key], theirs[key], cloud=cloud, path=f"{path}.{key}")
        return out
    if isinstance(theirs, list):
        if not isinstance(ours, list):
            return [f"{path}: array expected"]
        if ours and theirs:
            return shape_diff(ours[0], theirs[0], cloud=cloud, path=f"{path}[0]")
    return []


def _capture(shared_dir: Path, flavour: str, name: str) -> dict[str, Any]:
    return json.loads((shared_dir / "fixtures" / "webhooks" / flavour / name).read_text())


def _events(flavour: str) -> dict[str, dict[str, Any]]:
    """Drive a site through the captured kinds of change and render each event."""
    site = small_site(flavour)
    cloud = flavour == "cloud"
    build = payload_builder(site, cloud=cloud, base_url="http://127.0.0.1:8080")
    rendered: list[dict[str, Any]] = []
    site.subscribe(lambda event: rendered.append(dict(build(event) or {})))

    def text(value: str) -> Any:
        return adf(value) if cloud else value

    admin = site.admin_key
    issue = site.create_issue(
        admin,
        {"project": {"key": "CLS"}, "issuetype": {"name": "Task"}, "summary": "webhooks"},
    )
    site.edit_issue(admin, issue.key, {"summary": "webhooks 2", "labels": ["a"]})
    comment = site.add_comment(admin, issue.key, text("hello"))
    site.update_comment(admin, issue.key, comment.id, text("hello again"))
    site.add_comment(admin, issue.key, text("secret"), visibility=Visibility("group", "devs"))
    resolve = next(t for t in site.available_transitions(issue.key) if t.name.startswith("Resolve"))
    site.transition_issue(admin, issue.key, resolve.id, {"resolution": {"name": "Done"}})
    site.delete_comment(admin, issue.key, comment.id)
    out: dict[str, dict[str, Any]] = {}
    for payload in rendered:
        kind = payload.get("webhookEvent", "")
        out.setdefault(f"{kind}/{payload.get('issue_event_type_name')}", payload)
    return out


SERVER_CASES = [
    ("jira:issue_updated/issue_updated", "webhook-server-issue-updated-many-fields.json"),
    ("jira:issue_updated/issue_resolved", "webhook-server-issue-updated-resolved.json"),
    ("jira:issue_updated/issue_commented", "webhook-server-issue-updated-commented-2.json"),
    ("jira:issue_updated/issue_comment_edited", "webhook-server-issue-updated-comment-edited.json"),
    (
        "jira:issue_updated/issue_comment_deleted",
        "webhook-server-issue-updated-comment-deleted.json",
    ),
    ("comment_created/None", "webhook-server-comment-created.json"),
    ("comment_updated/None", "webhook-server-comment-updated.json"),
    ("comment_deleted/None", "webhook-server-comment-deleted.json"),
]
CLOUD_CASES = [
    ("jira:issue_created/issue_created", "webhook-cloud-issue-created-many-fields.json"),
    ("jira:issue_updated/issue_updated", "webhook-cloud-issue-updated-custom-field.json"),
    ("comment_created/None", "webhook-cloud-comment-created.json"),
    ("comment_updated/None", "webhook-cloud-comment-updated.json"),
    ("comment_deleted/None", "webhook-cloud-comment-deleted.json"),
]


@pytest.mark.parametrize(
    ("flavour", "kind", "capture"),
    [("server", *c) for c in SERVER_CASES] + [("cloud", *c) for c in CLOUD_CASES],
)
def test_payload_structure_equals_capture(
    shared_dir: Path, flavour: str, kind: str, capture: str
) -> None:
    ours = _events(flavour)
    assert kind in ours, sorted(ours)
    theirs = _capture(shared_dir, flavour, capture)
    assert shape_diff(ours[kind], theirs, cloud=flavour == "cloud") == []


def test_comparison_can_fail(shared_dir: Path) -> None:
    theirs = _capture(shared_dir, "server", "webhook-server-comment-created.json")
    broken = json.loads(json.dumps(theirs))
    del broken["comment"]["author"]["displayName"]
    assert shape_diff(broken, theirs, cloud=False)


def test_payloads_carry_wiki_strings_and_restricted_comments(shared_dir: Path) -> None:
    ours = _events("cloud")
    comment = ours["comment_created/None"]["comment"]
    assert comment["body"] == "hello"
    assert ours["jira:issue_updated/issue_updated"]["changelog"]["items"]
