"""Filling a site: a small realistic demo (:func:`seed_demo`) and a fast bulk load
(:func:`seed_bulk`). Both replace the site's content (``site.reset(seed=...)``), emit no events,
and give the same state for the same seed; timestamps come from a private frozen clock that
starts at :data:`SEED_EPOCH`, so they repeat too (the site's own clock is left alone)."""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from jirabridge.emulator.model._clock import Clock
from jirabridge.emulator.model._errors import ValidationFailed
from jirabridge.emulator.model._records import (
    BoardType,
    Comment,
    Flavour,
    Issue,
    SprintState,
    StatusCategory,
    Visibility,
)
from jirabridge.emulator.model._site import Site

__all__ = ["DEMO_PROJECTS", "DEMO_USERS", "SEED_EPOCH", "seed_bulk", "seed_demo"]

SEED_EPOCH = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)

#: (display name, username, email visible on Cloud, active)
DEMO_USERS: tuple[tuple[str, str, bool, bool], ...] = (
    ("Alice Andersen", "alice", True, True),
    ("Bruno Bianchi", "bruno", True, True),
    ("Chloe Chen", "chloe", True, True),
    ("Dmitri Dvorak", "dmitri", False, True),
    ("Elena Estrada", "elena", True, True),
    ("Farid Farouk", "farid", True, True),
    ("Greta Gustafsson", "greta", True, True),
    ("Hiro Hayashi", "hiro", False, True),
    ("Ines Ibarra", "ines", True, True),
    ("Jonas Jensen", "jonas", True, True),
    ("Kofi Kuffour", "kofi", True, True),
    ("Lena Lindqvist", "lena", True, True),
    ("Mateo Moreno", "mateo", True, True),
    ("Nora Nakamura", "nora", True, True),
    ("Oskar Olsen", "oskar", True, False),
)

#: (key, name, workflow, board type, lead username)
DEMO_PROJECTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("DEMO", "Demo Software", "simplified", "scrum", "alice"),
    ("OPS", "Operations", "classic", "kanban", "bruno"),
    ("WEB", "Website", "simplified", "scrum", "chloe"),
)

_CT = "com.atlassian.jira.plugin.system.customfieldtypes:"
#: (name, type, options, Cloud id, Server id) -- Cloud ids as in shared/fixtures/createmeta
_DEMO_FIELDS: tuple[tuple[str, str, tuple[str, ...], int, int], ...] = (
    ("Favorite Food", "textfield", (), 10067, 10300),
    ("MJK - Checkbox", "multicheckboxes", ("1", "2", "3"), 10068, 10301),
    ("MJK - Date Picker", "datepicker", (), 10069, 10302),
    ("MJK - Date Time Picker", "datetime", (), 10070, 10303),
    ("MJK - Labels", "labels", (), 10071, 10304),
    ("MJK - Number Field", "float", (), 10072, 10305),
    ("MJK - Radio Buttons", "radiobuttons", ("1", "2", "3"), 10073, 10306),
    ("MJK - Select List 1", "cascadingselect", ("1", "2"), 10074, 10307),
    ("MJK - Select List 2", "multiselect", ("1", "2", "3"), 10075, 10308),
    ("MJK - Select List 3", "select", ("1", "2", "3"), 10076, 10309),
    ("Text Field 1", "textarea", (), 10077, 10310),
    ("Text Field 2", "textfield", (), 10078, 10311),
    ("MJK - URL Field", "url", (), 10079, 10312),
    ("MJK - User Picker", "userpicker", (), 10080, 10313),
)

