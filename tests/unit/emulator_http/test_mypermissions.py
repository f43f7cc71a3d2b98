"""``GET /mypermissions`` and the control plane's way to take a permission away."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from jirabridge.emulator.model import (
    ValidationFailed,
    deny_permissions,
    has_permission,
    restore_permissions,
)


async def mine(client: httpx.AsyncClient, api: str, **params: str) -> httpx.Response:
    return await client.get(f"{api}/mypermissions", params=params)


def held(answer: httpx.Response) -> dict[str, bool]:
    assert answer.status_code == 200, answer.text
    return {k: v["havePermission"] for k, v in answer.json()["permissions"].items()}


async def test_everything_is_granted_until_a_permission_is_denied(
    client: httpx.AsyncClient, app: Any, api: str
) -> None:
    keys = "BROWSE_PROJECTS,CREATE_ISSUES,EDIT_ISSUES,ADMINISTER"
    got = await mine(client, api, projectKey="DEMO", permissions=keys)
    assert held(got) == dict.fromkeys(keys.split(","), True)  # admin
    entry = got.json()["permissions"]["EDIT_ISSUES"]
    assert entry["type"] == "PROJECT" and entry["name"] == "Edit Issues" and entry["id"] == "12"
    assert got.json()["permissions"]["ADMINISTER"]["type"] == "GLOBAL"
    deny_permissions(app.site, "DEMO", app.site.admin_key, ["CREATE_ISSUES"])
    after = held(await mine(client, api, projectKey="DEMO", permissions=keys))
    assert after["CREATE_ISSUES"] is False and after["EDIT_ISSUES"] is True
    # only in that project: CLS keeps it, and "any project" (no context) still holds it
    assert held(await mine(client, api, projectKey="CLS", permissions="CREATE_ISSUES")) == {
        "CREATE_ISSUES": True
    }
    assert held(await mine(client, api, permissions="CREATE_ISSUES")) == {"CREATE_ISSUES": True}
    by_issue = await mine(client, api, issueKey="DEMO-1", permissions="CREATE_ISSUES")
    assert held(by_issue) == {"CREATE_ISSUES": False}
    restore_permissions(app.site, "DEMO", app.site.admin_key)
    assert held(await mine(client, api, projectKey="DEMO", permissions="CREATE_ISSUES")) == {
        "CREATE_ISSUES": True
    }


async def test_a_project_the_caller_may_not_browse_is_not_found(
    client: httpx.AsyncClient, app: Any, api: str
) -> None:
    deny_permissions(app.site, "DEMO", app.site.admin_key, ["BROWSE_PROJECTS"])
    for where in ({"projectKey": "DEMO"}, {"issueKey": "DEMO-1"}, {"projectKey": "NOPE"}):
        answer = await mine(client, api, permissions="EDIT_ISSUES", **where)
        assert answer.status_code == 404, where
    # the denial is real for browsing too (searches see only browsable projects)
    assert not app.site.can_browse(app.site.admin_key, app.site.get_project("DEMO").id)
    assert app.site.can_browse(app.site.admin_key, app.site.get_project("CLS").id)


async def test_bad_questions(client: httpx.AsyncClient, api: str, flavour: str) -> None:
    unknown = await mine(client, api, projectKey="DEMO", permissions="EDIT_ISSUES,FLY")
    assert unknown.status_code == 400
    assert "FLY" in unknown.json()["errorMessages"][0]
    bare = await mine(client, api, projectKey="DEMO")
    if flavour == "cloud":  # required on Cloud since 2019
        assert bare.status_code == 400
        assert "permissions" in bare.json()["errorMessages"][0]
    else:  # Server still lists every permission
        assert "TRANSITION_ISSUES" in held(bare) and "ADMINISTER" in held(bare)


async def test_a_non_admin_lacks_global_admin_and_an_inactive_user_everything(
    app: Any,
) -> None:
    site = app.site
    alice = site.find_user("alice") or site.find_user("alice@example.org")
    demo = site.get_project("DEMO")
    assert has_permission(site, alice.key, "EDIT_ISSUES", demo)
    assert not has_permission(site, alice.key, "ADMINISTER", None)
    site.set_user_active(alice.key, False)
    assert not has_permission(site, alice.key, "EDIT_ISSUES", demo)


def test_denials_refuse_unknown_and_global_keys_and_are_saved(app: Any, tmp_path: Any) -> None:
    site = app.site
    with pytest.raises(ValidationFailed):
        deny_permissions(site, "DEMO", site.admin_key, ["EDIT_ISSUES", "FLY"])
    with pytest.raises(ValidationFailed):
        deny_permissions(site, "DEMO", site.admin_key, ["ADMINISTER"])
    assert site.get_project("DEMO").denied == {}  # nothing half-applied
    deny_permissions(site, "DEMO", site.admin_key, ["LINK_ISSUES"])
    path = tmp_path / "state.json.gz"
    site.save(path)
    loaded = type(site).load(path)
    assert not has_permission(loaded, site.admin_key, "LINK_ISSUES", loaded.get_project("DEMO"))
    assert has_permission(loaded, site.admin_key, "EDIT_ISSUES", loaded.get_project("DEMO"))


async def test_control_plane_denies_and_restores(app: Any, flavour: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=app.base_url) as c:
        admin = "admin" if flavour == "server" else "admin@jirabridge.test"
        body = {"projectKey": "DEMO", "user": admin, "deny": ["EDIT_ISSUES", "ADD_COMMENTS"]}
        got = await c.post("/_emulator/permissions", json=body)
        assert got.status_code == 200, got.text
        assert got.json()["denied"] == ["ADD_COMMENTS", "EDIT_ISSUES"]
        assert got.json()["userKey"] == app.site.admin_key
        got = await c.post(
            "/_emulator/permissions",
            json={"projectKey": "DEMO", "user": admin, "restore": ["EDIT_ISSUES"]},
        )
        assert got.json()["denied"] == ["ADD_COMMENTS"]
        bad = await c.post(
            "/_emulator/permissions",
            json={"projectKey": "DEMO", "user": admin, "restoreAll": True, "deny": ["FLY"]},
        )
        assert bad.status_code == 400 and "FLY" in bad.text
        assert app.site.get_project("DEMO").denied == {app.site.admin_key: {"ADD_COMMENTS"}}
        nobody = await c.post(
            "/_emulator/permissions", json={"projectKey": "DEMO", "user": "ghost", "deny": []}
        )
        assert nobody.status_code == 400
