"""The two emulated sites of the demo: both seeded with ``seed_demo``, the synced project
trimmed on Server and emptied on Cloud (a Cloud site the Server project is moving to), and one
integration user on each side that the engine writes as."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from jirabridge.emulator.model import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, Site
from jirabridge.emulator.seed import DEMO_PROJECTS, DEMO_USERS, seed_demo
from jirabridge.errors import BadInputError

__all__ = [
    "ACTIVE_SPRINT",
    "CLOUD_BOT_EMAIL",
    "PROJECT",
    "SERVER_BOT",
    "TRIMMED_TYPES",
    "DemoSites",
    "Person",
    "build_sites",
]

PROJECT = "DEMO"
"""The synced pair: Server project DEMO <-> Cloud project DEMO (scrum board, simplified
workflow, so a sprint and transitions both ways exist on each side)."""
ACTIVE_SPRINT = "DEMO Sprint 2"
SERVER_BOT = "svc-jirabridge"
CLOUD_BOT_EMAIL = "svc-jirabridge@jirabridge.test"
TRIMMED_TYPES = ("Story", "Bug", "Task")
"""Issue types the demo keeps in the synced project (the engine does not sync epics and
sub-tasks yet, so the seeded ones are left out of the pair)."""


@dataclass(frozen=True)
class Person:
    """One demo user as each site knows them."""

    login: str
    display_name: str
    email: str
    server_name: str
    server_key: str
    cloud_account_id: str


@dataclass(frozen=True)
class DemoSites:
    server: Site
    cloud: Site
    people: tuple[Person, ...]
    server_bot_key: str
    cloud_bot_id: str
    # credentials: never in a repr (tracebacks, assertion diffs, logs)
    server_bot_password: str = field(repr=False)
    cloud_bot_token: str = field(repr=False)
    admin_login: tuple[str, str] = field(repr=False)
    admin_email: tuple[str, str] = field(repr=False)

    def person(self, login: str) -> Person:
        for p in self.people:
            if p.login == login:
                return p
        raise KeyError(login)


def build_sites(issues: int, *, seed: int = 1) -> DemoSites:
    """Seed both sites and prepare the pair: the Server project keeps its first ``issues``
    stories, bugs and tasks; the Cloud project starts empty (same key, board and sprints)."""
    if issues < 1:
        raise BadInputError(f"--issues must be at least 1, not {issues}")
    server = Site("server")
    cloud = Site("cloud")
    seed_demo(server, seed=seed)
    seed_demo(cloud, seed=seed)
    _trim_server_project(server, issues)
    _empty_cloud_project(cloud)
    bot_password = secrets.token_urlsafe(18)
    bot_token = secrets.token_urlsafe(18)
    s_bot = server.create_user(
        "jirabridge sync",
        name=SERVER_BOT,
        email="svc-jirabridge@jirabridge.test",
        password=bot_password,
        groups=["jira-administrators", "jira-software-users", "jira-users"],
    )
    c_bot = cloud.create_user(
        "jirabridge sync",
        email=CLOUD_BOT_EMAIL,
        api_token=bot_token,
        groups=["site-admins", "jira-admins", "jira-software-users", "jira-users"],
    )
    people = []
    for display, login, _visible, active in DEMO_USERS:
        if not active:
            continue
        email = f"{login}@jirabridge.test"
        s_user = server.find_user(login)
        c_user = cloud.find_user(email)
        if s_user is None or c_user is None:
            continue
        people.append(Person(login, display, email, s_user.name or login, s_user.key, c_user.key))
    return DemoSites(
        server=server,
        cloud=cloud,
        people=tuple(people),
        server_bot_key=s_bot.key,
        cloud_bot_id=c_bot.key,
        server_bot_password=bot_password,
        cloud_bot_token=bot_token,
        admin_login=("admin", DEFAULT_ADMIN_PASSWORD),
        admin_email=(DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD),
    )


def _trim_server_project(site: Site, keep: int) -> None:
    """Keep the first ``keep`` stories, bugs and tasks; add more when the seed has fewer."""
    issues = sorted(site.project_issues(PROJECT), key=lambda i: int(i.id))
    kept = 0
    doomed = []
    for issue in issues:
        type_name = site.issue_types[issue.issue_type_id].name
        if type_name in TRIMMED_TYPES and kept < keep:
            kept += 1
            continue
        doomed.append(issue)
    for issue in doomed:
        if issue.id in site.issues:
            site.delete_issue(site.admin_key, issue.id, delete_subtasks=True)
    reporters = [p[1] for p in DEMO_USERS if p[3]]
    for n in range(kept, keep):
        reporter = site.find_user(reporters[n % len(reporters)])
        actor = reporter.key if reporter is not None else site.admin_key
        site.create_issue(
            actor,
            {
                "project": {"key": PROJECT},
                "issuetype": {"name": TRIMMED_TYPES[n % len(TRIMMED_TYPES)]},
                "summary": f"Backlog item {n + 1}: tidy up the {_AREAS[n % len(_AREAS)]}",
                "description": f"Found while preparing the move to Cloud (item {n + 1}).",
                "labels": ["backlog"],
            },
        )


_AREAS = ("billing report", "login page", "audit log", "export wizard", "email digest")


def _empty_cloud_project(site: Site) -> None:
    _key, name, workflow, _board, lead = next(p for p in DEMO_PROJECTS if p[0] == PROJECT)
    lead_user = site.find_user(f"{lead}@jirabridge.test")
    lead_key = lead_user.key if lead_user is not None else site.admin_key
    site.delete_project(site.admin_key, PROJECT)
    site.create_project(
        PROJECT, name, lead_key, workflow=workflow, description=f"{name} (moving from Server)"
    )
    for p in DEMO_USERS:
        user = site.find_user(f"{p[1]}@jirabridge.test")
        if user is not None and p[3]:
            site.add_role_member(PROJECT, "Developers", user.key)
    board = site.create_board(f"{PROJECT} board", "scrum", project_ref=PROJECT)
    site.create_sprint(site.admin_key, board.id, "DEMO Sprint 1")
    active = site.create_sprint(site.admin_key, board.id, ACTIVE_SPRINT)
    start = site.clock.now()
    site.start_sprint(
        site.admin_key, active.id, start_date=start, end_date=start + timedelta(days=14)
    )
