"""The renderers a handler needs for its request: the ``View`` (base URL, flavour, REST
version of ``self`` links) and an :class:`~._issues.IssueRenderer` for the caller."""

from __future__ import annotations

from jirabridge.emulator.faces._context import Ctx
from jirabridge.emulator.faces._issues import IssueRenderer
from jirabridge.emulator.faces._render import View

__all__ = ["renderer_of", "view_of"]


def view_of(ctx: Ctx) -> View:
    return View(ctx.face.base_url, ctx.cloud, ctx.rest_api)


def renderer_of(ctx: Ctx) -> IssueRenderer:
    return IssueRenderer(ctx.site, view_of(ctx), ctx.user_key, adf=ctx.adf)
