"""Index hints: literals a query pins a field to, so an adapter can skip a full scan."""

from __future__ import annotations

from collections.abc import Collection

from jirabridge.emulator.jql._ast import And, Clause, Operator, Or, Terminal, Value

__all__ = ["pinned_literals"]


def pinned_literals(where: Clause | None, names: Collection[str]) -> frozenset[str] | None:
    """Literals one of which every matching issue must carry in the field called ``names``.

    ``names`` are the lower-case spellings of ONE field (e.g. ``{"key", "issuekey"}``).
    None means the query does not pin that field (the adapter must scan). Only ``=`` and
    ``IN`` with plain values pin; a pin anywhere in a top-level ``AND`` pins the query, an
    ``OR`` pins only when every branch does.
    """
    if where is None:
        return None
    if isinstance(where, Terminal):
        if where.field.cf_id is not None or where.field.name.lower() not in names:
            return None
        if where.operator not in (Operator.EQ, Operator.IN):
            return None
        operand = where.operand
        items = operand.items if hasattr(operand, "items") else (operand,)
        if not all(isinstance(i, Value) for i in items):
            return None
        return frozenset(i.text for i in items if isinstance(i, Value))
    if isinstance(where, And):
        for child in where.children:
            found = pinned_literals(child, names)
            if found is not None:
                return found
        return None
    if isinstance(where, Or):
        union: set[str] = set()
        for child in where.children:
            found = pinned_literals(child, names)
            if found is None:
                return None
            union |= found
        return frozenset(union)
    return None
