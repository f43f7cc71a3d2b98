"""Options and value types shared by check, fix, plan and verify."""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jirabridge.errors import BadInputError
from jirabridge.migrate._archive import ZipLimits

__all__ = [
    "ADMIN_PERMISSIONS",
    "NEVER_IMPORTED_GROUPS",
    "CheckOptions",
    "CloudGroup",
    "CloudPlan",
    "UserStrategy",
    "email_problem",
    "load_cloud_groups",
    "parse_version",
    "user_tier",
]

NEVER_IMPORTED_GROUPS = frozenset(
    {"site-admins", "system-administrators", "atlassian-addons", "atlassian-addons-admin"}
)
ADMIN_PERMISSIONS = frozenset(
    {"ADMINISTER", "SYSTEM_ADMIN", "SITE-ADMIN", "ORG-ADMIN", "PRODUCT-ADMIN", "ADMIN"}
)
# Annual Cloud user tiers (upper bounds); above the last one Atlassian quotes Enterprise.
_TIERS = (
    10, 25, 50, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1500, 2000, 2500, 3000,
    3500, 4000, 4500, 5000, 7500, 10000, 15000, 20000, 25000, 30000, 35000, 40000, 45000, 50000,
)  # fmt: skip


class UserStrategy(enum.Enum):
    """How Site Import treats the Cloud site's users."""

    OVERWRITE = "overwrite"  # cloud users and groups are replaced by the backup's
    MERGE = "merge"  # users and same-named groups are merged (permission escalation risk)


class CloudPlan(enum.Enum):
    """Cloud plan, for its attachment storage."""

    FREE = "free"
    STANDARD = "standard"
    PREMIUM = "premium"
    ENTERPRISE = "enterprise"

    @property
    def storage_bytes(self) -> int | None:
        """Attachment storage of the plan; ``None`` for unlimited."""
        return {"free": 2 * 10**9, "standard": 250 * 10**9}.get(self.value)


@dataclass(frozen=True)
class CloudGroup:
    """A group of the Cloud site; ``permissions`` when known (global/product permissions)."""

    name: str
    permissions: frozenset[str] = frozenset()
    permissions_known: bool = False


@dataclass(frozen=True)
class CheckOptions:
    """What ``check`` needs besides the backup."""

    strategy: UserStrategy = UserStrategy.MERGE
    cloud_groups: tuple[CloudGroup, ...] | None = None
    plan: CloudPlan | None = None
    zip_limits: ZipLimits = field(default_factory=ZipLimits)
    spill_dir: Path | None = None
    max_locations: int = 100


def load_cloud_groups(path: Path) -> tuple[CloudGroup, ...]:
    """Read the Cloud site's groups from JSON.

    Accepted shapes: ``["name", ...]``, ``[{"name": ..., "permissions": [...]}, ...]``,
    or the REST answer of ``GET /rest/api/3/group/bulk`` (``{"values": [{"name": ...}]}``).
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read the cloud groups JSON ({exc})") from exc
    items = raw.get("values") if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise BadInputError(f"{path}: expected a list of groups or {{'values': [...]}}")
    groups: list[CloudGroup] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            groups.append(CloudGroup(item))
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            perms = item.get("permissions")
            if perms is not None and not (
                isinstance(perms, list) and all(isinstance(p, str) for p in perms)
            ):
                raise BadInputError(f"{path}: group #{i}: 'permissions' must be a list of strings")
            groups.append(
                CloudGroup(
                    item["name"],
                    frozenset(p.upper() for p in perms or []),
                    permissions_known=perms is not None,
                )
            )
        else:
            raise BadInputError(f"{path}: group #{i} has no 'name'")
    return tuple(groups)


def user_tier(active_users: int) -> str:
    """The annual Cloud user tier for a number of users: 125 -> ``101-200``."""
    low = 1
    for high in _TIERS:
        if active_users <= high:
            return f"{low}-{high}"
        low = high + 1
    return f"more than {_TIERS[-1]} (Enterprise: ask Atlassian)"


def parse_version(text: str) -> tuple[int, ...] | None:
    """``"8.8.0"`` -> ``(8, 8, 0)``; ``None`` when it is not a version."""
    parts = text.strip().split(".")
    if not parts or not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_TLD = re.compile(r"^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$")


def email_problem(email: str) -> str | None:
    """Why Site Import would reject ``email``, or ``None`` when it is fine."""
    email = email.strip()
    if not email:
        return "no email address"
    if email.count("@") != 1:
        return "not one '@'"
    local, domain = email.split("@")
    if not local:
        return "nothing before '@'"
    if not domain:
        return "no domain"
    labels = domain.split(".")
    if len(labels) < 2:
        return "no top-level domain"
    if not all(_LABEL.match(label) for label in labels):
        return "invalid domain"
    if not _TLD.match(labels[-1]):
        return "invalid top-level domain"
    if domain.lower() == "example.com" or domain.lower().endswith(".example.com"):
        return "@example.com addresses fail the import"
    return None


def jsonable(value: Any) -> Any:
    """Enums and paths to plain JSON values (used by reports)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value
