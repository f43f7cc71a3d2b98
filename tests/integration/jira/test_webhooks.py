"""Webhook registration through the clients, against both emulators."""

from __future__ import annotations

from datetime import UTC, datetime

from jirabridge.errors import JiraErrorBody

from .conftest import oauth_setup


async def test_admin_webhooks(emu) -> None:
    client = emu.client()
    hook_id = await client.register_admin_webhook(
        "jirabridge",
        "http://receiver.test/hook",
        ["jira:issue_created"],
        jql="project = PRJ",
        secret="s3cr3t-value",
    )
    hooks = await client.admin_webhooks()
    assert [h["url"] for h in hooks] == ["http://receiver.test/hook"]
    assert hooks[0]["filters"]["issue-related-events-section"] == "project = PRJ"
    await client.delete_admin_webhook(hook_id)
    assert await client.admin_webhooks() == []
    await client.delete_admin_webhook(hook_id)  # already gone: fine


async def test_cloud_app_webhooks(cloud_emu, tmp_path) -> None:
    _store, auth, _ = await oauth_setup(cloud_emu, tmp_path)
    client = cloud_emu.client(auth=auth())
    results = await client.register_webhooks(
        "http://receiver.test/app",
        [
            (["jira:issue_created", "jira:issue_updated"], "project = PRJ"),
            (["comment_created"], "project in ("),
        ],
    )
    assert isinstance(results[0], int)
    assert isinstance(results[1], JiraErrorBody) and results[1].error_messages
    hooks = await client.webhooks()
    assert [h["id"] for h in hooks] == [results[0]]
    expiry = await client.refresh_webhooks([results[0]])
    assert expiry is not None and expiry > datetime.now(UTC)
    await client.delete_webhooks([results[0]])
    assert await client.webhooks() == []
