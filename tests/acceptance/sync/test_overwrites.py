"""A person's edit of a field the engine is writing, landing just before or after the write.

Alice changes fields on one side; while the engine copies them to the mirror, Bob edits
the same fields on the mirror (``before`` or ``after`` the engine's write). Bob's is the
latest change: the engine must neither store it as synced (after) nor overwrite it for
good (before), unless the pair's rule says the other side wins; and what it cannot rebuild
exactly it records for review instead of guessing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from jirabridge.errors import SkipItemError
from jirabridge.jira import (
    ChangeItem,
    ChangelogEntry,
    CustomFieldValue,
    FieldInfo,
    Issue,
    IssueInput,
    UserRef,
)
from jirabridge.sync.apply._overwrites import last_seen, rebuild
from jirabridge.sync.config import Side
from jirabridge.sync.store import AuditEntry, Store

from .harness import CLOUD_COLOURS, COLOUR, DAY, NUMBER, Bridge, adf_text, bridge, doc

OTHER = {"srv": "cld", "cld": "srv"}
SIDE_NAME = {"srv": "server", "cld": "cloud"}
CUSTOM = {"colour": COLOUR, "effort": NUMBER, "go_live": DAY}


def rules(target: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": n} for n in ("summary", "priority", "labels", "duedate")]
    for name, (_, _, s_id, c_id, _) in CUSTOM.items():
        out.append({"name": name, "server": s_id, "cloud": c_id})
        if name == "colour":
            out[-1]["values"] = "colours"
    if target == "cld":  # a Cloud changelog names the user by account id; a Server one cannot
        out.append({"name": "assignee"})
    return out


def custom(side: str, name: str, value: Any) -> CustomFieldValue:
    _, _, s_id, c_id, _ = CUSTOM[name]
    fid = s_id if side == "srv" else c_id
    schema = {"colour": "option", "effort": "number", "go_live": "date"}[name]
    return CustomFieldValue(fid, schema, value)


def person(b: Bridge, side: str, login: str) -> UserRef:
    u = b.users[side][login]
    return UserRef(name=login) if side == "srv" else UserRef(account_id=u.key)


def edit(b: Bridge, side: str, who: str, n: int) -> IssueInput:
    """Everything ``who`` sets on ``side``: option ``n`` of each choice, values naming them."""
    fields = [
        custom(side, "colour", (COLOUR[4] if side == "srv" else CLOUD_COLOURS)[n]),
        custom(side, "effort", 2.5 + n),
        custom(side, "go_live", date(2030, 1 + n, 8)),
    ]
    return IssueInput(
        summary=f"{who}'s word",
        priority=("Low", "Highest")[n],
        labels=(f"{who}s",),
        due=date(2029, 3 + n, 4),
        assignee=person(b, side, who),
        custom_fields={f.field_id: f for f in fields},
    )


async def shown(b: Bridge, side: str, key: str, n: int) -> dict[str, Any]:
    """The edited fields as ``side`` shows them, and as they are when option ``n`` holds."""
    issue = await b.bot[side].get_issue(key)
    got = {
        "summary": issue.summary,
        "priority": issue.priority,
        "labels": issue.labels,
        "due": issue.due,
        "colour": issue.custom_fields[custom(side, "colour", None).field_id].value,
        "effort": issue.custom_fields[custom(side, "effort", None).field_id].value,
        "go_live": issue.custom_fields[custom(side, "go_live", None).field_id].value,
    }
    who = ("alice", "bob")[n]
    want = {
        "summary": f"{who}'s word",
        "priority": ("Low", "Highest")[n],
        "labels": (f"{who}s",),
        "due": date(2029, 3 + n, 4),
        "colour": (COLOUR[4] if side == "srv" else CLOUD_COLOURS)[n],
        "effort": 2.5 + n,
        "go_live": date(2030, 1 + n, 8),
    }
    return {k: (v, want[k]) for k, v in got.items()}


def around_the_write(
    b: Bridge, target: str, when: str, bobs: Callable[[], Awaitable[Any]]
) -> list[bool]:
    """Make the engine's first field write on ``target`` meet ``bobs`` edit ``when``."""
    client = b.bot[target]
    real = client.edit_issue
    done: list[bool] = []

    async def edit_issue(key: str, data: IssueInput | None = None, **kw: Any) -> Any:
        first = not done
        done.append(True)
        if first and when == "before":
            await asyncio.sleep(0.005)  # a later millisecond than alice's edit
            await bobs()
        result = await real(key, data, **kw)
        if first and when == "after":
            await bobs()
        return result

    client.edit_issue = edit_issue
    return done


