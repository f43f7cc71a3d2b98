"""jirabridge: keep Jira Server/DC and Jira Cloud in sync; move Server to Cloud safely."""

from jirabridge.errors import (
    BadInputError,
    FixConfigError,
    JirabridgeError,
    ReauthenticateError,
    RetryLaterError,
    SkipItemError,
)

__version__ = "0.1.0"

__all__ = [
    "BadInputError",
    "FixConfigError",
    "JirabridgeError",
    "ReauthenticateError",
    "RetryLaterError",
    "SkipItemError",
    "__version__",
]
