from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jirabridge.emulator.infra import (
    CloudRateLimitConfig,
    CloudRateLimiter,
    ServerRateLimitConfig,
    ServerRateLimiter,
)
from jirabridge.emulator.infra._ratelimit import endpoint_key, issue_write_target

WALL = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_server_bucket_empties_then_refills_in_batches() -> None:
    lim = ServerRateLimiter(ServerRateLimitConfig(capacity=3, fill_rate=2, interval_seconds=10))
    t = 100.0
    remaining = [int(lim.check("alice", t).headers["X-RateLimit-Remaining"]) for _ in range(3)]
    assert remaining == [2, 1, 0]
    refused = lim.check("alice", t + 1)
    assert not refused.allowed
    assert refused.retry_after == 9  # next batch at t + 10
    assert refused.headers["Retry-After"] == "9"
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-FillRate"] == "2"
    assert refused.headers["X-RateLimit-Interval-Seconds"] == "10"
    # half an interval later: still no batch
    assert not lim.check("alice", t + 9.5).allowed
    # one batch of 2 arrives at t + 10
    assert lim.check("alice", t + 10).allowed
    assert lim.check("alice", t + 10).allowed
    assert not lim.check("alice", t + 10).allowed
    # a long pause never overfills past capacity
    assert lim.remaining("alice", t + 1000) == 3


def test_server_buckets_are_per_user_and_exempt_users_pass() -> None:
    cfg = ServerRateLimitConfig(
        capacity=1, fill_rate=1, interval_seconds=60, exempt=frozenset({"bot"})
    )
    lim = ServerRateLimiter(cfg)
    assert lim.check("alice", 0).allowed
    assert not lim.check("alice", 0).allowed
    assert lim.check("bob", 0).allowed
    for _ in range(10):
        assert lim.check("bot", 0).allowed


def test_server_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        ServerRateLimitConfig(capacity=0)
    with pytest.raises(ValueError):
        ServerRateLimitConfig(interval_seconds=0)


def test_cloud_burst_is_per_endpoint_and_method_per_second() -> None:
    lim = CloudRateLimiter(CloudRateLimitConfig(burst_per_second=2, penalty_seconds=0))
    t = 50.2
    assert lim.check("GET", "/rest/api/3/issue/PRJ-1", t, WALL).allowed
    assert lim.check("GET", "/rest/api/3/issue/PRJ-2", t, WALL).allowed  # same endpoint
    refused = lim.check("GET", "/rest/api/3/issue/PRJ-3", t, WALL)
    assert not refused.allowed
    assert refused.reason == "jira-burst-based"
    assert refused.headers["RateLimit-Reason"] == "jira-burst-based"
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["X-RateLimit-Reset"] == "2026-01-05T09:00:01Z"
    # other method / other endpoint are independent
    assert lim.check("PUT", "/rest/api/3/issue/PRJ-3", t, WALL).allowed
    assert lim.check("GET", "/rest/api/3/project", t, WALL).allowed
    # next second window, after Retry-After
    assert lim.check("GET", "/rest/api/3/issue/PRJ-3", 51.2, WALL).allowed


def test_cloud_near_limit_header_under_twenty_percent() -> None:
    lim = CloudRateLimiter(CloudRateLimitConfig(burst_per_second=10))
    flags = [
        "X-RateLimit-NearLimit" in lim.check("GET", "/rest/api/3/myself", 7.0, WALL).headers
        for _ in range(10)
    ]
    # remaining 9..0: under 20% of 10 means remaining < 2
    assert flags == [False] * 8 + [True, True]


def test_cloud_early_retry_earns_same_or_longer_wait() -> None:
    lim = CloudRateLimiter(CloudRateLimitConfig(burst_per_second=1, penalty_seconds=2))
    assert lim.check("POST", "/rest/api/3/search/jql", 10.0, WALL).allowed
    first = lim.check("POST", "/rest/api/3/search/jql", 10.0, WALL)
    assert first.retry_after == 1
    early = lim.check("POST", "/rest/api/3/search/jql", 10.5, WALL)
    assert not early.allowed
    assert early.retry_after is not None and early.retry_after >= first.retry_after
    assert early.retry_after == 3  # 1 + penalty 2
    # obeying the new wait works
    assert lim.check("POST", "/rest/api/3/search/jql", 10.5 + 3, WALL).allowed


