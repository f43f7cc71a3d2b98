"""The JQL syntax tree: frozen dataclasses, no behaviour."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = [
    "And",
    "Clause",
    "EmptyOperand",
    "FieldRef",
    "FunctionCall",
    "ListOperand",
    "Not",
    "Operand",
    "Operator",
    "Or",
    "Query",
    "SortSpec",
    "Terminal",
    "Value",
]


class Operator(enum.Enum):
    """The clause operators of the supported JQL subset."""

    EQ = "="
    NE = "!="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    LIKE = "~"
    NOT_LIKE = "!~"
    IN = "in"
    NOT_IN = "not in"
    IS = "is"
    IS_NOT = "is not"

    @property
    def jira_text(self) -> str:
        """How Jira names the operator in its messages."""
        return self.value


@dataclass(frozen=True)
class FieldRef:
    """A field as written: ``name`` (as typed) or ``cf[10016]`` (``cf_id`` set).

    ``line``/``column`` say where it was written; they take no part in equality.
    """

    name: str
    cf_id: int | None = None
    line: int = field(default=1, compare=False)
    column: int = field(default=1, compare=False)

    @property
    def display(self) -> str:
        return f"cf[{self.cf_id}]" if self.cf_id is not None else self.name


@dataclass(frozen=True)
class Value:
    """A literal; ``quoted`` tells ``"EMPTY"`` (a value) from ``EMPTY`` (the keyword)."""

    text: str
    quoted: bool = False


@dataclass(frozen=True)
class EmptyOperand:
    """``EMPTY`` or ``NULL``."""


@dataclass(frozen=True)
class FunctionCall:
    """``name(arg, ...)``: arguments are literal strings."""

    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListOperand:
    """``(a, b, f())``."""

    items: tuple[Value | FunctionCall | EmptyOperand, ...]


Operand = Value | EmptyOperand | FunctionCall | ListOperand


@dataclass(frozen=True)
class Terminal:
    """``field operator operand``."""

    field: FieldRef
    operator: Operator
    operand: Operand


@dataclass(frozen=True)
class And:
    children: tuple[Clause, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Clause, ...]


@dataclass(frozen=True)
class Not:
    child: Clause


Clause = Terminal | And | Or | Not


@dataclass(frozen=True)
class SortSpec:
    """One ``ORDER BY`` item; ``descending`` is None when no direction was written."""

    field: FieldRef
    descending: bool | None = None


@dataclass(frozen=True)
class Query:
    """A whole query; ``where`` None means "all issues"; ``order_by`` None means no clause."""

    where: Clause | None
    order_by: tuple[SortSpec, ...] | None = None
