"""The configuration file's data model (pydantic v2), one class per section.

The models check shape and local rules; :mod:`._checks` adds the rules that span sections
(a pair naming a site that does not exist, a Server-side site that is really Cloud, ...).
Live checks against the sites (fields, options, workflows, permissions) belong to
``jirabridge check`` and need the clients.
"""

from __future__ import annotations

import enum
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AddComment",
    "AuthKind",
    "CommentRules",
    "ConflictRule",
    "CreateMirror",
    "CreateRule",
    "CrossReference",
    "Direction",
    "FieldRule",
    "Flavour",
    "InternalComments",
    "OAuthConfig",
    "PairConfig",
    "PairSide",
    "PollingConfig",
    "QueueConfig",
    "Rule",
    "RuleAction",
    "RuleTrigger",
    "Side",
    "SiteConfig",
    "StoreConfig",
    "SyncConfig",
    "SyncNow",
    "TransitionMirror",
    "TriggerEvent",
    "Unmapped",
    "UserMapping",
    "ValueMap",
    "WebhookConfig",
]

_CREDENTIAL_REF = re.compile(r"^(env|store):[A-Za-z_][A-Za-z0-9_.\-]*$")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Flavour(enum.StrEnum):
    SERVER = "server"
    CLOUD = "cloud"


class Side(enum.StrEnum):
    """One end of a pair."""

    SERVER = "server"
    CLOUD = "cloud"

    @property
    def other(self) -> Side:
        return Side.CLOUD if self is Side.SERVER else Side.SERVER


class AuthKind(enum.StrEnum):
    BASIC = "basic"
    PAT = "pat"
    API_TOKEN = "api_token"  # noqa: S105 (a kind of auth, not a secret)
    OAUTH2 = "oauth2"


class Direction(enum.StrEnum):
    """Which way a field (or comments) flows."""

    BOTH = "both"
    SERVER_TO_CLOUD = "server_to_cloud"
    CLOUD_TO_SERVER = "cloud_to_server"
    NONE = "none"

    def flows_to(self, target: Side) -> bool:
        """Whether a change travels *to* ``target``."""
        if self is Direction.BOTH:
            return True
        if self is Direction.NONE:
            return False
        return (self is Direction.SERVER_TO_CLOUD) == (target is Side.CLOUD)


class ConflictRule(enum.StrEnum):
    """What wins when both sides changed a field since the last sync."""

    LATEST = "latest"  # latest change by changelog time wins
    SERVER_WINS = "server_wins"
    CLOUD_WINS = "cloud_wins"


class Unmapped(enum.StrEnum):
    """What to do with a value that has no entry in a translation table."""

    KEEP = "keep"  # send the same value; the target may reject it (-> dead-letter)
    SKIP = "skip"  # leave the field untouched on the target
    ERROR = "error"  # dead-letter the item with a clear reason


class InternalComments(enum.StrEnum):
    """How internal (restricted / Service Management internal) comments travel."""

    SKIP = "skip"
    KEEP_INTERNAL = "keep_internal"
    MAKE_PUBLIC = "make_public"


CredentialRef = Annotated[
    str,
    Field(
        description="Where the secret lives: `env:NAME` (environment variable) or `store:NAME` "
        "(the encrypted credential store). Never the secret itself.",
        examples=["env:JIRA_CLOUD_TOKEN", "store:cloud-token"],
    ),
]


def _check_ref(value: str) -> str:
    if not _CREDENTIAL_REF.match(value):
        # never echo the value: it may be a pasted secret
        raise ValueError(
            "must be a credential reference `env:NAME` or `store:NAME`; "
            "do not put a secret in the file"
        )
    return value


def _check_placeholders(value: str, allowed: set[str]) -> str:
    for name in re.findall(r"{([^{}]*)}", value):
        if name not in allowed:
            names = ", ".join("{" + a + "}" for a in sorted(allowed))
            raise ValueError(f"unknown placeholder {{{name}}}; use {names}")
    return value


class OAuthConfig(_Model):
    """OAuth 2.0 (3LO) for a Cloud site; ``credential`` then names the client secret."""

    client_id: str = Field(min_length=1)
    token_url: str = Field(
        default="https://auth.atlassian.com/oauth/token", pattern=r"^https?://[^\s]+$"
    )
    token_dir: str = Field(
        default=".jirabridge/oauth",
        description="Directory of the rotating token pairs (files mode 0600); seed it with "
        "`jirabridge secrets oauth-token <site>`.",
    )


