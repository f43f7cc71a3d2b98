"""Link rewriting between the two sites: base URLs and issue keys, from a MarkupContext."""

from __future__ import annotations

import re

from jirabridge.markup._context import MarkupContext

__all__ = ["find_issue_keys", "rewrite_href", "rewrite_issue_keys"]

_BROWSE = re.compile(r"(/browse/)([A-Z][A-Z0-9_]+-\d+)")
_ISSUE_KEY = re.compile(r"(?<![A-Za-z0-9_-])([A-Z][A-Z0-9_]+-\d+)(?![A-Za-z0-9_])")


def rewrite_href(href: str, ctx: MarkupContext) -> str:
    """Point a link at the other site: replace a known base URL, then a mapped issue key in a
    ``/browse/KEY`` path."""
    out = href
    for old, new in ctx.base_urls.items():
        old_base = old.rstrip("/")
        if out == old_base or out.startswith(old_base + "/") or out.startswith(old_base + "?"):
            out = new.rstrip("/") + out[len(old_base) :]
            break
    if ctx.issue_keys and "/browse/" in out:
        out = _BROWSE.sub(lambda m: m[1] + ctx.issue_keys.get(m[2], m[2]), out)
    return out


def rewrite_issue_keys(text: str, ctx: MarkupContext) -> str:
    """Replace whole-word issue keys that the mapping knows (``OLD-1`` -> ``NEW-7``)."""
    if not ctx.issue_keys or "-" not in text:
        return text
    return _ISSUE_KEY.sub(lambda m: ctx.issue_keys.get(m[1], m[1]), text)


def find_issue_keys(text: str) -> list[str]:
    """The whole-word issue keys in ``text``, in order: the ones :func:`rewrite_issue_keys`
    would replace when the mapping knows them."""
    if "-" not in text:
        return []
    return _ISSUE_KEY.findall(text)
