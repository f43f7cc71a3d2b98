from __future__ import annotations

import httpx
import pytest

from tests.integration.emulator_infra.conftest import Harness, basic

ALICE = basic("alice", "pw")
CLOUD_ALICE = basic("alice@acme.io", "tok")


async def test_limits_are_off_by_default(server: Harness) -> None:
    for _ in range(50):
        r = await server.client.get("/rest/api/2/myself", headers=ALICE)
        assert r.status_code == 200 and "X-RateLimit-Limit" not in r.headers


async def test_server_token_bucket_over_http(server: Harness) -> None:
    cfg = {"capacity": 2, "fillRate": 1, "intervalSeconds": 5}
    assert (await server.client.post("/_emulator/ratelimits", json=cfg)).status_code == 200
    ok = await server.client.get("/rest/api/2/myself", headers=ALICE)
    assert ok.headers["X-RateLimit-Remaining"] == "1"
    assert ok.headers["X-RateLimit-FillRate"] == "1"
    assert ok.headers["X-RateLimit-Interval-Seconds"] == "5"
    await server.client.get("/rest/api/2/myself", headers=ALICE)
    refused = await server.client.get("/rest/api/2/myself", headers=ALICE)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "5"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    # the control plane is never limited
    for _ in range(5):
        assert (await server.client.get("/_emulator/counters")).status_code == 200
    await server.client.post("/_emulator/clock", json={"advance": 5})
    assert (await server.client.get("/rest/api/2/myself", headers=ALICE)).status_code == 200
    counters = (await server.client.get("/_emulator/counters")).json()
    assert counters["rateLimited"] == 1
    assert counters["waits"]["retryAfterSeconds"] == 5
    await server.client.post("/_emulator/ratelimits", json={"enabled": False})
    for _ in range(5):
        assert (await server.client.get("/rest/api/2/myself", headers=ALICE)).status_code == 200


async def test_cloud_burst_and_per_issue_limits_over_http(cloud: Harness) -> None:
    await cloud.client.post(
        "/_emulator/ratelimits",
        json={"burstPerSecond": 2, "perIssueWrites": [[100, 30]], "penaltySeconds": 1},
    )
    for _ in range(2):
        assert (
            await cloud.client.get("/rest/api/3/issue/PRJ-1", headers=CLOUD_ALICE)
        ).status_code == 200
    r = await cloud.client.get("/rest/api/3/issue/PRJ-2", headers=CLOUD_ALICE)
    assert r.status_code == 429
    assert r.headers["RateLimit-Reason"] == "jira-burst-based"
    assert r.headers["X-RateLimit-Reset"].startswith("2026-01-05T09:00:01")
    assert r.headers["X-RateLimit-NearLimit"] == "true"
    assert r.json()["errorMessages"]
    early = await cloud.client.get("/rest/api/3/issue/PRJ-2", headers=CLOUD_ALICE)
    assert int(early.headers["Retry-After"]) >= int(r.headers["Retry-After"])
    # another endpoint is not affected
    assert (await cloud.client.get("/rest/api/3/myself", headers=CLOUD_ALICE)).status_code == 200

    await cloud.client.post(
        "/_emulator/ratelimits", json={"burstPerSecond": 1000, "perIssueWrites": [[2, 2]]}
    )
    for _ in range(2):
        assert (
            await cloud.client.put("/rest/api/3/issue/PRJ-9", headers=CLOUD_ALICE, json={})
        ).status_code == 204
    w = await cloud.client.put("/rest/api/3/issue/PRJ-9", headers=CLOUD_ALICE, json={})
    assert w.status_code == 429 and w.headers["RateLimit-Reason"] == "jira-per-issue-on-write"


async def test_injected_errors_are_seeded_and_clearable(server: Harness) -> None:
    async def run() -> list[int]:
        await server.client.post(
            "/_emulator/faults",
            json={
                "errors": [
                    {"status": 503, "rate": 0.5, "pattern": "/rest/api/2/myself", "retryAfter": 2}
                ],
                "seed": 9,
            },
        )
        return [
            (await server.client.get("/rest/api/2/myself", headers=ALICE)).status_code
            for _ in range(30)
        ]

    first, second = await run(), await run()
    assert first == second and set(first) == {200, 503}
    await server.client.post("/_emulator/faults", json={"clear": True})
    assert (await server.client.get("/rest/api/2/myself", headers=ALICE)).status_code == 200
    # other paths were never faulted
    assert (await server.client.get("/rest/api/2/serverInfo")).status_code == 200


async def test_downtime_answers_503_then_recovers(server: Harness) -> None:
    await server.client.post("/_emulator/downtime", json={"seconds": 30})
    r = await server.client.get("/rest/api/2/myself", headers=ALICE)
    assert r.status_code == 503 and r.headers["Retry-After"] == "30"
    assert (await server.client.get("/_emulator/state")).status_code == 200
    await server.client.post("/_emulator/clock", json={"advance": 30})
    assert (await server.client.get("/rest/api/2/myself", headers=ALICE)).status_code == 200


async def test_downtime_refuse_and_timeouts_drop_the_connection(server: Harness) -> None:
    await server.client.post("/_emulator/downtime", json={"seconds": 10, "mode": "refuse"})
    with pytest.raises(httpx.ConnectError):
        await server.client.get("/rest/api/2/myself", headers=ALICE)
    await server.client.post("/_emulator/downtime", json={"clear": True})
    await server.client.post(
        "/_emulator/faults", json={"timeouts": [{"rate": 1, "hangSeconds": 0}]}
    )
    with pytest.raises(httpx.RemoteProtocolError):
        await server.client.get("/rest/api/2/myself", headers=ALICE)


