from __future__ import annotations

import pytest

from jirabridge.emulator.infra import (
    DowntimeMode,
    ErrorRule,
    FaultPlan,
    LatencyRule,
    RequestCounters,
    TimeoutRule,
)
from jirabridge.emulator.infra._faults import FaultAction


def run(plan: FaultPlan, n: int = 200) -> list[FaultAction]:
    return [plan.decide("GET", "/rest/api/2/issue/PRJ-1", float(i)).action for i in range(n)]


def test_error_rate_is_seeded_and_about_right() -> None:
    def make(seed: int) -> FaultPlan:
        plan = FaultPlan(seed)
        plan.errors.append(ErrorRule(503, 0.3))
        return plan

    a, b, c = run(make(5), 1000), run(make(5), 1000), run(make(6), 1000)
    assert a == b
    assert a != c
    share = a.count(FaultAction.ERROR) / len(a)
    assert 0.25 < share < 0.35


def test_rules_respect_pattern_and_method() -> None:
    plan = FaultPlan(1)
    plan.errors.append(
        ErrorRule(500, 1.0, pattern="/rest/api/2/search*", method="POST", retry_after=7)
    )
    assert plan.decide("GET", "/rest/api/2/search", 0).action is FaultAction.NONE
    assert plan.decide("POST", "/rest/api/2/issue", 0).action is FaultAction.NONE
    hit = plan.decide("POST", "/rest/api/2/search", 0)
    assert (hit.action, hit.status, hit.retry_after) == (FaultAction.ERROR, 500, 7)


def test_latency_fixed_plus_seeded_jitter() -> None:
    plan = FaultPlan(2)
    plan.latency.append(LatencyRule(fixed=0.1, jitter=0.05))
    values = [plan.decide("GET", "/x", 0).latency for _ in range(50)]
    assert all(0.1 <= v <= 0.15 for v in values)
    assert len(set(values)) > 1
    plan2 = FaultPlan(2)
    plan2.latency.append(LatencyRule(fixed=0.1, jitter=0.05))
    assert values == [plan2.decide("GET", "/x", 0).latency for _ in range(50)]


def test_timeouts_come_before_errors() -> None:
    plan = FaultPlan(1)
    plan.errors.append(ErrorRule(503, 1.0))
    plan.timeouts.append(TimeoutRule(1.0, hang_seconds=2))
    d = plan.decide("GET", "/x", 0)
    assert d.action is FaultAction.TIMEOUT and d.hang_seconds == 2


def test_downtime_window_opens_and_closes_on_the_clock() -> None:
    plan = FaultPlan(1)
    plan.add_downtime(100.0, 30, starts_in=10)
    assert plan.decide("GET", "/x", 105).action is FaultAction.NONE
    down = plan.decide("GET", "/x", 115)
    assert down.action is FaultAction.DOWN and down.status == 503 and down.retry_after == 25
    assert not down.refuse
    assert plan.decide("GET", "/x", 140).action is FaultAction.NONE
    assert plan.downtime == []  # expired windows are forgotten
    plan.add_downtime(200.0, 5, mode=DowntimeMode.REFUSE)
    assert plan.decide("GET", "/x", 201).refuse


def test_bad_rules_are_refused() -> None:
    with pytest.raises(ValueError):
        ErrorRule(503, 1.5)
    with pytest.raises(ValueError):
        ErrorRule(200, 0.5)
    with pytest.raises(ValueError):
        TimeoutRule(-0.1)
    with pytest.raises(ValueError):
        LatencyRule(fixed=-1)
    with pytest.raises(ValueError):
        FaultPlan().add_downtime(0, 0)


def test_counters_count_by_template_method_status() -> None:
    c = RequestCounters()
    c.record("/rest/api/2/issue/{issueIdOrKey}", "get", 200)
    c.record("/rest/api/2/issue/{issueIdOrKey}", "GET", 200)
    c.record("/rest/api/2/issue/{issueIdOrKey}", "GET", 429, retry_after=3)
    c.record("/rest/api/2/search", "POST", 200, latency=0.25)
    assert c.total == 4
    assert c.count("/rest/api/2/issue/{issueIdOrKey}") == 3
    assert c.count(method="GET", status=200) == 2
    assert c.rate_limited == 1
    snap = c.snapshot()
    assert snap["waits"] == {"retryAfterSeconds": 3.0, "latencySeconds": 0.25}
    assert {"endpoint": "/rest/api/2/search", "method": "POST", "status": 200, "count": 1} in snap[
        "calls"
    ]
    c.reset()
    assert c.total == 0 and c.snapshot()["calls"] == []


def test_counters_count_again_after_reset_with_known_rows() -> None:
    """Rows are interned per (template, method, status) as given; a reset empties the counts
    and a row seen before counts from zero again, under either method spelling."""
    c = RequestCounters()
    for _ in range(3):
        c.record("/rest/api/2/issue/{issueIdOrKey}", "put", 204)
    c.reset()
    c.record("/rest/api/2/issue/{issueIdOrKey}", "put", 204)
    c.record("/rest/api/2/issue/{issueIdOrKey}", "PUT", 204)
    c.record("/rest/api/2/issue/{issueIdOrKey}", "PUT", 400)
    assert c.count(method="PUT", status=204) == 2
    assert c.count(status=400) == 1
    assert c.snapshot()["calls"] == [
        {
            "endpoint": "/rest/api/2/issue/{issueIdOrKey}",
            "method": "PUT",
            "status": 204,
            "count": 2,
        },
        {
            "endpoint": "/rest/api/2/issue/{issueIdOrKey}",
            "method": "PUT",
            "status": 400,
            "count": 1,
        },
    ]
