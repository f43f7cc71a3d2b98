"""A tiny issue type and resolver, so the engine is tested without the model."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from jirabridge.emulator.jql import FieldDef, FieldKind, JqlError, Resolver

PROJECTS = {"OPS": 10000, "DEV": 10001}
PROJECT_NAMES = {"operations": 10000, "development": 10001}
STATUSES = {"open": 1, "in progress": 3, "done": 10001}
STATUS_CATEGORY = {1: "To Do", 3: "In Progress", 10001: "Done"}
STATUS_ORDER = {1: 0, 3: 1, 10001: 2}
PRIORITIES = {"highest": 1, "high": 2, "medium": 3, "low": 4}
USERS = {"alice": "JIRAUSER1", "bob": "JIRAUSER2", "carol": "JIRAUSER3"}
GROUPS = {"devs": frozenset({"JIRAUSER1", "JIRAUSER2"})}
SPRINTS = {"sprint 1": (1, "closed"), "sprint 2": (2, "open")}


@dataclass(frozen=True)
class FakeIssue:
    key: str
    summary: str
    project: int = 10000
    status: int = 1
    priority: int | None = 3
    assignee: str | None = None
    reporter: str = "JIRAUSER1"
    labels: frozenset[str] = frozenset()
    created: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    updated: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    due: datetime | None = None
    description: str | None = None
    comments: tuple[str, ...] = ()
    points: float | None = None
    sprints: frozenset[int] = frozenset()

    @property
    def number(self) -> int:
        return int(self.key.rsplit("-", 1)[1])


def _key_resolve(text: str, name: str) -> frozenset[object]:
    proj, _, num = text.upper().rpartition("-")
    if not proj or not num.isdigit():
        raise JqlError(f"The issue key '{text}' for field '{name}' is invalid.")
    pid = PROJECTS.get(proj)
    return frozenset() if pid is None else frozenset({(pid, int(num))})


def _lookup(table: dict[str, object]) -> object:
    def resolve(text: str, _name: str) -> frozenset[object]:
        low = text.lower()
        if low in table:
            return frozenset({table[low]})
        if text.isdigit() and int(text) in table.values():
            return frozenset({int(text)})
        return frozenset()

    return resolve


def _project(text: str, _name: str) -> frozenset[object]:
    if text.upper() in PROJECTS:
        return frozenset({PROJECTS[text.upper()]})
    if text.lower() in PROJECT_NAMES:
        return frozenset({PROJECT_NAMES[text.lower()]})
    if text.isdigit() and int(text) in PROJECTS.values():
        return frozenset({int(text)})
    return frozenset()


def _user(text: str, _name: str) -> frozenset[object]:
    key = USERS.get(text.lower())
    return frozenset({key}) if key else frozenset()


def _sprint(text: str, _name: str) -> frozenset[object]:
    if text.isdigit():
        return (
            frozenset({int(text)})
            if any(s[0] == int(text) for s in SPRINTS.values())
            else frozenset()
        )
    s = SPRINTS.get(text.lower())
    return frozenset({s[0]}) if s else frozenset()


def _category(text: str, _name: str) -> frozenset[object]:
    return frozenset(sid for sid, cat in STATUS_CATEGORY.items() if cat.lower() == text.lower())


FIELDS: dict[str, FieldDef[FakeIssue]] = {
    "project": FieldDef(
        "project", FieldKind.VALUE, lambda i: i.project, _project, lambda i: i.project
    ),
    "key": FieldDef(
        "key",
        FieldKind.KEY,
        lambda i: (i.project, i.number),
        _key_resolve,
        lambda i: (i.key.rsplit("-", 1)[0], i.number),
        emptiable=False,
    ),
    "summary": FieldDef(
        "summary",
        FieldKind.TEXT,
        lambda i: i.summary,
        None,
        lambda i: i.summary.lower(),
        emptiable=False,
    ),
    "description": FieldDef("description", FieldKind.TEXT, lambda i: i.description),
    "text": FieldDef(
        "text",
        FieldKind.TEXT,
        lambda i: (i.summary, i.description or "", *i.comments),
        emptiable=False,
    ),
    "status": FieldDef(
        "status",
        FieldKind.VALUE,
        lambda i: i.status,
        _lookup(STATUSES),
        lambda i: STATUS_ORDER[i.status],
    ),
    "statuscategory": FieldDef("statusCategory", FieldKind.VALUE, lambda i: i.status, _category),
    "priority": FieldDef(
        "priority", FieldKind.VALUE, lambda i: i.priority, _lookup(PRIORITIES), lambda i: i.priority
    ),
    "assignee": FieldDef(
        "assignee", FieldKind.USER, lambda i: i.assignee, _user, lambda i: i.assignee
    ),
    "reporter": FieldDef(
        "reporter", FieldKind.USER, lambda i: i.reporter, _user, lambda i: i.reporter
    ),
    "labels": FieldDef(
        "labels",
        FieldKind.VALUE,
        lambda i: i.labels,
        None,
        lambda i: min(i.labels) if i.labels else None,
        multi=True,
    ),
    "created": FieldDef("created", FieldKind.DATE, lambda i: i.created, None, lambda i: i.created),
    "updated": FieldDef("updated", FieldKind.DATE, lambda i: i.updated, None, lambda i: i.updated),
    "due": FieldDef("due", FieldKind.DATE, lambda i: i.due, None, lambda i: i.due),
    "cf[10016]": FieldDef(
        "customfield_10016", FieldKind.NUMBER, lambda i: i.points, None, lambda i: i.points
    ),
    "sprint": FieldDef("sprint", FieldKind.SPRINT, lambda i: i.sprints, _sprint, None, multi=True),
}
ALIASES = {"issuekey": "key", "story points": "cf[10016]", "duedate": "due"}


class FakeResolver(Resolver[FakeIssue]):
    def __init__(self, now: datetime, viewer: str | None = "JIRAUSER1", tz: tzinfo = UTC) -> None:
        self._now, self._viewer, self._tz = now, viewer, tz

    def field(self, name: str, cf_id: int | None) -> FieldDef[FakeIssue] | None:
        low = f"cf[{cf_id}]" if cf_id is not None else name.lower()
        return FIELDS.get(ALIASES.get(low, low))

    def now(self) -> datetime:
        return self._now

    def time_zone(self) -> tzinfo:
        return self._tz

    def current_user(self) -> object | None:
        return self._viewer

    def members_of(self, group: str) -> frozenset[object] | None:
        members = GROUPS.get(group.lower())
        return None if members is None else frozenset(members)

    def sprints(self, state: str) -> frozenset[object]:
        return frozenset(sid for sid, st in SPRINTS.values() if st == state)


@dataclass
class Corpus:
    issues: list[FakeIssue] = field(default_factory=list)