async def test_latency_is_injected_and_counted(server: Harness) -> None:
    await server.client.post("/_emulator/latency", json={"ms": 20, "pattern": "/rest/*"})
    await server.client.get("/rest/api/2/myself", headers=ALICE)
    await server.client.get("/rest/api/2/myself", headers=ALICE)
    snap = (await server.client.get("/_emulator/counters")).json()
    assert snap["waits"]["latencySeconds"] == pytest.approx(0.04)
    await server.client.post("/_emulator/latency", json={"clear": True})
    assert server.infra.faults.latency == []


async def test_counters_use_route_templates_and_reset(cloud: Harness) -> None:
    for key in ("PRJ-1", "PRJ-2", "PRJ-3"):
        await cloud.client.get(f"/rest/api/3/issue/{key}", headers=CLOUD_ALICE)
    await cloud.client.get("/rest/api/3/myself")  # 401
    await cloud.client.get("/rest/api/3/busy", headers=CLOUD_ALICE)  # the app's own 503
    snap = (await cloud.client.get("/_emulator/counters")).json()
    calls = {(c["endpoint"], c["method"], c["status"]): c["count"] for c in snap["calls"]}
    assert calls[("/rest/api/3/issue/{issueIdOrKey}", "GET", 200)] == 3
    assert calls[("/rest/api/3/myself", "GET", 401)] == 1
    assert calls[("/rest/api/3/busy", "GET", 503)] == 1
    assert snap["waits"]["retryAfterSeconds"] == 4
    assert not any(c["endpoint"].startswith("/_emulator") for c in snap["calls"])
    assert (await cloud.client.delete("/_emulator/counters")).status_code == 204
    assert (await cloud.client.get("/_emulator/counters")).json()["total"] == 0


async def test_bad_control_bodies_are_refused_and_change_nothing(server: Harness) -> None:
    r = await server.client.post("/_emulator/faults", json={"errors": [{"status": 503, "rate": 3}]})
    assert r.status_code == 400 and "errors.0.rate" in r.json()["errors"]
    assert server.infra.faults.errors == []
    r = await server.client.post("/_emulator/ratelimits", json={"capacity": 0})
    assert r.status_code == 400 and server.infra.server_limiter is None
    r = await server.client.post("/_emulator/latency", json={"ms": 5, "bogus": 1})
    assert r.status_code == 400 and server.infra.faults.latency == []
    r = await server.client.post(
        "/_emulator/clock", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    r = await server.client.post("/_emulator/clock", json={"freeze": "2026-02-01T00:00:00"})
    assert r.status_code == 400  # naive time refused


async def test_clock_control(server: Harness) -> None:
    r = await server.client.post("/_emulator/clock", json={"freeze": "2026-03-01T12:00:00Z"})
    assert r.json()["now"].startswith("2026-03-01T12:00:00")
    r = await server.client.post("/_emulator/clock", json={"advance": 90})
    assert r.json()["now"].startswith("2026-03-01T12:01:30")
    assert (
        (await server.client.get("/_emulator/clock"))
        .json()["now"]
        .startswith("2026-03-01T12:01:30")
    )
    r = await server.client.post("/_emulator/clock", json={"unfreeze": True})
    assert r.status_code == 200


async def test_reseeding_faults_keeps_latency_and_downtime(server: Harness) -> None:
    await server.client.post("/_emulator/latency", json={"ms": 1})
    await server.client.post("/_emulator/downtime", json={"seconds": 60, "startsIn": 30})
    await server.client.post(
        "/_emulator/faults", json={"errors": [{"status": 500, "rate": 0.1}], "seed": 3}
    )
    assert len(server.infra.faults.latency) == 1
    assert len(server.infra.faults.downtime) == 1
    assert server.infra.faults.seed == 3


async def test_server_legacy_rate_limit_headers_over_http(server: Harness) -> None:
    cfg = {"capacity": 2, "fillRate": 1, "intervalSeconds": 5, "headerStyle": "legacy"}
    r = await server.client.post("/_emulator/ratelimits", json=cfg)
    assert r.status_code == 200 and r.json()["headerStyle"] == "legacy"
    ok = await server.client.get("/rest/api/2/myself", headers=ALICE)
    assert ok.headers["X-RateLimiting-Remaining"] == "1"
    assert ok.headers["X-RateLimiting-Limit"] == "2"
    assert ok.headers["X-RateLimiting-FillRate"] == "1"
    assert ok.headers["X-RateLimiting-Interval-Seconds"] == "5"
    assert "X-RateLimit-Remaining" not in ok.headers
    await server.client.get("/rest/api/2/myself", headers=ALICE)
    refused = await server.client.get("/rest/api/2/myself", headers=ALICE)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "5"
    assert refused.headers["X-RateLimiting-Remaining"] == "0"
    # back to the modern names
    await server.client.post("/_emulator/ratelimits", json={"capacity": 5})
    ok = await server.client.get("/rest/api/2/myself", headers=ALICE)
    assert ok.headers["X-RateLimit-Remaining"] == "4"
    assert "X-RateLimiting-Remaining" not in ok.headers


async def test_unknown_header_style_is_refused(server: Harness) -> None:
    r = await server.client.post("/_emulator/ratelimits", json={"headerStyle": "ancient"})
    assert r.status_code == 400 and "headerStyle" in r.json()["errors"]
