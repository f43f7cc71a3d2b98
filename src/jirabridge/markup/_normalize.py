"""Inline runs into paragraphs, single attachments into groups, and the line-break
bookkeeping between blocks (how blank lines end paragraphs)."""

from __future__ import annotations

from jirabridge.markup._nodes import Node, make

__all__ = ["consecutive_media_groups", "newline_required", "normalize"]


def consecutive_media_groups(current: list[Node], following: list[Node]) -> bool:
    return bool(
        current
        and current[-1].type == "mediaGroup"
        and following
        and following[0].type == "mediaGroup"
    )


def newline_required(current: list[Node], buf: list[str], following: list[Node]) -> bool:
    if not current:
        return False
    if buf and current[-1].is_block:
        return False
    if not buf:
        if not following:
            return False
        if following[0].type == "hardBreak":
            return False
        if following[0].is_block or current[-1].is_block:
            return False
    return True


def _merge_media_groups(nodes: list[Node]) -> list[Node]:
    out: list[Node] = []
    groups: list[Node] = []
    separators: list[Node] = []

    def significant(node: Node) -> bool:
        if node.type == "hardBreak" and any(x.type == "hardBreak" for x in separators):
            return True
        if node.type == "mediaGroup" and len(node.content or ()) > 1:
            return True
        return node.text_content().strip() != ""

    for node in nodes:
        if node.type == "mediaGroup" and len(node.content or ()) == 1:
            groups.append(node)
            separators = []
            continue
        if groups:
            if significant(node):
                out.append(make("mediaGroup", None, [g.content[0] for g in groups if g.content]))
                out.extend(separators)
                out.append(node)
                groups = []
                separators = []
            else:
                separators.append(node)
            continue
        out.append(node)
    if groups:
        out.append(make("mediaGroup", None, [g.content[0] for g in groups if g.content]))
    out.extend(separators)
    return out


def normalize(nodes: list[Node]) -> list[Node]:
    """Group inline runs into paragraphs (dropping runs of bare line breaks); merge media."""
    nodes = _merge_media_groups(nodes)
    out: list[Node] = []
    run: list[Node] = []
    for node in nodes:
        if not node.is_block:
            run.append(node)
            continue
        if run and any(x.type != "hardBreak" for x in run):
            out.append(make("paragraph", None, run))
        run = []
        out.append(node)
    if run and any(x.type != "hardBreak" for x in run):
        out.append(make("paragraph", None, run))
    if not out:
        return [make("paragraph")]
    return out
