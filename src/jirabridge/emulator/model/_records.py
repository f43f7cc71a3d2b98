"""The records a site is made of: plain ``slots`` dataclasses with integer ids.

Records are mutable and owned by the :class:`~jirabridge.emulator.model.Site`; read them freely,
change them only through ``Site`` methods (which validate, record changelog and emit events).

Neutral value forms inside ``Issue.fields`` (keyed by field id, e.g. ``"summary"``,
``"customfield_10021"``):

============================  ==============================================================
field kind                    stored value
============================  ==============================================================
project/issuetype/status/     ``int`` id
priority/resolution
user (assignee, reporter,     user key ``str`` (Server key such as ``JIRAUSER10000``; Cloud
creator, user pickers)        accountId)
summary, text, url            ``str``
description, environment,     OPAQUE native rich text: wiki ``str`` on a Server site, ADF
textarea custom fields        ``dict`` on a Cloud site
labels                        ``list[str]``
components, versions          ``list[int]`` ids
duedate, date pickers         ``datetime.date``
datetime pickers              ``datetime.datetime`` (tz-aware)
number, story points          ``float``
select / radio                ``int`` option id
multi select / checkboxes     ``list[int]`` option ids
cascading select              ``list[int]`` ``[parent option id]`` or ``[parent, child]``
sprint                        ``list[int]`` sprint ids (oldest first; last = current)
parent (sub-task, Cloud epic) ``int`` issue id
Epic Link (Server)            ``int`` issue id of the epic
Epic Name                     ``str``
Epic Status (Server)          ``int`` option id
timeoriginalestimate,         ``int`` seconds
timeestimate, timespent
============================  ==============================================================
Unset fields are absent from the dict (never ``None`` values).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

__all__ = [
    "Attachment",
    "Board",
    "BoardType",
    "ChangeHistory",
    "ChangeItem",
    "Comment",
    "Component",
    "FieldConfiguration",
    "FieldDef",
    "FieldOption",
    "Flavour",
    "Group",
    "Issue",
    "IssueLink",
    "IssueLinkType",
    "IssueType",
    "Priority",
    "Project",
    "RemoteLink",
    "Resolution",
    "ResolutionRule",
    "Sprint",
    "SprintState",
    "Status",
    "StatusCategory",
    "Transition",
    "User",
    "Version",
    "Visibility",
    "Workflow",
    "Worklog",
]


class Flavour(enum.StrEnum):
    """Which product the site emulates."""

    SERVER = "server"
    CLOUD = "cloud"


class StatusCategory(enum.Enum):
    """Jira's status categories with their fixed ids, keys and names."""

    UNDEFINED = (1, "undefined", "No Category", "medium-gray")
    NEW = (2, "new", "To Do", "blue-gray")
    DONE = (3, "done", "Done", "green")
    INDETERMINATE = (4, "indeterminate", "In Progress", "yellow")

    @property
    def id(self) -> int:
        return int(self.value[0])

    @property
    def key(self) -> str:
        return str(self.value[1])

    @property
    def display_name(self) -> str:
        return str(self.value[2])

    @property
    def color_name(self) -> str:
        return str(self.value[3])


class SprintState(enum.StrEnum):
    FUTURE = "future"
    ACTIVE = "active"
    CLOSED = "closed"


class BoardType(enum.StrEnum):
    SCRUM = "scrum"
    KANBAN = "kanban"


class ResolutionRule(enum.StrEnum):
    """What a transition does with the resolution field."""

    KEEP = "keep"  # leaves it alone; passing one is refused (not on the screen)
    SCREEN = "screen"  # the transition screen shows resolution; required, default if omitted
    SET_DONE = "set_done"  # a post-function sets the default resolution (simplified workflow)
    CLEAR = "clear"  # a post-function clears it (reopen, move out of Done)


