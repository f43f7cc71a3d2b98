"""Where a Jira Server home keeps files: shared by the backup reader and the test-data writer."""

from __future__ import annotations

from jirabridge.errors import BadInputError

__all__ = ["BUCKET_SIZE", "attachment_bucket"]

BUCKET_SIZE = 10_000
"""Jira 7+ puts the attachment folders of this many consecutive issue numbers in one folder."""


def attachment_bucket(issue_number: int) -> int:
    """Jira 7+ groups issue folders by number: 1-10000 in ``10000``, 10001-20000 in ``20000``."""
    if issue_number < 1:
        raise BadInputError(f"issue numbers start at 1, got {issue_number}")
    return ((issue_number - 1) // BUCKET_SIZE + 1) * BUCKET_SIZE
