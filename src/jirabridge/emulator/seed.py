"""Seeding an emulated site (see :mod:`jirabridge.emulator.model.seed`)::

seed_demo(site, seed=1)
seed_bulk(site, projects=5, issues=10_000, comments=30_000, users=50, sprints=10, seed=1)
"""

from jirabridge.emulator.model.seed import (
    DEMO_PROJECTS,
    DEMO_USERS,
    SEED_EPOCH,
    seed_bulk,
    seed_demo,
)

__all__ = ["DEMO_PROJECTS", "DEMO_USERS", "SEED_EPOCH", "seed_bulk", "seed_demo"]
