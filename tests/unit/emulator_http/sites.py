"""Small sites built through the model's API, so face tests need no seeding module."""

from __future__ import annotations

from typing import Any

from jirabridge.emulator.model import Flavour, Site

AUTH = {"server": ("admin", "admin"), "cloud": ("admin@jirabridge.test", "admin")}


def adf(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def small_site(flavour: str) -> Site:
    """Projects DEMO (simplified workflow) and CLS (classic), users alice/bob/carol (carol
    hides her email on Cloud), a group ``devs``, a component, a version, three issues, one
    with a comment restricted to ``devs``."""
    site = Site(Flavour(flavour))
    cloud = site.flavour is Flavour.CLOUD
    admin = site.admin_key
    site.create_group("devs")
    alice = site.create_user(
        "Alice Able",
        name="alice",
        email="alice@example.org",
        password="pw",
        groups=["jira-software-users", "devs"],
    )
    bob = site.create_user(
        "Bob Baker",
        name="bob",
        email="bob@example.org",
        password="pw",
        groups=["jira-software-users"],
    )
    site.create_user(
        "Carol Cole",
        name="carol",
        email="carol@example.org",
        password="pw",
        email_visible=not cloud,
        groups=["jira-software-users"],
    )
    site.create_project("DEMO", "Demo", admin, workflow="simplified")
    site.create_project("CLS", "Classic", admin, workflow="classic")
    site.create_component("DEMO", "Backend", description="server side")
    site.create_version("DEMO", "1.0")

    def text(value: str) -> Any:
        return adf(value) if cloud else value

    one = site.create_issue(
        admin,
        {
            "project": {"key": "DEMO"},
            "issuetype": {"name": "Task"},
            "summary": "First task",
            "description": text("The first description"),
            "labels": ["alpha"],
        },
    )
    site.create_issue(
        admin,
        {"project": {"key": "DEMO"}, "issuetype": {"name": "Bug"}, "summary": "A bug"},
    )
    site.create_issue(
        admin,
        {"project": {"key": "CLS"}, "issuetype": {"name": "Task"}, "summary": "Classic task"},
    )
    site.add_comment(admin, one.key, text("public comment"))
    from jirabridge.emulator.model import Visibility

    site.add_comment(alice.key, one.key, text("devs only"), visibility=Visibility("group", "devs"))
    del bob
    board = site.create_board("DEMO board", "scrum", project_ref="DEMO")
    site.create_sprint(admin, board.id, "Sprint 1")
    site.create_issue(
        admin,
        {
            "project": {"key": "DEMO"},
            "issuetype": {"name": "Epic"},
            "summary": "Big epic",
            **({} if cloud else {site.agile.epic_name: "Big epic"}),
        },
    )
    return site
