"""Webhook registrations of both kinds and the matching of a rendered event to them (pure).

Admin webhooks (``/rest/webhooks/1.0/webhook``, both flavours): name, URL, events, a JQL
filter, ``excludeBody``, enabled. REST-registered webhooks (Cloud ``/rest/api/3/webhook``):
registered by an app (one URL per app), with a JQL filter, optional field-id and issue-property
filters, and an expiry 30 days out on the emulator clock, extended by ``refresh``.

Matching works on the payload the face rendered (``webhookEvent``, ``issue.key``,
``changelog.items[].fieldId``), so it needs no knowledge of the model's event classes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from jirabridge.emulator.infra._ports import JqlMatcher
from jirabridge.errors import BadInputError

__all__ = [
    "REST_WEBHOOK_EVENTS",
    "AdminWebhook",
    "RestWebhook",
    "Target",
    "TargetKind",
    "WebhookNotFound",
    "WebhookRegistry",
    "expand_url",
]

#: The events a REST-registered (Cloud app) webhook may subscribe to, per the OpenAPI spec.
REST_WEBHOOK_EVENTS = frozenset(
    {
        "jira:issue_created",
        "jira:issue_updated",
        "jira:issue_deleted",
        "comment_created",
        "comment_updated",
        "comment_deleted",
        "issue_property_set",
        "issue_property_deleted",
    }
)

_VAR = re.compile(r"\$\{(issue\.key|issue\.id|project\.key|project\.id)\}")


class WebhookNotFound(BadInputError):
    """No webhook with that id (for this owner)."""


class TargetKind(StrEnum):
    ADMIN = "admin"
    REST = "rest"


@dataclass(frozen=True)
class AdminWebhook:
    id: int
    name: str
    url: str
    events: tuple[str, ...]
    jql: str | None
    exclude_body: bool
    enabled: bool
    last_updated_user: str
    last_updated: datetime
    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RestWebhook:
    id: int
    owner: str
    url: str
    events: tuple[str, ...]
    jql: str
    field_ids: tuple[str, ...] | None
    property_keys: tuple[str, ...] | None
    expires_at: datetime
    user_key: str | None = None  # who registered it: the JQL filter runs as this user


@dataclass(frozen=True)
class Target:
    """One delivery to make: where, for which webhook, with or without the body."""

    kind: TargetKind
    webhook_id: int
    url: str
    exclude_body: bool = False
    secret: str | None = field(default=None, repr=False)


def expand_url(url: str, payload: Mapping[str, Any]) -> str:
    """Fill Jira's URL variables ``${issue.key}``, ``${issue.id}``, ``${project.key|id}``."""
    issue = payload.get("issue") if isinstance(payload.get("issue"), Mapping) else None
    fields = issue.get("fields") if issue and isinstance(issue.get("fields"), Mapping) else {}
    project = fields.get("project") if isinstance(fields.get("project"), Mapping) else {}

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith("issue.") and issue is not None:
            return str(issue.get(name.split(".", 1)[1], ""))
        if name.startswith("project.") and project:
            return str(project.get(name.split(".", 1)[1], ""))
        return ""

    return _VAR.sub(sub, url)


def _issue_key(payload: Mapping[str, Any]) -> str | None:
    issue = payload.get("issue")
    if isinstance(issue, Mapping):
        key = issue.get("key") or issue.get("id")
        return str(key) if key is not None else None
    return None


def _changed_fields(payload: Mapping[str, Any]) -> set[str]:
    changelog = payload.get("changelog")
    out: set[str] = set()
    if isinstance(changelog, Mapping):
        for item in changelog.get("items") or []:
            if isinstance(item, Mapping):
                for k in ("fieldId", "field"):
                    if item.get(k):
                        out.add(str(item[k]))
    return out


def _property_key(payload: Mapping[str, Any]) -> str | None:
    prop = payload.get("property")
    if isinstance(prop, Mapping) and prop.get("key"):
        return str(prop["key"])
    return None


