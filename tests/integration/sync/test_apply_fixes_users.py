"""User and mention lookups of the applier: remembered per pair and per site (never one pair's
map, fallback user or site answering another), the fallback applied after the cache (so a miss
that ended in it is asked again after the TTL), and Cloud mentions found by accountId (Jira
Cloud's ``/user/search?query=`` matches display names and e-mail addresses only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from jirabridge.errors import SkipItemError
from jirabridge.jira import UserRef
from jirabridge.sync.apply._users import MISS_TTL_SECONDS, _UsersMixin
from jirabridge.sync.config import Side
from jirabridge.sync.diff import SKIP
from jirabridge.sync.richtext import DocState
from jirabridge.sync.store import Store

from .test_apply_emulator import build_world


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


@dataclass
class Site:
    """A fake site client: users found by e-mail (``find_users``), by username (Server) and
    by accountId (``get_user``, Cloud); counts the calls."""

    people: list[UserRef] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    by_id: list[str] = field(default_factory=list)

    async def find_users(self, query: str) -> list[UserRef]:
        self.searches.append(query)
        q = query.lower()
        return [p for p in self.people if q in ((p.email or "").lower(), p.name)]

    async def get_user(self, *, account_id: str) -> UserRef:
        self.by_id.append(account_id)
        for p in self.people:
            if p.account_id == account_id:
                return p
        raise SkipItemError(f"no user {account_id}")


def users_of(
    mapping: dict[str, str] | None = None,
    *,
    by_email: bool = False,
    cloud: str | None = None,
    server: str | None = None,
) -> SimpleNamespace:
    return SimpleNamespace(
        map=mapping or {},
        by_email=by_email,
        fallback_cloud_user=cloud,
        fallback_server_user=server,
    )


def make_ctx(
    pair_id: str, server_site: str, users: SimpleNamespace, server: Site, cloud: Site
) -> Any:
    pair = SimpleNamespace(
        id=pair_id,
        users=users,
        server=SimpleNamespace(site=server_site),
        cloud=SimpleNamespace(site="cloud"),
    )
    return SimpleNamespace(
        pair=pair, clients={Side.SERVER: server, Side.CLOUD: cloud}, docs=DocState()
    )


def applier(clock: Clock) -> _UsersMixin:
    m = _UsersMixin.__new__(_UsersMixin)
    m._users, m._mentions, m._misses, m.clock = {}, {}, {}, clock
    return m


async def test_each_pair_gets_its_own_mapping_and_fallback() -> None:
    m = applier(Clock())
    cloud = Site()
    a = make_ctx("a", "srv", users_of({"jsmith": "acct-A"}, cloud="bot-A"), Site(), cloud)
    b = make_ctx("b", "srv", users_of({"jsmith": "acct-B"}), Site(), cloud)
    jsmith = {"name": "jsmith"}
    assert (await m._map_user(a, jsmith, Side.CLOUD)) == UserRef(account_id="acct-A")
    assert (await m._map_user(b, jsmith, Side.CLOUD)) == UserRef(account_id="acct-B")
    newhire = {"name": "newhire"}
    assert (await m._map_user(a, newhire, Side.CLOUD)) == UserRef(account_id="bot-A")
    assert await m._map_user(b, newhire, Side.CLOUD) is None  # B has no fallback user
    # the translator (what the field values are written with) agrees, per pair
    assert m._translator(a).users(newhire, Side.CLOUD) == {"accountId": "bot-A"}  # type: ignore[attr-defined]
    assert m._translator(b).users(newhire, Side.CLOUD) is SKIP  # type: ignore[attr-defined]
    assert m._translator(b).users({"name": "never-seen"}, Side.CLOUD) is SKIP  # type: ignore[attr-defined]


def two_server_sites() -> tuple[Site, Site, Site, Any, Any]:
    """Server sites x and y, each with its own "jsmith" (j@x.io, j@y.io), both paired with
    one Cloud site (c-x, c-y): pair "a" x<->cloud, pair "b" y<->cloud, by e-mail."""
    x = Site([UserRef(name="jsmith", email="j@x.io")])
    y = Site([UserRef(name="jsmith", email="j@y.io")])
    cloud = Site(
        [UserRef(account_id="c-x", email="j@x.io"), UserRef(account_id="c-y", email="j@y.io")]
    )
    a = make_ctx("a", "server-x", users_of(by_email=True), x, cloud)
    b = make_ctx("b", "server-y", users_of(by_email=True), y, cloud)
    return x, y, cloud, a, b


async def test_the_same_username_on_two_server_sites_is_two_people() -> None:
    m = applier(Clock())
    _, _, cloud, a, b = two_server_sites()
    # a Server user "jsmith" of each site, with that site's e-mail address
    assert (
        await m._map_user(a, {"name": "jsmith", "email": "j@x.io"}, Side.CLOUD) == cloud.people[0]
    )
    assert (
        await m._map_user(b, {"name": "jsmith", "email": "j@y.io"}, Side.CLOUD) == cloud.people[1]
    )


async def test_a_mention_of_the_same_username_on_two_server_sites_is_two_people() -> None:
    m = applier(Clock())
    x, y, _, a, b = two_server_sites()
    doc = mention_doc("jsmith")
    await m._resolve_mentions(a, {Side.SERVER: [doc]})
    await m._resolve_mentions(b, {Side.SERVER: [doc]})
    assert m._mentions[("a", "server-x", "jsmith", Side.CLOUD)] == "c-x"
    assert m._mentions[("b", "server-y", "jsmith", Side.CLOUD)] == "c-y"
    assert (x.searches, y.searches) == (["jsmith"], ["jsmith"])
    # what the translation writes, per pair
    assert _mention_ids_written(m, a, doc) == ["c-x"]
    assert _mention_ids_written(m, b, doc) == ["c-y"]


def _mention_ids_written(m: _UsersMixin, ctx: Any, doc: dict[str, Any]) -> list[str]:
    m.config = SimpleNamespace(  # type: ignore[assignment]
        sites={
            ctx.pair.server.site: SimpleNamespace(url="https://s.example"),
            "cloud": SimpleNamespace(url="https://c.example"),
        }
    )
    ctx.issues = {}
    out = m.translate_doc(ctx, doc, Side.SERVER, Side.CLOUD)
    return [
        n["attrs"]["id"] for p in out["content"] for n in p["content"] if n["type"] == "mention"
    ]


async def test_a_miss_that_ended_in_the_fallback_is_asked_again_after_the_ttl() -> None:
    clock = Clock()
    m = applier(clock)
    cloud = Site()
    a = make_ctx("a", "srv", users_of(by_email=True, cloud="bot-A"), Site(), cloud)
    newhire = {"name": "newhire", "email": "n@acme.io"}
    assert await m._map_user(a, newhire, Side.CLOUD) == UserRef(account_id="bot-A")
    assert await m._map_user(a, newhire, Side.CLOUD) == UserRef(account_id="bot-A")
    assert cloud.searches == ["n@acme.io"]  # the miss is believed within the TTL
    cloud.people.append(UserRef(account_id="acct-newhire", email="n@acme.io"))
    clock.at += timedelta(seconds=MISS_TTL_SECONDS + 1)
    assert await m._map_user(a, newhire, Side.CLOUD) == UserRef(
        account_id="acct-newhire", email="n@acme.io"
    )
    assert len(cloud.searches) == 2
    # a hit is kept: no further search
    clock.at += timedelta(seconds=MISS_TTL_SECONDS * 10)
    await m._map_user(a, newhire, Side.CLOUD)
    assert len(cloud.searches) == 2


def mention_doc(ident: str) -> dict[str, Any]:
    mention = {"type": "mention", "attrs": {"id": ident, "text": "@Someone"}}
    return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [mention]}]}


async def test_a_cloud_mention_is_looked_up_by_account_id() -> None:
    m = applier(Clock())
    cloud = Site([UserRef(account_id="557058:bob", email="bob@acme.io", display_name="Bob")])
    server = Site([UserRef(name="bob", email="bob@acme.io")])
    ctx = make_ctx("a", "srv", users_of(by_email=True), server, cloud)
    await m._resolve_mentions(ctx, {Side.CLOUD: [mention_doc("557058:bob"), mention_doc("gone")]})
    assert cloud.by_id == ["557058:bob", "gone"]
    assert cloud.searches == []  # /user/search?query=<accountId> finds nobody on Jira Cloud
    assert m._mentions[("a", "cloud", "557058:bob", Side.SERVER)] == "bob"
    assert m._mentions[("a", "cloud", "gone", Side.SERVER)] is None
    assert ctx.docs.names[Side.CLOUD]["557058:bob"] == "Bob"


async def test_the_cloud_emulator_matches_query_by_name_and_email_only(store: Store) -> None:
    async with build_world(store) as world:
        cloud = world.bot["cld"]
        bob = world.apps["cld"].site.create_user(
            "Bob Builder", email="bob@acme.io", api_token="tok", groups=["jira-users"]
        )
        assert await cloud.find_users(bob.key) == []
        assert [u.account_id for u in await cloud.find_users("bui")] == [bob.key]
        assert [u.account_id for u in await cloud.find_users("bob@acme")] == [bob.key]
        assert (await cloud.get_user(account_id=bob.key)).account_id == bob.key
        answer = await cloud._json("GET", f"{cloud.api}/user/search", params={"accountId": bob.key})
        assert [a["accountId"] for a in answer] == [bob.key]
        # Server still finds a user by username
        server = world.bot["srv"]
        assert [u.name for u in await server.find_users("alice")] == ["alice"]