def test_cloud_early_retry_without_penalty_gets_the_same_wait() -> None:
    lim = CloudRateLimiter(CloudRateLimitConfig(burst_per_second=1, penalty_seconds=0))
    lim.check("GET", "/rest/api/3/field", 3.0, WALL)
    first = lim.check("GET", "/rest/api/3/field", 3.0, WALL)
    again = lim.check("GET", "/rest/api/3/field", 3.1, WALL)
    assert again.retry_after == first.retry_after == 1


def test_cloud_per_issue_write_limit() -> None:
    cfg = CloudRateLimitConfig(
        burst_per_second=1000, per_issue_writes=((3, 2.0),), penalty_seconds=0
    )
    lim = CloudRateLimiter(cfg)
    t = 0.0
    for i in range(3):
        assert lim.check("PUT", "/rest/api/3/issue/PRJ-1", t + i * 0.1, WALL).allowed
    refused = lim.check("POST", "/rest/api/3/issue/PRJ-1/comment", 0.5, WALL)
    assert not refused.allowed
    assert refused.reason == "jira-per-issue-on-write"
    assert refused.retry_after == 2  # first write at 0.0 leaves the 2 s window at 2.0
    # reads and other issues are not affected
    assert lim.check("GET", "/rest/api/3/issue/PRJ-1", 0.5, WALL).allowed
    assert lim.check("PUT", "/rest/api/3/issue/PRJ-2", 0.5, WALL).allowed
    # after the block, writes go through again
    assert lim.check("PUT", "/rest/api/3/issue/PRJ-1", 2.6, WALL).allowed


def test_burst_overrides_by_pattern() -> None:
    cfg = CloudRateLimitConfig(burst_per_second=100, burst_overrides=(("/rest/api/3/search*", 1),))
    lim = CloudRateLimiter(cfg)
    assert lim.check("GET", "/rest/api/3/search/jql", 1.0, WALL).allowed
    assert not lim.check("GET", "/rest/api/3/search/jql", 1.0, WALL).allowed
    assert lim.check("GET", "/rest/api/3/myself", 1.0, WALL).headers["X-RateLimit-Limit"] == "100"


def test_endpoint_key_and_issue_target() -> None:
    assert (
        endpoint_key("/rest/api/2/issue/PRJ-12/comment/10001")
        == "/rest/api/2/issue/{key}/comment/{id}"
    )
    assert issue_write_target("PUT", "/rest/api/3/issue/10042") == "10042"
    assert issue_write_target("GET", "/rest/api/3/issue/10042") is None
    assert issue_write_target("POST", "/rest/api/3/issue/bulk") is None
    assert issue_write_target("POST", "/rest/api/3/issue") is None


def test_per_issue_limit_counts_key_and_id_as_one_issue() -> None:
    cfg = CloudRateLimitConfig(per_issue_writes=((2, 10.0),), penalty_seconds=0)
    lim = CloudRateLimiter(cfg, canonical_issue=lambda ref: {"PRJ-1": "10001"}.get(ref, ref))
    assert lim.check("PUT", "/rest/api/3/issue/PRJ-1", 0.0, WALL).allowed
    assert lim.check("PUT", "/rest/api/3/issue/10001", 0.1, WALL).allowed
    assert not lim.check("PUT", "/rest/api/3/issue/PRJ-1", 0.2, WALL).allowed


def test_server_legacy_header_style_uses_pre_8x_names() -> None:
    from jirabridge.emulator.infra import HeaderStyle

    cfg = ServerRateLimitConfig(
        capacity=2, fill_rate=1, interval_seconds=10, header_style=HeaderStyle.LEGACY
    )
    lim = ServerRateLimiter(cfg)
    ok = lim.check("alice", 0)
    assert ok.headers["X-RateLimiting-Limit"] == "2"
    assert ok.headers["X-RateLimiting-Remaining"] == "1"
    assert ok.headers["X-RateLimiting-FillRate"] == "1"
    assert ok.headers["X-RateLimiting-Interval-Seconds"] == "10"
    assert not any(k.startswith("X-RateLimit-") for k in ok.headers)
    lim.check("alice", 0)
    refused = lim.check("alice", 1)
    assert not refused.allowed and refused.retry_after == 9
    assert refused.headers["Retry-After"] == "9"
    assert refused.headers["X-RateLimiting-Remaining"] == "0"
    assert not any(k.startswith("X-RateLimit-") for k in refused.headers)