_TOPICS = (
    "login page",
    "search results",
    "export to CSV",
    "billing report",
    "user settings",
    "dark mode",
    "REST endpoint",
    "audit log",
    "mobile layout",
    "email digest",
    "password reset",
    "dashboard gadget",
    "import wizard",
    "notification centre",
    "API tokens",
    "backup job",
    "load balancer",
    "disk alerts",
    "deploy pipeline",
    "TLS certificates",
)
_STORY = (
    "As a user I want the {t} to be faster",
    "Redesign the {t}",
    "Support filters in the {t}",
    "Add keyboard shortcuts to the {t}",
    "Localise the {t}",
)
_BUG = (
    "{t} crashes on empty input",
    "{t} shows the wrong time zone",
    "Typo in the {t}",
    "{t} is slow for large projects",
    "{t} ignores permissions",
)
_TASK = (
    "Upgrade the {t} library",
    "Write documentation for the {t}",
    "Monitor the {t}",
    "Clean up old {t} data",
)
_COMMENTS = (
    "I can reproduce this on the staging site.",
    "Looks good to me, merging now.",
    "Could you attach the logs from the last run?",
    "This depends on the platform upgrade, see the linked issue.",
    "Moved to the next sprint, we ran out of time.",
    "Fixed in the latest build, please verify.",
    "Customers keep asking about this one.",
    "Let us discuss this at the planning meeting.",
)


def _native(site: Site, text: str) -> Any:
    """``text`` as the site's native rich text: wiki on Server, minimal ADF on Cloud."""
    if site.flavour is Flavour.SERVER:
        return text
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": part}]}
            for part in text.split("\n\n")
        ],
    }


class _SeedClock(Clock):
    """A frozen clock that moves a little on every reading, so records get distinct times."""

    def __init__(self, start: datetime, step: float = 7.0) -> None:
        self._step = 0.0
        super().__init__(start)
        self._step = step

    def now(self) -> datetime:
        value = super().now()
        self.advance(self._step)
        return value


@contextmanager
def _seeding(site: Site, seed: int) -> Iterator[_SeedClock]:
    listeners = list(site._listeners)
    clock = site.clock
    seed_clock = _SeedClock(SEED_EPOCH)
    site.clock = seed_clock
    site._listeners = []
    site.reset(seed=seed)
    try:
        yield seed_clock
    finally:
        site.clock = clock
        site._listeners = listeners


def seed_demo(site: Site, seed: int = 1) -> None:
    """Replace the site's content with a realistic small site (about 15 users, 3 projects,
    a few hundred issues with comments, links, labels, sprints, epics and history). The same
    call on a Server and a Cloud site gives the same content in each identity scheme."""
    rnd = random.Random(seed)
    with _seeding(site, seed) as clock:
        _demo(site, rnd, clock)


def _demo(site: Site, rnd: random.Random, clock: _SeedClock) -> None:
    server = site.flavour is Flavour.SERVER
    admin = site.admin_key
    keys: dict[str, str] = {}
    for display, login, visible, active in DEMO_USERS:
        email = f"{login}@jirabridge.test"
        if server:
            # two old accounts keep legacy keys (key = username), the rest get JIRAUSER keys
            legacy = login if login in ("alice", "bruno") else None
            user = site.create_user(
                display, name=login, email=email, password=login, active=active, key=legacy
            )
        else:
            user = site.create_user(
                display,
                email=email,
                api_token=login,
                email_visible=visible,
                active=active,
                password=login,
            )
        keys[login] = user.key
        site.add_to_group("jira-software-users", user.key)
        site.add_to_group("jira-users", user.key)
    for login in ("alice", "bruno", "chloe", "dmitri", "elena", "farid"):
        site.add_to_group("developers", keys[login])
    for login in ("greta", "hiro"):
        site.add_to_group("qa", keys[login])
    site.add_to_group("site-admins" if not server else "jira-administrators", keys["alice"])
    if not server:
        # Cloud sites always carry app accounts; sync tools must ignore them
        site.create_user("Automation for Jira", account_type="app", email_visible=False)
    for cf_name, cf_type, options, cloud_id, server_id in _DEMO_FIELDS:
        fid = f"customfield_{server_id if server else cloud_id}"
        fd = site.create_custom_field(cf_name, cf_type, options=options, field_id=fid)
        if cf_type == "cascadingselect":
            for parent in list(fd.options.values()):
                for child in ("a", "b"):
                    site.add_field_option(fid, f"{parent.value}{child}", parent_id=parent.id)
    active_logins = [u[1] for u in DEMO_USERS if u[3]]
    for pkey, pname, workflow, board_type, lead in DEMO_PROJECTS:
        project = site.create_project(
            pkey,
            pname,
            keys[lead],
            workflow=workflow,
            description=f"{pname}: the {pkey} team's work.",
        )
        for login in ("alice", "bruno", "chloe", "dmitri", "elena", "farid"):
            site.add_role_member(pkey, "Developers", keys[login])
        for comp in ("Backend", "Frontend", "Documentation"):
            site.create_component(pkey, comp, description=f"{comp} of {pname}", lead_key=keys[lead])
        site.create_version(
            pkey, "1.0", released=True, release_date=date(2025, 3, 31), start_date=date(2025, 1, 6)
        )
        site.create_version(pkey, "1.1", released=False, release_date=date(2025, 9, 30))
        site.create_version(pkey, "2.0", description="The next big release")
        site.create_version(
            pkey, "0.9", released=True, archived=True, release_date=date(2024, 11, 15)
        )
        board = site.create_board(f"{pkey} board", BoardType(board_type), project_ref=pkey)
        _demo_project(site, rnd, clock, project.key, board.id, keys, active_logins)
    _demo_links(site, rnd, admin)
    _demo_extras(site, rnd, [keys[login] for login in active_logins])


