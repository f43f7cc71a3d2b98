from __future__ import annotations

import pytest

from jirabridge.emulator.model import (
    Flavour,
    NotFound,
    PermissionDenied,
    Site,
    ValidationFailed,
    _social,
)

from .conftest import bug, rich


def test_remote_links_upsert_by_global_id(site: Site) -> None:
    issue = bug(site)
    first, created = site.add_remote_link(
        site.admin_key, issue.key, "https://a.test/1", "One", global_id="sys=a&id=1"
    )
    assert created
    again, created = site.add_remote_link(
        site.admin_key, issue.key, "https://a.test/1b", "One again", global_id="sys=a&id=1"
    )
    assert not created and again is first and first.title == "One again"
    other, _ = site.add_remote_link(site.admin_key, issue.key, "https://b.test", "Two")
    assert [r.id for r in site.issue_remote_links(issue.key)] == [first.id, other.id]
    assert site.issue_remote_links(issue.key, global_id="sys=a&id=1") == [first]
    with pytest.raises(ValidationFailed) as err:
        site.add_remote_link(site.admin_key, issue.key, "", "")
    assert set(err.value.errors) == {"url", "title"}
    site.delete_remote_link(site.admin_key, issue.key, first.id)
    with pytest.raises(NotFound):
        site.get_remote_link(issue.key, first.id)


def test_attachments(site: Site) -> None:
    issue = bug(site)
    att = site.add_attachment(site.admin_key, issue.key, "notes.txt", b"hello")
    assert (att.mime_type, att.size) == ("text/plain", 5)
    item = site.issue_changelog(issue.key)[-1].items[0]
    assert (item.field, item.to_value, item.to_string) == ("Attachment", str(att.id), "notes.txt")
    for bad in ("", "../etc/passwd", "a\\b", ".."):
        with pytest.raises(ValidationFailed):
            site.add_attachment(site.admin_key, issue.key, bad, b"x")
    bob = site.find_user("bob@jirabridge.test")
    assert bob is not None
    with pytest.raises(PermissionDenied):
        site.delete_attachment(bob.key, att.id)
    site.delete_attachment(site.admin_key, att.id)
    assert site.issue_attachments(issue.key) == []
    with pytest.raises(NotFound):
        site.get_attachment(att.id)


def test_worklog_update_and_delete(site: Site) -> None:
    issue = bug(site)
    wl = site.add_worklog(site.admin_key, issue.key, 3600)
    site.update_worklog(site.admin_key, issue.key, wl.id, time_spent="2h")
    assert issue.fields["timespent"] == 7200 and wl.time_spent_seconds == 7200
    bob = site.find_user("bob@jirabridge.test")
    assert bob is not None
    with pytest.raises(PermissionDenied):
        site.delete_worklog(bob.key, issue.key, wl.id)
    site.delete_worklog(site.admin_key, issue.key, wl.id)
    assert "timespent" not in issue.fields
    assert site.issue_worklogs(issue.key) == []
    with pytest.raises(ValidationFailed):
        site.add_worklog(site.admin_key, issue.key, 0)


def test_watchers_and_votes(site: Site) -> None:
    issue = bug(site)
    bob = site.find_user("bob@jirabridge.test")
    assert bob is not None
    assert issue.watchers == {site.admin_key}  # the reporter watches
    site.add_watcher(bob.key, issue.key)
    with pytest.raises(PermissionDenied):
        site.remove_watcher(bob.key, issue.key, site.admin_key)
    site.remove_watcher(site.admin_key, issue.key, bob.key)
    assert issue.watchers == {site.admin_key}
    with pytest.raises(PermissionDenied):
        site.vote(site.admin_key, issue.key)  # the reporter may not vote
    site.vote(bob.key, issue.key)
    assert issue.voters == {bob.key}
    site.unvote(bob.key, issue.key)
    assert issue.voters == set()


def test_cloud_per_issue_limits(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_social.CLOUD_LIMITS, "comments", 2)
    issue = bug(site)
    site.add_comment(site.admin_key, issue.key, rich(site, "1"))
    site.add_comment(site.admin_key, issue.key, rich(site, "2"))
    if site.flavour is Flavour.SERVER:
        site.add_comment(site.admin_key, issue.key, rich(site, "3"))  # no limit on Server
        return
    with pytest.raises(ValidationFailed) as err:
        site.add_comment(site.admin_key, issue.key, rich(site, "3"))
    assert err.value.status == 413
    assert len(site.issue_comments(issue.key)) == 2


def test_links_are_not_duplicated_and_need_two_issues(site: Site) -> None:
    a, b = bug(site, "a"), bug(site, "b")
    first = site.create_link(site.admin_key, "Blocks", a.key, b.key)
    assert site.create_link(site.admin_key, "blocks", a.key, b.key) is first  # by outward name
    assert len(site.issue_links(a.key)) == 1
    with pytest.raises(ValidationFailed):
        site.create_link(site.admin_key, "Blocks", a.key, a.key)
    with pytest.raises(NotFound):
        site.create_link(site.admin_key, "Nope", a.key, b.key)
    site.delete_issue(site.admin_key, b.key)
    assert site.issue_links(a.key) == []
