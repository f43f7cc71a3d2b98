from __future__ import annotations

from collections import Counter

from jirabridge.emulator.model import Flavour, Site, SprintState, StatusCategory
from jirabridge.emulator.seed import DEMO_PROJECTS, seed_bulk, seed_demo


def _demo(flavour: Flavour, seed: int = 1) -> Site:
    site = Site(flavour)
    seed_demo(site, seed=seed)
    return site


def test_same_seed_same_state() -> None:
    assert _demo(Flavour.SERVER).to_state() == _demo(Flavour.SERVER).to_state()
    assert _demo(Flavour.CLOUD, 2).to_state() == _demo(Flavour.CLOUD, 2).to_state()
    assert _demo(Flavour.SERVER, 1).to_state() != _demo(Flavour.SERVER, 2).to_state()


def test_seed_replaces_content_and_keeps_listeners() -> None:
    site = Site(Flavour.SERVER)
    got: list[object] = []
    site.subscribe(got.append)
    seed_demo(site)
    assert got == []  # seeding is silent
    first = site.to_state()
    seed_demo(site)
    assert site.to_state() == first
    site.create_issue(
        site.admin_key,
        {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}, "summary": "after"},
    )
    assert len(got) == 1


def test_demo_has_the_same_content_on_both_flavours() -> None:
    server, cloud = _demo(Flavour.SERVER), _demo(Flavour.CLOUD)

    def content(site: Site) -> list[tuple[str, str, str, str | None, int]]:
        out = []
        for issue in sorted(site.issues.values(), key=lambda i: i.key):
            assignee = issue.fields.get("assignee")
            out.append(
                (
                    issue.key,
                    issue.fields["summary"],
                    site.issue_types[issue.issue_type_id].name,
                    site.users[assignee].display_name if assignee else None,
                    len(site.comments_by_issue.get(issue.id, ())),
                )
            )
        return out

    assert content(server) == content(cloud)
    assert sorted(p.key for p in server.projects.values()) == sorted(k for k, *_ in DEMO_PROJECTS)

    def names(site: Site) -> list[tuple[str, str | None]]:
        people = [u for u in site.users.values() if u.account_type == "atlassian"]
        return sorted((u.display_name, u.email) for u in people)

    assert names(server) == names(cloud)
    apps = [u for u in cloud.users.values() if u.account_type == "app"]
    assert [u.display_name for u in apps] == ["Automation for Jira"]
    assert {u.name for u in server.users.values()} >= {"alice", "oskar"}
    assert all(u.name is None and u.account_id == u.key for u in cloud.users.values())


def test_demo_is_realistic() -> None:
    site = _demo(Flavour.CLOUD)
    assert 200 <= len(site.issues) <= 500
    assert 14 <= len(site.users) <= 20
    assert sum(not u.email_visible for u in site.users.values()) >= 2
    assert sum(not u.active for u in site.users.values()) == 1
    types = Counter(site.issue_types[i.issue_type_id].name for i in site.issues.values())
    assert {"Epic", "Story", "Bug", "Task", "Sub-task"} <= set(types)
    states = Counter(s.state for s in site.sprints.values())
    assert states[SprintState.CLOSED] >= 1 and states[SprintState.ACTIVE] >= 1
    assert states[SprintState.FUTURE] >= 1
    assert any(c.visibility is not None for c in site.comments.values())
    assert site.links and any(site.changelog.values())
    assert any(site.components) and any(v.released for v in site.versions.values())
    assert any(i.fields.get("labels") for i in site.issues.values())
    assert all(isinstance(c.body, dict) for c in site.comments.values())
    done = [
        i
        for i in site.issues.values()
        if site.statuses[i.status_id].category is StatusCategory.DONE
    ]
    assert done and all("resolution" in i.fields for i in done)
    assert site.worklogs and site.attachments and site.remote_links
    assert {a.mime_type for a in site.attachments.values()} == {"text/plain", "image/png"}
    assert any(i.properties for i in site.issues.values())


def test_bulk_seed_small_is_valid() -> None:
    for flavour in Flavour:
        site = Site(flavour)
        seed_bulk(site, projects=3, issues=300, comments=900, users=10, sprints=4, seed=5)
        assert len(site.issues) == 300 and len(site.comments) == 900
        assert len(site.users) == 11
        for issue in site.issues.values():
            assert site.issues_by_key[issue.key] == issue.id
            assert issue.id in site.issues_by_project[issue.project_id]
            workflow = site.workflow_for(issue.project_id, issue.issue_type_id)
            assert issue.status_id in workflow.status_ids
            done = site.statuses[issue.status_id].category is StatusCategory.DONE
            assert ("resolution" in issue.fields) == done
            for sid in issue.fields.get(site.agile.sprint, ()):
                assert site.sprints[sid].board_id in site.boards
        assert sum(len(v) for v in site.comments_by_issue.values()) == 900
        assert all(
            site.comments[c].issue_id == i for i, cs in site.comments_by_issue.items() for c in cs
        )
        keys = [p.key for p in site.projects.values()]
        assert len(set(keys)) == 3
        # the model keeps working on top of bulk data
        issue = next(iter(site.issues.values()))
        site.edit_issue(site.admin_key, issue.key, {"summary": "edited"})
        site.add_comment(
            site.admin_key,
            issue.key,
            "x"
            if flavour is Flavour.SERVER
            else {"type": "doc", "version": 1, "content": [{"type": "paragraph"}]},
        )
        project = site.projects[issue.project_id]
        created = site.create_issue(
            site.admin_key,
            {"project": {"id": str(project.id)}, "issuetype": {"name": "Task"}, "summary": "n"},
        )
        assert created.key == f"{project.key}-{project.next_number - 1}"
        assert created.key not in {i.key for i in site.issues.values() if i is not created}


def test_bulk_seed_is_deterministic() -> None:
    a, b = Site(Flavour.SERVER), Site(Flavour.SERVER)
    seed_bulk(a, projects=2, issues=50, comments=100, users=5, sprints=2, seed=9)
    seed_bulk(b, projects=2, issues=50, comments=100, users=5, sprints=2, seed=9)
    assert a.to_state() == b.to_state()


def test_seed_is_the_same_across_processes_and_hash_seeds() -> None:
    import os
    import subprocess
    import sys

    script = (
        "import hashlib, json\n"
        "from jirabridge.emulator.model import Flavour, Site\n"
        "from jirabridge.emulator.seed import seed_bulk, seed_demo\n"
        "out = []\n"
        "for flavour in Flavour:\n"
        "    site = Site(flavour)\n"
        "    seed_demo(site, seed=4)\n"
        "    out.append(json.dumps(site.to_state(), sort_keys=True))\n"
        "    seed_bulk(site, projects=2, issues=40, comments=80, users=5, sprints=3, seed=4)\n"
        "    out.append(json.dumps(site.to_state(), sort_keys=True))\n"
        "print(hashlib.sha256('|'.join(out).encode()).hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        digests.add(result.stdout.strip())
    assert len(digests) == 1