def bob_on_cloud_before_the_write(b: Bridge, keys: dict[str, str], change: IssueInput) -> None:
    around_the_write(b, "cld", "before", lambda: b.bob["cld"].edit_issue(keys["cld"], change))


def lost_edits(b: Bridge) -> list[AuditEntry]:
    with b.store.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.kind == "edit_overwritten")))


async def paired(b: Bridge, origin: str) -> dict[str, str]:
    key = await b.alice[origin].create_issue(
        IssueInput(project_key="OPS", issue_type="Task", summary="pair")
    )
    await b.settle()
    return {origin: key, OTHER[origin]: b.mirror_of(origin, key)}


@pytest.mark.parametrize("target", ["cld", "srv"])
@pytest.mark.parametrize("when", ["before", "after"])
async def test_bobs_edit_of_every_kind_wins_on_both_sides(
    store: Store, target: str, when: str
) -> None:
    """Text, priority, labels, due date, option, number, date (and a Cloud user): every
    field Bob edits around the engine's write ends with his value on both sides. Before the
    write, the engine overwrote him: it writes his value back (no person's edit is lost) and
    records the conflict it met, won by his side; after it, the next job copies his edit."""
    source = OTHER[target]
    async with bridge(store, {"fields": rules(target)}) as b:
        keys = await paired(b, source)
        done = around_the_write(
            b,
            target,
            when,
            lambda: b.bob[target].edit_issue(keys[target], edit(b, target, "bob", 1)),
        )
        await b.alice[source].edit_issue(keys[source], edit(b, source, "alice", 0))
        await b.settle()
        assert done
        for side in ("srv", "cld"):
            for name, (got, want) in (await shown(b, side, keys[side], 1)).items():
                assert got == want, (side, name)
        if target == "cld":
            for side in ("srv", "cld"):
                assignee = (await b.bot[side].get_issue(keys[side])).assignee
                assert assignee is not None and b.users[side]["bob"].key in (
                    assignee.account_id,
                    assignee.key,
                ), side
        conflicts = {c.field: c for c in b.conflicts()}
        if when == "after":
            assert conflicts == {}
        else:
            assert set(conflicts) == {r["name"] for r in rules(target)}
            assert {c.winner for c in conflicts.values()} == {SIDE_NAME[target]}
            values = conflicts["summary"].server_value, conflicts["summary"].cloud_value
            words = {"srv": "alice's word", "cld": "alice's word"}
            words[target] = "bob's word"
            assert values == ({"value": words["srv"]}, {"value": words["cld"]})
        assert lost_edits(b) == []
        assert await b.settle() == 1  # settled: a poll finds nothing more


