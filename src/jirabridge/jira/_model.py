"""The canonical, flavour-neutral model that both clients read into and write from.

Rules that make a Server issue and a Cloud issue with the same content compare equal:

- rich text (description, environment, textarea custom fields, comment bodies) is ADF (a dict);
- users carry every identity known (Server ``name``/``key``, Cloud ``accountId``, email); two
  references are equal when their identities are, whatever the display name or avatar;
- site-local details (numeric ids, ``self`` URLs) are kept but do not take part in equality;
- datetimes are timezone-aware, so ``+0000`` and ``-0700`` spellings of one instant are equal;
- custom fields are addressed by id and carry their schema type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "Attachment",
    "Board",
    "BulkCreateResult",
    "ChangeItem",
    "ChangelogEntry",
    "Comment",
    "CustomFieldValue",
    "FieldInfo",
    "Issue",
    "IssueInput",
    "IssueLink",
    "JiraFlavour",
    "LinkDirection",
    "RemoteLink",
    "ServerInfo",
    "Sprint",
    "SprintState",
    "Transition",
    "UserRef",
]

Adf = dict[str, Any]


class JiraFlavour(StrEnum):
    """Which kind of Jira site a client talks to."""

    SERVER = "server"
    CLOUD = "cloud"


@dataclass(frozen=True)
class UserRef:
    """A user, with every identity known. Equality is by identity only."""

    account_id: str | None = None
    name: str | None = None
    key: str | None = None
    email: str | None = field(default=None, compare=False)
    display_name: str | None = field(default=None, compare=False)
    active: bool | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not (self.account_id or self.name or self.key):
            raise ValueError("a user reference needs an accountId, a name or a key")

    def label(self) -> str:
        """A short way to show the user in logs (no email: that is personal data)."""
        return self.display_name or self.name or self.account_id or self.key or "?"


@dataclass(frozen=True)
class CustomFieldValue:
    """One custom field value, addressed by field id, with Jira's schema type.

    ``schema_type`` is Jira's ``schema.type`` (``string``, ``number``, ``date``, ``datetime``,
    ``option``, ``user``, ``array``, ...), ``items`` its ``schema.items`` for arrays and
    ``custom`` its ``schema.custom`` key when known. ``value`` is normalised: an option is its
    value string, a user a :class:`UserRef`, a textarea ADF, an array a tuple.
    """

    field_id: str
    schema_type: str
    value: Any
    items: str | None = None
    custom: str | None = field(default=None, compare=False)


class LinkDirection(StrEnum):
    OUTWARD = "outward"
    INWARD = "inward"


@dataclass(frozen=True)
class IssueLink:
    """A link from the issue it belongs to towards ``other_key``."""

    type_name: str
    direction: LinkDirection
    other_key: str
    id: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RemoteLink:
    url: str
    title: str
    global_id: str | None = None
    relationship: str | None = None
    id: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Attachment:
    filename: str
    size: int
    mime_type: str | None = None
    author: UserRef | None = None
    created: datetime | None = None
    id: str | None = field(default=None, compare=False)
    content_url: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Comment:
    body: Adf
    author: UserRef | None = None
    created: datetime | None = None
    updated: datetime | None = None
    update_author: UserRef | None = None
    visibility: tuple[str, str] | None = None
    id: str | None = field(default=None, compare=False)
    properties: dict[str, Any] = field(default_factory=dict, compare=False)
    """The comment's entity properties; filled only when asked for (``expand=properties``)."""


@dataclass(frozen=True)
class ChangeItem:
    field: str
    field_type: str | None = None
    field_id: str | None = None
    from_value: str | None = None
    from_string: str | None = None
    to_value: str | None = None
    to_string: str | None = None


@dataclass(frozen=True)
class ChangelogEntry:
    created: datetime
    items: tuple[ChangeItem, ...]
    author: UserRef | None = None
    id: str | None = field(default=None, compare=False)


class SprintState(StrEnum):
    FUTURE = "future"
    ACTIVE = "active"
    CLOSED = "closed"


@dataclass(frozen=True)
class Sprint:
    id: int
    name: str
    state: SprintState
    board_id: int | None = None
    goal: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    complete: datetime | None = None


@dataclass(frozen=True)
class Board:
    id: int
    name: str
    type: str
    project_key: str | None = None


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to_status: str
    to_status_id: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class FieldInfo:
    """A field as ``GET /field`` describes it."""

    id: str
    name: str
    custom: bool
    schema_type: str | None = None
    items: str | None = None
    custom_key: str | None = None


@dataclass(frozen=True)
class ServerInfo:
    base_url: str
    version: str
    deployment_type: str
    version_numbers: tuple[int, ...] = ()
    server_title: str | None = None


@dataclass(frozen=True)
class Issue:
    """A Jira issue read by either client."""

    key: str
    project_key: str
    issue_type: str
    summary: str
    status: str
    description: Adf | None = None
    environment: Adf | None = None
    status_category: str | None = None
    priority: str | None = None
    resolution: str | None = None
    assignee: UserRef | None = None
    reporter: UserRef | None = None
    creator: UserRef | None = None
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    fix_versions: tuple[str, ...] = ()
    affects_versions: tuple[str, ...] = ()
    created: datetime | None = None
    updated: datetime | None = None
    resolved: datetime | None = None
    due: date | None = None
    parent_key: str | None = None
    links: tuple[IssueLink, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    comments: tuple[Comment, ...] = ()
    changelog: tuple[ChangelogEntry, ...] = ()
    custom_fields: Mapping[str, CustomFieldValue] = field(default_factory=dict)
    id: str | None = field(default=None, compare=False)
    url: str | None = field(default=None, compare=False)
    comments_total: int | None = field(default=None, compare=False)
    """How many comments the issue has, when the read asked for its ``comment`` field (None:
    it did not, and ``comments`` tells nothing); ``comments`` may hold fewer (a first page)."""


@dataclass(frozen=True)
class IssueInput:
    """What to write when creating or editing an issue; ``None`` / empty means "leave out".

    ``extra_fields`` passes raw field JSON straight through (already in the target's shape).
    ``properties`` are entity properties set in the same create (``POST /issue`` and
    ``/issue/bulk`` take them on both flavours); an edit leaves them out.
    """

    project_key: str | None = None
    issue_type: str | None = None
    summary: str | None = None
    description: Adf | None = None
    environment: Adf | None = None
    priority: str | None = None
    assignee: UserRef | None = None
    reporter: UserRef | None = None
    labels: tuple[str, ...] | None = None
    components: tuple[str, ...] | None = None
    fix_versions: tuple[str, ...] | None = None
    affects_versions: tuple[str, ...] | None = None
    due: date | None = None
    parent_key: str | None = None
    custom_fields: Mapping[str, CustomFieldValue] = field(default_factory=dict)
    extra_fields: Mapping[str, Any] = field(default_factory=dict)
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BulkCreateResult:
    """The outcome of one element of a bulk create, matched back to its input by ``index``."""

    index: int
    key: str | None = None
    id: str | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.key is not None
