"""The client's governor against the Server emulator sending either header naming."""

from __future__ import annotations

import pytest

from jirabridge.jira import RateGovernor


@pytest.mark.parametrize("style", ["modern", "legacy"])
async def test_governor_learns_the_bucket_from_either_naming(server_emu, style: str) -> None:
    await server_emu.control(
        "/ratelimits",
        {"capacity": 100, "fillRate": 50, "intervalSeconds": 1, "headerStyle": style},
    )
    gov = RateGovernor()
    client = server_emu.client(governor=gov)
    for _ in range(8):
        await client.myself()
    bucket = gov.bucket("user")
    assert bucket.known
    # the rate came from the FillRate/Interval headers, whichever spelling was sent
    assert bucket.rate == pytest.approx(50 * 0.95)
    counters = await server_emu.counters()
    assert counters["rateLimited"] == 0
