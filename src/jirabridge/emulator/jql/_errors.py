"""The one error of the JQL engine, worded as Jira words it."""

from __future__ import annotations

from jirabridge.errors import BadInputError, JiraErrorBody

__all__ = ["JqlError", "parse_error"]


class JqlError(BadInputError):
    """A JQL query Jira would reject with 400; ``message`` is Jira's exact wording.

    ``jira`` carries the body a face answers with:
    ``{"errorMessages": [message], "errors": {}}``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, jira=JiraErrorBody(status=400, error_messages=(message,)))


def parse_error(detail: str, line: int | None = None, column: int | None = None) -> JqlError:
    """A syntax error: ``Error in the JQL Query: <detail> (line L, character C)``."""
    text = f"Error in the JQL Query: {detail}"
    if line is not None and column is not None:
        text += f" (line {line}, character {column})"
    return JqlError(text)
