"""Recursive-descent JQL parser: text -> :class:`Query`.

Precedence, strongest first: parentheses, clause, ``NOT``, ``AND``, ``OR`` (Atlassian's
"order of operations for JQL").
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


def parse(text: str) -> Query:
    """Parse JQL ``text``; raise :class:`JqlError` with Jira's wording when it is not valid."""
    return _Parser(tokenize(text)).query()


def _shown(tok: Token) -> str:
    return tok.text if tok.kind in (Kind.WORD, Kind.STRING) else (tok.raw or tok.text)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    # -- token helpers -------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

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

    def error(self, detail: str, tok: Token) -> JqlError:
        return parse_error(detail, tok.line, tok.column)

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
            self.advance()
            return Not(self.not_expr())
        if self.tok.kind is Kind.LPAREN:
            self.advance()
            inner = self.or_expr()
            tok = self.tok
            if tok.kind is Kind.RPAREN:
                self.advance()
                return inner
            if tok.kind is Kind.EOF:
                raise parse_error("Expecting ')' before the end of the query.")
            raise self.error(f"Expecting either 'OR' or 'AND' but got '{_shown(tok)}'.", tok)
        return self.terminal()

    def field(self) -> FieldRef:
        tok = self.tok
        if tok.kind is Kind.CF:
            self.advance()
            return FieldRef(f"cf[{tok.text}]", int(tok.text), tok.line, tok.column)
        if tok.kind is Kind.STRING:
            self.advance()
            return FieldRef(tok.text, None, tok.line, tok.column)
        if tok.kind is Kind.WORD:
            low = tok.text.lower()
            if low in _KEYWORDS:
                raise self.error(
                    f"Expecting a field name but got '{tok.text}'. You must surround "
                    f"'{tok.text}' in quotation marks to use it as a field name.",
                    tok,
                )
            if low in RESERVED_WORDS:
                raise self.error(self._reserved(tok), tok)
            self.advance()
            return FieldRef(tok.text, None, tok.line, tok.column)
        if tok.kind is Kind.EOF:
            raise parse_error("Expecting a field name before the end of the query.")
        raise self.error(f"Expecting a field name but got '{_shown(tok)}'.", tok)

    @staticmethod
    def _reserved(tok: Token) -> str:
        return (
            f"'{tok.text}' is a reserved JQL word. You must surround it in quotation marks "
            "to use it in a query."
        )

    def operator(self) -> Operator:
        tok = self.tok
        if tok.kind is Kind.OP:
            self.advance()
            return _SIMPLE_OPS[tok.text]
        if self.is_word("in"):
            self.advance()
            return Operator.IN
        if self.is_word("not") and self.is_word("in", self.tokens[self.pos + 1]):
            self.pos += 2
            return Operator.NOT_IN
        if self.is_word("is"):
            self.advance()
            if self.is_word("not"):
                self.advance()
                return Operator.IS_NOT
            return Operator.IS
        if tok.kind is Kind.EOF:
            raise parse_error(f"Expecting operator before the end of the query. {_OPERATORS_TEXT}")
        raise self.error(f"Expecting operator but got '{_shown(tok)}'. {_OPERATORS_TEXT}", tok)

    def terminal(self) -> Terminal:
        field = self.field()
        op = self.operator()
        operand = self.operand(allow_list=True)
        if op in (Operator.IS, Operator.IS_NOT) and not isinstance(operand, EmptyOperand):
            raise JqlError(
                f"The operator '{op.jira_text}' only supports the use of EMPTY or NULL "
                f"(field '{field.display}')."
            )
        return Terminal(field, op, operand)

    def operand(self, *, allow_list: bool) -> Operand:
        tok = self.tok
        if tok.kind is Kind.STRING:
            self.advance()
            return Value(tok.text, quoted=True)
        if tok.kind is Kind.WORD:
            low = tok.text.lower()
            if low in ("empty", "null"):
                self.advance()
                return EmptyOperand()
            if self.tokens[self.pos + 1].kind is Kind.LPAREN:
                return self.function()
            if low in _KEYWORDS:
                raise self.error(
                    f"Expecting either a value, list or function but got '{tok.text}'. You must "
                    f"surround '{tok.text}' in quotation marks to use it as a value.",
                    tok,
                )
            if low in RESERVED_WORDS:
                raise self.error(self._reserved(tok), tok)
            self.advance()
            return Value(tok.text)
        if tok.kind is Kind.LPAREN and allow_list:
            self.advance()
            items: list[Value | FunctionCall | EmptyOperand] = []
            while True:
                item = self.operand(allow_list=False)
                assert not isinstance(item, ListOperand)
                items.append(item)
                sep = self.tok
                if sep.kind is Kind.COMMA:
                    self.advance()
                    continue
                if sep.kind is Kind.RPAREN:
                    self.advance()
                    return ListOperand(tuple(items))
                if sep.kind is Kind.EOF:
                    raise parse_error("Expecting ')' before the end of the query.")
                raise self.error(f"Expecting ')' but got '{_shown(sep)}'.", sep)
        if tok.kind is Kind.EOF:
            raise parse_error(
                "Expecting either a value, list or function before the end of the query."
            )
        raise self.error(
            f"Expecting either a value, list or function but got '{_shown(tok)}'.", tok
        )

    def function(self) -> FunctionCall:
        name_tok = self.advance()
        self.advance()  # '('
        args: list[str] = []
        if self.tok.kind is Kind.RPAREN:
            self.advance()
            return FunctionCall(name_tok.text, ())
        while True:
            tok = self.tok
            if tok.kind in (Kind.WORD, Kind.STRING):
                self.advance()
                args.append(tok.text)
            elif tok.kind is Kind.EOF:
                raise parse_error("Expecting ')' before the end of the query.")
            else:
                raise self.error(f"Expecting a function argument but got '{_shown(tok)}'.", tok)
            sep = self.tok
            if sep.kind is Kind.COMMA:
                self.advance()
                continue
            if sep.kind is Kind.RPAREN:
                self.advance()
                return FunctionCall(name_tok.text, tuple(args))
            if sep.kind is Kind.EOF:
                raise parse_error("Expecting ')' before the end of the query.")
            raise self.error(f"Expecting ')' but got '{_shown(sep)}'.", sep)

    def order_by(self) -> tuple[SortSpec, ...]:
        self.advance()  # ORDER
        tok = self.tok
        if not self.is_word("by"):
            if tok.kind is Kind.EOF:
                raise parse_error("Expecting 'BY' before the end of the query.")
            raise self.error(f"Expecting 'BY' but got '{_shown(tok)}'.", tok)
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
            raise self.error(f"Expecting either 'ASC' or 'DESC' but got '{_shown(tok)}'.", tok)
