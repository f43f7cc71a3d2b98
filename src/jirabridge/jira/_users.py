"""Filling in a user's other identities (Server name/key <-> Cloud accountId)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Protocol

from jirabridge.jira._model import UserRef

__all__ = ["UserResolver", "UserTable"]


class UserResolver(Protocol):
    """Answers the full :class:`UserRef` for a partial one, or None when unknown."""

    def complete(self, user: UserRef) -> UserRef | None: ...


class UserTable:
    """A :class:`UserResolver` over known people, matched by accountId, name, key or email."""

    def __init__(self, people: Iterable[UserRef]) -> None:
        self._index: dict[tuple[str, str], UserRef] = {}
        for person in people:
            for kind, value in self._keys(person):
                self._index.setdefault((kind, value), person)

    @staticmethod
    def _keys(user: UserRef) -> list[tuple[str, str]]:
        out = []
        if user.account_id:
            out.append(("account", user.account_id))
        if user.name:
            out.append(("name", user.name.lower()))
        if user.key:
            out.append(("key", user.key.lower()))
        if user.email:
            out.append(("email", user.email.lower()))
        return out

    def complete(self, user: UserRef) -> UserRef | None:
        for key in self._keys(user):
            found = self._index.get(key)
            if found is not None:
                return replace(
                    found,
                    display_name=user.display_name or found.display_name,
                    active=user.active if user.active is not None else found.active,
                    email=user.email or found.email,
                )
        return None
