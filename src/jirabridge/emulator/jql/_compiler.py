"""AST -> predicate and sort over issues, through a :class:`Resolver`.

Every literal and function is resolved once, at compile time, so evaluating an issue is a
chain of closures over plain Python values.
"""

from __future__ import annotations

import enum
import operator as op_mod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic

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
from jirabridge.emulator.jql._dates import (
    DateBound,
    add_offset,
    end_of,
    parse_date_literal,
    parse_offset,
    start_of,
)
from jirabridge.emulator.jql._errors import JqlError
from jirabridge.emulator.jql._fields import FieldDef, FieldKind, IssueT, Resolver
from jirabridge.emulator.jql._text import compile_text_query

__all__ = ["CompiledQuery", "Validation", "check_arity", "compile_query"]

Predicate = Callable[[Any], bool]

_EQUALITY = frozenset({Operator.EQ, Operator.NE, Operator.IN, Operator.NOT_IN})
_EMPTY_OPS = frozenset({Operator.IS, Operator.IS_NOT})
_RELATIONAL = frozenset({Operator.GT, Operator.GE, Operator.LT, Operator.LE})
_ALLOWED: dict[FieldKind, frozenset[Operator]] = {
    FieldKind.TEXT: frozenset({Operator.LIKE, Operator.NOT_LIKE}) | _EMPTY_OPS,
    FieldKind.VALUE: _EQUALITY | _EMPTY_OPS,
    FieldKind.USER: _EQUALITY | _EMPTY_OPS,
    FieldKind.SPRINT: _EQUALITY | _EMPTY_OPS,
    FieldKind.KEY: _EQUALITY | _RELATIONAL,
    FieldKind.DATE: _EQUALITY | _RELATIONAL | _EMPTY_OPS,
    FieldKind.NUMBER: _EQUALITY | _RELATIONAL | _EMPTY_OPS,
}
_COMPARE: dict[Operator, Callable[[Any, Any], bool]] = {
    Operator.GT: op_mod.gt,
    Operator.GE: op_mod.ge,
    Operator.LT: op_mod.lt,
    Operator.LE: op_mod.le,
}
_DATE_FUNCTIONS = {
    "startofday": ("day", True, "d"),
    "endofday": ("day", False, "d"),
    "startofweek": ("week", True, "w"),
    "endofweek": ("week", False, "w"),
    "startofmonth": ("month", True, "M"),
    "endofmonth": ("month", False, "M"),
    "startofyear": ("year", True, "y"),
    "endofyear": ("year", False, "y"),
}
_FUNCTION_KINDS: dict[str, frozenset[FieldKind]] = {
    "now": frozenset({FieldKind.DATE}),
    "currentuser": frozenset({FieldKind.USER}),
    "membersof": frozenset({FieldKind.USER}),
    "opensprints": frozenset({FieldKind.SPRINT}),
    "closedsprints": frozenset({FieldKind.SPRINT}),
    "futuresprints": frozenset({FieldKind.SPRINT}),
    **{name: frozenset({FieldKind.DATE}) for name in _DATE_FUNCTIONS},
}
_DATE_FORMATS = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
    "'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
)


@dataclass(frozen=True)
class CompiledQuery(Generic[IssueT]):
    """A query ready to run: ``matches`` per issue, ``sort`` for the ORDER BY (or default).

    ``warnings`` holds the validation problems a ``"warn"`` compilation let through.
    """

    query: Query
    matches: Callable[[IssueT], bool]
    sort_keys: tuple[tuple[Callable[[IssueT], object], bool], ...]
    warnings: tuple[str, ...] = ()

    def sort(self, issues: Iterable[IssueT]) -> list[IssueT]:
        """Order ``issues`` (stable; empty values last when ascending, first when descending)."""
        out = list(issues)
        for key, descending in reversed(self.sort_keys):
            out.sort(key=_null_last(key), reverse=descending)
        return out

    def run(self, issues: Iterable[IssueT]) -> list[IssueT]:
        """Filter then sort."""
        matches = self.matches
        return self.sort(i for i in issues if matches(i))


def _null_last(key: Callable[[IssueT], object]) -> Callable[[IssueT], tuple[int, Any]]:
    def wrapped(issue: IssueT) -> tuple[int, Any]:
        value = key(issue)
        return (1, 0) if value is None else (0, value)

    return wrapped


