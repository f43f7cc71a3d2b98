"""The emulators' JQL engine: pure, knows nothing of the model.

``parse(text) -> Query`` builds the syntax tree (frozen dataclasses);
``compile_query(query, resolver, default_order=...) -> CompiledQuery`` turns it into a
predicate (``matches(issue)``) and an ordering (``sort(issues)`` / ``run(issues)``) over any
issue type, asking a :class:`Resolver` what each field is (:class:`FieldDef`: kind, getter,
value resolution, sort key, field functions) and for the clock, time zone, viewer, groups and
sprints. ``jirabridge.emulator.search`` is the resolver over a model ``Site``::

    query = parse('project = OPS AND updated >= "-1d" ORDER BY updated ASC, key ASC')
    compiled = compile_query(query, resolver)          # resolve every literal once
    ordered = compiled.run(issues)                     # filter + sort

Every error is a :class:`JqlError` (a ``BadInputError``) whose ``error_messages`` are Jira's
exact sentences (several at once when several clauses are wrong), ready for
``{"errorMessages": [...], "errors": {}}``. ``pinned_literals`` tells an adapter which values
a query pins a field to, so it can use an index instead of a scan.
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
from jirabridge.emulator.jql._compiler import (
    CompiledQuery,
    Validation,
    check_arity,
    compile_query,
)
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
    "Validation",
    "Value",
    "check_arity",
    "compile_query",
    "parse",
    "pinned_literals",
    "words",
]
