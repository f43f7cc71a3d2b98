"""Every synced field kind, in both directions, through the real runner between both emulators."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from jirabridge.jira import CustomFieldValue, IssueInput, UserRef
from jirabridge.sync.store import Store

from .harness import (
    CLOUD_COLOURS,
    CLOUD_TEAMS,
    COLOUR,
    DAY,
    NUMBER,
    REVIEWER,
    TEAMS,
    Bridge,
    bridge,
)

OTHER = {"srv": "cld", "cld": "srv"}


def user_ref(b: Bridge, side: str, login: str) -> UserRef:
    u = b.users[side][login]
    if side == "srv":
        return UserRef(name=login, key=u.key)
    return UserRef(account_id=u.key)


def same_person(b: Bridge, side: str, ref: UserRef | None, login: str) -> bool:
    if ref is None:
        return False
    u = b.users[side][login]
    return u.key in (ref.account_id, ref.key) or ref.name == login


def custom(field: tuple[Any, ...], side: str, value: Any) -> dict[str, CustomFieldValue]:
    _name, type_key, s_id, c_id, _ = field
    fid = s_id if side == "srv" else c_id
    schema = {
        "float": ("number", None),
        "datepicker": ("date", None),
        "select": ("option", None),
        "multiselect": ("array", "option"),
        "userpicker": ("user", None),
    }[type_key]
    return {fid: CustomFieldValue(fid, schema[0], value, items=schema[1])}


def cvalue(issue: Any, field: tuple[Any, ...], side: str) -> Any:
    fid = field[2] if side == "srv" else field[3]
    v = issue.custom_fields.get(fid)
    return None if v is None else v.value


def epic_name(b: Bridge, side: str) -> dict[str, Any]:
    """Server wants an Epic Name on an epic."""
    if side != "srv":
        return {}
    fields = b.apps["srv"].site.fields.values()
    fid = next(f.id for f in fields if (f.custom or "").endswith("gh-epic-label"))
    return {fid: "The epic"}


def colour(side: str, i: int) -> str:
    return COLOUR[4][i] if side == "srv" else CLOUD_COLOURS[i]


def teams(side: str, idx: tuple[int, ...]) -> tuple[str, ...]:
    names = TEAMS[4] if side == "srv" else CLOUD_TEAMS
    return tuple(names[i] for i in idx)


@pytest.mark.slow
@pytest.mark.parametrize("origin", ["srv", "cld"])
async def test_standard_fields_number_and_date_flow_from_either_side(
    store: Store, origin: str
) -> None:
    target = OTHER[origin]
    async with bridge(store) as b:
        epic = await b.alice[origin].create_issue(
            IssueInput(
                project_key="OPS",
                issue_type="Epic",
                summary="The epic",
                extra_fields=epic_name(b, origin),
            )
        )
        key = await b.alice[origin].create_issue(
            IssueInput(
                project_key="OPS",
                issue_type="Story",
                summary="Every field",
                priority="High",
                labels=("alpha", "beta"),
                components=("Backend",),
                fix_versions=("1.0",),
                due=date(2026, 3, 1),
                assignee=user_ref(b, origin, "bob"),
                custom_fields={
                    **custom(NUMBER, origin, 3.5),
                    **custom(DAY, origin, date(2026, 4, 2)),
                },
            )
        )
        await b.alice[origin].edit_issue(key, IssueInput(parent_key=epic))
        await b.settle()
        mirror_key = b.mirror_of(origin, key)
        epic_mirror = b.mirror_of(origin, epic)
        m = await b.bot[target].get_issue(mirror_key)
        assert m.summary == "Every field"
        assert m.priority == "High"
        assert set(m.labels) == {"alpha", "beta"}
        assert m.components == ("Backend",)
        assert m.fix_versions == ("1.0",)
        assert m.due == date(2026, 3, 1)
        assert same_person(b, target, m.assignee, "bob")
        assert same_person(b, target, m.reporter, "alice")
        assert cvalue(m, NUMBER, target) == 3.5
        assert cvalue(m, DAY, target) in (date(2026, 4, 2), "2026-04-02")
        assert m.parent_key == epic_mirror

        # then every field changes on the origin side and follows
        await b.bob[origin].edit_issue(
            key,
            IssueInput(
                summary="Every field, edited",
                priority="Low",
                labels=("gamma",),
                components=("Frontend", "Backend"),
                fix_versions=("2.0",),
                due=date(2026, 5, 5),
                assignee=user_ref(b, origin, "alice"),
                reporter=user_ref(b, origin, "bob"),
                custom_fields={
                    **custom(NUMBER, origin, 8.0),
                    **custom(DAY, origin, date(2026, 6, 7)),
                },
            ),
        )
        await b.settle()
        m = await b.bot[target].get_issue(mirror_key)
        assert m.summary == "Every field, edited"
        assert m.priority == "Low"
        assert m.labels == ("gamma",)
        assert set(m.components) == {"Frontend", "Backend"}
        assert m.fix_versions == ("2.0",)
        assert m.due == date(2026, 5, 5)
        assert same_person(b, target, m.assignee, "alice")
        assert same_person(b, target, m.reporter, "bob")
        assert cvalue(m, NUMBER, target) == 8.0
        assert cvalue(m, DAY, target) in (date(2026, 6, 7), "2026-06-07")
        # nothing flowed back: the origin still has its own values
        o = await b.bot[origin].get_issue(key)
        assert o.summary == "Every field, edited" and o.priority == "Low"
        assert b.conflicts() == []


@pytest.mark.parametrize("origin", ["srv", "cld"])
async def test_select_multiselect_and_user_picker_are_translated(store: Store, origin: str) -> None:
    target = OTHER[origin]
    async with bridge(store) as b:
        key = await b.alice[origin].create_issue(
            IssueInput(
                project_key="OPS",
                issue_type="Task",
                summary="Options",
                custom_fields={
                    **custom(COLOUR, origin, colour(origin, 0)),
                    **custom(TEAMS, origin, teams(origin, (0, 1))),
                    **custom(REVIEWER, origin, user_ref(b, origin, "alice")),
                },
            )
        )
        await b.settle()
        assert b.runner.queue.dead_letters() == []
        m = await b.bot[target].get_issue(b.mirror_of(origin, key))
        assert cvalue(m, COLOUR, target) == colour(target, 0)
        assert set(cvalue(m, TEAMS, target)) == set(teams(target, (0, 1)))
        assert same_person(b, target, cvalue(m, REVIEWER, target), "alice")
        await b.alice[origin].edit_issue(
            key,
            IssueInput(
                custom_fields={
                    **custom(COLOUR, origin, colour(origin, 1)),
                    **custom(TEAMS, origin, teams(origin, (1,))),
                    **custom(REVIEWER, origin, user_ref(b, origin, "bob")),
                }
            ),
        )
        await b.settle()
        m = await b.bot[target].get_issue(b.mirror_of(origin, key))
        assert cvalue(m, COLOUR, target) == colour(target, 1)
        assert tuple(cvalue(m, TEAMS, target)) == teams(target, (1,))
        assert same_person(b, target, cvalue(m, REVIEWER, target), "bob")