class Validation(enum.Enum):
    """What to do with semantic problems (unknown field, value or function, bad date, ...).

    ``STRICT`` raises them all in one :class:`JqlError` (Jira's ``validateQuery=strict``, the
    default of Server's ``/search``). ``WARN`` lets the query run: a clause that cannot be
    evaluated matches no issue, a sort that cannot be applied is skipped, and the messages come
    back as ``CompiledQuery.warnings`` (``validateQuery=warn``; Cloud's ``/search/jql`` answers
    200 with no issues for such queries). ``NONE`` does the same without the warnings.
    Syntax errors are always raised by :func:`parse`.
    """

    STRICT = "strict"
    WARN = "warn"
    NONE = "none"


def compile_query(
    query: Query,
    resolver: Resolver[IssueT],
    *,
    default_order: Sequence[SortSpec] = (),
    validation: Validation | str = Validation.STRICT,
) -> CompiledQuery[IssueT]:
    """Compile ``query`` against ``resolver``; raise :class:`JqlError` as Jira would.

    ``validation`` may come straight from a request's ``validateQuery`` parameter: an unknown
    value is refused with a :class:`JqlError` too.
    """
    try:
        validation = Validation(validation)
    except ValueError:
        raise JqlError(
            f"The value '{validation}' for 'validateQuery' is not valid. "
            "Valid values are 'strict', 'warn' and 'none'."
        ) from None
    compiler = _Compiler(resolver)
    matches: Callable[[IssueT], bool] = (
        (lambda _issue: True) if query.where is None else compiler.clause(query.where)
    )
    order = query.order_by if query.order_by is not None else tuple(default_order)
    keys = compiler.sort_specs(order)
    problems = tuple(dict.fromkeys(compiler.errors))
    if problems and validation is Validation.STRICT:
        raise JqlError(*problems)
    if query.order_by is None and compiler.scorers:
        # Jira ranks a free-text query without ORDER BY by relevance, not by the default sort;
        # the default order only breaks ties here
        scorers = tuple(compiler.scorers)
        keys = ((lambda issue: sum(s(issue) for s in scorers), True), *keys)
    warnings = problems if validation is Validation.WARN else ()
    return CompiledQuery(query, matches, keys, warnings)


def check_arity(name: str, args: Sequence[str], lo: int, hi: int) -> None:
    """Raise Jira's error when a function got fewer than ``lo`` or more than ``hi`` arguments."""
    got = len(args)
    if lo <= got <= hi:
        return
    want = f"'{lo}'" if lo == hi else f"between '{lo}' and '{hi}'"
    raise JqlError(f"Function '{name}' expected {want} arguments but received '{got}'.")


class _Compiler(Generic[IssueT]):
    def __init__(self, resolver: Resolver[IssueT]) -> None:
        self.resolver = resolver
        self.errors: list[str] = []  # Jira validates every clause and reports all problems
        self.scorers: list[Callable[[IssueT], float]] = []  # relevance of ~ clauses

    # -- structure ----------------------------------------------------------------------
    def clause(self, node: Clause) -> Callable[[IssueT], bool]:
        if isinstance(node, Terminal):
            try:
                return self.terminal(node)
            except JqlError as exc:
                self.errors.extend(exc.error_messages)
                return lambda _issue: False
        if isinstance(node, Not):
            inner = self.clause(node.child)
            return lambda issue: not inner(issue)
        parts = tuple(self.clause(child) for child in node.children)
        if isinstance(node, And):
            if len(parts) == 2:  # the common case, without a generator per issue
                first, second = parts
                return lambda issue: first(issue) and second(issue)
            return lambda issue: all(p(issue) for p in parts)
        assert isinstance(node, Or)
        if len(parts) == 2:
            first, second = parts
            return lambda issue: first(issue) or second(issue)
        return lambda issue: any(p(issue) for p in parts)

    def field(self, ref: FieldRef) -> FieldDef[IssueT]:
        fdef = self.resolver.field(ref.name, ref.cf_id)
        if fdef is None:
            raise JqlError(
                f"Field '{ref.display}' does not exist or you do not have permission to view it."
            )
        return fdef

    def sort_specs(
        self, specs: Sequence[SortSpec]
    ) -> tuple[tuple[Callable[[IssueT], object], bool], ...]:
        keys: list[tuple[Callable[[IssueT], object], bool]] = []
        seen: dict[str, str] = {}  # field id -> name as first written
        for spec in specs:
            name = spec.field.display
            fdef = self.resolver.field(spec.field.name, spec.field.cf_id)
            if fdef is None:
                self.errors.append(f"Not able to sort using field '{name}'.")
                continue
            if fdef.sort_key is None:
                self.errors.append(f"Field '{name}' does not support sorting.")
                continue
            if fdef.id in seen:
                text = f"The sort field '{name}' is referenced multiple times in the JQL sort."
                first = seen[fdef.id]
                if first.lower() != name.lower():
                    text += f" Field '{name}' is an alias for field '{first}'."
                self.errors.append(text)
                continue
            seen[fdef.id] = name
            descending = fdef.default_descending if spec.descending is None else spec.descending
            keys.append((fdef.sort_key, descending))
        return tuple(keys)

    # -- terminals ----------------------------------------------------------------------
    def terminal(self, node: Terminal) -> Callable[[IssueT], bool]:
        fdef = self.field(node.field)
        name = node.field.display
        oper = node.operator
        if oper not in _ALLOWED[fdef.kind]:
            raise JqlError(
                f"The operator '{oper.jira_text}' is not supported by the '{name}' field."
            )
        operand = node.operand
        if oper in _EMPTY_OPS and not isinstance(operand, EmptyOperand):
            raise JqlError(
                f"The operator '{oper.jira_text}' only supports the use of EMPTY or NULL "
                f"(field '{name}')."
            )
        if isinstance(operand, ListOperand) and oper not in (Operator.IN, Operator.NOT_IN):
            raise JqlError(
                f"The operator '{oper.jira_text}' does not support multiple values for the "
                f"field '{name}'."
            )
        if isinstance(operand, EmptyOperand) or oper in _EMPTY_OPS:
            return self.empty_test(fdef, name, oper)
        if fdef.kind is FieldKind.TEXT:
            return self.text(fdef, name, oper, operand)
        if fdef.kind is FieldKind.DATE:
            return self.date(fdef, name, oper, operand)
        if fdef.kind is FieldKind.NUMBER:
            return self.number(fdef, name, oper, operand)
        return self.values(fdef, name, oper, operand)

    def empty_test(
        self, fdef: FieldDef[IssueT], name: str, oper: Operator
    ) -> Callable[[IssueT], bool]:
        if not fdef.emptiable:
            raise JqlError(f"The field '{name}' does not support searching for EMPTY values.")
        if oper in (Operator.GT, Operator.GE, Operator.LT, Operator.LE, Operator.LIKE):
            raise JqlError(
                f"The operator '{oper.jira_text}' does not support searching for EMPTY values "
                f"for the field '{name}'."
            )
        get = fdef.get
        want_empty = oper in (Operator.IS, Operator.EQ, Operator.IN)

        def is_empty(issue: IssueT) -> bool:
            value = get(issue)
            return (
                value is None or value == "" or (isinstance(value, frozenset | tuple) and not value)
            )

        if want_empty:
            return is_empty
        return lambda issue: not is_empty(issue)

    def items(self, operand: Operand) -> tuple[Value | FunctionCall | EmptyOperand, ...]:
        if isinstance(operand, ListOperand):
            return operand.items
        assert not isinstance(operand, ListOperand)
        return (operand,)

    # TEXT ------------------------------------------------------------------------------
    def text(
        self, fdef: FieldDef[IssueT], name: str, oper: Operator, operand: Operand
    ) -> Callable[[IssueT], bool]:
        if not isinstance(operand, Value):
            if isinstance(operand, FunctionCall):
                raise self.function_not_supported(operand, name)
            raise JqlError(f"The operator '{oper.jira_text}' does not support multiple values.")
        try:
            tq = compile_text_query(operand.text)
        except ValueError:
            raise JqlError(
                f"The text query '{operand.text}' for field '{name}' is not allowed to start "
                "with a wildcard."
            ) from None
        get = fdef.get
        if tq is None:
            # nothing searchable: Jira matches nothing for ~ and everything for !~
            return (lambda _i: False) if oper is Operator.LIKE else (lambda _i: True)

        def texts(issue: IssueT) -> tuple[str, ...]:
            value = get(issue)
            if value is None:
                return ()
            if isinstance(value, str):
                return (value,)
            return tuple(v for v in value if isinstance(v, str))  # type: ignore[attr-defined]

        if oper is Operator.LIKE:
            self.scorers.append(lambda issue: tq.score(texts(issue)))
            return lambda issue: tq.matches(texts(issue))
        return lambda issue: not tq.matches(texts(issue))

    # functions -------------------------------------------------------------------------
    def function_not_supported(self, fn: FunctionCall, name: str) -> JqlError:
        return JqlError(f"The function '{fn.name}' is not supported by the '{name}' field.")

    def check_function(self, fn: FunctionCall, fdef: FieldDef[IssueT], name: str) -> str:
        low = fn.name.lower()
        kinds = _FUNCTION_KINDS.get(low)
        if kinds is None:
            raise JqlError(f"Unable to find JQL function '{fn.name}()'.")
        if fdef.kind not in kinds:
            raise self.function_not_supported(fn, name)
        return low

    @staticmethod
    def arity(fn: FunctionCall, lo: int, hi: int) -> None:
        check_arity(fn.name, fn.args, lo, hi)

    def date_function(self, fn: FunctionCall, low: str) -> datetime:
        now = self.resolver.now()
        if low == "now":
            self.arity(fn, 0, 0)
            return now
        period, is_start, default_unit = _DATE_FUNCTIONS[low]
        self.arity(fn, 0, 1)
        tz = self.resolver.time_zone()
        base = start_of(period, now, tz) if is_start else end_of(period, now, tz)
        if not fn.args:
            return base
        arg = fn.args[0].strip()
        parsed = parse_offset(arg + default_unit if arg.lstrip("+-").isdigit() else arg)
        if parsed is None:
            raise JqlError(
                f"Duration for function '{fn.name}' should have the format (+/-)n(yMwdm), "
                "e.g -1M for 1 month earlier."
            )
        amount, unit = parsed
        try:
            if not is_start and unit in ("y", "M") and period == "month":
                # end of a shifted month is the end of that month, not the same day number
                return end_of("month", add_offset(start_of("month", now, tz), amount, unit), tz)
            return add_offset(base, amount, unit)
        except (ValueError, OverflowError):  # beyond the calendar datetime can hold
            raise JqlError(
                f"Duration for function '{fn.name}' should have the format (+/-)n(yMwdm), "
                "e.g -1M for 1 month earlier."
            ) from None

    def value_function(self, fn: FunctionCall, low: str, name: str) -> frozenset[object]:
        if low == "currentuser":
            self.arity(fn, 0, 0)
            viewer = self.resolver.current_user()
            return frozenset() if viewer is None else frozenset({viewer})
        if low == "membersof":
            self.arity(fn, 1, 1)
            members = self.resolver.members_of(fn.args[0])
            if members is None:
                raise JqlError(
                    f"Function 'membersOf' can not generate a list of usernames for group "
                    f"'{fn.args[0]}'; the group does not exist."
                )
            return members
        self.arity(fn, 0, 0)
        return self.resolver.sprints(low[: -len("sprints")])

    # VALUE / USER / SPRINT / KEY -------------------------------------------------------
    def values(
        self, fdef: FieldDef[IssueT], name: str, oper: Operator, operand: Operand
    ) -> Callable[[IssueT], bool]:
        wanted: set[object] = set()
        with_empty = False
        for item in self.items(operand):
            if isinstance(item, EmptyOperand):
                with_empty = True
            elif isinstance(item, FunctionCall):
                extra = fdef.functions.get(item.name.lower())
                if extra is not None:
                    wanted |= extra(item.name, item.args)
                    continue
                low = self.check_function(item, fdef, name)
                wanted |= self.value_function(item, low, name)
            else:
                try:
                    wanted |= self.resolve(fdef, name, item)
                except JqlError as exc:
                    # Jira's query factories skip a value they cannot resolve: without
                    # strict validation ``key in (A-1, A-404)`` still finds A-1. A negated
                    # list with such a value matches nothing, as before.
                    if oper not in (Operator.EQ, Operator.IN):
                        raise
                    self.errors.extend(exc.error_messages)
        get = fdef.get
        if oper in _RELATIONAL:
            return self.key_relation(fdef, oper, wanted)
        targets = frozenset(wanted)
        positive = oper in (Operator.EQ, Operator.IN)
        if fdef.multi:

            def multi_pred(issue: IssueT) -> bool:
                value = get(issue)
                if not value:
                    return positive and with_empty
                hit = not targets.isdisjoint(value)  # type: ignore[arg-type]
                return hit if positive else not hit

            return multi_pred
        if positive:
            if with_empty:
                return lambda issue: (v := get(issue)) is None or v in targets
            return lambda issue: get(issue) in targets
        return lambda issue: (v := get(issue)) is not None and v not in targets

    def resolve(self, fdef: FieldDef[IssueT], name: str, value: Value) -> frozenset[object]:
        if fdef.resolve is None:
            return frozenset({value.text})
        found = fdef.resolve(value.text, name)
        if not found:
            if not value.quoted and value.text.lstrip("-").isdigit():
                raise JqlError(
                    f"A value with ID '{value.text}' does not exist for the field '{name}'."
                )
            raise JqlError(f"The value '{value.text}' does not exist for the field '{name}'.")
        return found

    def key_relation(
        self, fdef: FieldDef[IssueT], oper: Operator, wanted: set[object]
    ) -> Callable[[IssueT], bool]:
        compare = _COMPARE[oper]
        bounds = [w for w in wanted if isinstance(w, tuple) and len(w) == 2]
        get = fdef.get

        def pred(issue: IssueT) -> bool:
            value = get(issue)
            if not isinstance(value, tuple):
                return False
            return any(value[0] == b[0] and compare(value[1], b[1]) for b in bounds)

        return pred

    # DATE ------------------------------------------------------------------------------
    def date(
        self, fdef: FieldDef[IssueT], name: str, oper: Operator, operand: Operand
    ) -> Callable[[IssueT], bool]:
        bounds: list[DateBound] = []
        with_empty = False
        now, tz = self.resolver.now(), self.resolver.time_zone()
        for item in self.items(operand):
            if isinstance(item, EmptyOperand):
                with_empty = True
            elif isinstance(item, FunctionCall):
                low = self.check_function(item, fdef, name)
                bounds.append(DateBound(self.date_function(item, low)))
            else:
                bound = parse_date_literal(item.text, now=now, tz=tz)
                if bound is None:
                    raise JqlError(
                        f"Date value '{item.text}' for field '{name}' is invalid. {_DATE_FORMATS}"
                    )
                bounds.append(bound)
        get = fdef.get
        if oper in _RELATIONAL:
            compare, at = _COMPARE[oper], bounds[0].start
            return lambda issue: (v := get(issue)) is not None and compare(v, at)

        def equal(value: Any) -> bool:
            for b in bounds:
                if b.day_end is not None:
                    if b.start <= value < b.day_end:
                        return True
                elif value == b.start:
                    return True
            return False

        if oper in (Operator.EQ, Operator.IN):
            return lambda issue: (
                ((v := get(issue)) is None and with_empty) or (v is not None and equal(v))
            )
        return lambda issue: (v := get(issue)) is not None and not equal(v)

    # NUMBER ----------------------------------------------------------------------------
    def number(
        self, fdef: FieldDef[IssueT], name: str, oper: Operator, operand: Operand
    ) -> Callable[[IssueT], bool]:
        nums: list[float] = []
        with_empty = False
        for item in self.items(operand):
            if isinstance(item, EmptyOperand):
                with_empty = True
                continue
            if isinstance(item, FunctionCall):
                raise self.function_not_supported(item, name)
            try:
                nums.append(float(item.text))
            except ValueError:
                raise JqlError(f"The value '{item.text}' for field '{name}' is invalid.") from None
        get = fdef.get
        if oper in _RELATIONAL:
            compare, at = _COMPARE[oper], nums[0]
            return lambda issue: (v := get(issue)) is not None and compare(v, at)
        targets = frozenset(nums)
        if oper in (Operator.EQ, Operator.IN):
            return lambda issue: (
                ((v := get(issue)) is None and with_empty) or (v is not None and v in targets)
            )
        return lambda issue: (v := get(issue)) is not None and v not in targets
