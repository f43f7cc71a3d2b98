"""The one error of the JQL engine, worded as Jira words it."""

from __future__ import annotations

from jirabridge.errors import BadInputError, JiraErrorBody

__all__ = ["JqlError", "parse_error"]


class JqlError(BadInputError):
    """A JQL query Jira would reject with 400; each message is in Jira's exact wording.

    Jira reports every validation problem of a query at once, so one error may carry several
    messages: ``error_messages`` has them all, ``message`` joins them with ``"; "``, and
    ``jira`` is the body a face answers with: ``{"errorMessages": [...], "errors": {}}``.
    """

    def __init__(self, message: str, *more: str) -> None:
        self.error_messages: tuple[str, ...] = (message, *more)
        super().__init__(
            "; ".join(self.error_messages),
            jira=JiraErrorBody(status=400, error_messages=self.error_messages),
        )


def parse_error(detail: str, line: int | None = None, column: int | None = None) -> JqlError:
    """A syntax error: ``Error in the JQL Query: <detail> (line L, character C)``."""
    text = f"Error in the JQL Query: {detail}"
    if line is not None and column is not None:
        text += f" (line {line}, character {column})"
    return JqlError(text)
