"""The emulators' JQL engine: pure, knows nothing of the model.

``parse(text) -> Query`` builds the syntax tree; ``compile_query(query, resolver)`` turns it
into a predicate and sort over any issue type, asking a :class:`Resolver` (implemented by
``jirabridge.emulator.search`` over a site) what each field is. Errors are :class:`JqlError`
with Jira's wording.
"""

from jirabridge.emulator.jql._ast import (
    And,
    Clause,
    EmptyOperand,
    FieldRef,
    FunctionCall,
    ListOperand,
    Not,
    Operand,
    Operator,
    Or,
    Query,
    SortSpec,
    Terminal,
    Value,
)
from jirabridge.emulator.jql._compiler import CompiledQuery, check_arity, compile_query
from jirabridge.emulator.jql._errors import JqlError
from jirabridge.emulator.jql._fields import FieldDef, FieldKind, Resolver
from jirabridge.emulator.jql._hints import pinned_literals
from jirabridge.emulator.jql._parser import parse
from jirabridge.emulator.jql._text import words

__all__ = [
    "And",
    "Clause",
    "CompiledQuery",
    "EmptyOperand",
    "FieldDef",
    "FieldKind",
    "FieldRef",
    "FunctionCall",
    "JqlError",
    "ListOperand",
    "Not",
    "Operand",
    "Operator",
    "Or",
    "Query",
    "Resolver",
    "SortSpec",
    "Terminal",
    "Value",
    "check_arity",
    "compile_query",
    "parse",
    "pinned_literals",
    "words",
]
