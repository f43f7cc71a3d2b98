from __future__ import annotations

import jirabridge.emulator as emulator
import jirabridge.emulator.faces as faces


def test_curated_public_names() -> None:
    for module in (emulator, faces):
        assert module.__all__ == sorted(module.__all__)
        for name in module.__all__:
            assert not name.startswith("_")
            assert getattr(module, name) is not None


def test_create_app_is_the_app_factory() -> None:
    from jirabridge.emulator.app import create_app

    app = emulator.create_app("server")
    assert isinstance(app, emulator.EmulatorApp)
    assert app.flavour.value == "server"
    assert callable(create_app)