class SiteConfig(_Model):
    """One Jira site."""

    flavour: Flavour
    url: Annotated[str, Field(pattern=r"^https?://[^\s]+$", description="Base URL of the site.")]
    auth: AuthKind = AuthKind.BASIC
    username: str | None = Field(
        default=None, description="User name (Server basic) or e-mail (Cloud API token)."
    )
    credential: CredentialRef
    integration_user: str = Field(
        description="The user the engine writes as (Server user key or name, Cloud accountId); "
        "its own changes are never synced back (no echo)."
    )
    webhook_secret: CredentialRef | None = Field(
        default=None, description="Shared secret the webhook receiver checks for this site."
    )
    timezone: str = Field(
        default="UTC",
        description="Time zone of the integration user's profile: Jira reads JQL dates in it.",
    )
    max_requests_per_second: float = Field(
        default=10.0,
        gt=0,
        description="Ceiling on the engine's requests per second to this site (all workers "
        "together); lower still when the site's rate-limit headers say so.",
    )
    oauth: OAuthConfig | None = Field(
        default=None, description="Needed for auth 'oauth2' (url: the api.atlassian.com gateway)."
    )

    @field_validator("credential", "webhook_secret")
    @classmethod
    def _refs(cls, value: str | None) -> str | None:
        return None if value is None else _check_ref(value)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _auth_fits_flavour(self) -> SiteConfig:
        if self.flavour is Flavour.SERVER and self.auth in (AuthKind.API_TOKEN, AuthKind.OAUTH2):
            raise ValueError(f"auth {self.auth.value!r} exists only on Cloud sites")
        if self.flavour is Flavour.CLOUD and self.auth is AuthKind.PAT:
            raise ValueError("auth 'pat' (personal access token) exists only on Server sites")
        if self.auth in (AuthKind.BASIC, AuthKind.API_TOKEN) and not self.username:
            raise ValueError(f"auth {self.auth.value!r} needs `username`")
        if (self.auth is AuthKind.OAUTH2) != (self.oauth is not None):
            raise ValueError("auth 'oauth2' and an `oauth` section go together")
        return self


class StoreConfig(_Model):
    url: str = Field(
        default="sqlite:///jirabridge.db",
        description="SQLAlchemy URL of the state store: SQLite (default) or PostgreSQL.",
    )

    @field_validator("url")
    @classmethod
    def _dialect(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("store url must be sqlite:///... or postgresql+psycopg://...")
        return value


class PollingConfig(_Model):
    interval_seconds: float = Field(default=60, gt=0)
    overlap_seconds: float = Field(
        default=120, ge=60, description="Re-read window behind the cursor (at least a minute)."
    )
    clock_skew_seconds: float = Field(default=30, ge=0)


class QueueConfig(_Model):
    workers: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Jobs applied at once (independent issue pairs). A job spends most of its "
        "time waiting on the sites: a few changes a second need the default, hundreds a "
        "second a few dozen (bench/sync_live.py runs 200/s with 32); the sites' rate limits "
        "still bound the calls.",
    )
    max_attempts: int = Field(default=8, ge=1)
    lease_seconds: float = Field(
        default=30,
        gt=0,
        description="A running job's lease, extended every third of it while the job runs; "
        "a job whose worker died on another host runs again once it expires.",
    )
    backoff_base_seconds: float = Field(default=2, gt=0)
    backoff_max_seconds: float = Field(default=900, gt=0)
    coalesce_seconds: float = Field(
        default=2, ge=0, description="Wait this long after a notice so a burst becomes one job."
    )


class WebhookConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    dedupe_hours: float = Field(default=48, gt=0)


class ValueMap(_Model):
    """A translation table between Server values and Cloud values (names)."""

    map: dict[str, str] = Field(
        default_factory=dict, description="Server value -> Cloud value; also read backwards."
    )
    reverse: dict[str, str] = Field(
        default_factory=dict,
        description="Cloud value -> Server value, where reading `map` backwards is ambiguous.",
    )
    unmapped: Unmapped = Unmapped.KEEP

    @model_validator(mode="after")
    def _reversible(self) -> ValueMap:
        targets: dict[str, list[str]] = {}
        for src, dst in self.map.items():
            targets.setdefault(dst, []).append(src)
        ambiguous = sorted(d for d, s in targets.items() if len(s) > 1 and d not in self.reverse)
        if ambiguous:
            raise ValueError(
                "several Server values map to "
                + ", ".join(repr(a) for a in ambiguous)
                + "; say which one Cloud values map back to under `reverse`"
            )
        return self

    def to_cloud(self, value: str) -> str | None:
        """The Cloud value for a Server value (None: leave the field alone)."""
        return self._lookup(self.map, value)

    def to_server(self, value: str) -> str | None:
        """The Server value for a Cloud value (None: leave the field alone)."""
        if value in self.reverse:
            return self.reverse[value]
        back = {dst: src for src, dst in self.map.items()}
        return self._lookup(back, value)

    def _lookup(self, table: dict[str, str], value: str) -> str | None:
        if value in table:
            return table[value]
        if self.unmapped is Unmapped.KEEP:
            return value
        if self.unmapped is Unmapped.SKIP:
            return None
        from jirabridge.errors import SkipItemError

        raise SkipItemError(f"no translation for value {value!r}")


