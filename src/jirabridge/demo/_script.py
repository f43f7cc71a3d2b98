"""The scripted changes: what the demo's users do on each side, and how convergence is seen.

Each :class:`Change` has a ``make`` step (one user's edits through a client, as in the
browser) and a ``check`` that reads both sides through the clients and compares them
canonically; ``check`` answers ``None`` once they agree, else what still differs. Changes run
as soon as the changes they build on (``after``) have converged: a comment is edited only
once its mirror exists, so what is seen is the edit travelling, not a late first copy.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jirabridge.demo._canon import canonical_text
from jirabridge.demo._config import CLOUD_SITE, FAVOURITE_FOOD, SERVER_SITE
from jirabridge.demo._sites import ACTIVE_SPRINT, PROJECT, DemoSites
from jirabridge.emulator.infra import ControlClient
from jirabridge.errors import JirabridgeError, SkipItemError
from jirabridge.jira import (
    Comment,
    CustomFieldValue,
    Issue,
    IssueInput,
    JiraClient,
    LinkDirection,
    UserRef,
)
from jirabridge.sync.apply import PROPERTY  # the engine's pair marker on both issues

__all__ = [
    "KINDS",
    "Change",
    "ChangeStatus",
    "ScriptContext",
    "build_script",
]


KINDS = (
    "text",
    "priority",
    "labels",
    "custom-field",
    "status",
    "comment",
    "mention",
    "assignee",
    "link",
    "sprint",
    "create",
    "lost-webhook",
)


class ChangeStatus(enum.StrEnum):
    PENDING = "pending"
    CONVERGED = "converged"
    DIVERGED = "diverged"
    FAILED = "edit failed"
    SKIPPED = "skipped"


Check = Callable[["ScriptContext"], Awaitable[str | None]]
Make = Callable[["ScriptContext"], Awaitable[None]]


@dataclass
class Change:
    """One scripted change and what became of it."""

    name: str
    kind: str
    side: str  # where it is made: SERVER_SITE or CLOUD_SITE
    make: Make
    check: Check
    after: tuple[str, ...] = ()  # names of changes that must converge before this is made
    status: ChangeStatus = ChangeStatus.PENDING
    made_at: float | None = None
    converged_at: float | None = None
    divergence: str | None = None

    @property
    def where(self) -> str:
        return "Server" if self.side == SERVER_SITE else "Cloud"

    @property
    def seconds(self) -> float | None:
        if self.made_at is None or self.converged_at is None:
            return None
        return self.converged_at - self.made_at


@dataclass
class ScriptContext:
    """What the changes share: the users' clients, the people, and what earlier steps made."""

    sites: DemoSites
    users: dict[str, JiraClient]
    issue_a: str = ""  # Server keys of three synced issues
    issue_b: str = ""
    issue_c: str = ""
    notes: dict[str, Any] = field(default_factory=dict)
    control: dict[str, ControlClient] = field(default_factory=dict)
    cleanups: list[Make] = field(default_factory=list)

    @property
    def server(self) -> JiraClient:
        return self.users[SERVER_SITE]

    @property
    def cloud(self) -> JiraClient:
        return self.users[CLOUD_SITE]

    def who(self, side: str) -> Callable[[str], str]:
        """Names the person behind a user id as ``side`` knows them (else ``?id``)."""
        people = self.sites.people

        def name(user_id: str) -> str:
            for p in people:
                ids = (
                    (p.server_name, p.server_key) if side == SERVER_SITE else (p.cloud_account_id,)
                )
                if user_id in ids:
                    return p.login
            return f"?{user_id}"

        return name

    def person_of(self, user: UserRef | None, side: str) -> str | None:
        """The person a user value points at on ``side`` (``?label`` when nobody)."""
        if user is None:
            return None
        for p in self.sites.people:
            if side == SERVER_SITE and (user.name == p.server_name or user.key == p.server_key):
                return p.login
            if side == CLOUD_SITE and user.account_id == p.cloud_account_id:
                return p.login
        return f"?{user.label()}"

    def text(self, doc: Any, side: str) -> str:
        """Canonical text, mentions named by the person they point at on ``side``."""
        return canonical_text(doc, self.who(side))

    def words(self, doc: Any) -> str:
        """Canonical text with every mention as a bare ``@`` (formatting, not identity)."""
        return canonical_text(doc, lambda _id: "")

    async def mirror(self, key: str, source: str) -> str | None:
        """The key of ``key``'s mirror on the other side, from the engine's pair marker."""
        client = self.users[source]
        try:
            marker = await client.get_property(key, PROPERTY)
        except SkipItemError:
            return None
        if not isinstance(marker, dict):
            return None
        other = marker.get("cloud" if source == SERVER_SITE else "server")
        return other if isinstance(other, str) else None

    async def pair(self, key: str, source: str) -> tuple[Issue, Issue] | None:
        """(Server issue, Cloud issue) for a key on ``source``, or None without a mirror."""
        other_key = await self.mirror(key, source)
        if other_key is None:
            return None
        other_side = CLOUD_SITE if source == SERVER_SITE else SERVER_SITE
        mine = await self.users[source].get_issue(key)
        theirs = await self.users[other_side].get_issue(other_key)
        return (mine, theirs) if source == SERVER_SITE else (theirs, mine)


