from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jirabridge.emulator.infra import WebhookRegistry
from jirabridge.emulator.infra._webhooks import TargetKind, WebhookNotFound, expand_url
from jirabridge.errors import BadInputError

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def payload(
    event: str = "jira:issue_updated", key: str = "PRJ-1", fields: tuple[str, ...] = ()
) -> dict:
    return {
        "webhookEvent": event,
        "issue": {"id": "10001", "key": key, "fields": {"project": {"id": "10000", "key": "PRJ"}}},
        "changelog": {"id": "1", "items": [{"field": f, "fieldId": f} for f in fields]},
    }


def in_prj(issue_key: str, jql: str, viewer: str | None) -> bool:
    if jql == "bad(":
        raise BadInputError("Error in the JQL Query: Expecting ')' but got the end of the query.")
    return jql == "project = PRJ" and issue_key.startswith("PRJ-")


def admin(reg: WebhookRegistry, **kw):
    args = dict(
        name="h",
        url="http://127.0.0.1:9/hook",
        events=["jira:issue_updated"],
        jql=None,
        exclude_body=False,
        enabled=True,
        user_key="admin",
        now=NOW,
    )
    args.update(kw)
    return reg.create_admin(**args)


def test_admin_webhook_matches_event_jql_and_enabled() -> None:
    reg = WebhookRegistry()
    a = admin(reg, jql="project = PRJ")
    admin(reg, events=["jira:issue_created"])
    off = admin(reg, enabled=False)
    targets = reg.match(payload(), NOW, in_prj)
    assert [t.webhook_id for t in targets] == [a.id]
    assert reg.match(payload(key="OTHER-1"), NOW, in_prj) == []
    reg.update_admin(off.id, "admin", NOW, enabled=True)
    assert len(reg.match(payload(), NOW, in_prj)) == 2


def test_bad_jql_at_delivery_time_matches_nothing() -> None:
    reg = WebhookRegistry()
    admin(reg, jql="bad(")
    assert reg.match(payload(), NOW, in_prj) == []


def test_admin_crud_errors() -> None:
    reg = WebhookRegistry()
    with pytest.raises(BadInputError):
        admin(reg, url="not a url")
    with pytest.raises(WebhookNotFound):
        reg.get_admin(42)
    with pytest.raises(WebhookNotFound):
        reg.delete_admin(42)
    h = admin(reg)
    reg.delete_admin(h.id)
    assert reg.admin_hooks() == []


def test_url_variables_are_expanded() -> None:
    url = "http://127.0.0.1/h/${project.key}/${issue.key}?id=${issue.id}"
    assert expand_url(url, payload()) == "http://127.0.0.1/h/PRJ/PRJ-1?id=10001"
    reg = WebhookRegistry()
    admin(reg, url=url)
    assert reg.match(payload(), NOW, None)[0].url == "http://127.0.0.1/h/PRJ/PRJ-1?id=10001"


def test_rest_registration_results_in_request_order() -> None:
    reg = WebhookRegistry()
    results = reg.register_rest(
        "oauth:app",
        "http://127.0.0.1/app",
        [
            {"events": ["jira:issue_created"], "jqlFilter": "project = PRJ"},
            {"events": ["worklog_created"], "jqlFilter": "project = PRJ"},
            {"events": ["jira:issue_updated"], "jqlFilter": "bad("},
            {
                "events": ["jira:issue_updated"],
                "jqlFilter": "project = PRJ",
                "fieldIdsFilter": ["summary"],
            },
        ],
        NOW,
        in_prj,
    )
    assert "createdWebhookId" in results[0]
    assert results[1]["errors"] and "worklog_created" in results[1]["errors"][0]
    assert "Expecting" in results[2]["errors"][0]
    assert "createdWebhookId" in results[3]
    assert len(reg.rest_hooks("oauth:app")) == 2
    with pytest.raises(BadInputError):
        reg.register_rest("oauth:app", "http://127.0.0.1/other", [], NOW)


def test_rest_field_filter_expiry_and_refresh() -> None:
    reg = WebhookRegistry(rest_ttl_days=30)
    [res] = reg.register_rest(
        "oauth:app",
        "http://127.0.0.1/app",
        [
            {
                "events": ["jira:issue_updated"],
                "jqlFilter": "project = PRJ",
                "fieldIdsFilter": ["summary"],
            }
        ],
        NOW,
        in_prj,
    )
    hook_id = res["createdWebhookId"]
    assert reg.match(payload(fields=("status",)), NOW, in_prj) == []
    [t] = reg.match(payload(fields=("summary",)), NOW, in_prj)
    assert t.kind is TargetKind.REST and t.webhook_id == hook_id
    later = NOW + timedelta(days=30)
    assert reg.match(payload(fields=("summary",)), later, in_prj) == []
    new_exp = reg.refresh_rest("oauth:app", [hook_id], NOW + timedelta(days=29))
    assert new_exp == NOW + timedelta(days=59)
    assert len(reg.match(payload(fields=("summary",)), later, in_prj)) == 1
    # another app cannot refresh or delete it
    reg.delete_rest("oauth:other", [hook_id])
    assert len(reg.rest_hooks()) == 1
    reg.delete_rest("oauth:app", [hook_id])
    assert reg.rest_hooks() == []


def test_has_hooks_follows_admin_and_rest_registrations() -> None:
    reg = WebhookRegistry()
    assert not reg.has_hooks()
    h = admin(reg)
    assert reg.has_hooks()
    reg.delete_admin(h.id)
    assert not reg.has_hooks()
    [res] = reg.register_rest(
        "oauth:app",
        "http://127.0.0.1/app",
        [{"events": ["jira:issue_created"], "jqlFilter": "project = PRJ"}],
        NOW,
    )
    assert "createdWebhookId" in res
    assert reg.has_hooks()
    reg.delete_rest("oauth:app", [res["createdWebhookId"]])
    assert not reg.has_hooks()
    admin(reg)
    reg.reset()
    assert not reg.has_hooks()