class FieldRule(_Model):
    """One synced field: ids on each side, direction, translation and conflict rule."""

    name: str = Field(description="A name for messages; also the field id when ids are equal.")
    server: str | None = Field(default=None, description="Field id on Server (default: name).")
    cloud: str | None = Field(default=None, description="Field id on Cloud (default: name).")
    direction: Direction = Direction.BOTH
    conflict: ConflictRule = ConflictRule.LATEST
    values: ValueMap | str | None = Field(
        default=None,
        description="Translation: an inline table, or the name of a table under `translations`.",
    )
    immediate: bool = Field(
        default=False, description="Skip the coalescing delay when this field changes."
    )

    @property
    def server_id(self) -> str:
        return self.server or self.name

    @property
    def cloud_id(self) -> str:
        return self.cloud or self.name


class UserMapping(_Model):
    """How people are matched across the sites."""

    by_email: bool = Field(default=True, description="Match users by e-mail when visible.")
    map: dict[str, str] = Field(
        default_factory=dict, description="Server user name or key -> Cloud accountId."
    )
    fallback_server_user: str | None = Field(
        default=None, description="Server user for Cloud people without a match (else: none)."
    )
    fallback_cloud_user: str | None = Field(
        default=None, description="Cloud accountId for Server people without a match."
    )


class CommentRules(_Model):
    direction: Direction = Direction.BOTH
    attribution: bool = Field(
        default=True, description="Prefix mirrored comments with the original author and time."
    )
    attribution_template: str = "{author} wrote on {created}:"
    internal: InternalComments = InternalComments.KEEP_INTERNAL
    edits: bool = True
    deletes: bool = True

    @field_validator("attribution_template")
    @classmethod
    def _template(cls, value: str) -> str:
        return _check_placeholders(value, {"author", "created", "site", "key"})


class DeleteRule(enum.StrEnum):
    """What a deleted issue does to its mirror."""

    MIRROR = "mirror"  # delete the mirror too (with its sub-tasks) and forget the pair
    LOG = "log"  # keep the mirror; record the deletion in the audit log
    NONE = "none"  # keep the mirror, record nothing beyond the finished job


class CreateRule(enum.StrEnum):
    """Which new issues get a mirror on the other side."""

    BOTH = "both"
    SERVER_TO_CLOUD = "server_to_cloud"
    CLOUD_TO_SERVER = "cloud_to_server"
    NONE = "none"

    @staticmethod
    def allowing(source: Side) -> tuple[CreateRule, ...]:
        """The rules under which a new issue on ``source`` gets a mirror on the other side."""
        if source is Side.SERVER:
            return (CreateRule.BOTH, CreateRule.SERVER_TO_CLOUD)
        return (CreateRule.BOTH, CreateRule.CLOUD_TO_SERVER)


class PairSide(_Model):
    site: str
    project: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,19}$")]
    jql: str | None = Field(
        default=None, description="Which issues of the project take part (default: all)."
    )
    issue_types: list[str] = Field(default_factory=list)


