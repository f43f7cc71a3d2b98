"""``jirabridge demo``: two emulated Jira sites kept in sync by the engine, end to end.

:func:`run_demo` starts a Server and a Cloud emulator (uvicorn on free loopback ports, both
seeded with ``seed_demo``), writes a sync configuration for the DEMO project pair into the
work directory (SQLite store there, secrets as ``env:`` references), serves the engine's
webhook receiver, registers webhooks on both sites, backfills, runs live sync (webhooks plus
polling), makes scripted edits on both sides through the clients and waits until each has
converged; the :class:`DemoReport` says what did, how fast, and what diverged::

    report = asyncio.run(run_demo(DemoOptions(issues=20, timeout=60), Console()))
    sys.exit(0 if report.ok else 1)
"""

from jirabridge.demo._report import ChangeRow, DemoReport, SiteCalls, print_summary
from jirabridge.demo._run import DemoOptions, run_demo
from jirabridge.demo._script import KINDS, ChangeStatus

__all__ = [
    "KINDS",
    "ChangeRow",
    "ChangeStatus",
    "DemoOptions",
    "DemoReport",
    "SiteCalls",
    "print_summary",
    "run_demo",
]
