"""What the integration user must be allowed to do in each paired project, and whether it is.

:func:`needs` reads one side of a pair and lists the project permissions the engine's writes
there call for, each with the reason and the place in the file that asks for it;
:func:`check_permissions` asks the site (``GET /mypermissions``) once per side and reports
every missing permission at the line of the first setting that needs it, naming the
permission, the project, the user and every reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from jirabridge.errors import JirabridgeError
from jirabridge.jira import JiraClient
from jirabridge.sync.config import (
    AddComment,
    ConfigProblem,
    CreateMirror,
    CreateRule,
    DeleteRule,
    LoadedConfig,
    PairConfig,
    Side,
    TransitionMirror,
)
from jirabridge.sync.config._checks import Loc

__all__ = ["Need", "check_permissions", "needs"]

_FIELD_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "status": ("TRANSITION_ISSUES",),
    "resolution": ("RESOLVE_ISSUES",),
    "assignee": ("ASSIGN_ISSUES",),
    "reporter": ("MODIFY_REPORTER",),
    "duedate": ("EDIT_ISSUES", "SCHEDULE_ISSUES"),
    "fixVersions": ("EDIT_ISSUES", "RESOLVE_ISSUES"),
    "key": (),  # read-only: never written
}
"""Fields whose writes need more than (or other than) Edit Issues."""


@dataclass(frozen=True)
class Need:
    """One reason the pair needs a permission on one side: ``any_of`` (one of them is
    enough, e.g. Edit Own Comments or Edit All Comments), ``why``, and where it is asked."""

    any_of: tuple[str, ...]
    why: str
    loc: Loc


def needs(loaded: LoadedConfig, pair: PairConfig, index: int, side: Side) -> list[Need]:
    """Every permission the pair needs on ``side``, in the order of the file."""
    loc: Loc = ("pairs", index)
    other = side.other.value
    home: Loc = (*loc, side.value, "project")

    def at(*candidates: Loc) -> Loc:
        """The first place that is written in the file (a default is not): else the side."""
        return next((c for c in candidates if c in loaded.marks), home)

    out = [Need(("BROWSE_PROJECTS",), "to read the project's issues", home)]
    makes_pairs = pair.create is not CreateRule.NONE
    if pair.creates_from(side.other):
        out.append(
            Need(
                ("CREATE_ISSUES",),
                f"to create mirrors of {other} issues (create: {pair.create.value})",
                at((*loc, "create")),
            )
        )
    for r, rule in enumerate(pair.rules):
        for a, action in enumerate(rule.then):
            aloc: Loc = (*loc, "rules", r, "then", a)
            into_side = rule.when.side is not side
            if isinstance(action, CreateMirror):
                makes_pairs = True
                if into_side:
                    why = f"to create mirrors (rule {rule.name!r})"
                    out.append(Need(("CREATE_ISSUES",), why, at(aloc)))
                elif action.write_back_field:
                    why = f"to write the mirror's key into {action.write_back_field}"
                    out.append(Need(("EDIT_ISSUES",), why, at((*aloc, "write_back_field"))))
            elif isinstance(action, TransitionMirror) and into_side:
                why = f"to move mirrors to {action.to_status!r} (rule {rule.name!r})"
                out.append(Need(("TRANSITION_ISSUES",), why, at((*aloc, "to_status"), aloc)))
                if action.resolution:
                    why = f"to set resolution {action.resolution!r} (rule {rule.name!r})"
                    out.append(Need(("RESOLVE_ISSUES",), why, at((*aloc, "resolution"), aloc)))
                if action.comment:
                    why = f"to comment on the transition (rule {rule.name!r})"
                    out.append(Need(("ADD_COMMENTS",), why, at((*aloc, "comment"), aloc)))
            elif isinstance(action, AddComment) and action.target is side:
                why = f"to add comments (rule {rule.name!r})"
                out.append(Need(("ADD_COMMENTS",), why, at(aloc)))
    if makes_pairs:
        why = "to mark each new pair's issue (entity property jirabridge)"
        out.append(Need(("EDIT_ISSUES",), why, home))
        if side in pair.cross_reference.remote_links:
            why = "to link each new pair's issue to its mirror (remote link)"
            rloc = at((*loc, "cross_reference", "remote_links"), home)
            out.append(Need(("LINK_ISSUES",), why, rloc))
    for j, field in enumerate(pair.fields):
        if not field.direction.flows_to(side):
            continue
        field_id = field.server_id if side is Side.SERVER else field.cloud_id
        floc = at((*loc, "fields", j, "direction"), (*loc, "fields", j))
        for key in _FIELD_PERMISSIONS.get(field_id, ("EDIT_ISSUES",)):
            out.append(Need((key,), f"to write field {field.name!r} from {other}", floc))
    comments = pair.comments
    if comments.direction.flows_to(side):
        cloc: Loc = (*loc, "comments")
        dloc = at((*cloc, "direction"), cloc)
        out.append(Need(("ADD_COMMENTS",), f"to copy comments from {other}", dloc))
        if comments.edits:
            why = f"to update copied comments when the {other} comment is edited"
            any_of = ("EDIT_OWN_COMMENTS", "EDIT_ALL_COMMENTS")
            out.append(Need(any_of, why, at((*cloc, "edits"), dloc)))
        if comments.deletes:
            why = f"to delete copied comments when the {other} comment is deleted"
            any_of = ("DELETE_OWN_COMMENTS", "DELETE_ALL_COMMENTS")
            out.append(Need(any_of, why, at((*cloc, "deletes"), dloc)))
    if pair.attachments.flows_to(side):
        why = f"to copy attachments from {other}"
        out.append(Need(("CREATE_ATTACHMENTS",), why, at((*loc, "attachments"))))
    if pair.links.flows_to(side):
        why = f"to copy issue links from {other}"
        out.append(Need(("LINK_ISSUES",), why, at((*loc, "links"))))
    if pair.sprints.flows_to(side):
        why = f"to move issues into the sprints they are in on {other}"
        out.append(Need(("SCHEDULE_ISSUES",), why, at((*loc, "sprints"))))
    if pair.deletes is DeleteRule.MIRROR:
        why = f"to delete mirrors of deleted {other} issues (deletes: mirror)"
        out.append(Need(("DELETE_ISSUES",), why, at((*loc, "deletes"))))
    return out


def _missing(wanted: list[Need], held: dict[str, bool]) -> dict[tuple[str, ...], list[Need]]:
    """Needs not met (none of ``any_of`` held), grouped by what would meet them."""
    out: dict[tuple[str, ...], list[Need]] = {}
    for need in wanted:
        if not any(held.get(k, False) for k in need.any_of):
            out.setdefault(need.any_of, []).append(need)
    return out


def _reasons(group: list[Need], cap: int = 4) -> str:
    whys = list(dict.fromkeys(n.why for n in group))
    text = "; ".join(whys[:cap])
    return text + (f"; and {len(whys) - cap} more" if len(whys) > cap else "")


async def check_permissions(
    loaded: LoadedConfig,
    pair: PairConfig,
    index: int,
    side: Side,
    client: JiraClient,
    user: str,
) -> list[ConfigProblem]:
    """Every permission the pair needs on ``side`` that ``user`` (the credential's user, as
    the site named it) lacks in the side's project: one problem per permission."""
    end = pair.server if side is Side.SERVER else pair.cloud
    wanted = needs(loaded, pair, index, side)
    keys = sorted({k for n in wanted for k in n.any_of})
    try:
        held = await client.my_permissions(end.project, keys)
    except JirabridgeError as exc:
        where: Loc = ("pairs", index, side.value, "project")
        return [
            loaded.problem_at(
                where,
                f"cannot read the permissions of {user} in project {end.project} on site "
                f"{end.site!r}: {exc}",
            )
        ]
    problems: list[ConfigProblem] = []
    for any_of, group in _missing(wanted, held).items():
        what = any_of[0] if len(any_of) == 1 else " or ".join(any_of)
        problems.append(
            loaded.problem_at(
                group[0].loc,
                f"the integration user {user} lacks {what} in project {end.project} on site "
                f"{end.site!r}, needed {_reasons(group)}",
            )
        )
    return problems
