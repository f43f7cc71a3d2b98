from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jirabridge.emulator.model import Clock, Flavour, IdSource, Site

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_freeze_advance_unfreeze() -> None:
    clock = Clock()
    clock.freeze(T0)
    assert clock.now() == T0 and clock.frozen
    mono = clock.monotonic()
    clock.advance(90)
    assert clock.now() == T0 + timedelta(seconds=90)
    assert clock.monotonic() == pytest.approx(mono + 90)
    clock.unfreeze()
    assert not clock.frozen
    assert clock.now() - (T0 + timedelta(seconds=90)) < timedelta(seconds=5)
    before = clock.now()
    clock.advance(3600)
    assert clock.now() - before >= timedelta(seconds=3600)
    assert clock.now().tzinfo is not None


def test_clock_refuses_naive_and_backwards() -> None:
    clock = Clock()
    with pytest.raises(ValueError):
        clock.freeze(datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_ids_repeat_per_seed() -> None:
    def seq(src: IdSource) -> list[object]:
        return [src.account_id() for _ in range(5)] + [src.next("issue"), src.token()]

    a, b, c = IdSource(4), IdSource(4), IdSource(5)
    assert seq(a) == seq(b)
    assert seq(IdSource(4)) != seq(c)
    restored = IdSource.from_state(a.state())
    assert seq(restored) == seq(a)


def test_account_ids_and_default_admin() -> None:
    cloud = Site(Flavour.CLOUD)
    admin = cloud.users[cloud.admin_key]
    assert admin.email == "admin@jirabridge.test"
    assert cloud.check_api_token("admin@jirabridge.test", "admin") is admin
    assert cloud.check_api_token("admin@jirabridge.test", "wrong") is None
    assert cloud.is_admin(admin.key)
    assert {"site-admins", "jira-admins"} <= set(cloud.user_groups(admin.key))
    ids = [cloud.create_user(f"U{n}", email=f"u{n}@x.test").key for n in range(30)]
    for key in ids:
        assert (len(key) == 24 and all(c in "0123456789abcdef" for c in key)) or (
            key.startswith("557058:") and len(key) == 7 + 36
        )
    server = Site(Flavour.SERVER)
    assert server.check_password("admin", "admin") is server.users["admin"]
    assert server.check_password("ADMIN", "nope") is None
    assert "jira-administrators" in server.user_groups("admin")
    bob = server.create_user("Bob", name="bob")
    assert bob.key == "JIRAUSER10000"
    token = server.create_personal_token(bob.key)
    assert server.user_for_personal_token(token) is bob
    server.set_user_active(bob.key, False)
    assert server.user_for_personal_token(token) is None


def test_reset_restores_a_fresh_site() -> None:
    site = Site(Flavour.SERVER, seed=3, clock=Clock(T0))
    fresh = site.to_state()
    site.create_project("ABC", "Abc", site.admin_key)
    site.reset()
    assert site.to_state() == fresh


def test_bad_enum_values_and_clock_changes_are_jirabridge_errors() -> None:
    from jirabridge.emulator.model import BoardType, ClockError, ValidationFailed
    from jirabridge.emulator.seed import seed_bulk
    from jirabridge.errors import BadInputError

    with pytest.raises(ValidationFailed, match="server, cloud"):
        Site("mars")  # type: ignore[arg-type]
    site = Site(Flavour.SERVER)
    site.create_project("ABC", "Abc", site.admin_key)
    with pytest.raises(ValidationFailed, match="board type"):
        site.create_board("b", "waterfall", project_ref="ABC")
    board = site.create_board("b", BoardType.SCRUM, project_ref="ABC")
    with pytest.raises(ValidationFailed, match="sprint state"):
        site.board_sprints(board.id, ["someday"])
    with pytest.raises(ClockError) as err:
        Clock().advance(-5)
    assert isinstance(err.value, BadInputError)
    with pytest.raises(ValidationFailed):
        seed_bulk(site, projects=0, issues=1, comments=1, users=1, sprints=0)
