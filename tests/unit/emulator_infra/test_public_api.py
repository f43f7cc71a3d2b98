from __future__ import annotations

import jirabridge.emulator.infra as infra_pkg
from jirabridge.emulator.infra import FlavourName, Infra


def test_all_is_curated_and_importable() -> None:
    for name in infra_pkg.__all__:
        assert hasattr(infra_pkg, name), name
    assert all(not n.startswith("_") for n in infra_pkg.__all__)


def test_infra_accepts_flavour_by_enum_or_name() -> None:
    assert Infra(object(), "cloud").flavour is FlavourName.CLOUD
    assert Infra(object(), FlavourName.SERVER).flavour is FlavourName.SERVER
