from __future__ import annotations

import jirabridge.migrate as migrate


def test_all_is_curated_sorted_and_importable() -> None:
    assert migrate.__all__ == sorted(migrate.__all__)
    for name in migrate.__all__:
        assert getattr(migrate, name) is not None
    assert not [n for n in migrate.__all__ if n.startswith("_")]
