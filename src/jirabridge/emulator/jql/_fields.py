"""What the JQL engine needs to know about fields, without knowing the model.

The search adapter implements :class:`Resolver` over its site; the compiler asks it for a
:class:`FieldDef` per field name and for the inputs of the JQL functions.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Generic, TypeVar

__all__ = ["FieldDef", "FieldKind", "IssueT", "Resolver"]

IssueT = TypeVar("IssueT")


class FieldKind(enum.Enum):
    """How a field is searched; decides the operators and functions it accepts."""

    TEXT = "text"  # ~ !~ (IS [NOT] EMPTY when emptiable)
    VALUE = "value"  # = != IN NOT IN IS IS NOT over resolved values
    USER = "user"  # VALUE plus currentUser(), membersOf()
    SPRINT = "sprint"  # VALUE plus openSprints(), closedSprints()
    KEY = "key"  # VALUE plus < <= > >= within one project; values are (project, number)
    DATE = "date"  # = != < <= > >= IN NOT IN IS IS NOT with dates and date functions
    NUMBER = "number"  # = != < <= > >= IN NOT IN IS IS NOT with numbers


@dataclass(frozen=True)
class FieldDef(Generic[IssueT]):
    """One searchable field.

    ``get`` returns the issue's value: None when empty, a frozenset for multi-valued fields
    (``multi``), a str or tuple of str for TEXT, an aware datetime for DATE, a number for
    NUMBER, a ``(project, number)`` tuple for KEY, and for VALUE-like kinds whatever
    canonical value ``resolve`` returns for a literal. ``resolve(literal, name_as_typed)``
    returns every canonical value the literal names (empty when none; it may raise
    ``JqlError`` for a malformed literal). ``sort_key`` None means the field cannot be sorted;
    ``default_descending`` is the direction ``ORDER BY field`` takes when none is written (Jira
    sorts dates, priority and votes newest/highest first by default). ``functions`` maps the
    lower-case names of field-specific JQL functions (``standardIssueTypes``,
    ``releasedVersions``, ...) to callables taking the function's name as written and its
    arguments, returning canonical values (they raise ``JqlError`` for bad arguments).
    """

    id: str
    kind: FieldKind
    get: Callable[[IssueT], object]
    resolve: Callable[[str, str], frozenset[object]] | None = None
    sort_key: Callable[[IssueT], object] | None = None
    multi: bool = False
    emptiable: bool = True
    default_descending: bool = False
    functions: Mapping[str, Callable[[str, tuple[str, ...]], frozenset[object]]] = field(
        default_factory=dict
    )


class Resolver(ABC, Generic[IssueT]):
    """The site-facing side of the engine: fields, clock, viewer, groups, sprints."""

    @abstractmethod
    def field(self, name: str, cf_id: int | None) -> FieldDef[IssueT] | None:
        """The field named ``name`` (any case) or ``cf[cf_id]``; None when unknown/hidden."""

    @abstractmethod
    def now(self) -> datetime:
        """The site's current time (timezone-aware)."""

    @abstractmethod
    def time_zone(self) -> tzinfo:
        """The site's time zone, in which date literals and day boundaries are read."""

    @abstractmethod
    def current_user(self) -> object | None:
        """The viewer's canonical user value (as USER fields return), None if anonymous."""

    @abstractmethod
    def members_of(self, group: str) -> frozenset[object] | None:
        """Canonical user values of the group's members; None when the group does not exist."""

    @abstractmethod
    def sprints(self, state: str) -> frozenset[object]:
        """Canonical sprint values of sprints in ``state``: ``"open"`` (not completed: active
        or future), ``"closed"`` or ``"future"``."""
