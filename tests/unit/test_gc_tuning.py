from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from jirabridge._gc import GEN0_THRESHOLD, tune_gc


@pytest.fixture
def restored() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_start_up_objects_are_frozen_and_young_collections_rarer(restored: None) -> None:
    made_at_start_up = [object() for _ in range(10)]
    gen1, gen2 = gc.get_threshold()[1:]
    tune_gc()
    assert gc.get_freeze_count() >= len(made_at_start_up)
    assert gc.get_threshold() == (GEN0_THRESHOLD, gen1, gen2)


def test_cycles_made_later_are_still_collected(restored: None) -> None:
    tune_gc()

    class Node:
        other: object = None

    a, b = Node(), Node()
    a.other, b.other = b, a
    del a, b
    assert gc.collect() >= 2