def _pick_user(rnd: random.Random, keys: dict[str, str], logins: list[str]) -> str:
    return keys[rnd.choice(logins)]


def _demo_project(
    site: Site,
    rnd: random.Random,
    clock: _SeedClock,
    pkey: str,
    board_id: int,
    keys: dict[str, str],
    logins: list[str],
) -> None:
    server = site.flavour is Flavour.SERVER
    components = [c.name for c in site.project_components(pkey)]
    versions = [v.name for v in site.project_versions(pkey) if not v.archived]
    epics = []
    for n, theme in enumerate(("Onboarding", "Performance", "Reporting", "Security")):
        fields: dict[str, Any] = {
            "project": {"key": pkey},
            "issuetype": {"name": "Epic"},
            "summary": f"{theme} improvements",
            "description": _native(site, f"All work on {theme.lower()} for {pkey}."),
            "labels": [theme.lower()],
        }
        if site.agile.epic_name:
            fields[site.agile.epic_name] = f"{theme}"
        reporter = _pick_user(rnd, keys, logins)
        fields["reporter"] = {"name": reporter} if server else {"accountId": reporter}
        epics.append(site.create_issue(reporter, fields))
        del n
    created: list[Issue] = []
    plan = ["Story"] * 45 + ["Bug"] * 25 + ["Task"] * 15
    rnd.shuffle(plan)
    for itype in plan:
        topic = rnd.choice(_TOPICS)
        template = rnd.choice(_STORY if itype == "Story" else _BUG if itype == "Bug" else _TASK)
        reporter = _pick_user(rnd, keys, logins)
        fields = {
            "project": {"key": pkey},
            "issuetype": {"name": itype},
            "summary": template.format(t=topic).capitalize(),
            "description": _native(
                site,
                f"Context: the {topic} of {pkey}.\n\nExpected: it works for every user.",
            ),
            "priority": {"id": str(rnd.choice((1, 2, 3, 3, 3, 4, 5)))},
            "labels": rnd.sample(
                ["backend", "frontend", "ux", "customer", "tech-debt", "p1"], rnd.randint(0, 2)
            ),
        }
        if rnd.random() < 0.7:
            fields["assignee"] = _ref(server, _pick_user(rnd, keys, logins))
        if rnd.random() < 0.6:
            fields["components"] = [{"name": rnd.choice(components)}]
        if rnd.random() < 0.4:
            fields["fixVersions"] = [{"name": rnd.choice(versions)}]
        if itype == "Story":
            fields[site.agile.story_points] = float(rnd.choice((1, 2, 3, 5, 8, 13)))
        if rnd.random() < 0.3:
            fields["duedate"] = (SEED_EPOCH.date() + timedelta(days=rnd.randint(5, 90))).isoformat()
        if rnd.random() < 0.5:
            epic = rnd.choice(epics)
            if site.agile.epic_link:
                fields[site.agile.epic_link] = epic.key
            else:
                fields["parent"] = {"key": epic.key}
        fields["reporter"] = _ref(server, reporter)
        if rnd.random() < 0.25:
            fields[_cf(site, "Favorite Food")] = rnd.choice(("pizza", "ramen", "tacos"))
            fields[_cf(site, "MJK - Select List 3")] = {"value": rnd.choice(("1", "2", "3"))}
        issue = site.create_issue(reporter, fields)
        created.append(issue)
        clock.advance(rnd.randint(600, 7200))
    for parent in rnd.sample(created, 12):
        for n in range(rnd.randint(1, 2)):
            reporter = _pick_user(rnd, keys, logins)
            created.append(
                site.create_issue(
                    reporter,
                    {
                        "project": {"key": pkey},
                        "issuetype": {"name": "Sub-task"},
                        "parent": {"key": parent.key},
                        "summary": f"Part {n + 1} of {parent.key}",
                        "reporter": _ref(server, reporter),
                    },
                )
            )
    for issue in created:
        _demo_comments(site, rnd, issue, keys, logins)
        _demo_history(site, rnd, issue, keys, logins)
        clock.advance(rnd.randint(60, 900))
    board = site.get_board(board_id)
    if board.type is BoardType.SCRUM:
        _demo_sprints(site, rnd, board_id, pkey, created, keys["alice"])


