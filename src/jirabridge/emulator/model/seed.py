"""Seeding a site: :func:`seed_demo` (small, realistic) and :func:`seed_bulk` (large, fast)."""

from jirabridge.emulator.model._seed import (
    DEMO_PROJECTS,
    DEMO_USERS,
    SEED_EPOCH,
    seed_bulk,
    seed_demo,
)

__all__ = ["DEMO_PROJECTS", "DEMO_USERS", "SEED_EPOCH", "seed_bulk", "seed_demo"]