async def test_the_rules_side_keeps_its_value_over_an_edit_it_overwrote(store: Store) -> None:
    """Rule ``server_wins``: Bob's Cloud edits that the engine's write replaced stay replaced
    (as they would have, seen before), and each conflict names his value (as the field
    holds it: labels a list) and Server as winner."""
    fields = [{"name": n, "conflict": "server_wins"} for n in ("summary", "labels")]
    async with bridge(store, {"fields": fields}) as b:
        keys = await paired(b, "srv")
        bob_on_cloud_before_the_write(b, keys, IssueInput(summary="bob's", labels=("b2", "b1")))
        await b.alice["srv"].edit_issue(keys["srv"], IssueInput(summary="alice's", labels=("a",)))
        await b.settle()
        for side in ("srv", "cld"):
            issue = await b.bot[side].get_issue(keys[side])
            assert (issue.summary, issue.labels) == ("alice's", ("a",))
        conflicts = {c.field: c for c in b.conflicts()}
        assert {f: c.winner for f, c in conflicts.items()} == {
            "summary": "server",
            "labels": "server",
        }
        assert conflicts["summary"].cloud_value == {"value": "bob's"}
        assert conflicts["summary"].server_value == {"value": "alice's"}
        assert conflicts["labels"].cloud_value == {"value": ["b1", "b2"]}
        assert conflicts["labels"].server_value == {"value": ["a"]}
        assert lost_edits(b) == []


async def test_rich_text_it_cannot_rebuild_is_recorded_for_review_not_guessed(
    store: Store,
) -> None:
    """Bob's Cloud description, overwritten by Alice's from Server: the changelog keeps only
    its text (no formatting), so the engine does not write a guess back: the conflict (no
    winner written) and an ``edit_overwritten`` entry name the field, Bob, the time and his
    text."""
    fields = [{"name": "summary"}, {"name": "description"}]
    async with bridge(store, {"fields": fields}) as b:
        keys = await paired(b, "srv")
        bobs = doc(
            [
                {"type": "text", "text": "bob's ", "marks": [{"type": "strong"}]},
                {"type": "text", "text": "text"},
            ]
        )
        bob_on_cloud_before_the_write(b, keys, IssueInput(description=bobs))
        await b.alice["srv"].edit_issue(keys["srv"], IssueInput(description=doc("alice's text")))
        await b.settle()
        for side in ("srv", "cld"):
            issue = await b.bot[side].get_issue(keys[side])
            assert adf_text(issue.description) == "alice's text", side
        [conflict] = b.conflicts()
        assert (conflict.field, conflict.winner) == ("description", "none")
        assert conflict.cloud_value == {"value": "bob's text"}
        [entry] = lost_edits(b)
        assert entry.subject == keys["cld"] and entry.site == "cld"
        assert "description" in entry.message and "Bob Brown" in entry.message
        assert "'bob's text'" in entry.message or '"bob\'s text"' in entry.message
        assert entry.details["value"] == "bob's text" and entry.details["author"] == "Bob Brown"


def item(to: str | None = None, text: str | None = None) -> ChangeItem:
    return ChangeItem("f", to_value=to, to_string=text)


def info(schema: str, custom_key: str = "x:select") -> FieldInfo:
    return FieldInfo("customfield_1", "F", True, schema_type=schema, custom_key=custom_key)


@pytest.mark.parametrize(
    ("field_id", "change", "field", "side", "want"),
    [
        ("summary", item(text="a b"), None, Side.SERVER, "a b"),
        ("labels", item(text="b a"), None, Side.CLOUD, ["a", "b"]),
        (
            "duedate",
            item(to="2030-02-03", text="2030-02-03 00:00:00.0"),
            None,
            Side.CLOUD,
            "2030-02-03",
        ),
        ("assignee", item(to="acc-1", text="Bob"), None, Side.CLOUD, {"accountId": "acc-1"}),
        ("customfield_1", item(to="3", text="Red"), info("option"), Side.SERVER, "Red"),
        ("customfield_1", item(text="2.5"), info("number"), Side.CLOUD, 2.5),
        ("customfield_1", item(to="2030-02-03"), info("date"), Side.SERVER, "2030-02-03"),
        ("customfield_1", item(text="x"), info("string", "x:textfield"), Side.CLOUD, "x"),
        # not exact, or not writable from what the changelog holds: None, never a guess
        ("description", item(text="bold words"), None, Side.CLOUD, None),
        ("customfield_1", item(text="t"), info("string", "x:textarea"), Side.SERVER, None),
        ("summary", item(), None, Side.CLOUD, None),
        ("labels", item(text=""), None, Side.CLOUD, None),
        ("duedate", item(to="soon"), None, Side.CLOUD, None),
        ("assignee", item(to="JIRAUSER1", text="Bob"), None, Side.SERVER, None),
        ("customfield_1", item(text="many"), info("number"), Side.CLOUD, None),
        ("customfield_1", item(to="[1, 2]", text="A,B"), info("array"), Side.CLOUD, None),
        ("customfield_1", item(text="x"), None, Side.CLOUD, None),
    ],
)
def test_rebuild_gives_only_exact_values(
    field_id: str, change: ChangeItem, field: FieldInfo | None, side: Side, want: Any
) -> None:
    assert rebuild(field_id, change, field, side) == want


