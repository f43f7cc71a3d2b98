"""Findings: what a check found, how bad it is, where, and how to fix it.

Rule ids of ``migrate check``::

    FILE001  blocker  the file cannot be read: missing, truncated, not a zip, over a limit, bomb
    ZIP001   blocker  no entities.xml in the zip
    ZIP002   blocker  entities.xml / activeobjects.xml inside a folder (a zipped folder)
    ZIP003   blocker  no activeobjects.xml
    ZIP004   blocker  member with an absolute or '..' path, or a symbolic link
    ZIP005   info     a bare entities.xml was given: layout not checked
    ZIP006   blocker  encrypted member
    XML001   blocker  not well-formed: line and column of the first error
    XML002   blocker  invalid XML characters (raw or as &#..; references): count and locations
    XML003   blocker  refused: DOCTYPE/ENTITY declarations, UTF-16, corrupt member data
    XML004   blocker  the root element is not <entity-engine-xml>
    ENC001   warning  declared encoding other than UTF-8
    LINE001  warning  a line longer than 10 MB
    VER001   blocker below 7.0 / warning 7.0-7.5 / info 7.6 and later
    VER002   warning  no Jira version in the backup
    USR001   blocker  email missing or without a valid domain
    USR002   blocker  email without a (valid) top-level domain
    USR003   blocker  @example.com email
    USR004   blocker  email shared by several users (case-insensitive, across directories)
    USR005   blocker  username starting with addon_
    USR006   info     active users and the Cloud user tier they need
    GRP001   warning  jira-administrators becomes administrators
    GRP002   warning  admin groups Site Import never imports, with their members
    GRP003   blocker (admin rights) / warning: merge escalation, with the users affected
    GRP004   info     overwrite strategy: no merge
    URL001   info     the server base URL and its occurrences (links to map)
    URL002   info     other Jira-like origins linked from text
    URL003   warning  no jira.baseurl property
    ATT001   info     attachments: count and size per project
    ATT002   blocker  attachments exceed the Cloud plan's storage
    ATT003   warning  attachments of issues not in the backup
    ATT004   warning  issues over Cloud's 2,000 attachments
    ATT005   warning  attachments without a numeric size
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Finding", "Severity"]


class Severity(enum.Enum):
    """How a finding affects the import."""

    BLOCKER = "blocker"  # Site Import fails or loses data: fix before uploading
    WARNING = "warning"  # the import runs but the result needs attention
    INFO = "info"  # a fact the admin should know (counts, links to map)

    @property
    def rank(self) -> int:
        return {"blocker": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Finding:
    """One problem or fact, with a stable rule id (``ZIP001``, ``USR003`` ...)."""

    rule: str
    severity: Severity
    message: str
    location: str = ""
    fix: str = ""
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "location": self.location,
            "fix": self.fix,
            "data": self.data,
        }