@dataclass(slots=True)
class User:
    """A user. ``key`` is the model-wide identity: Server user key, or Cloud accountId."""

    key: str
    display_name: str
    name: str | None = None  # Server username (login); None on Cloud
    account_id: str | None = None  # Cloud only
    email: str | None = None
    email_visible: bool = True  # Cloud privacy: False hides emailAddress
    active: bool = True
    time_zone: str = "UTC"
    locale: str = "en_US"
    account_type: str = "atlassian"  # Cloud: atlassian | app | customer
    password: str | None = None  # Server login (and Cloud site admin UI, unused)
    api_tokens: dict[str, str] = field(default_factory=dict)  # Cloud: token -> label
    personal_tokens: dict[str, str] = field(default_factory=dict)  # Server PAT: token -> name
    created: datetime | None = None


@dataclass(slots=True)
class Group:
    name: str
    group_id: str  # Cloud groupId (uuid); Server uses the name
    members: set[str] = field(default_factory=set)  # user keys


@dataclass(slots=True)
class Component:
    id: int
    project_id: int
    name: str
    description: str = ""
    lead_key: str | None = None


@dataclass(slots=True)
class Version:
    id: int
    project_id: int
    name: str
    description: str = ""
    released: bool = False
    archived: bool = False
    release_date: date | None = None
    start_date: date | None = None


@dataclass(slots=True)
class Project:
    id: int
    key: str
    name: str
    lead_key: str
    project_type: str = "software"  # software | business | service_desk
    description: str = ""
    workflow_scheme: dict[int, str] = field(default_factory=dict)  # issue type id -> workflow
    default_workflow: str = "classic"
    issue_type_ids: list[int] = field(default_factory=list)
    roles: dict[str, set[str]] = field(default_factory=dict)  # role name -> user keys
    denied: dict[str, set[str]] = field(default_factory=dict)  # user key -> permissions
    next_number: int = 1
    archived: bool = False


@dataclass(slots=True)
class IssueType:
    id: int
    name: str
    description: str = ""
    subtask: bool = False
    hierarchy_level: int = 0  # Epic 1, standard 0, sub-task -1
    icon: str = "task"


@dataclass(slots=True)
class Priority:
    id: int
    name: str
    color: str = "#cccccc"
    is_default: bool = False


@dataclass(slots=True)
class Status:
    id: int
    name: str
    category: StatusCategory
    description: str = ""


@dataclass(slots=True)
class Resolution:
    id: int
    name: str
    description: str = ""
    is_default: bool = False


@dataclass(slots=True)
class Transition:
    """A named workflow transition; ``from_status_ids`` empty means global (from any status)."""

    id: int
    name: str
    to_status_id: int
    from_status_ids: tuple[int, ...] = ()
    resolution: ResolutionRule = ResolutionRule.KEEP
    has_screen: bool = False
    event_type: str = "issue_generic"  # Jira's issue_event_type_name for this transition

    @property
    def is_global(self) -> bool:
        return not self.from_status_ids


@dataclass(slots=True)
class Workflow:
    name: str
    description: str
    initial_status_id: int
    status_ids: list[int]
    transitions: list[Transition]

    def available_from(self, status_id: int) -> list[Transition]:
        """Transitions offered in ``status_id``, in workflow order (a global one to the current
        status is not offered, as in Jira)."""
        out: list[Transition] = []
        for t in self.transitions:
            if t.is_global:
                if t.to_status_id != status_id:
                    out.append(t)
            elif status_id in t.from_status_ids:
                out.append(t)
        return out


@dataclass(slots=True)
class FieldOption:
    id: int
    value: str
    disabled: bool = False
    parent_id: int | None = None  # cascading select child


@dataclass(slots=True)
class FieldDef:
    """A field with Jira's schema: ``schema_type`` (string, number, array, option, user, ...),
    ``items`` for arrays, and ``system`` or ``custom`` (type key) + ``custom_id``."""

    id: str
    name: str
    schema_type: str
    items: str | None = None
    system: str | None = None
    custom: str | None = None
    custom_id: int | None = None
    searcher_key: str | None = None
    orderable: bool = True
    navigable: bool = True
    searchable: bool = True
    options: dict[int, FieldOption] = field(default_factory=dict)
    flavours: tuple[Flavour, ...] = (Flavour.SERVER, Flavour.CLOUD)
    description: str = ""

    @property
    def is_custom(self) -> bool:
        return self.custom is not None

    @property
    def clause_names(self) -> list[str]:
        if self.custom_id is not None:
            return [f"cf[{self.custom_id}]", self.name]
        return [self.id]


