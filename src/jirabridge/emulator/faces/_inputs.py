"""Checks of request values the faces do before calling the model (types Jira's JSON layer
refuses, rich text in the request's API form, visibility objects)."""

from __future__ import annotations

from typing import Any

from jirabridge.emulator.faces._context import Ctx
from jirabridge.emulator.faces._errors import JiraHttpError
from jirabridge.emulator.faces._richtext import from_wire, is_adf
from jirabridge.emulator.model._records import Visibility

__all__ = ["ADF_REQUIRED", "rich_in", "visibility_in"]

ADF_REQUIRED = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
STRING_REQUIRED = "Operation value must be a string"


def rich_in(ctx: Ctx, value: Any, field_id: str) -> Any:
    """A rich-text value from the request -> the site's native form, refusing the wrong type
    for the API version (ADF on Cloud v3, a string elsewhere)."""
    if value is None:
        return None
    if ctx.adf:
        if not is_adf(value):
            raise JiraHttpError(400, errors={field_id: ADF_REQUIRED})
    elif not isinstance(value, str):
        raise JiraHttpError(400, errors={field_id: STRING_REQUIRED})
    files = _issue_files(ctx) if ctx.cloud and isinstance(value, str) else None
    return from_wire(value, native_adf=ctx.cloud, site=ctx.site, attachments=files)


def _issue_files(ctx: Ctx) -> dict[str, str] | None:
    """File name -> media id of the attachments of the request's issue (a wiki ``!name!``
    written to Cloud shows that file); None when the request names no existing issue."""
    ref = ctx.request.path_params.get("issueIdOrKey")
    if not isinstance(ref, str):
        return None
    issue = ctx.site.find_issue(ref)
    return None if issue is None else ctx.site.issue_media_ids(issue.id)


def visibility_in(raw: Any, field_id: str = "commentLevel") -> Visibility | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise JiraHttpError(400, errors={field_id: "Invalid visibility."})
    kind = raw.get("type")
    value = raw.get("value")
    identifier = raw.get("identifier")
    if kind not in ("group", "role"):
        raise JiraHttpError(400, errors={field_id: "Invalid visibility type."})
    if value is None and identifier is None:
        raise JiraHttpError(400, errors={field_id: "Visibility value must be specified."})
    if (value is not None and not isinstance(value, str)) or (
        identifier is not None and not isinstance(identifier, str)
    ):
        raise JiraHttpError(400, errors={field_id: "Visibility value must be a string."})
    return Visibility(str(kind), value or "", identifier)
