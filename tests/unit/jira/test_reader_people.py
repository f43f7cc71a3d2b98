"""An issue's people are read once per answer, however often they recur in it."""

from __future__ import annotations

from typing import Any

import pytest

from jirabridge.errors import BadInputError
from jirabridge.jira import IssueReader, JiraFlavour, PlainCodec, UserRef


class CountingUsers:
    def __init__(self) -> None:
        self.asked: list[UserRef] = []

    def complete(self, user: UserRef) -> UserRef | None:
        self.asked.append(user)
        return UserRef(account_id="acc-" + (user.name or "?"), name=user.name, key=user.key)


def _issue(histories: list[dict[str, Any]]) -> dict[str, Any]:
    alice = {"name": "alice", "key": "alice", "displayName": "Alice"}
    return {
        "id": "1",
        "key": "OPS-1",
        "fields": {"summary": "s", "assignee": alice, "reporter": alice},
        "changelog": {"histories": histories},
    }


def _entry(n: int, author: Any) -> dict[str, Any]:
    return {
        "id": str(n),
        "created": "2026-01-05T09:00:00.000+0000",
        "author": author,
        "items": [{"field": "summary", "fromString": "a", "toString": "b"}],
    }


def test_a_recurring_person_is_completed_once_and_the_same_everywhere() -> None:
    users = CountingUsers()
    reader = IssueReader(JiraFlavour.SERVER, PlainCodec(), users=users)
    bob = {"name": "bob", "key": "bob", "displayName": "Bob"}
    alice = {"name": "alice", "key": "alice", "displayName": "Alice"}
    issue = reader.issue(_issue([_entry(n, bob if n % 2 else alice) for n in range(40)]))
    assert sorted(u.name or "" for u in users.asked) == ["alice", "bob"]
    assert issue.assignee == issue.reporter == issue.changelog[0].author
    assert issue.assignee is not None and issue.assignee.account_id == "acc-alice"
    assert {e.author for e in issue.changelog} == {issue.assignee, issue.changelog[1].author}


def test_people_who_differ_in_any_detail_are_read_apart() -> None:
    reader = IssueReader(JiraFlavour.SERVER, PlainCodec())
    old = {"name": "bob", "key": "bob", "displayName": "Bob", "active": True}
    gone = {**old, "active": False}
    issue = reader.issue(_issue([_entry(1, old), _entry(2, gone)]))
    assert [e.author.active for e in issue.changelog if e.author] == [True, False]


def test_a_person_with_a_non_scalar_detail_is_still_read() -> None:
    reader = IssueReader(JiraFlavour.SERVER, PlainCodec())
    odd = {"name": "bob", "displayName": {"nested": "value"}}
    issue = reader.issue(_issue([_entry(1, odd), _entry(2, odd)]))
    assert [e.author.name for e in issue.changelog if e.author] == ["bob", "bob"]


def test_a_broken_changelog_entry_is_still_bad_input() -> None:
    reader = IssueReader(JiraFlavour.SERVER, PlainCodec())
    with pytest.raises(BadInputError):
        reader.issue(_issue([{"id": "1", "items": []}]))  # no creation time
    with pytest.raises(BadInputError):
        reader.issue(_issue([{"created": "2026-01-05T09:00:00.000+0000", "items": 5}]))
