"""Faithful conversion between Jira wiki markup (Server, REST v2) and the Atlassian Document
Format (Cloud, REST v3).

::

    from jirabridge.markup import wiki_to_adf, adf_to_wiki, MarkupContext

    doc = wiki_to_adf("*bold* [~jsmith]", ctx)     # -> {"version": 1, "type": "doc", ...}
    text = adf_to_wiki(doc, ctx)                   # -> "*bold* [~jsmith]"

Mentions, links to the other site's issues and attachment references are translated through
the :class:`MarkupContext`; whatever cannot be translated faithfully is recorded in its
:class:`ConversionReport`, never dropped silently.
"""

from __future__ import annotations

from jirabridge.markup._adf_validate import validate_adf
from jirabridge.markup._api import adf_to_wiki, wiki_to_adf
from jirabridge.markup._context import (
    ConversionReport,
    MappingUserDirectory,
    MarkupContext,
    ReportItem,
    ReportKind,
    ResolvedUser,
    UserDirectory,
    UserEntry,
    load_user_map,
)
from jirabridge.markup._rewrite import find_issue_keys, rewrite_href, rewrite_issue_keys

__all__ = [
    "ConversionReport",
    "MappingUserDirectory",
    "MarkupContext",
    "ReportItem",
    "ReportKind",
    "ResolvedUser",
    "UserDirectory",
    "UserEntry",
    "adf_to_wiki",
    "find_issue_keys",
    "load_user_map",
    "rewrite_href",
    "rewrite_issue_keys",
    "validate_adf",
    "wiki_to_adf",
]
