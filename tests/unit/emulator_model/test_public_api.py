from __future__ import annotations

import jirabridge.emulator.model as model
from jirabridge.emulator import seed
from jirabridge.errors import BadInputError


def test_all_is_curated_and_importable() -> None:
    assert model.__all__ == sorted(
        model.__all__, key=lambda n: (not n.isupper(), n[0].islower(), n)
    )
    for name in model.__all__:
        assert getattr(model, name) is not None
    assert not [n for n in model.__all__ if n.startswith("_")]
    assert {"Site", "Flavour", "Clock", "ModelError", "seed"} - set(model.__all__) == {"seed"}
    assert set(seed.__all__) >= {"seed_demo", "seed_bulk"}


def test_error_tree() -> None:
    for cls, status in (
        (model.NotFound, 404),
        (model.ValidationFailed, 400),
        (model.PermissionDenied, 403),
        (model.Conflict, 409),
    ):
        err = cls("msg", {"f": "bad"})
        assert isinstance(err, model.ModelError) and isinstance(err, BadInputError)
        assert err.status == status
        assert err.error_messages == ["msg"] and err.errors == {"f": "bad"}
        assert err.jira is not None and err.jira.status == status
    assert issubclass(model.StateFileError, BadInputError)


def test_api_map_in_the_site_docstring_is_true() -> None:
    import re

    doc = model.Site.__doc__ or ""
    names = set(re.findall(r"``([a-z_]+)(?:\(|``)", doc.split("API map", 1)[1]))
    names -= {"actor", "ref", "fields", "update", "viewer_key", "properties", "entity"}
    site = model.Site(model.Flavour.SERVER)
    missing = sorted(n for n in names if not hasattr(site, n))
    assert len(names) > 60
    assert missing == []