@dataclass(slots=True)
class FieldConfiguration:
    """Which fields a project + issue type shows on create and edit, which are required, and
    their default values (in neutral form, see the module docstring)."""

    create_fields: list[str]
    edit_fields: list[str]
    required: set[str] = field(default_factory=set)
    defaults: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Visibility:
    type: str  # "group" | "role"
    value: str
    identifier: str | None = None  # Cloud groupId when type is group


@dataclass(slots=True)
class Comment:
    id: int
    issue_id: int
    author_key: str
    body: Any  # opaque native rich text
    created: datetime
    updated: datetime
    update_author_key: str
    visibility: Visibility | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    jsd_public: bool = True


@dataclass(slots=True)
class ChangeItem:
    """One changed field, as Jira records it (``fieldtype`` jira|custom)."""

    field: str
    fieldtype: str
    field_id: str | None
    from_value: str | None
    from_string: str | None
    to_value: str | None
    to_string: str | None


@dataclass(slots=True)
class ChangeHistory:
    id: int
    issue_id: int
    author_key: str
    created: datetime
    items: list[ChangeItem]


@dataclass(slots=True)
class IssueLinkType:
    id: int
    name: str
    inward: str
    outward: str


@dataclass(slots=True)
class IssueLink:
    """``source`` <type.outward> ``destination``: "A blocks B" is source A, destination B.

    Seen from A the link shows B as ``outwardIssue`` ("blocks"); seen from B it shows A as
    ``inwardIssue`` ("is blocked by"). Jira's ``POST /issueLink`` makes its ``inwardIssue``
    the source and its ``outwardIssue`` the destination."""

    id: int
    type_id: int
    source_issue_id: int
    destination_issue_id: int
    created: datetime


@dataclass(slots=True)
class RemoteLink:
    id: int
    issue_id: int
    url: str
    title: str
    global_id: str | None = None
    relationship: str | None = None
    summary: str | None = None
    icon_url: str | None = None
    application: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Attachment:
    id: int
    issue_id: int
    filename: str
    mime_type: str
    content: bytes
    author_key: str
    created: datetime
    media_id: str | None = None  # Cloud: the Media Services file id (a UUID) of the content

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(slots=True)
class Worklog:
    id: int
    issue_id: int
    author_key: str
    update_author_key: str
    time_spent_seconds: int
    started: datetime
    created: datetime
    updated: datetime
    comment: Any = None  # opaque native rich text
    visibility: Visibility | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Board:
    id: int
    name: str
    type: BoardType
    project_id: int | None = None  # project based board
    filter_jql: str = ""  # the board's saved filter
    filter_id: int = 0


@dataclass(slots=True)
class Sprint:
    id: int
    board_id: int
    name: str
    state: SprintState = SprintState.FUTURE
    goal: str = ""
    start_date: datetime | None = None
    end_date: datetime | None = None
    complete_date: datetime | None = None
    created: datetime | None = None


@dataclass(slots=True)
class Issue:
    """An issue; field values in neutral form (see module docstring)."""

    id: int
    key: str
    project_id: int
    fields: dict[str, Any]
    created: datetime
    updated: datetime
    resolution_date: datetime | None = None
    rank: int = 0
    status_category_changed: datetime | None = None
    watchers: set[str] = field(default_factory=set)
    voters: set[str] = field(default_factory=set)
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def number(self) -> int:
        return int(self.key.rsplit("-", 1)[1])

    @property
    def status_id(self) -> int:
        return int(self.fields["status"])

    @property
    def issue_type_id(self) -> int:
        return int(self.fields["issuetype"])

    def value(self, field_id: str) -> Any:
        """The neutral value of ``field_id``, including ``created``, ``updated``,
        ``resolutiondate``, ``key``, ``id``, ``project``; None when unset."""
        if field_id in self.fields:
            return self.fields[field_id]
        if field_id == "created":
            return self.created
        if field_id == "updated":
            return self.updated
        if field_id == "resolutiondate":
            return self.resolution_date
        if field_id == "key":
            return self.key
        if field_id == "id":
            return self.id
        if field_id == "project":
            return self.project_id
        return None
