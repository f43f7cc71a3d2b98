from __future__ import annotations

import jirabridge.jira as jira
from jirabridge.jira._metrics import CallStats, endpoint_template


def test_public_api_is_curated_and_complete() -> None:
    assert len(jira.__all__) == len(set(jira.__all__))
    for name in jira.__all__:
        assert hasattr(jira, name), name
    public = {n for n in dir(jira) if not n.startswith("_")}
    # nothing public leaks besides __all__ and the private submodules
    leaked = {n for n in public - set(jira.__all__) if not n.startswith("annotations")}
    assert leaked == set(), leaked


def test_both_clients_offer_the_same_interface() -> None:
    def methods(cls: type) -> set[str]:
        return {n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))}

    server_only = {"get_user"}
    cloud_only = {
        "get_user",
        "approximate_count",
        "register_webhooks",
        "webhooks",
        "refresh_webhooks",
        "delete_webhooks",
        "media_id",
    }
    assert methods(jira.ServerClient) - server_only == methods(jira.CloudClient) - cloud_only


def test_endpoint_templates() -> None:
    assert endpoint_template("/rest/api/2/issue/ABC-12/comment/10001") == (
        "/rest/api/2/issue/{id}/comment/{id}"
    )
    assert (
        endpoint_template("/rest/agile/1.0/sprint/7/issue") == "/rest/agile/1.0/sprint/{id}/issue"
    )
    assert endpoint_template("/rest/api/3/user") == "/rest/api/3/user"


def test_stats_snapshot() -> None:
    stats = CallStats()
    stats.record(endpoint="/rest/api/2/search", method="POST", status=200, latency=0.5)
    stats.record(endpoint="/rest/api/2/search", method="POST", status=429, latency=0.1)
    stats.record_retry()
    stats.record_wait(2.0)
    snap = stats.snapshot()
    assert snap["total"] == 2 and snap["rate_limited"] == 1 and snap["retries"] == 1
    assert snap["wait_seconds"] == 2.0
    assert {"endpoint": "/rest/api/2/search", "method": "POST", "status": 429, "count": 1} in snap[
        "calls"
    ]