def _adf(*paragraphs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": p} for p in paragraphs],
    }


def _t(text: str, *marks: str) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": text}
    if marks:
        node["marks"] = [{"type": m} for m in marks]
    return node


def _mention(user_id: str) -> dict[str, Any]:
    return {"type": "mention", "attrs": {"id": user_id, "text": ""}}


def _differs(label: str, server: object, cloud: object) -> str | None:
    if server == cloud:
        return None
    return f"{label}: Server {server!r} vs Cloud {cloud!r}"


def _expect(label: str, server: object, cloud: object, expected: object) -> str | None:
    """None when both sides hold ``expected`` (the value the script wrote): two sides that
    agree on anything else (a change reverted on both, say) have not converged."""
    differs = _differs(label, server, cloud)
    if differs is not None:
        return f"{differs} (expected {expected!r})"
    if server != expected:
        return f"{label}: both sides {server!r}, expected {expected!r}"
    return None


def _no_mirror(key: str) -> str:
    return f"{key} has no mirror on the other side"


# ---- the changes --------------------------------------------------------------------------


def build_script(ctx: ScriptContext, *, skip: Sequence[str] = ()) -> list[Change]:
    """Every scripted change; kinds in ``skip`` are marked skipped."""
    chloe = ctx.sites.person("chloe")
    dmitri = ctx.sites.person("dmitri")
    elena = ctx.sites.person("elena")
    summary = "Checkout page times out for large carts"
    label_set = ("customer", "demo-sync")

    async def edit_text(c: ScriptContext) -> None:
        doc = _adf(
            [
                _t("Ask "),
                _mention(chloe.server_name),
                _t(" to check the "),
                _t("staging", "strong"),
                _t(" logs and the "),
                _t("retry budget", "em"),
                _t(" first."),
            ],
            [_t("Reproduce with "), _t("cart_size=500", "code"), _t(".")],
        )
        await c.server.edit_issue(c.issue_a, IssueInput(summary=summary, description=doc))
        c.notes["text"] = c.text(doc, SERVER_SITE)
        c.notes["words"] = c.words(doc)

    async def check_text(c: ScriptContext) -> str | None:
        pair = await c.pair(c.issue_a, SERVER_SITE)
        if pair is None:
            return _no_mirror(c.issue_a)
        s, cl = pair
        return _expect("summary", s.summary, cl.summary, summary) or _expect(
            "description", c.words(s.description), c.words(cl.description), c.notes["words"]
        )

    async def check_text_mention(c: ScriptContext) -> str | None:
        pair = await c.pair(c.issue_a, SERVER_SITE)
        if pair is None:
            return _no_mirror(c.issue_a)
        s, cl = pair
        return _differs(
            "description mentions",
            _mentions(c, s.description, SERVER_SITE),
            _mentions(c, cl.description, CLOUD_SITE),
        )

    async def edit_priority(c: ScriptContext) -> None:
        key = await _mirror_key(c, c.issue_b)
        await c.cloud.edit_issue(key, IssueInput(priority="Highest"))

    async def check_priority(c: ScriptContext) -> str | None:
        return await _compare(c, c.issue_b, "priority", lambda i, _s: i.priority, "Highest")

    async def edit_labels(c: ScriptContext) -> None:
        key = await _mirror_key(c, c.issue_c)
        await c.cloud.edit_issue(key, IssueInput(labels=label_set))

    async def check_labels(c: ScriptContext) -> str | None:
        return await _compare(
            c, c.issue_c, "labels", lambda i, _s: sorted(i.labels), sorted(label_set)
        )

    async def edit_custom(c: ScriptContext) -> None:
        await c.server.edit_issue(
            c.issue_b,
            IssueInput(
                custom_fields={
                    FAVOURITE_FOOD[0]: CustomFieldValue(FAVOURITE_FOOD[0], "string", "dumplings")
                }
            ),
        )

    async def check_custom(c: ScriptContext) -> str | None:
        def food(issue: Issue, side: str) -> Any:
            fid = FAVOURITE_FOOD[0] if side == SERVER_SITE else FAVOURITE_FOOD[1]
            value = issue.custom_fields.get(fid)
            return value.value if value is not None else None

        return await _compare(c, c.issue_b, "Favorite Food", food, "dumplings")

    async def transition_server(c: ScriptContext) -> None:
        c.notes["status_1"] = await _transition(c.server, c.issue_c, prefer="In Progress")

    async def check_status_1(c: ScriptContext) -> str | None:
        return await _compare(c, c.issue_c, "status", lambda i, _s: i.status, c.notes["status_1"])

    async def check_status_2(c: ScriptContext) -> str | None:
        return await _compare(c, c.issue_c, "status", lambda i, _s: i.status, c.notes["status_2"])

    async def transition_cloud(c: ScriptContext) -> None:
        key = await _mirror_key(c, c.issue_c)
        c.notes["status_2"] = await _transition(c.cloud, key, prefer="Done")

    async def comment_cloud(c: ScriptContext) -> None:
        key = await _mirror_key(c, c.issue_a)
        body = _adf(
            [
                _mention(elena.cloud_account_id),
                _t(" the fix is on "),
                _t("staging", "strong"),
                _t(", please "),
                _t("verify", "em"),
                _t(" before Friday."),
            ]
        )
        made = await c.cloud.add_comment(key, body)
        c.notes["comment_cloud"] = made

    async def check_comment_cloud(c: ScriptContext) -> str | None:
        found = await _comment_mirror(c, c.issue_a, SERVER_SITE, c.notes["comment_cloud"])
        return found if isinstance(found, str) else None

    async def check_comment_cloud_mention(c: ScriptContext) -> str | None:
        found = await _comment_mirror(c, c.issue_a, SERVER_SITE, c.notes["comment_cloud"])
        if isinstance(found, str):
            return found
        return _differs(
            "comment mentions",
            _mentions(c, found.body, SERVER_SITE),
            _mentions(c, c.notes["comment_cloud"].body, CLOUD_SITE),
        )

    async def comment_server(c: ScriptContext) -> None:
        body = _adf(
            [
                _t("Root cause: "),
                _t("connection pool", "strong"),
                _t(" exhausted; "),
                _mention(dmitri.server_name),
                _t(" owns the fix."),
            ]
        )
        made = await c.server.add_comment(c.issue_b, body)
        c.notes["comment_server"] = made

    async def check_comment_server(c: ScriptContext) -> str | None:
        found = await _comment_mirror(c, c.issue_b, CLOUD_SITE, c.notes["comment_server"])
        if isinstance(found, str):
            return found
        c.notes["comment_server_mirror"] = found.id
        return None

    async def edit_comment(c: ScriptContext) -> None:
        body = _adf(
            [
                _t("Root cause: "),
                _t("connection pool", "strong"),
                _t(" exhausted (pool size 10, needs 40); "),
                _mention(dmitri.server_name),
                _t(" owns the fix."),
            ]
        )
        made = await c.server.update_comment(c.issue_b, c.notes["comment_server"].id, body)
        c.notes["comment_edited"] = made

    async def check_comment_edit(c: ScriptContext) -> str | None:
        found = await _comment_mirror(c, c.issue_b, CLOUD_SITE, c.notes["comment_edited"])
        return found if isinstance(found, str) else None

    async def delete_comment(c: ScriptContext) -> None:
        await c.server.delete_comment(c.issue_b, c.notes["comment_server"].id)

    async def check_comment_delete(c: ScriptContext) -> str | None:
        mirror_id = c.notes.get("comment_server_mirror")
        key = await c.mirror(c.issue_b, SERVER_SITE)
        if key is None:
            return _no_mirror(c.issue_b)
        if mirror_id is None:
            return "the comment was never mirrored, so its deletion cannot be seen"
        ids = [m.id async for m in c.cloud.comments(key)]
        if mirror_id in ids:
            return f"the mirror of the deleted comment is still on Cloud {key}"
        return None

    async def assign(c: ScriptContext) -> None:
        key = await _mirror_key(c, c.issue_b)
        await c.cloud.assign(key, UserRef(account_id=chloe.cloud_account_id))

    async def check_assignee(c: ScriptContext) -> str | None:
        return await _compare(
            c, c.issue_b, "assignee", lambda i, s: c.person_of(i.assignee, s), chloe.login
        )

    async def link(c: ScriptContext) -> None:
        await c.server.create_link("Blocks", c.issue_a, c.issue_c)

    async def check_link(c: ScriptContext) -> str | None:
        a = await c.mirror(c.issue_a, SERVER_SITE)
        cc = await c.mirror(c.issue_c, SERVER_SITE)
        if a is None or cc is None:
            return _no_mirror(c.issue_a if a is None else c.issue_c)
        issue = await c.cloud.get_issue(a, fields=["issuelinks"])
        for found in issue.links:
            if (
                found.type_name == "Blocks"
                and found.direction is LinkDirection.OUTWARD
                and found.other_key == cc
            ):
                return None
        return f"Cloud {a} does not block {cc} (links: {len(issue.links)})"

    async def sprint(c: ScriptContext) -> None:
        sprint_id = await _active_sprint(c.server)
        await c.server.move_to_sprint(sprint_id, [c.issue_a])

    async def check_sprint(c: ScriptContext) -> str | None:
        a = await c.mirror(c.issue_a, SERVER_SITE)
        if a is None:
            return _no_mirror(c.issue_a)
        s_names = await _sprint_names(c.server, c.issue_a)
        c_names = await _sprint_names(c.cloud, a)
        return _expect("sprints", s_names, c_names, [ACTIVE_SPRINT])

    async def create_server(c: ScriptContext) -> None:
        data = IssueInput(
            project_key=PROJECT,
            issue_type="Bug",
            summary="Invoice PDF shows the wrong VAT rate",
            description=_adf(
                [
                    _t("Seen by "),
                    _mention(chloe.server_name),
                    _t(" in "),
                    _t("EU", "strong"),
                    _t(" invoices."),
                ]
            ),
            priority="High",
        )
        c.notes["new_server"] = await c.server.create_issue(data)

    async def check_create_server(c: ScriptContext) -> str | None:
        return await _created(c, c.notes["new_server"], SERVER_SITE)

    async def create_cloud(c: ScriptContext) -> None:
        data = IssueInput(
            project_key=PROJECT,
            issue_type="Task",
            summary="Rotate the payment gateway API keys",
            description=_adf([_t("Due before the "), _t("audit", "em"), _t(".")]),
            priority="Medium",
            labels=("security",),
        )
        c.notes["new_cloud"] = await c.cloud.create_issue(data)

    async def check_create_cloud(c: ScriptContext) -> str | None:
        return await _created(c, c.notes["new_cloud"], CLOUD_SITE)

    async def lose_webhook(c: ScriptContext) -> None:
        control = c.control[CLOUD_SITE]

        async def restore(_c: ScriptContext) -> None:
            await control.webhook_faults(drop_rate=0)

        await control.webhook_faults(drop_rate=1.0)
        c.cleanups.append(restore)
        key = await _mirror_key(c, c.issue_a)
        await c.cloud.edit_issue(key, IssueInput(summary=f"{summary} (seen again on Cloud)"))

    async def check_lost_webhook(c: ScriptContext) -> str | None:
        found = await _compare(
            c, c.issue_a, "summary", lambda i, _s: i.summary, f"{summary} (seen again on Cloud)"
        )
        if found is None:
            dropped = await c.control[CLOUD_SITE].deliveries("dropped")
            await c.control[CLOUD_SITE].webhook_faults(drop_rate=0)
            if not _count(dropped):
                return "converged, but no webhook was dropped: polling was not put to the test"
        return found

    text = "summary + description (formatting, mention)"
    comment_srv = "comment added (formatting, mention)"
    comment_cld = "comment with mention + formatting"
    status_1 = "status by transition"
    script = [
        Change(text, "text", SERVER_SITE, edit_text, check_text),
        Change("priority -> Highest", "priority", CLOUD_SITE, edit_priority, check_priority),
        Change("labels", "labels", CLOUD_SITE, edit_labels, check_labels),
        Change(
            "custom field Favorite Food", "custom-field", SERVER_SITE, edit_custom, check_custom
        ),
        Change(status_1, "status", SERVER_SITE, transition_server, check_status_1),
        Change(comment_cld, "comment", CLOUD_SITE, comment_cloud, check_comment_cloud),
        Change(comment_srv, "comment", SERVER_SITE, comment_server, check_comment_server),
        Change("assignee", "assignee", CLOUD_SITE, assign, check_assignee),
        Change("issue link (Blocks)", "link", SERVER_SITE, link, check_link),
        Change(f"sprint membership ({ACTIVE_SPRINT})", "sprint", SERVER_SITE, sprint, check_sprint),
        Change("new issue on Server", "create", SERVER_SITE, create_server, check_create_server),
        Change("new issue on Cloud", "create", CLOUD_SITE, create_cloud, check_create_cloud),
        Change(
            "mention in the description",
            "mention",
            SERVER_SITE,
            _nothing,
            check_text_mention,
            after=(text,),
        ),
        Change(
            "mention in the comment",
            "mention",
            CLOUD_SITE,
            _nothing,
            check_comment_cloud_mention,
            after=(comment_cld,),
        ),
        Change(
            "status by transition (back)",
            "status",
            CLOUD_SITE,
            transition_cloud,
            check_status_2,
            after=(status_1,),
        ),
        Change(
            "comment edited",
            "comment",
            SERVER_SITE,
            edit_comment,
            check_comment_edit,
            after=(comment_srv,),
        ),
        Change(
            "comment deleted",
            "comment",
            SERVER_SITE,
            delete_comment,
            check_comment_delete,
            after=("comment edited",),
        ),
        Change(
            "summary edit whose webhook is lost (polling)",
            "lost-webhook",
            CLOUD_SITE,
            lose_webhook,
            check_lost_webhook,
            after=(
                text,
                "priority -> Highest",
                "labels",
                comment_cld,
                "new issue on Cloud",
                "status by transition (back)",
            ),
        ),
    ]
    for change in script:
        if change.kind in skip:
            change.status = ChangeStatus.SKIPPED
    return script