def _ref(server: bool, key: str) -> dict[str, str]:
    return {"key": key} if server else {"accountId": key}


def _cf(site: Site, name: str) -> str:
    return next(fd.id for fd in site.fields.values() if fd.name == name and fd.is_custom)


def _demo_comments(
    site: Site, rnd: random.Random, issue: Issue, keys: dict[str, str], logins: list[str]
) -> None:
    for _ in range(rnd.choice((0, 0, 1, 1, 2, 3, 4))):
        author = _pick_user(rnd, keys, logins)
        visibility = None
        roll = rnd.random()
        if roll < 0.1:
            visibility = Visibility("role", "Developers")
        elif roll < 0.15:
            visibility = Visibility("group", "developers")
        site.add_comment(
            author, issue.id, _native(site, rnd.choice(_COMMENTS)), visibility=visibility
        )


def _demo_history(
    site: Site, rnd: random.Random, issue: Issue, keys: dict[str, str], logins: list[str]
) -> None:
    actor = _pick_user(rnd, keys, logins)
    if rnd.random() < 0.3:
        site.edit_issue(actor, issue.id, {"priority": {"id": str(rnd.randint(1, 5))}})
    if rnd.random() < 0.2:
        site.edit_issue(actor, issue.id, update={"labels": [{"add": "triaged"}]})
    if rnd.random() < 0.2:
        site.assign_issue(
            actor, issue.id, _ref(site.flavour is Flavour.SERVER, _pick_user(rnd, keys, logins))
        )
    steps = rnd.choice((0, 0, 1, 1, 2, 3))
    for _ in range(steps):
        options = site.available_transitions(issue.id)
        if not options:
            break
        transition = rnd.choice(options)
        site.transition_issue(actor, issue.id, transition.id)


def _demo_sprints(
    site: Site, rnd: random.Random, board_id: int, pkey: str, issues: list[Issue], actor: str
) -> None:
    start = SEED_EPOCH - timedelta(days=28)
    sprints = []
    for n in range(3):
        sprints.append(
            site.create_sprint(
                actor,
                board_id,
                f"{pkey} Sprint {n + 1}",
                start_date=start + timedelta(days=14 * n),
                end_date=start + timedelta(days=14 * n + 14),
                goal=("Ship the basics", "Polish and fix", "Next increment")[n],
            )
        )
    top = [i for i in issues if not site.issue_types[i.issue_type_id].subtask]
    first, second, third = top[:15], top[15:30], top[30:40]
    site.move_to_sprint(actor, sprints[0].id, [i.key for i in first])
    site.start_sprint(actor, sprints[0].id)
    site.close_sprint(actor, sprints[0].id, move_incomplete_to=sprints[1].id)
    site.move_to_sprint(actor, sprints[1].id, [i.key for i in second])
    site.start_sprint(actor, sprints[1].id)
    site.move_to_sprint(actor, sprints[2].id, [i.key for i in third])
    ranked = [i.key for i in rnd.sample(second, 3)]
    anchor = next(i.key for i in second if i.key not in ranked)
    site.rank_issues(actor, ranked, before=anchor)


