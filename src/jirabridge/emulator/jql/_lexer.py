"""JQL tokenizer.

Hand-written because JQL is small and Jira's error messages name the offending token and its
line/character, which a generic lexer library would make harder to reproduce exactly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from jirabridge.emulator.jql._errors import JqlError, parse_error

__all__ = ["RESERVED_WORDS", "Kind", "Token", "tokenize"]


class Kind(enum.Enum):
    WORD = "word"  # unquoted string
    STRING = "string"  # quoted string
    OP = "op"  # = != < > <= >= ~ !~
    SYM = "sym"  # && & || | ! (text: and / or / not)
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    COMMA = ","
    EOF = "eof"


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str
    line: int
    column: int
    raw: str = ""


# Characters Jira reserves outside quoted strings.
_RESERVED_CHARS = frozenset("{}*/%+$#@?;")
_BREAK_CHARS = frozenset("=!<>(),~\"'&|[]") | _RESERVED_CHARS
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\", " ": " "}
_VALID_ESCAPES = "The valid escape sequences are \\', \\\", \\t, \\n, \\r, \\\\, '\\ ' and \\uXXXX."
_HEX = frozenset("0123456789abcdefABCDEF")
_SINGLE = {
    "(": Kind.LPAREN,
    ")": Kind.RPAREN,
    "[": Kind.LBRACKET,
    "]": Kind.RBRACKET,
    ",": Kind.COMMA,
}

# Words Jira refuses unquoted (from Atlassian's JQL reference "reserved words" list).
RESERVED_WORDS = frozenset(
    [
        "abort",
        "access",
        "add",
        "after",
        "alias",
        "all",
        "alter",
        "and",
        "any",
        "as",
        "asc",
        "audit",
        "avg",
        "before",
        "begin",
        "between",
        "boolean",
        "break",
        "by",
        "byte",
        "catch",
        "cf",
        "char",
        "character",
        "check",
        "checkpoint",
        "collate",
        "collation",
        "column",
        "commit",
        "connect",
        "continue",
        "count",
        "create",
        "current",
        "date",
        "decimal",
        "declare",
        "decrement",
        "default",
        "defaults",
        "define",
        "delete",
        "delimiter",
        "desc",
        "difference",
        "distinct",
        "divide",
        "do",
        "double",
        "drop",
        "else",
        "empty",
        "encoding",
        "end",
        "equals",
        "escape",
        "exclusive",
        "exec",
        "execute",
        "exists",
        "explain",
        "false",
        "fetch",
        "file",
        "field",
        "first",
        "float",
        "for",
        "from",
        "function",
        "go",
        "goto",
        "grant",
        "greater",
        "group",
        "having",
        "identified",
        "if",
        "immediate",
        "in",
        "increment",
        "index",
        "initial",
        "inner",
        "inout",
        "input",
        "insert",
        "int",
        "integer",
        "intersect",
        "intersection",
        "into",
        "is",
        "isempty",
        "isnull",
        "join",
        "last",
        "left",
        "less",
        "like",
        "limit",
        "lock",
        "long",
        "max",
        "min",
        "minus",
        "mode",
        "modify",
        "modulo",
        "more",
        "multiply",
        "next",
        "noaudit",
        "not",
        "notin",
        "nowait",
        "null",
        "number",
        "object",
        "of",
        "on",
        "option",
        "or",
        "order",
        "outer",
        "output",
        "power",
        "previous",
        "prior",
        "privileges",
        "public",
        "raise",
        "raw",
        "remainder",
        "rename",
        "resource",
        "return",
        "returns",
        "revoke",
        "right",
        "row",
        "rowid",
        "rownum",
        "rows",
        "select",
        "session",
        "set",
        "share",
        "size",
        "sqrt",
        "start",
        "strict",
        "string",
        "subtract",
        "sum",
        "synonym",
        "table",
        "then",
        "to",
        "trans",
        "transaction",
        "trigger",
        "true",
        "uid",
        "union",
        "unique",
        "update",
        "user",
        "validate",
        "values",
        "view",
        "when",
        "whenever",
        "where",
        "while",
        "with",
    ]
)


def _illegal(ch: str, line: int, column: int) -> JqlError:
    code = f"{ord(ch):04x}"
    return parse_error(
        f"The character 'U+{code.upper()}' on line {line} at position {column} must be escaped. "
        f"Use the escape '\\u{code}' instead.",
        line,
        column,
    )


def _is_illegal(ch: str) -> bool:
    """Control characters (other than whitespace) and non-characters must be escaped."""
    code = ord(ch)
    if ch in "\t\n\r":
        return False
    return (
        code < 0x20
        or 0x7F <= code <= 0x9F
        or 0xD800 <= code <= 0xDFFF  # a lone surrogate cannot even be written out as UTF-8
        or 0xFDD0 <= code <= 0xFDEF
        or code & 0xFFFE == 0xFFFE
    )


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with one EOF token; raise ``JqlError`` on bad input."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    line, line_start = 1, 0
    # Characters that must be escaped are refused before anything else, so no message below
    # can ever carry one (a lone surrogate would not even encode as UTF-8).
    scan_line, scan_start = 1, 0
    for pos, ch in enumerate(text):
        if ch == "\n":
            scan_line, scan_start = scan_line + 1, pos + 1
        elif _is_illegal(ch):
            raise _illegal(ch, scan_line, pos - scan_start + 1)

    def col(pos: int) -> int:
        return pos - line_start + 1

    def read_escape(pos: int, tline: int) -> tuple[str, int]:
        """Decode the escape starting at ``text[pos] == '\\'``; return (char, next pos)."""
        if pos + 1 >= n:
            raise parse_error(
                f"The escape sequence has not been completed. {_VALID_ESCAPES}", tline, col(pos)
            )
        nxt = text[pos + 1]
        if nxt in _ESCAPES:
            return _ESCAPES[nxt], pos + 2
        if nxt == "u":
            digits = text[pos + 2 : pos + 6]
            if len(digits) == 4 and all(c in _HEX for c in digits):
                decoded = chr(int(digits, 16))
                if not 0xD800 <= ord(decoded) <= 0xDFFF:
                    return decoded, pos + 6
            bad = "\\u"
            for c in digits:
                bad += c
                if c not in _HEX:
                    break
            seq = bad
        else:
            seq = "\\" + nxt
        raise parse_error(
            f"'{seq}' is an illegal JQL escape sequence. {_VALID_ESCAPES}", tline, col(pos)
        )

    while i < n:
        ch = text[i]
        if ch == "\n":
            i += 1
            line, line_start = line + 1, i
            continue
        if _is_illegal(ch):
            raise _illegal(ch, line, col(i))
        if ch.isspace():
            i += 1
            continue
        start_col = col(i)
        if ch in "\"'":
            quote, j = ch, i + 1
            buf: list[str] = []
            sline, scol = line, start_col
            while True:
                if j >= n:
                    shown = "".join(buf).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
                    detail = (
                        f"The quoted string '{shown}' has not been completed."
                        if shown
                        else "The quoted string has not been completed."
                    )
                    raise parse_error(detail, sline, scol)
                c = text[j]
                if c == quote:
                    j += 1
                    break
                if c == "\\":
                    decoded, j = read_escape(j, line)
                    buf.append(decoded)
                    continue
                if c == "\n":
                    line, line_start = line + 1, j + 1
                elif _is_illegal(c):
                    raise _illegal(c, line, col(j))
                buf.append(c)
                j += 1
            tokens.append(Token(Kind.STRING, "".join(buf), sline, scol, text[i:j]))
            i = j
            continue
        if ch in _SINGLE:
            tokens.append(Token(_SINGLE[ch], ch, line, start_col, ch))
            i += 1
            continue
        two = text[i : i + 2]
        if two in ("!=", "<=", ">=", "!~"):
            tokens.append(Token(Kind.OP, two, line, start_col, two))
            i += 2
            continue
        if ch in "=<>~":
            tokens.append(Token(Kind.OP, ch, line, start_col, ch))
            i += 1
            continue
        if two in ("&&", "||"):
            tokens.append(Token(Kind.SYM, "and" if ch == "&" else "or", line, start_col, two))
            i += 2
            continue
        if ch in "&|!":
            word = {"&": "and", "|": "or", "!": "not"}[ch]
            tokens.append(Token(Kind.SYM, word, line, start_col, ch))
            i += 1
            continue
        if ch in _RESERVED_CHARS:
            raise parse_error(
                f"The character '{ch}' is a reserved JQL character. You must enclose it in a "
                f"string or use the escape '\\u{ord(ch):04x}' instead.",
                line,
                start_col,
            )
        # unquoted word
        j = i
        buf = []
        while j < n:
            c = text[j]
            if c.isspace() or c in _BREAK_CHARS:
                break
            if _is_illegal(c):
                raise _illegal(c, line, col(j))
            if c == "\\":
                decoded, j = read_escape(j, line)
                buf.append(decoded)
                continue
            buf.append(c)
            j += 1
        tokens.append(Token(Kind.WORD, "".join(buf), line, start_col, text[i:j]))
        i = j
    tokens.append(Token(Kind.EOF, "", line, col(n)))
    return tokens