async def test_an_edit_landing_just_before_the_write_back_is_written_back_too(
    store: Store,
) -> None:
    """Bob edits the Cloud summary before the engine's write (it writes his value back) and
    again just before that write back: the engine reads once more, finds his newer edit
    replaced and writes it back as well. Both sides end with his last word."""
    fields = [{"name": "summary"}]
    async with bridge(store, {"fields": fields}) as b:
        keys = await paired(b, "srv")
        bob = b.bob["cld"]
        words = iter(["bob's first", "bob's last"])
        real = b.bot["cld"].edit_issue
        calls: list[int] = []

        async def bob_edits_before_two(key: str, data: IssueInput | None = None, **kw: Any) -> Any:
            calls.append(1)
            if len(calls) <= 2:  # the engine's write, then its write back
                await asyncio.sleep(0.005)
                await bob.edit_issue(keys["cld"], IssueInput(summary=next(words)))
            return await real(key, data, **kw)

        b.bot["cld"].edit_issue = bob_edits_before_two
        await b.alice["srv"].edit_issue(keys["srv"], IssueInput(summary="alice's"))
        await b.settle()
        assert next(words, None) is None, "both of bob's edits were made"
        for side in ("srv", "cld"):
            assert (await b.bot[side].get_issue(keys[side])).summary == "bob's last", side
        assert lost_edits(b) == []


async def test_a_write_back_the_site_refuses_is_recorded(store: Store) -> None:
    """The site refuses the write back (say, Bob's priority was removed meanwhile): the
    engine records his lost value for review and completes the job."""
    fields = [{"name": "summary"}, {"name": "priority"}]
    async with bridge(store, {"fields": fields}) as b:
        keys = await paired(b, "srv")
        bob_on_cloud_before_the_write(b, keys, IssueInput(priority="Highest"))
        first = b.bot["cld"].edit_issue
        calls: list[int] = []

        async def refuse_second(key: str, data: IssueInput | None = None, **kw: Any) -> Any:
            calls.append(1)
            if len(calls) == 2:
                raise SkipItemError("priority: no such priority")
            return await first(key, data, **kw)

        b.bot["cld"].edit_issue = refuse_second
        await b.alice["srv"].edit_issue(keys["srv"], IssueInput(priority="Low"))
        await b.settle()
        assert len(calls) >= 2
        [entry] = lost_edits(b)
        assert "priority" in entry.message and "writing it back failed" in entry.message
        assert entry.details["value"] == "Highest"
        [conflict] = b.conflicts()
        assert (conflict.field, conflict.winner) == ("priority", "none")
        assert b.runner.queue.dead_letters() == []


def test_last_seen_orders_only_numeric_history_ids() -> None:
    at = datetime(2030, 1, 1, tzinfo=UTC)

    def issue(*ids: str | None) -> Issue:
        log = tuple(ChangelogEntry(at, (item(),), id=i) for i in ids)
        return Issue("OPS-1", "OPS", "Task", "s", "Open", changelog=log)

    assert last_seen(issue()) == 0
    assert last_seen(issue("9", "10", "2")) == 10
    assert last_seen(issue("9", None)) is None
    assert last_seen(issue("9", "x1")) is None
