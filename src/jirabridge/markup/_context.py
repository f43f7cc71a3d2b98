"""What a conversion needs to know about the two sites, and what it tells back.

:class:`MarkupContext` carries the user directory (mentions), the issue-key and base-URL
mappings (links) and the attachment mapping (media); :class:`ConversionReport` collects every
spot where the conversion could not be faithful, so nothing is lost silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from jirabridge.errors import BadInputError

__all__ = [
    "ConversionReport",
    "MappingUserDirectory",
    "MarkupContext",
    "ReportItem",
    "ReportKind",
    "ResolvedUser",
    "UserDirectory",
    "UserEntry",
    "load_user_map",
]


@dataclass(frozen=True)
class ResolvedUser:
    """A user as a Cloud mention needs it."""

    account_id: str
    display_name: str


@runtime_checkable
class UserDirectory(Protocol):
    """Translates user references between the two sites.

    ``resolve_wiki_user`` takes what follows ``~`` in a wiki mention (``jsmith``,
    ``JIRAUSER10000`` or ``accountid:5b10...``) and answers the Cloud user, or None when unknown.
    ``wiki_reference`` takes a Cloud accountId and answers the Server username to write in
    ``[~username]``, or None when unknown.
    """

    def resolve_wiki_user(self, reference: str) -> ResolvedUser | None: ...

    def wiki_reference(self, account_id: str) -> str | None: ...


@dataclass(frozen=True)
class UserEntry:
    """One person known on both sites; any of username, key and email identifies them."""

    account_id: str
    username: str | None = None
    key: str | None = None
    email: str | None = None
    display_name: str | None = None


class MappingUserDirectory:
    """A :class:`UserDirectory` over a list of :class:`UserEntry` (a mapping table).

    Server references match the username, the user key or the email address (all
    case-insensitive); ``accountid:<id>`` references match the accountId.
    """

    def __init__(self, entries: Iterable[UserEntry]) -> None:
        self._by_ref: dict[str, UserEntry] = {}
        self._by_account: dict[str, UserEntry] = {}
        for entry in entries:
            if not entry.account_id:
                raise BadInputError("a user map entry needs an accountId")
            self._by_account.setdefault(entry.account_id, entry)
            for ref in (entry.username, entry.key, entry.email):
                if ref:
                    self._by_ref.setdefault(ref.lower(), entry)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str]) -> MappingUserDirectory:
        """Build from ``{username: accountId}``."""
        return cls(UserEntry(account_id=acc, username=name) for name, acc in mapping.items())

    @classmethod
    def by_email(
        cls,
        server_users: Iterable[Mapping[str, Any]],
        cloud_users: Iterable[Mapping[str, Any]],
        mapping: Mapping[str, str] | None = None,
    ) -> MappingUserDirectory:
        """Match the two sites' users (Jira REST user JSON) by email address, case-insensitive.

        ``server_users`` carry ``name``, ``key``, ``emailAddress``, ``displayName``;
        ``cloud_users`` carry ``accountId``, ``emailAddress`` (may be null: privacy),
        ``displayName``. ``mapping`` (``{username: accountId}``) wins over email matches and
        covers users whose Cloud email is hidden. Users matched by neither stay unresolved
        (and are reported when a conversion meets them).
        """
        cloud_by_email: dict[str, Mapping[str, Any]] = {}
        cloud_by_id: dict[str, Mapping[str, Any]] = {}
        for user in cloud_users:
            account_id = user.get("accountId")
            if not isinstance(account_id, str) or not account_id:
                continue
            cloud_by_id[account_id] = user
            email = user.get("emailAddress")
            if isinstance(email, str) and email:
                cloud_by_email.setdefault(email.lower(), user)
        entries = []
        for user in server_users:
            name = _str_or_none(user.get("name"))
            email = _str_or_none(user.get("emailAddress"))
            account_id = (mapping or {}).get(name or "")
            cloud = cloud_by_id.get(account_id) if account_id else None
            if account_id is None and email:
                cloud = cloud_by_email.get(email.lower())
                account_id = _str_or_none(cloud.get("accountId")) if cloud else None
            if not account_id:
                continue
            display = _str_or_none((cloud or {}).get("displayName")) or _str_or_none(
                user.get("displayName")
            )
            entries.append(
                UserEntry(
                    account_id=account_id,
                    username=name,
                    key=_str_or_none(user.get("key")),
                    email=email,
                    display_name=display,
                )
            )
        return cls(entries)

    def resolve_wiki_user(self, reference: str) -> ResolvedUser | None:
        entry: UserEntry | None
        if reference.lower().startswith("accountid:"):
            entry = self._by_account.get(reference[len("accountid:") :])
        else:
            entry = self._by_ref.get(reference.lower())
        if entry is None:
            return None
        name = entry.display_name or entry.username or entry.account_id
        return ResolvedUser(account_id=entry.account_id, display_name=name)

    def wiki_reference(self, account_id: str) -> str | None:
        entry = self._by_account.get(account_id)
        if entry is None:
            return None
        return entry.username or entry.key


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def load_user_map(path: str | Path) -> MappingUserDirectory:
    """Read a user map file: JSON ``{"username": "accountId"}`` or a JSON list of objects with
    ``accountId`` and any of ``username``, ``key``, ``email``, ``displayName``."""
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInputError(f"cannot read user map {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(f"user map {path} is not valid JSON: {exc}") from exc
    if isinstance(data, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        return MappingUserDirectory.from_mapping(data)
    if isinstance(data, list):
        entries = []
        for i, item in enumerate(data):
            if not isinstance(item, dict) or not isinstance(item.get("accountId"), str):
                raise BadInputError(f"user map {path}: entry [{i}] needs a string accountId")
            fields = {}
            for src, dst in (
                ("username", "username"),
                ("name", "username"),
                ("key", "key"),
                ("email", "email"),
                ("emailAddress", "email"),
                ("displayName", "display_name"),
            ):
                value = item.get(src)
                if isinstance(value, str) and dst not in fields:
                    fields[dst] = value
            entries.append(UserEntry(account_id=item["accountId"], **fields))
        return MappingUserDirectory(entries)
    raise BadInputError(
        f"user map {path}: expected an object of username -> accountId or a list of users"
    )


class ReportKind(Enum):
    """Why a spot in a conversion is not a faithful copy."""

    UNRESOLVED_USER = "unresolved_user"
    UNMAPPED_ATTACHMENT = "unmapped_attachment"
    UNMAPPED_ISSUE = "unmapped_issue"
    UNSUPPORTED = "unsupported"
    LOSSY = "lossy"


@dataclass(frozen=True)
class ReportItem:
    kind: ReportKind
    detail: str
    path: str = ""


@dataclass
class ConversionReport:
    """Collects what a conversion could not carry over exactly (mutable by design: it is filled
    while converting; one report may collect several conversions)."""

    items: list[ReportItem] = field(default_factory=list)
    max_items: int = 10_000
    dropped: int = 0
    """Items not kept because ``max_items`` was reached (a long-lived context stays bounded)."""

    def add(self, kind: ReportKind, detail: str, path: str = "") -> None:
        if len(self.items) >= self.max_items:
            self.dropped += 1
            return
        self.items.append(ReportItem(kind, detail, path))

    def clear(self) -> None:
        """Forget what was collected (to reuse one context for many conversions)."""
        self.items.clear()
        self.dropped = 0

    def of_kind(self, kind: ReportKind) -> list[ReportItem]:
        return [item for item in self.items if item.kind is kind]

    @property
    def unresolved_users(self) -> list[str]:
        return [item.detail for item in self.of_kind(ReportKind.UNRESOLVED_USER)]

    @property
    def unsupported(self) -> list[str]:
        return [item.detail for item in self.of_kind(ReportKind.UNSUPPORTED)]

    @property
    def lossy(self) -> list[str]:
        return [item.detail for item in self.of_kind(ReportKind.LOSSY)]

    @property
    def unmapped_attachments(self) -> list[str]:
        return [item.detail for item in self.of_kind(ReportKind.UNMAPPED_ATTACHMENT)]

    @property
    def unmapped_issues(self) -> list[str]:
        return [item.detail for item in self.of_kind(ReportKind.UNMAPPED_ISSUE)]

    def __bool__(self) -> bool:
        return bool(self.items) or self.dropped > 0


@dataclass(frozen=True)
class MarkupContext:
    """Everything a conversion may translate between the two sites.

    - ``users``: mentions are translated through it; without it mentions pass unchanged
      (``[~jsmith]`` <-> mention id ``jsmith``), exactly as Atlassian's transformer does.
    - ``issue_keys``: ``{"OLD-1": "NEW-7"}``: keys in ``/browse/`` links and in link texts.
    - ``base_urls``: ``{"https://jira.corp": "https://corp.atlassian.net"}``: link prefixes.
    - ``attachments``: reference in the source -> reference on the target (a wiki file name to
      a media id, or a media id to a file name).
    - ``media_collection``: the ``collection`` written on media nodes.
    - ``report``: where unresolved users, unmapped attachments and lossy spots are recorded.
    """

    users: UserDirectory | None = None
    issue_keys: Mapping[str, str] = field(default_factory=dict)
    base_urls: Mapping[str, str] = field(default_factory=dict)
    attachments: Mapping[str, str] = field(default_factory=dict)
    media_collection: str = ""
    report: ConversionReport = field(default_factory=ConversionReport)