# ---- helpers ------------------------------------------------------------------------------


def _count(deliveries: Any) -> int:
    """How many deliveries a control-plane listing holds (a list, or a dict with one)."""
    if isinstance(deliveries, list):
        return len(deliveries)
    if isinstance(deliveries, dict):
        for value in deliveries.values():
            if isinstance(value, list):
                return len(value)
        total = deliveries.get("total")
        return int(total) if isinstance(total, int) else 0
    return 0


async def _nothing(_ctx: ScriptContext) -> None:
    """For a check on what an earlier change of the same phase made."""


async def _mirror_key(c: ScriptContext, server_key: str) -> str:
    key = await c.mirror(server_key, SERVER_SITE)
    if key is None:
        raise SkipItemError(f"{server_key} has no mirror on Cloud after the backfill")
    return key


async def _compare(
    c: ScriptContext,
    server_key: str,
    label: str,
    value: Callable[[Issue, str], Any],
    expected: object,
) -> str | None:
    pair = await c.pair(server_key, SERVER_SITE)
    if pair is None:
        return _no_mirror(server_key)
    s, cl = pair
    return _expect(label, value(s, SERVER_SITE), value(cl, CLOUD_SITE), expected)


async def _transition(client: JiraClient, key: str, *, prefer: str) -> str:
    options = await client.transitions(key)
    current = (await client.get_issue(key, fields=["status"])).status
    choices = [t for t in options if t.to_status != current and not t.fields]
    if not choices:
        raise SkipItemError(f"{key} has no transition out of {current!r}")
    chosen = next((t for t in choices if t.to_status == prefer), choices[0])
    await client.transition(key, chosen.id)
    return chosen.to_status


