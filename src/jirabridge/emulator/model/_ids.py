"""One seedable source of ids, so two runs with the same seed build the same site."""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Mapping
from typing import TypeVar

__all__ = ["IdSource", "as_id", "by_id", "is_id"]

_BASES = {
    "project": 10000,
    "issue": 10000,
    "comment": 10000,
    "changelog": 10000,
    "component": 10000,
    "version": 10000,
    "link": 10000,
    "remotelink": 10000,
    "attachment": 10000,
    "worklog": 10000,
    "user": 10000,
    "group": 10000,
    "option": 10000,
    "board": 1,
    "sprint": 1,
    "issuetype": 10000,
    "status": 10000,
    "resolution": 10000,
    "linktype": 10000,
    "customfield": 10000,
    "pat": 1,
    "filter": 10000,
}

T = TypeVar("T")


def is_id(text: str) -> bool:
    """True when ``text`` is a numeric id: ASCII digits only (``"²".isdigit()`` is true too,
    but ``int("²")`` fails)."""
    return text.isascii() and text.isdigit()


def as_id(ref: object) -> int | None:
    """``ref`` as an integer id, or None when it is not one (any text that is not ASCII digits)."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        return ref
    text = str(ref)
    return int(text) if is_id(text) else None


def by_id(store: Mapping[int, T], ref: object) -> T | None:
    """The record of ``store`` whose id ``ref`` is (int or digits), or None."""
    key = as_id(ref)
    return None if key is None else store.get(key)


class IdSource:
    """Per-kind integer counters starting where Jira starts, plus a seeded random generator."""

    def __init__(self, seed: int = 1) -> None:
        self.seed = seed
        self.random = random.Random(seed)
        self._next: dict[str, int] = dict(_BASES)

    def next(self, kind: str) -> int:
        """The next id of ``kind`` (any string; unknown kinds start at 10000)."""
        value = self._next.get(kind, 10000)
        self._next[kind] = value + 1
        return value

    def bump(self, kind: str, at_least: int) -> None:
        """Make sure the next id of ``kind`` is greater than ``at_least``."""
        if self._next.get(kind, 10000) <= at_least:
            self._next[kind] = at_least + 1

    def hex(self, length: int) -> str:
        return "".join(self.random.choice("0123456789abcdef") for _ in range(length))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))

    def derived_uuid(self, kind: str, number: int) -> str:
        """A UUID that depends only on the seed, ``kind`` and ``number`` (the random
        generator is not touched, so adding one changes no other id of the site)."""
        digest = hashlib.sha256(f"{self.seed}:{kind}:{number}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def token(self, length: int = 24) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(self.random.choice(alphabet) for _ in range(length))

    def account_id(self) -> str:
        """A Cloud accountId: 24 hex characters (newer form) or ``557058:<uuid>`` (1 in 5)."""
        if self.random.random() < 0.2:
            return f"557058:{self.uuid()}"
        return self.hex(24)

    def state(self) -> dict[str, object]:
        return {"seed": self.seed, "next": dict(self._next), "random": _rstate(self.random)}

    @classmethod
    def from_state(cls, data: object) -> IdSource:
        """Rebuild from :meth:`state`; ValueError when ``data`` is not such a state."""
        if not isinstance(data, dict):
            raise ValueError("bad id source state")
        seed = data.get("seed")
        nxt = data.get("next")
        rnd = data.get("random")
        if not isinstance(seed, int) or not isinstance(nxt, dict) or not isinstance(rnd, list):
            raise ValueError("bad id source state")
        src = cls(seed)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in nxt.values()):
            raise ValueError("bad id source counters")
        src._next = {str(k): v for k, v in nxt.items()}
        if len(rnd) != 3 or not isinstance(rnd[1], list):
            raise ValueError("bad random state")
        version, internal, gauss = rnd
        try:
            src.random.setstate((int(version), tuple(int(x) for x in internal), gauss))
        except (OverflowError, TypeError) as exc:
            raise ValueError("bad random state") from exc
        return src


def _rstate(rnd: random.Random) -> list[object]:
    version, internal, gauss = rnd.getstate()
    return [version, list(internal), gauss]