class TriggerEvent(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    TRANSITIONED = "transitioned"
    FIELD_CHANGED = "field_changed"
    COMMENTED = "commented"


class RuleTrigger(_Model):
    side: Side
    event: TriggerEvent
    status: str | None = Field(default=None, description="For `transitioned`: the new status.")
    status_category: Literal["new", "indeterminate", "done"] | None = None
    field: str | None = Field(default=None, description="For `field_changed`: the field name.")
    jql: str | None = Field(default=None, description="Only issues matching this JQL.")

    @model_validator(mode="after")
    def _needs(self) -> RuleTrigger:
        if self.event is TriggerEvent.FIELD_CHANGED and not self.field:
            raise ValueError("event 'field_changed' needs `field`")
        if self.event is not TriggerEvent.TRANSITIONED and (self.status or self.status_category):
            raise ValueError("`status` / `status_category` apply only to event 'transitioned'")
        return self


class CreateMirror(_Model):
    action: Literal["create_mirror"]
    issue_type: str | None = Field(default=None, description="Issue type of the mirror.")
    write_back_field: str | None = Field(
        default=None,
        description="Field on the source issue that receives the mirror's key.",
    )
    link_type: str | None = Field(default="Relates", description="Visible link type; null: none.")


class TransitionMirror(_Model):
    action: Literal["transition_mirror"]
    to_status: str
    resolution: str | None = None
    comment: str | None = Field(
        default=None, description="Comment added with the transition ({key}, {status}, {site})."
    )

    @field_validator("comment")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        return None if value is None else _check_placeholders(value, {"key", "status", "site"})


class SyncNow(_Model):
    action: Literal["sync_now"]
    fields: list[str] = Field(default_factory=list, description="Only these fields (default all).")


class AddComment(_Model):
    action: Literal["add_comment"]
    target: Side
    body: str


RuleAction = Annotated[
    CreateMirror | TransitionMirror | SyncNow | AddComment, Field(discriminator="action")
]


class Rule(_Model):
    """A declarative automation: when something happens on one side, do this."""

    name: str
    when: RuleTrigger
    then: list[RuleAction] = Field(min_length=1)


class CrossReference(_Model):
    """How a mirror and its source point at each other where people can see it.

    The state store and the ``jirabridge`` entity property are always written (the mirror's
    property rides in its create). On top of that, ``remote_links`` names the sides whose
    issues get a remote link to their pair (one call per issue per side), and ``url_fields``
    names, per side, a URL custom field that a mirror created on that side receives its
    source's address in, set in the create itself (no extra call: the way to give Cloud
    mirrors a visible link when a backfill must stay within Cloud's rate limit)."""

    remote_links: list[Side] = Field(
        default_factory=lambda: [Side.SERVER, Side.CLOUD],
        description="Sides whose issues get a remote link to their pair (default: both).",
    )
    url_fields: dict[Side, str] = Field(
        default_factory=dict,
        description="Per side: a URL field set in a mirror's create to its source's address.",
    )


class PairConfig(_Model):
    """A Server project kept in sync with a Cloud project."""

    id: Annotated[str, Field(pattern=_ID.pattern, description="Stable id; the store keys on it.")]
    server: PairSide
    cloud: PairSide
    create: CreateRule = CreateRule.BOTH
    deletes: DeleteRule = Field(
        default=DeleteRule.LOG,
        description="A deleted issue: `mirror` deletes its mirror too, `log` (default) only "
        "records it, `none` ignores it.",
    )
    fields: list[FieldRule] = Field(default_factory=list)
    translations: dict[str, ValueMap] = Field(
        default_factory=dict,
        description="Named tables: priority, status, issuetype, resolution, or any select field.",
    )
    users: UserMapping = Field(default_factory=UserMapping)
    comments: CommentRules = Field(default_factory=CommentRules)
    attachments: Direction = Field(
        default=Direction.BOTH, description="Which way attachments are copied (each once)."
    )
    max_attachment_bytes: int = Field(default=100 * 1024 * 1024, ge=0)
    links: Direction = Field(
        default=Direction.BOTH,
        description="Which way issue links between paired issues are merged (never removed).",
    )
    sprints: Direction = Field(
        default=Direction.NONE,
        description="Which way sprint membership follows (sprints matched by name).",
    )
    rules: list[Rule] = Field(default_factory=list)
    cross_reference: CrossReference = Field(default_factory=CrossReference)
    enabled: bool = True

    def field(self, name: str) -> FieldRule | None:
        return next((f for f in self.fields if f.name == name), None)

    def creates_from(self, source: Side) -> bool:
        """Whether a new issue on ``source`` may get a mirror created on the other side."""
        return self.create in CreateRule.allowing(source)

    def table_for(self, rule: FieldRule) -> ValueMap | None:
        """The translation table a field uses (inline, named, or one named like the field)."""
        if isinstance(rule.values, ValueMap):
            return rule.values
        if isinstance(rule.values, str):
            return self.translations.get(rule.values)
        return self.translations.get(rule.name)


class SyncConfig(_Model):
    """The whole file."""

    version: Literal[1] = 1
    sites: dict[str, SiteConfig] = Field(min_length=1)
    store: StoreConfig = Field(default_factory=StoreConfig)
    polling: PollingConfig = Field(default_factory=PollingConfig)
    queue: QueueConfig = Field(default_factory=QueueConfig)
    webhooks: WebhookConfig = Field(default_factory=WebhookConfig)
    pairs: list[PairConfig] = Field(default_factory=list)

    def pair(self, pair_id: str) -> PairConfig | None:
        return next((p for p in self.pairs if p.id == pair_id), None)