def _demo_links(site: Site, rnd: random.Random, actor: str) -> None:
    all_issues = sorted(site.issues.values(), key=lambda i: i.id)
    for _ in range(40):
        a, b = rnd.sample(all_issues, 2)
        site.create_link(
            actor, rnd.choice(("Blocks", "Relates", "Duplicate", "Cloners")), a.id, b.id
        )


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


#: a valid 1x1 transparent PNG, built here rather than pasted as opaque bytes
_PIXEL_PNG = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00\x00"))
    + _png_chunk(b"IEND", b"")
)


def _demo_extras(site: Site, rnd: random.Random, people: list[str]) -> None:
    """A few worklogs, attachments, remote links and entity properties."""
    all_issues = sorted(site.issues.values(), key=lambda i: i.id)
    for issue in rnd.sample(all_issues, 25):
        site.add_worklog(
            rnd.choice(people),
            issue.id,
            rnd.choice((900, 1800, 3600, 7200, 14400)),
            comment=_native(site, "Worked on it."),
        )
    for n, issue in enumerate(rnd.sample(all_issues, 12)):
        name, mime, data = (
            ("notes.txt", "text/plain", f"Notes for {issue.key}\n".encode()),
            ("trace.log", "text/plain", b"ERROR something failed\n" * (n + 1)),
            (
                "pixel.png",
                "image/png",
                _PIXEL_PNG,
            ),
        )[n % 3]
        site.add_attachment(rnd.choice(people), issue.id, name, data, mime)
    for issue in rnd.sample(all_issues, 10):
        site.add_remote_link(
            rnd.choice(people),
            issue.id,
            f"https://git.jirabridge.test/{issue.key.lower()}",
            f"Pull request for {issue.key}",
            global_id=f"git=pr&key={issue.key}",
            relationship="mentioned in",
        )
    for issue in rnd.sample(all_issues, 8):
        site.set_property("issue", issue.id, "demo.origin", {"seeded": True, "key": issue.key})


# -- bulk ----------------------------------------------------------------------------------


def seed_bulk(
    site: Site,
    *,
    projects: int = 5,
    issues: int = 10_000,
    comments: int = 30_000,
    users: int = 50,
    sprints: int = 10,
    seed: int = 1,
) -> None:
    """Replace the site's content with a large synthetic one, fast: records are built
    directly (no events, no per-field validation) but the state is valid — indexes, keys,
    statuses of each project's workflow, resolutions on done issues, sprint membership."""
    if min(projects, users) < 1 or min(issues, comments, sprints) < 0:
        raise ValidationFailed(
            "seed_bulk needs at least one project and one user, and no negative counts."
        )
    rnd = random.Random(seed)
    with _seeding(site, seed):
        _bulk(site, rnd, projects, issues, comments, users, sprints)