@dataclass
class WebhookRegistry:
    """All registrations of one site; ids are sequential from 1 so runs repeat."""

    rest_ttl_days: float = 30.0
    _admin: dict[int, AdminWebhook] = field(default_factory=dict)
    _rest: dict[int, RestWebhook] = field(default_factory=dict)
    _next_id: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _new_id(self) -> int:
        n = self._next_id
        self._next_id += 1
        return n

    def reset(self) -> None:
        with self._lock:
            self._admin.clear()
            self._rest.clear()
            self._next_id = 1

    # admin webhooks -------------------------------------------------------------------------
    def create_admin(
        self,
        *,
        name: str,
        url: str,
        events: Sequence[str],
        jql: str | None,
        exclude_body: bool,
        enabled: bool,
        user_key: str,
        now: datetime,
        secret: str | None = None,
    ) -> AdminWebhook:
        _check_url(url)
        with self._lock:
            hook = AdminWebhook(
                self._new_id(),
                name,
                url,
                tuple(events),
                jql or None,
                exclude_body,
                enabled,
                user_key,
                now,
                secret or None,
            )
            self._admin[hook.id] = hook
            return hook

    def update_admin(
        self, hook_id: int, user_key: str, now: datetime, **changes: Any
    ) -> AdminWebhook:
        if "url" in changes:
            _check_url(str(changes["url"]))
        with self._lock:
            hook = self._admin.get(hook_id)
            if hook is None:
                raise WebhookNotFound(f"Webhook {hook_id} not found")
            if "events" in changes:
                changes["events"] = tuple(changes["events"])
            hook = replace(hook, **changes, last_updated_user=user_key, last_updated=now)
            self._admin[hook_id] = hook
            return hook

    def get_admin(self, hook_id: int) -> AdminWebhook:
        with self._lock:
            hook = self._admin.get(hook_id)
        if hook is None:
            raise WebhookNotFound(f"Webhook {hook_id} not found")
        return hook

    def delete_admin(self, hook_id: int) -> None:
        with self._lock:
            if self._admin.pop(hook_id, None) is None:
                raise WebhookNotFound(f"Webhook {hook_id} not found")

    def has_hooks(self) -> bool:
        """Whether any webhook (admin or REST) is registered: asked on every domain event,
        so it does not build and sort the lists as :meth:`admin_hooks` does."""
        with self._lock:
            return bool(self._admin) or bool(self._rest)

    def admin_hooks(self) -> list[AdminWebhook]:
        with self._lock:
            return sorted(self._admin.values(), key=lambda h: h.id)

    # REST-registered webhooks ----------------------------------------------------------------
    def register_rest(
        self,
        owner: str,
        url: str,
        details: Sequence[Any],
        now: datetime,
        validate_jql: JqlMatcher | None = None,
        *,
        user_key: str | None = None,
    ) -> list[dict[str, Any]]:
        """Register each entry; answers ``{"createdWebhookId": id}`` or ``{"errors": [...]}``
        per entry, in request order (``ContainerForRegisteredWebhooks``)."""
        _check_url(url)
        with self._lock:
            existing = {h.url for h in self._rest.values() if h.owner == owner}
        if existing and url not in existing:
            raise BadInputError("Only a single URL per app is allowed to be registered.")
        results: list[dict[str, Any]] = []
        for entry in details:
            errors: list[str] = []
            if not isinstance(entry, Mapping):
                results.append({"errors": ["Each webhook must be a JSON object."]})
                continue
            events = entry.get("events")
            jql = entry.get("jqlFilter")
            if not isinstance(events, list) or not events:
                errors.append("The events list must not be empty.")
            else:
                bad = [e for e in events if e not in REST_WEBHOOK_EVENTS]
                if bad:
                    errors.append(f"Unsupported events: {', '.join(map(str, bad))}")
            if not isinstance(jql, str) or not jql.strip():
                errors.append("The JQL filter must not be empty.")
            elif validate_jql is not None:
                try:
                    validate_jql("", jql, user_key)
                except BadInputError as exc:
                    errors.append(str(exc.message))
            if errors:
                results.append({"errors": errors})
                continue
            assert isinstance(events, list) and isinstance(jql, str)
            fids = entry.get("fieldIdsFilter")
            pkeys = entry.get("issuePropertyKeysFilter")
            with self._lock:
                hook = RestWebhook(
                    self._new_id(),
                    owner,
                    url,
                    tuple(str(e) for e in events),
                    jql,
                    tuple(str(f) for f in fids) if isinstance(fids, list) else None,
                    tuple(str(k) for k in pkeys) if isinstance(pkeys, list) else None,
                    now + timedelta(days=self.rest_ttl_days),
                    user_key,
                )
                self._rest[hook.id] = hook
            results.append({"createdWebhookId": hook.id})
        return results

    def rest_hooks(self, owner: str | None = None) -> list[RestWebhook]:
        with self._lock:
            hooks = [h for h in self._rest.values() if owner is None or h.owner == owner]
        return sorted(hooks, key=lambda h: h.id)

    def delete_rest(self, owner: str, ids: Iterable[int]) -> None:
        with self._lock:
            for hook_id in ids:
                hook = self._rest.get(hook_id)
                if hook is not None and hook.owner == owner:
                    del self._rest[hook_id]

    def refresh_rest(self, owner: str, ids: Iterable[int], now: datetime) -> datetime:
        expires = now + timedelta(days=self.rest_ttl_days)
        with self._lock:
            for hook_id in ids:
                hook = self._rest.get(hook_id)
                if hook is not None and hook.owner == owner:
                    self._rest[hook_id] = replace(hook, expires_at=expires)
        return expires

    # matching -------------------------------------------------------------------------------
    def match(
        self, payload: Mapping[str, Any], now: datetime, jql: JqlMatcher | None
    ) -> list[Target]:
        """The deliveries a rendered event triggers, admin hooks first, then REST hooks."""
        event = str(payload.get("webhookEvent", ""))
        key = _issue_key(payload)
        targets: list[Target] = []

        def jql_ok(query: str | None, viewer: str | None) -> bool:
            if not query or not query.strip():
                return True
            if jql is None:
                return True  # no evaluator wired in: filters cannot narrow deliveries
            if key is None:
                return False
            if event == "jira:issue_deleted":
                return True  # the issue is gone; Jira cannot evaluate the filter either
            try:
                return jql(key, query, viewer)
            except BadInputError:
                return False

        for admin in self.admin_hooks():
            if (
                admin.enabled
                and event in admin.events
                and jql_ok(admin.jql, admin.last_updated_user)
            ):
                targets.append(
                    Target(
                        TargetKind.ADMIN,
                        admin.id,
                        expand_url(admin.url, payload),
                        admin.exclude_body,
                        admin.secret,
                    )
                )
        changed = _changed_fields(payload)
        prop = _property_key(payload)
        for rest in self.rest_hooks():
            if now >= rest.expires_at or event not in rest.events:
                continue
            if (
                event == "jira:issue_updated"
                and rest.field_ids is not None
                and not changed.intersection(rest.field_ids)
            ):
                continue
            if (
                event.startswith("issue_property_")
                and rest.property_keys is not None
                and prop not in rest.property_keys
            ):
                continue
            if jql_ok(rest.jql, rest.user_key):
                targets.append(Target(TargetKind.REST, rest.id, rest.url))
        return targets

    def summary(self) -> dict[str, int]:
        with self._lock:
            return {"adminWebhooks": len(self._admin), "restWebhooks": len(self._rest)}


def _check_url(url: str) -> None:
    if not re.match(r"^https?://[^\s/]+", url or ""):
        raise BadInputError(f"The webhook URL is not valid: {url!r}")
