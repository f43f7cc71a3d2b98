from __future__ import annotations

import pytest

from jirabridge.emulator.model import (
    PermissionDenied,
    Site,
    ValidationFailed,
    Visibility,
    parse_visibility,
)

from .conftest import bug, rich


def test_comment_visibility_by_group_and_role(site: Site) -> None:
    issue = bug(site)
    bob = site.find_user("bob@jirabridge.test")
    assert bob is not None
    site.create_group("secret-club")
    public = site.add_comment(site.admin_key, issue.key, rich(site, "all"))
    by_group = site.add_comment(
        site.admin_key, issue.key, rich(site, "club"), visibility=Visibility("group", "secret-club")
    )
    by_role = site.add_comment(
        site.admin_key,
        issue.key,
        rich(site, "devs"),
        visibility=parse_visibility({"type": "role", "value": "Developers"}),
    )
    assert [c.id for c in site.issue_comments(issue.key, viewer_key=bob.key)] == [public.id]
    site.add_to_group("secret-club", bob.key)
    assert [c.id for c in site.issue_comments(issue.key, viewer_key=bob.key)] == [
        public.id,
        by_group.id,
    ]
    site.add_role_member("CLS", "Developers", bob.key)
    assert len(site.issue_comments(issue.key, viewer_key=bob.key)) == 3
    assert not site.can_see(None, issue, by_role.visibility)
    assert len(site.issue_comments(issue.key)) == 3  # no viewer: unfiltered, for the faces


def test_bad_visibility_is_refused(site: Site) -> None:
    issue = bug(site)
    with pytest.raises(ValidationFailed) as err:
        site.add_comment(
            site.admin_key, issue.key, rich(site, "x"), visibility=Visibility("group", "nobody")
        )
    assert err.value.errors == {"commentLevel": "Group: nobody does not exist."}
    with pytest.raises(ValidationFailed):
        site.add_comment(
            site.admin_key, issue.key, rich(site, "x"), visibility=Visibility("role", "Nope")
        )
    with pytest.raises(ValidationFailed):
        parse_visibility({"type": "planet", "value": "x"})
    assert site.issue_comments(issue.key) == []


def test_empty_comment_is_refused(site: Site) -> None:
    issue = bug(site)
    with pytest.raises(ValidationFailed) as err:
        site.add_comment(site.admin_key, issue.key, "")
    assert err.value.errors == {"comment": "Comment body can not be empty!"}


def test_only_author_or_admin_edits_a_comment(site: Site) -> None:
    issue = bug(site)
    bob = site.find_user("bob@jirabridge.test")
    assert bob is not None
    mine = site.add_comment(site.admin_key, issue.key, rich(site, "admin's"))
    with pytest.raises(PermissionDenied) as err:
        site.update_comment(bob.key, issue.key, mine.id, rich(site, "hijack"))
    assert err.value.status == 403
    assert mine.body == rich(site, "admin's")
    own = site.add_comment(bob.key, issue.key, rich(site, "bob's"))
    site.update_comment(bob.key, issue.key, own.id, rich(site, "bob's v2"))
    assert own.body == rich(site, "bob's v2") and own.update_author_key == bob.key
    site.delete_comment(site.admin_key, issue.key, own.id)  # admins may
    assert [c.id for c in site.issue_comments(issue.key)] == [mine.id]