def _mentions(c: ScriptContext, doc: Any, side: str) -> list[str]:
    """The people ``doc`` mentions, as ``side`` resolves the ids (``?id``: nobody there)."""
    text = c.text(doc, side)
    return sorted(word for word in text.split() if word.startswith("@"))


async def _comment_mirror(
    c: ScriptContext, server_key: str, target: str, source: Comment
) -> Comment | str:
    """The comment on ``target``'s issue of the pair that carries ``source``'s words
    (mirrors may start with an attribution line), else what is missing."""
    if target == SERVER_SITE:
        key = server_key
    else:
        mirror = await c.mirror(server_key, SERVER_SITE)
        if mirror is None:
            return _no_mirror(server_key)
        key = mirror
    words = c.words(source.body)
    async for found in c.users[target].comments(key):
        if words in c.words(found.body):
            return found
    where = "Server" if target == SERVER_SITE else "Cloud"
    return f"no comment on {where} {key} reads {words!r}"


async def _active_sprint(client: JiraClient) -> int:
    async for board in client.boards(project_key=PROJECT):
        async for found in client.sprints(board.id, state="active"):
            return found.id
    raise SkipItemError(f"no active sprint on the {PROJECT} board")


async def _sprint_names(client: JiraClient, key: str) -> list[str]:
    """Names of the open (active or future) sprints the issue is in. Closed sprints are
    history: the engine moves issues between open sprints, as a person can."""
    fields = await client.fields()
    ids = [f.id for f in fields.values() if f.name == "Sprint"]
    if not ids:
        return []
    raw = await client.get_issue_raw(key, fields=ids)
    names: list[str] = []
    for value in (raw.get("fields") or {}).get(ids[0]) or ():
        if isinstance(value, dict):  # Cloud: objects
            name, state = str(value.get("name")), str(value.get("state", ""))
        elif isinstance(value, str) and "name=" in value:  # Server: Sprint@...[k=v,...]
            parts = dict(
                item.split("=", 1) for item in value.split("[", 1)[-1].split(",") if "=" in item
            )
            name, state = parts.get("name", ""), parts.get("state", "")
        else:
            continue
        if state.lower() != "closed":
            names.append(name)
    return sorted(names)


async def _created(c: ScriptContext, key: str, source: str) -> str | None:
    pair = await c.pair(key, source)
    if pair is None:
        return _no_mirror(key)
    s, cl = pair
    return (
        _differs("summary", s.summary, cl.summary)
        or _differs("priority", s.priority, cl.priority)
        or _differs("description", c.words(s.description), c.words(cl.description))
    )


async def run_make(change: Change, ctx: ScriptContext) -> None:
    """Make one change; an edit the site refuses marks the change failed (not raised)."""
    try:
        await change.make(ctx)
    except JirabridgeError as exc:
        change.status = ChangeStatus.FAILED
        change.divergence = f"the edit itself failed: {exc}"