def _bulk(
    site: Site,
    rnd: random.Random,
    n_projects: int,
    n_issues: int,
    n_comments: int,
    n_users: int,
    n_sprints: int,
) -> None:
    server = site.flavour is Flavour.SERVER
    user_keys = []
    for n in range(n_users):
        login = f"user{n:05d}"
        if server:
            u = site.create_user(f"User {n:05d}", name=login, email=f"{login}@jirabridge.test")
        else:
            u = site.create_user(
                f"User {n:05d}", email=f"{login}@jirabridge.test", email_visible=n % 10 != 3
            )
        user_keys.append(u.key)
    site.groups["jira-software-users"].members.update(user_keys)
    projects = []
    for n in range(n_projects):
        key = "P" + _alpha(n)
        projects.append(
            site.create_project(
                key,
                f"Project {key}",
                user_keys[n % len(user_keys)],
                workflow="classic" if n % 2 else "simplified",
            )
        )
    sprint_ids_by_project: dict[int, list[int]] = {p.id: [] for p in projects}
    start = SEED_EPOCH - timedelta(days=14 * n_sprints)
    for n in range(n_sprints):
        project = projects[n % len(projects)]
        board = next((b for b in site.boards.values() if b.project_id == project.id), None)
        if board is None:
            board = site.create_board(
                f"{project.key} board", BoardType.SCRUM, project_ref=project.id
            )
        sprint = site.create_sprint(
            site.admin_key,
            board.id,
            f"{project.key} Sprint {n + 1}",
            start_date=start + timedelta(days=14 * n),
            end_date=start + timedelta(days=14 * n + 14),
        )
        sprint_ids_by_project[project.id].append(sprint.id)
    for per_project in sprint_ids_by_project.values():
        for pos, sid in enumerate(per_project):
            sprint = site.sprints[sid]
            if pos < len(per_project) - 2:
                sprint.state = SprintState.CLOSED
                sprint.complete_date = sprint.end_date
            elif pos == len(per_project) - 2:
                sprint.state = SprintState.ACTIVE
    types = [site.issue_type_by_name(n).id for n in ("Story", "Task", "Bug")]
    done_res = site.default_resolution_id()
    sprint_field = site.agile.sprint
    workflow_statuses = {
        p.id: [site.statuses[s] for s in site.workflows[p.default_workflow].status_ids]
        for p in projects
    }
    base = SEED_EPOCH - timedelta(days=365)
    step = timedelta(seconds=max(1, 365 * 86400 // max(1, n_issues)))
    issue_ids: list[int] = []
    choice, random_ = rnd.choice, rnd.random
    ids = site.ids
    for n in range(n_issues):
        project = projects[n % len(projects)]
        number = project.next_number
        project.next_number += 1
        created = base + step * n
        statuses = workflow_statuses[project.id]
        status = choice(statuses)
        fields: dict[str, Any] = {
            "project": project.id,
            "issuetype": choice(types),
            "status": status.id,
            "summary": f"{choice(_TOPICS).capitalize()} item {n}",
            "priority": choice((1, 2, 3, 3, 3, 4, 5)),
            "reporter": choice(user_keys),
            "creator": choice(user_keys),
        }
        if random_() < 0.7:
            fields["assignee"] = choice(user_keys)
        if random_() < 0.3:
            fields["labels"] = [choice(("backend", "frontend", "ux", "customer"))]
        if random_() < 0.3:
            fields["description"] = _native(site, f"Description of item {n}.")
        resolution_date = None
        if status.category is StatusCategory.DONE:
            fields["resolution"] = done_res
            resolution_date = created + timedelta(days=3)
        sprint_ids = sprint_ids_by_project[project.id]
        if sprint_ids and random_() < 0.4:
            fields[sprint_field] = [choice(sprint_ids)]
        issue = Issue(
            id=ids.next("issue"),
            key=f"{project.key}-{number}",
            project_id=project.id,
            fields=fields,
            created=created,
            updated=resolution_date or created,
            resolution_date=resolution_date,
            rank=site.next_rank,
            status_category_changed=resolution_date or created,
            watchers={fields["reporter"]},
        )
        site.next_rank += 1 << 10
        site.issues[issue.id] = issue
        site.issues_by_key[issue.key] = issue.id
        site.issues_by_project[project.id][issue.id] = None
        issue_ids.append(issue.id)
    if issue_ids:

        def one_paragraph(text: str) -> Any:
            if server:
                return text
            return {
                "type": "doc",
                "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
            }

        by_issue = site.comments_by_issue
        comments = site.comments
        cstep = timedelta(seconds=30)
        for n in range(n_comments):
            iid = issue_ids[int(random_() * len(issue_ids))]
            issue = site.issues[iid]
            author = choice(user_keys)
            when = issue.created + cstep * (n % 1000 + 1)
            comment = Comment(
                id=ids.next("comment"),
                issue_id=iid,
                author_key=author,
                body=one_paragraph(f"Comment {n} on {issue.key}"),
                created=when,
                updated=when,
                update_author_key=author,
            )
            comments[comment.id] = comment
            lst = by_issue.get(iid)
            if lst is None:
                by_issue[iid] = [comment.id]
            else:
                lst.append(comment.id)
            if issue.updated < when:
                issue.updated = when


def _alpha(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters
