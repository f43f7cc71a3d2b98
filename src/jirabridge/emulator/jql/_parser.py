"""Recursive-descent JQL parser: text -> :class:`Query`.

Precedence, strongest first: parentheses, clause, ``NOT``, ``AND``, ``OR`` (Atlassian's
"order of operations for JQL"). Error wording and positions follow Jira's parser as its
functional tests pin them (``TestJqlParsing``): every syntax error is
``Error in the JQL Query: <detail> (line L, character C)``, without a position when the
query ended too early.
"""

from __future__ import annotations

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
from jirabridge.emulator.jql._errors import JqlError, parse_error
from jirabridge.emulator.jql._lexer import RESERVED_WORDS, Kind, Token, tokenize

__all__ = ["parse"]

# Words the grammar itself uses: unquoted, they cannot be a value or a field name.
_KEYWORDS = frozenset(
    [
        "and",
        "or",
        "not",
        "empty",
        "null",
        "in",
        "is",
        "order",
        "by",
        "asc",
        "desc",
        "cf",
        "was",
        "changed",
        "on",
        "after",
        "before",
        "during",
        "from",
        "to",
    ]
)
_HISTORY_OPERATORS = frozenset({"was", "changed"})
_OPERATORS_TEXT = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
    "'IS' and 'IS NOT'."
)
_SIMPLE_OPS = {
    "=": Operator.EQ,
    "!=": Operator.NE,
    ">": Operator.GT,
    ">=": Operator.GE,
    "<": Operator.LT,
    "<=": Operator.LE,
    "~": Operator.LIKE,
    "!~": Operator.NOT_LIKE,
}
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
# Parentheses, NOT and lists nest by recursion: a hostile query must not exhaust the stack.
MAX_DEPTH = 100
_NUMBER_RANGE = "Numbers must be between -9,223,372,036,854,775,808 and 9,223,372,036,854,775,807."


def parse(text: str) -> Query:
    """Parse JQL ``text``; raise :class:`JqlError` with Jira's wording when it is not valid."""
    return _Parser(tokenize(text)).query()


def _shown(tok: Token) -> str:
    return tok.text if tok.kind in (Kind.WORD, Kind.STRING) else (tok.raw or tok.text)


def _is_number(text: str) -> bool:
    body = text[1:] if text.startswith("-") else text
    return body.isdigit() and body.isascii()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def nest(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"The query nests parentheses, lists or NOT more than {MAX_DEPTH} levels deep.",
                tok,
            )

    # -- token helpers -------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind is not Kind.EOF:
            self.pos += 1
        return tok

    def is_word(self, word: str, tok: Token | None = None) -> bool:
        tok = tok or self.tok
        if tok.kind is Kind.WORD:
            return tok.text.lower() == word
        return tok.kind is Kind.SYM and tok.text == word

    @staticmethod
    def error(detail: str, tok: Token) -> JqlError:
        return parse_error(detail, tok.line, tok.column)

    def expecting(self, what: str, tok: Token, *, at_end: str = "before") -> JqlError:
        """``Expecting X but got 'y'.`` or ``Expecting X before/at the end of the query.``"""
        if tok.kind is Kind.EOF:
            return parse_error(f"Expecting {what} {at_end} the end of the query.")
        return self.error(f"Expecting {what} but got '{_shown(tok)}'.", tok)

    def check_number(self, tok: Token) -> None:
        in_range = not _is_number(tok.text) or _LONG_MIN <= int(tok.text) <= _LONG_MAX
        if tok.kind is Kind.WORD and not in_range:
            raise self.error(f"'{tok.text}' is not a valid number. {_NUMBER_RANGE}", tok)

    # -- grammar -------------------------------------------------------------------------
    def query(self) -> Query:
        where: Clause | None = None
        if self.tok.kind is not Kind.EOF and not self.is_word("order"):
            where = self.or_expr()
        order_by: tuple[SortSpec, ...] | None = None
        if self.is_word("order"):
            order_by = self.order_by()
        tok = self.tok
        if tok.kind is not Kind.EOF:
            raise self.error(f"Expecting either 'OR' or 'AND' but got '{_shown(tok)}'.", tok)
        return Query(where, order_by)

    def or_expr(self) -> Clause:
        children = [self.and_expr()]
        while self.is_word("or"):
            self.advance()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self) -> Clause:
        children = [self.not_expr()]
        while self.is_word("and"):
            self.advance()
            children.append(self.not_expr())
        return children[0] if len(children) == 1 else And(tuple(children))

    def not_expr(self) -> Clause:
        if self.is_word("not"):
            self.nest(self.advance())
            inner_not = Not(self.not_expr())
            self.depth -= 1
            return inner_not
        if self.tok.kind is Kind.LPAREN:
            self.nest(self.advance())
            inner = self.or_expr()
            tok = self.tok
            if tok.kind is Kind.RPAREN:
                self.advance()
                self.depth -= 1
                return inner
            if tok.kind is Kind.EOF:
                raise parse_error("Expecting ')' before the end of the query.")
            raise self.error(f"Expecting either 'OR' or 'AND' but got '{_shown(tok)}'.", tok)
        return self.terminal()

    def field(self) -> FieldRef:
        tok = self.tok
        if tok.kind is Kind.WORD and tok.text.lower() == "cf":
            return self.custom_field()
        if tok.kind is Kind.STRING:
            if not tok.text:
                raise self.error("A field name cannot be empty.", tok)
            self.advance()
            return FieldRef(tok.text, None, tok.line, tok.column)
        if tok.kind is Kind.WORD:
            low = tok.text.lower()
            if low in _KEYWORDS:
                raise self.error(self._surround(tok, "a field name", "as a field name"), tok)
            if low in RESERVED_WORDS:
                raise self.error(self._reserved(tok), tok)
            if not tok.text:
                raise self.error("A field name cannot be empty.", tok)
            self.advance()
            return FieldRef(tok.text, None, tok.line, tok.column)
        if tok.kind is Kind.EOF:
            raise parse_error("Expecting a field name at the end of the query.")
        if tok.kind is Kind.LBRACKET:
            raise self.error("Expecting a field name but got '['. Did you mean 'cf['?", tok)
        raise self.error(self._surround(tok, "a field name", "as a field name"), tok)

    def custom_field(self) -> FieldRef:
        cf = self.advance()
        bracket = self.advance()
        if bracket.kind is not Kind.LBRACKET:
            raise self.expecting("'['", bracket)
        tok = self.advance()
        what = "a custom field id (a positive number)"
        if tok.kind is not Kind.WORD or not tok.text.isdigit() or not tok.text.isascii():
            raise self.expecting(what, tok)
        self.check_number(tok)
        close = self.advance()
        if close.kind is not Kind.RBRACKET:
            raise self.expecting("']'", close)
        return FieldRef(f"cf[{int(tok.text)}]", int(tok.text), cf.line, cf.column)

    @staticmethod
    def _surround(tok: Token, what: str, use: str) -> str:
        shown = _shown(tok)
        return (
            f"Expecting {what} but got '{shown}'. You must surround '{shown}' in quotation "
            f"marks to use it {use}."
        )

    @staticmethod
    def _reserved(tok: Token) -> str:
        return (
            f"'{tok.text}' is a reserved JQL word. You must surround it in quotation marks "
            "to use it in a query."
        )

    def operator(self, field: FieldRef) -> Operator:
        tok = self.tok
        if tok.kind is Kind.OP:
            self.advance()
            return _SIMPLE_OPS[tok.text]
        if self.is_word("in"):
            self.advance()
            return Operator.IN
        if self.is_word("not"):
            nxt = self.peek()
            if self.is_word("in", nxt):
                self.pos += 2
                return Operator.NOT_IN
            raise self.expecting("'IN'", nxt)
        if self.is_word("is"):
            self.advance()
            if self.is_word("not") and self.tok.kind is Kind.WORD:
                self.advance()
                return Operator.IS_NOT
            if self.tok.kind is Kind.SYM and self.tok.text == "not":
                raise self.error("Expecting 'NOT' but got '!'.", self.tok)
            return Operator.IS
        if tok.kind is Kind.WORD and tok.text.lower() in _HISTORY_OPERATORS:
            raise self.error(
                f"The operator '{tok.text.upper()}' is not supported by the jirabridge "
                f"emulator (field '{field.display}').",
                tok,
            )
        if tok.kind is Kind.EOF:
            raise parse_error(f"Expecting operator before the end of the query. {_OPERATORS_TEXT}")
        raise self.error(f"Expecting operator but got '{_shown(tok)}'. {_OPERATORS_TEXT}", tok)

    def terminal(self) -> Terminal:
        field = self.field()
        op = self.operator(field)
        operand = self.operand()
        return Terminal(field, op, operand)

    def operand(self) -> Operand:
        tok = self.tok
        if tok.kind is Kind.STRING:
            if self.peek().kind is Kind.LPAREN:
                return self.function()
            self.advance()
            return Value(tok.text, quoted=True)
        if tok.kind is Kind.WORD:
            low = tok.text.lower()
            if self.peek().kind is Kind.LPAREN and low not in ("empty", "null"):
                return self.function()
            if low in ("empty", "null"):
                self.advance()
                return EmptyOperand()
            if low in _KEYWORDS:
                raise self.error(
                    self._surround(tok, "either a value, list or function", "as a value"), tok
                )
            if low in RESERVED_WORDS:
                raise self.error(self._reserved(tok), tok)
            self.check_number(tok)
            self.advance()
            return Value(tok.text)
        if tok.kind is Kind.LPAREN:
            self.nest(self.advance())
            items: list[Value | FunctionCall | EmptyOperand] = []
            while True:
                item = self.operand()
                if isinstance(item, ListOperand):
                    items.extend(item.items)  # nested lists flatten, as Jira reads them
                else:
                    items.append(item)
                sep = self.tok
                if sep.kind is Kind.COMMA:
                    self.advance()
                    continue
                if sep.kind is Kind.RPAREN:
                    self.advance()
                    self.depth -= 1
                    return ListOperand(tuple(items))
                raise self.expecting("')'", sep)
        if tok.kind is Kind.EOF:
            raise parse_error(
                "Expecting either a value, list or function before the end of the query."
            )
        raise self.error(self._surround(tok, "either a value, list or function", "as a value"), tok)

    def function(self) -> FunctionCall:
        name_tok = self.advance()
        if not name_tok.text:
            raise self.error("A function name cannot be empty.", name_tok)
        self.advance()  # '('
        args: list[str] = []
        if self.tok.kind is Kind.RPAREN:
            self.advance()
            return FunctionCall(name_tok.text, ())
        first = True
        while True:
            tok = self.tok
            if tok.kind in (Kind.WORD, Kind.STRING):
                self.advance()
                args.append(tok.text)
            elif tok.kind is Kind.EOF:
                if first:
                    raise parse_error("Expecting ')' before the end of the query.")
                raise parse_error("Expecting a function argument at the end of the query.")
            elif tok.kind is Kind.RPAREN and not first:
                raise self.error("Function argument must be specified.", tok)
            elif first and tok.kind in (Kind.COMMA, Kind.RPAREN):
                raise self.expecting("')'", tok)
            else:
                raise self.error(self._surround(tok, "a function argument", "as an argument"), tok)
            first = False
            sep = self.tok
            if sep.kind is Kind.COMMA:
                self.advance()
                continue
            if sep.kind is Kind.RPAREN:
                self.advance()
                return FunctionCall(name_tok.text, tuple(args))
            if sep.kind is Kind.EOF:
                raise parse_error("Expecting ')' before the end of the query.")
            raise self.error(f"Expecting ')' or ',' but got '{_shown(sep)}'.", sep)

    def order_by(self) -> tuple[SortSpec, ...]:
        self.advance()  # ORDER
        if not self.is_word("by"):
            raise self.expecting("'by'", self.tok)
        self.advance()
        specs: list[SortSpec] = []
        while True:
            field = self.field()
            descending: bool | None = None
            if self.is_word("asc"):
                self.advance()
                descending = False
            elif self.is_word("desc"):
                self.advance()
                descending = True
            specs.append(SortSpec(field, descending))
            tok = self.tok
            if tok.kind is Kind.COMMA:
                self.advance()
                continue
            if tok.kind is Kind.EOF:
                return tuple(specs)
            if descending is None:
                raise self.error(f"Expecting either 'ASC' or 'DESC' but got '{_shown(tok)}'.", tok)
            raise self.error(f"Expecting ',' but got '{_shown(tok)}'.", tok)
