"""Status, rich text, comments, deletes, links, sprints, conflicts and many concurrent edits."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from jirabridge.jira import IssueInput, LinkDirection
from jirabridge.sync.store import Store

from .harness import Bridge, adf_nodes, adf_text, bridge, doc

OTHER = {"srv": "cld", "cld": "srv"}


async def new_pair(b: Bridge, origin: str, summary: str = "pair") -> tuple[str, str]:
    key = await b.alice[origin].create_issue(
        IssueInput(project_key="OPS", issue_type="Task", summary=summary)
    )
    await b.settle()
    return key, b.mirror_of(origin, key)


async def walk_to(b: Bridge, side: str, key: str, status: str) -> None:
    """A person moves the issue one transition at a time until it is in ``status``."""
    for _ in range(6):
        issue = await b.alice[side].get_issue(key)
        if issue.status == status:
            return
        options = await b.alice[side].transitions(key)
        step = next((t for t in options if t.to_status == status), None)
        step = step or next(t for t in options if t.to_status != issue.status)
        await b.alice[side].transition(key, step.id)
    raise AssertionError(f"could not reach {status}")


@pytest.mark.parametrize("origin", ["srv", "cld"])
async def test_status_follows_through_several_steps_with_resolution_and_back(
    store: Store, origin: str
) -> None:
    target = OTHER[origin]
    async with bridge(store) as b:
        key, mirror = await new_pair(b, origin)
        assert (await b.bot[target].get_issue(mirror)).status == "To Do"
        # two steps on the origin before the engine looks: the mirror must walk both
        await walk_to(b, origin, key, "In Progress")
        await walk_to(b, origin, key, "Done")
        await b.settle()
        m = await b.bot[target].get_issue(mirror)
        assert (m.status, m.resolution) == ("Done", "Done")
        # and back the other way, started on the mirror's side
        await walk_to(b, target, mirror, "To Do")
        await b.settle()
        o = await b.bot[origin].get_issue(key)
        assert o.status == "To Do"
        assert o.resolution is None
        assert b.runner.queue.dead_letters() == []


def server_wiki(b: Bridge, key: str, attr: str = "description") -> str:
    value = b.model_issue("srv", key).fields.get(attr)
    assert isinstance(value, str), value
    return value


async def test_description_formatting_and_mentions_server_to_cloud(store: Store) -> None:
    async with bridge(store) as b:
        key = await b.alice["srv"].create_issue(
            IssueInput(
                project_key="OPS",
                issue_type="Task",
                summary="rich",
                extra_fields={"description": "Ping [~bob]: this is *urgent* now"},
            )
        )
        await b.settle()
        stored = b.model_issue("cld", b.mirror_of("srv", key)).fields["description"]
        nodes = adf_nodes(stored)
        bold = [
            n
            for n in nodes
            if n.get("type") == "text" and {"type": "strong"} in (n.get("marks") or [])
        ]
        assert [n["text"] for n in bold] == ["urgent"]
        mentions = [n for n in nodes if n.get("type") == "mention"]
        assert [m["attrs"]["id"] for m in mentions] == [b.users["cld"]["bob"].key]


async def test_description_formatting_and_mentions_cloud_to_server(store: Store) -> None:
    async with bridge(store) as b:
        bob = b.users["cld"]["bob"].key
        body = doc(
            [
                {"type": "text", "text": "Ping "},
                {"type": "mention", "attrs": {"id": bob, "text": "@Bob Brown"}},
                {"type": "text", "text": ": this is "},
                {"type": "text", "text": "urgent", "marks": [{"type": "strong"}]},
            ]
        )
        key = await b.alice["cld"].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary="rich", description=body)
        )
        await b.settle()
        wiki = server_wiki(b, b.mirror_of("cld", key))
        assert "*urgent*" in wiki
        assert "[~bob]" in wiki


async def test_description_formatting_survives_both_ways(store: Store) -> None:
    """Formatting without mentions: bold and a list from Server reach Cloud as ADF marks and
    a list, and a Cloud edit comes back as wiki markup."""
    async with bridge(store) as b:
        key = await b.alice["srv"].create_issue(
            IssueInput(
                project_key="OPS",
                issue_type="Task",
                summary="rich",
                extra_fields={"description": "this is *urgent*\n\n* one\n* two"},
            )
        )
        await b.settle()
        mirror = b.mirror_of("srv", key)
        nodes = adf_nodes(b.model_issue("cld", mirror).fields["description"])
        assert any(
            n.get("text") == "urgent" and {"type": "strong"} in (n.get("marks") or [])
            for n in nodes
        )
        assert any(n.get("type") == "bulletList" for n in nodes)
        await b.alice["cld"].edit_issue(
            mirror,
            IssueInput(
                description=doc(
                    [{"type": "text", "text": "now", "marks": [{"type": "em"}]}], "second"
                )
            ),
        )
        await b.settle()
        wiki = server_wiki(b, key)
        assert "_now_" in wiki and "second" in wiki


def comment_texts(comments: list[Any]) -> list[str]:
    return [adf_text(c.body) for c in comments]


@pytest.mark.parametrize("origin", ["srv", "cld"])
async def test_comments_add_edit_delete_follow_without_duplicates(
    store: Store, origin: str
) -> None:
    target = OTHER[origin]
    async with bridge(store) as b:
        key, mirror = await new_pair(b, origin)
        first = await b.alice[origin].add_comment(key, doc("first words"))
        await b.bob[origin].add_comment(key, doc("second words"))
        await b.settle()
        got = comment_texts([c async for c in b.bot[target].comments(mirror)])
        assert len(got) == 2
        assert "Alice Adams" in got[0] and "first words" in got[0]
        assert "Bob Brown" in got[1] and "second words" in got[1]
        await b.alice[origin].update_comment(key, first.id, doc("first words, fixed"))
        await b.settle()
        got = comment_texts([c async for c in b.bot[target].comments(mirror)])
        assert len(got) == 2 and "first words, fixed" in got[0]
        await b.alice[origin].delete_comment(key, first.id)
        await b.settle()
        got = comment_texts([c async for c in b.bot[target].comments(mirror)])
        assert len(got) == 1 and "second words" in got[0]
        # a reply on the mirror's side comes back once, and nothing is doubled
        await b.alice[target].add_comment(mirror, doc("reply"))
        await b.settle()
        back = comment_texts([c async for c in b.bot[origin].comments(key)])
        assert len(back) == 2 and "reply" in back[1]
        assert len([c async for c in b.bot[target].comments(mirror)]) == 2


async def test_comment_mention_reaches_cloud_as_a_mention(store: Store) -> None:
    async with bridge(store) as b:
        key, mirror = await new_pair(b, "srv")
        from jirabridge.jira import basic_auth

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=b.apps["srv"]),
            base_url=b.apps["srv"].base_url,
        ) as c:
            r = await c.post(
                f"/rest/api/2/issue/{key}/comment",
                auth=basic_auth("alice", "pw"),
                json={"body": "thanks [~bob], *great* work"},
            )
            assert r.status_code == 201, r.text
        await b.settle()
        [comment] = [c async for c in b.bot["cld"].comments(mirror)]
        mentions = [n for n in adf_nodes(comment.body) if n.get("type") == "mention"]
        assert [m["attrs"]["id"] for m in mentions] == [b.users["cld"]["bob"].key]


async def test_issue_deleted_on_one_side_is_not_recreated_and_nothing_breaks(
    store: Store,
) -> None:
    """Issue deletion is logged, not mirrored (the engine's documented rule): the deleted
    issue is not recreated from its mirror, the mirror is kept, nothing is dead-lettered."""
    async with bridge(store, with_webhooks=True) as b:
        key, mirror = await new_pair(b, "srv")
        other, other_mirror = await new_pair(b, "srv", "survivor")
        b.apps["srv"].site.delete_issue(b.users["srv"]["alice"].key, key)
        await b.alice["srv"].edit_issue(other, IssueInput(summary="survivor edited"))
        await b.flush_webhooks()
        await b.settle()
        assert b.runner.queue.dead_letters() == []
        assert [i.key async for i in b.bot["srv"].search('project = "OPS"')] == [other]
        assert (await b.bot["cld"].get_issue(mirror)).summary == "pair"
        assert (await b.bot["cld"].get_issue(other_mirror)).summary == "survivor edited"
        # and a delete on Cloud is the same
        b.apps["cld"].site.delete_issue(b.users["cld"]["alice"].key, other_mirror)
        await b.flush_webhooks()
        await b.settle()
        assert (await b.bot["srv"].get_issue(other)).summary == "survivor edited"
        assert b.runner.queue.dead_letters() == []


@pytest.mark.parametrize("origin", ["srv", "cld"])
async def test_deletes_mirror_removes_the_other_issue_once(store: Store, origin: str) -> None:
    """With ``deletes: mirror`` a deleted issue takes its mirror with it (found by the
    webhook, or by polling when the webhook is lost); other pairs are untouched."""
    target = OTHER[origin]
    async with bridge(store, {"deletes": "mirror"}, with_webhooks=True) as b:
        key, mirror = await new_pair(b, origin, "doomed")
        other, other_mirror = await new_pair(b, origin, "kept")
        b.apps[origin].site.delete_issue(b.users[origin]["alice"].key, key)
        await b.flush_webhooks()
        await b.settle()
        left = [i.key async for i in b.bot[target].search('project = "OPS"')]
        assert left == [other_mirror]
        kept = (other, other_mirror) if origin == "srv" else (other_mirror, other)
        assert [(r.server_key, r.cloud_key) for r in b.pairs().values()] == [kept]
        assert b.runner.queue.dead_letters() == []
        # nothing comes back: the origin has only the kept issue, once
        assert [i.key async for i in b.bot[origin].search('project = "OPS"')] == [other]


@pytest.mark.parametrize("origin", ["srv", "cld"])
async def test_issue_links_between_pairs_are_added_on_the_other_side(
    store: Store, origin: str
) -> None:
    target = OTHER[origin]
    async with bridge(store) as b:
        first, first_m = await new_pair(b, "srv", "first")
        second, second_m = await new_pair(b, "cld", "second")
        here = {"srv": (first, second_m), "cld": (first_m, second)}
        there = {"srv": (first, second_m), "cld": (first_m, second)}[target]
        types = [t["name"] for t in await b.alice[origin].link_types()]
        kind = "Blocks" if "Blocks" in types else types[0]
        await b.alice[origin].create_link(kind, *here[origin])
        await b.settle()
        links = (await b.bot[target].get_issue(there[0])).links
        assert [(x.type_name, x.direction, x.other_key) for x in links] == [
            (kind, LinkDirection.OUTWARD, there[1])
        ]
        # once on each side, and a second settle adds nothing
        await b.settle()
        assert len((await b.bot[origin].get_issue(here[origin][0])).links) == 1
        assert len((await b.bot[target].get_issue(there[0])).links) == 1


async def test_sprint_membership_follows_both_ways(store: Store) -> None:
    async with bridge(store) as b:
        ids: dict[str, dict[str, int]] = {"srv": {}, "cld": {}}
        for name, app in b.apps.items():
            board = app.site.create_board("OPS board", "scrum", project_ref="OPS")
            for sprint in ("Sprint 1", "Sprint 2"):
                ids[name][sprint] = app.site.create_sprint(app.site.admin_key, board.id, sprint).id
        key, mirror = await new_pair(b, "srv")

        async def sprints(side: str, k: str) -> list[int]:
            issue = await b.bot[side].get_issue(k)
            vals = [v.value for v in issue.custom_fields.values() if "sprint" in (v.custom or "")]
            return sorted(i for v in vals for i in (v or ()))

        await b.alice["srv"].move_to_sprint(ids["srv"]["Sprint 1"], [key])
        await b.settle()
        assert await sprints("cld", mirror) == [ids["cld"]["Sprint 1"]]
        await b.alice["cld"].move_to_sprint(ids["cld"]["Sprint 2"], [mirror])
        await b.settle()
        assert await sprints("srv", key) == [ids["srv"]["Sprint 2"]]


@pytest.mark.parametrize(("rule", "winner"), [("server_wins", "srv"), ("cloud_wins", "cld")])
async def test_conflict_follows_the_configured_rule_and_is_recorded(
    store: Store, rule: str, winner: str
) -> None:
    fields = [{"name": "summary", "conflict": rule}, {"name": "priority"}]
    async with bridge(store, {"fields": fields}) as b:
        key, mirror = await new_pair(b, "srv")
        keys = {"srv": key, "cld": mirror}
        # the winner edits first, so "latest wins" would pick the other side
        await b.alice[winner].edit_issue(keys[winner], IssueInput(summary=f"{winner} says"))
        await asyncio.sleep(0.02)
        loser = OTHER[winner]
        await b.alice[loser].edit_issue(keys[loser], IssueInput(summary=f"{loser} says"))
        await b.settle()
        for side in ("srv", "cld"):
            assert (await b.bot[side].get_issue(keys[side])).summary == f"{winner} says"
        [conflict] = b.conflicts()
        assert conflict.field == "summary"
        assert conflict.winner == {"srv": "server", "cld": "cloud"}[winner]


PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
EDITED = ("summary", "priority", "labels")
SIDE_NAME = {"srv": "server", "cld": "cloud"}


@dataclass(frozen=True)
class Edit:
    """One person's edit of one field of one pair (``pair`` indexes the list of pairs)."""

    pair: int
    side: str
    field: str
    value: str | tuple[str, ...]


def plan_edits(count: int, start: list[dict[str, Any]], seed: int) -> list[Edit]:
    """``count`` edits, random pair / side / field, each a real change on its side whatever
    the engine did meanwhile: summaries and labels are unique, and a priority edit picks one
    its pair has never had (when none is left, the edit goes to the summary). A value then
    names the edit that wrote it. Per pair, the list order is the order they are made in.
    ``start``: the values of each pair before."""
    rng = random.Random(seed)
    had = [{values["priority"]} for values in start]
    edits = []
    for n in range(count):
        i, side, what = rng.randrange(len(start)), rng.choice(["srv", "cld"]), rng.choice(EDITED)
        fresh = [p for p in PRIORITIES if p not in had[i]]
        value: str | tuple[str, ...] = f"edit {n}"
        if what == "priority" and fresh:
            value = rng.choice(fresh)
            had[i].add(value)
        elif what == "labels":
            value = (f"l{n}",)
        else:
            what = "summary"
        edits.append(Edit(i, side, what, value))
    return edits


async def make_edits(b: Bridge, pairs: list[dict[str, str]], edits: list[Edit]) -> None:
    """All pairs at once; one pair's edits one after another, alice and bob in turn, each a
    few milliseconds after the last answer so their changelog times (milliseconds, the
    same clock on both sites) are strictly in list order."""

    async def one_pair(mine: list[Edit]) -> None:
        for n, e in enumerate(mine):
            who = (b.alice, b.bob)[n % 2][e.side]
            await who.edit_issue(pairs[e.pair][e.side], IssueInput(**{e.field: e.value}))
            await asyncio.sleep(0.005)

    await asyncio.gather(*(one_pair([e for e in edits if e.pair == i]) for i in range(len(pairs))))


async def ten_pairs(b: Bridge) -> list[dict[str, str]]:
    """Ten issues, made on either side, and their mirrors: ``{"srv": key, "cld": key}``."""
    pairs = []
    for i in range(10):
        side = "srv" if i % 2 else "cld"
        key = await b.alice[side].create_issue(
            IssueInput(project_key="OPS", issue_type="Task", summary=f"issue {i}")
        )
        pairs.append({side: key})
    await b.settle()
    for pair in pairs:
        [(side, key)] = pair.items()
        pair[OTHER[side]] = b.mirror_of(side, key)
    return pairs


async def edited_values(b: Bridge, side: str, key: str) -> dict[str, Any]:
    issue = await b.bot[side].get_issue(key)
    return {"summary": issue.summary, "priority": issue.priority, "labels": tuple(issue.labels)}


def pair_index(b: Bridge, pairs: list[dict[str, str]]) -> dict[int | None, int]:
    """Issue pair id in the store -> index in ``pairs``."""
    index = {p["srv"]: i for i, p in enumerate(pairs)}
    return {r.id: index[r.server_key] for r in b.pairs().values()}


def plain(value: Any) -> Any:
    """A value as a conflict record keeps it, in the shape :class:`Edit` uses."""
    value = value.get("value") if isinstance(value, dict) else value
    if isinstance(value, dict):
        return value.get("name")
    return tuple(sorted(value)) if isinstance(value, list) else value


Outcome = tuple[list[dict[str, Any]], set[tuple[int, str, Any, Any, str, str]]]


def expected_outcome(
    edits: list[Edit], start: list[dict[str, Any]], rules: dict[str, str]
) -> Outcome:
    """What the engine must end with when it sees all ``edits`` at once: per pair the value
    of each field, and the conflicts (pair, field, Server value, Cloud value, rule, winner).
    Edited on one side: that side's last value. On both: a conflict, won by the rule's side,
    or for ``latest`` by the side whose last edit came later (list order is time order)."""
    values = [dict(before) for before in start]
    conflicts = set()
    for i in range(len(start)):
        for name, rule in rules.items():
            last = {
                e.side: (n, e.value) for n, e in enumerate(edits) if (e.pair, e.field) == (i, name)
            }
            if not last:
                continue
            winner = max(last, key=lambda side: last[side][0])
            if len(last) == 2:
                winner = {"server_wins": "srv", "cloud_wins": "cld"}.get(rule, winner)
                row = (i, name, last["srv"][1], last["cld"][1], rule, SIDE_NAME[winner])
                conflicts.add(row)
            values[i][name] = last[winner][1]
    return values, conflicts


async def assert_values(
    b: Bridge, pairs: list[dict[str, str]], values: list[dict[str, Any]]
) -> None:
    for i, pair in enumerate(pairs):
        for side in ("srv", "cld"):
            assert await edited_values(b, side, pair[side]) == values[i], (i, side)


@pytest.mark.slow
async def test_hundred_concurrent_edits_converge_on_the_latest_change(store: Store) -> None:
    """100 edits on both sides of ten pairs while the engine runs (webhooks and polling).
    Rule ``latest``: whatever the engine saw in between, each field ends at the value of its
    last edit, on both sides; and every conflict it met names the later edit's side."""
    rules = dict.fromkeys(EDITED, "latest")
    async with bridge(store, {"fields": [{"name": n} for n in rules]}, with_webhooks=True) as b:
        pairs = await ten_pairs(b)
        start = [await edited_values(b, "srv", p["srv"]) for p in pairs]
        edits = plan_edits(100, start, seed=4)

        async def engine() -> None:  # the runner polls and applies while people edit
            stop = asyncio.Event()
            task = asyncio.create_task(b.runner.run(stop))
            await asyncio.sleep(1.0)
            stop.set()
            await task

        await asyncio.gather(engine(), make_edits(b, pairs, edits))
        await b.flush_webhooks()
        await b.settle(rounds=12)
        values, _ = expected_outcome(edits, start, rules)
        await assert_values(b, pairs, values)
        assert b.runner.queue.dead_letters() == []
        # which edits met in one job depends on the engine's timing; each that did names the
        # values of one edit per side, and the side of the later one as the winner
        made = {(e.pair, e.field, e.value): (n, e.side) for n, e in enumerate(edits)}
        pair_of = pair_index(b, pairs)
        for c in b.conflicts():
            i = pair_of[c.issue_pair_id]
            s_at, s_side = made[(i, c.field, plain(c.server_value))]
            c_at, c_side = made[(i, c.field, plain(c.cloud_value))]
            assert (s_side, c_side, c.rule) == ("srv", "cld", "latest"), c
            assert c.winner == ("server" if s_at > c_at else "cloud"), c
        for side in ("srv", "cld"):
            assert len([i async for i in b.bot[side].search('project = "OPS"')]) == 10


@pytest.mark.slow
async def test_hundred_edits_on_both_sides_follow_each_fields_rule(store: Store) -> None:
    """100 edits on both sides of ten pairs while the engine is down, then it catches up.
    Summary: latest change wins; priority: Server wins; labels: Cloud wins. A field edited
    on one side only takes that side's last value; edited on both, the rule's winner's
    last value, with one conflict recorded for review naming both values and the winner."""
    rules = {"summary": "latest", "priority": "server_wins", "labels": "cloud_wins"}
    fields = [{"name": name, "conflict": rule} for name, rule in rules.items()]
    async with bridge(store, {"fields": fields}, with_webhooks=True) as b:
        pairs = await ten_pairs(b)
        start = [await edited_values(b, "srv", p["srv"]) for p in pairs]
        edits = plan_edits(100, start, seed=7)
        await make_edits(b, pairs, edits)
        await b.flush_webhooks()
        await b.settle(rounds=12)
        values, conflicts = expected_outcome(edits, start, rules)
        await assert_values(b, pairs, values)
        pair_of = pair_index(b, pairs)
        recorded = {
            (pair_of[c.issue_pair_id], c.field, plain(c.server_value), plain(c.cloud_value))
            + (c.rule, c.winner)
            for c in b.conflicts()
        }
        assert len(b.conflicts()) == len(recorded), "a conflict recorded twice"
        assert recorded == conflicts
        assert {row[1] for row in conflicts} == set(rules), "the seed must make each rule meet"
        assert b.runner.queue.dead_letters() == []


BOBS_SUMMARY = ("cld", {"summary": "bob's word"}, ("bob's word", "Medium"))


@pytest.mark.parametrize(
    ("when", "side", "change", "end"),
    [
        pytest.param(
            "after", "srv", {"priority": "Highest"}, ("alice's word", "Highest"), id="other-field"
        ),
        pytest.param("after", *BOBS_SUMMARY, id="same-field-after"),
        pytest.param("before", *BOBS_SUMMARY, id="same-field-before"),
    ],
)
async def test_an_edit_landing_during_an_apply_is_not_lost(
    store: Store, when: str, side: str, change: dict[str, str], end: tuple[str, str]
) -> None:
    """Alice changes the Server summary; while the engine copies it to the Cloud mirror, Bob
    makes ``change`` on ``side`` just ``when`` the engine's write: Bob's is the latest change,
    so under the ``latest`` rule both sides end with his edit and Alice's where his is not
    (the deterministic form of what the hundred-edits-while-running test meets by chance)."""
    fields = [{"name": "summary"}, {"name": "priority"}]
    async with bridge(store, {"fields": fields}) as b:
        key, mirror = await new_pair(b, "srv")
        keys = {"srv": key, "cld": mirror}
        cloud = b.bot["cld"]
        real_edit = cloud.edit_issue
        done: list[bool] = []

        async def bob_edits_around_the_write(k: str, data: IssueInput, **kw: Any) -> Any:
            first = not done
            done.append(True)
            if first and when == "before":
                await asyncio.sleep(0.005)  # a later millisecond than alice's edit
                await b.bob[side].edit_issue(keys[side], IssueInput(**change))
            result = await real_edit(k, data, **kw)
            if first and when == "after":
                await b.bob[side].edit_issue(keys[side], IssueInput(**change))
            return result

        cloud.edit_issue = bob_edits_around_the_write
        await b.alice["srv"].edit_issue(key, IssueInput(summary="alice's word"))
        await b.settle()
        assert done
        cloud.edit_issue = real_edit
        await b.settle()
        got = {}
        for s, k in keys.items():
            issue = await b.bot[s].get_issue(k)
            got[s] = (issue.summary, issue.priority)
        assert got == {"srv": end, "cld": end}


async def test_comment_formatting_and_mention_cloud_to_server_with_edit(store: Store) -> None:
    async with bridge(store) as b:
        key, mirror = await new_pair(b, "srv")
        bob = b.users["cld"]["bob"].key
        body = doc(
            [
                {"type": "text", "text": "ask "},
                {"type": "mention", "attrs": {"id": bob, "text": "@Bob Brown"}},
                {"type": "text", "text": " about "},
                {"type": "text", "text": "fuses", "marks": [{"type": "strong"}]},
            ]
        )
        made = await b.alice["cld"].add_comment(mirror, body)
        await b.settle()
        [comment] = b.apps["srv"].site.issue_comments(key)
        wiki = comment.body
        assert isinstance(wiki, str)
        assert "[~bob]" in wiki and "*fuses*" in wiki
        await b.alice["cld"].update_comment(
            mirror,
            made.id,
            doc([{"type": "text", "text": "never mind", "marks": [{"type": "em"}]}]),
        )
        await b.settle()
        texts = [c.body for c in b.apps["srv"].site.issue_comments(key)]
        assert len(texts) == 1 and "_never mind_" in texts[0]
