"""The state of ONE emulated Jira site: plain Python, no HTTP, no JSON shapes.

Entry point: :class:`Site` (``Site(Flavour.SERVER)`` / ``Site(Flavour.CLOUD)``). Read its
stores directly (``site.issues``, ``site.users``, ``site.projects``, ``site.fields``, ...) and
change it only through its methods, which take the acting user's key first::

    site = Site(Flavour.SERVER, seed=1)
    issue = site.create_issue(site.admin_key, {"project": {"key": "DEMO"}, ...})
    site.transition_issue(site.admin_key, issue.key, 5, fields={"resolution": {"name": "Done"}})
    site.subscribe(print)             # domain events: IssueCreated, IssueUpdated, ...
    site.save("state.json.gz"); Site.load("state.json.gz")

Identity: ``User.key`` is the model-wide user id (Server user key such as ``JIRAUSER10000``, or
the Cloud accountId); issue fields hold neutral values (see :mod:`._records`). Rich text is
opaque in the site's native form: wiki ``str`` on Server, ADF ``dict`` on Cloud.

Errors are :class:`ModelError` (a :class:`jirabridge.errors.BadInputError`) subclasses with
``status``, ``error_messages`` and ``errors`` ready for Jira's error JSON.
"""

from jirabridge.emulator.model._clock import Clock
from jirabridge.emulator.model._defaults import (
    CLASSIC_WORKFLOW,
    SIMPLIFIED_WORKFLOW,
    AgileFieldIds,
)
from jirabridge.emulator.model._errors import (
    ClockError,
    Conflict,
    ModelError,
    NotFound,
    PermissionDenied,
    StateFileError,
    ValidationFailed,
)
from jirabridge.emulator.model._events import (
    AttachmentCreated,
    AttachmentDeleted,
    CommentCreated,
    CommentDeleted,
    CommentUpdated,
    DomainEvent,
    EventListener,
    IssueCreated,
    IssueDeleted,
    IssueEventType,
    IssueLinkCreated,
    IssueLinkDeleted,
    IssueUpdated,
    SprintClosed,
    SprintCreated,
    SprintDeleted,
    SprintStarted,
    SprintUpdated,
    WorklogCreated,
    WorklogDeleted,
    WorklogUpdated,
)
from jirabridge.emulator.model._ids import IdSource
from jirabridge.emulator.model._issues import parse_visibility
from jirabridge.emulator.model._permissions import (
    PERMISSIONS,
    deny_permissions,
    has_permission,
    restore_permissions,
)
from jirabridge.emulator.model._records import (
    Attachment,
    Board,
    BoardType,
    ChangeHistory,
    ChangeItem,
    Comment,
    Component,
    FieldConfiguration,
    FieldDef,
    FieldOption,
    Flavour,
    Group,
    Issue,
    IssueLink,
    IssueLinkType,
    IssueType,
    Priority,
    Project,
    RemoteLink,
    Resolution,
    ResolutionRule,
    Sprint,
    SprintState,
    Status,
    StatusCategory,
    Transition,
    User,
    Version,
    Visibility,
    Workflow,
    Worklog,
)
from jirabridge.emulator.model._site import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, Site
from jirabridge.emulator.model._values import FieldKind, field_kind, plain_text

__all__ = [
    "CLASSIC_WORKFLOW",
    "DEFAULT_ADMIN_EMAIL",
    "DEFAULT_ADMIN_PASSWORD",
    "PERMISSIONS",
    "SIMPLIFIED_WORKFLOW",
    "AgileFieldIds",
    "Attachment",
    "AttachmentCreated",
    "AttachmentDeleted",
    "Board",
    "BoardType",
    "ChangeHistory",
    "ChangeItem",
    "Clock",
    "ClockError",
    "Comment",
    "CommentCreated",
    "CommentDeleted",
    "CommentUpdated",
    "Component",
    "Conflict",
    "DomainEvent",
    "EventListener",
    "FieldConfiguration",
    "FieldDef",
    "FieldKind",
    "FieldOption",
    "Flavour",
    "Group",
    "IdSource",
    "Issue",
    "IssueCreated",
    "IssueDeleted",
    "IssueEventType",
    "IssueLink",
    "IssueLinkCreated",
    "IssueLinkDeleted",
    "IssueLinkType",
    "IssueType",
    "IssueUpdated",
    "ModelError",
    "NotFound",
    "PermissionDenied",
    "Priority",
    "Project",
    "RemoteLink",
    "Resolution",
    "ResolutionRule",
    "Site",
    "Sprint",
    "SprintClosed",
    "SprintCreated",
    "SprintDeleted",
    "SprintStarted",
    "SprintState",
    "SprintUpdated",
    "StateFileError",
    "Status",
    "StatusCategory",
    "Transition",
    "User",
    "ValidationFailed",
    "Version",
    "Visibility",
    "Workflow",
    "Worklog",
    "WorklogCreated",
    "WorklogDeleted",
    "WorklogUpdated",
    "deny_permissions",
    "field_kind",
    "has_permission",
    "parse_visibility",
    "plain_text",
    "restore_permissions",
]
