"""Jira wiki markup -> ADF.

A hand-written tokenizer + recursive block/inline parser. It reproduces the document shapes
Atlassian's own transformer (``@atlaskit/editor-wikimarkup-transformer``) produces, because
that is what Jira Cloud stores when it converts wiki markup itself; the conformance suite
(``bench/markup_conformance.py``) compares the two on a corpus. No parser library fits: the
notation is context sensitive (a ``*`` opens bold only when the next valid closing ``*`` is
on the same line and not followed by a letter), which grammar tools express poorly.

Deliberate differences from the transformer (each keeps our ADF valid against the schema):
an image without a file name (``!|x!``) stays text instead of becoming a media node with an
empty id; an ``{adf}`` macro embeds only known node types. With a :class:`MarkupContext`,
mentions, links and attachments are translated (the transformer has no such mapping).

Linear time: every scan moves forward; the two places where the reference implementation
rescans (looking for a closing symbol, or for a closing macro tag) are memoised per input,
and nesting deeper than :data:`MAX_DEPTH` is kept as plain text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from jirabridge.markup._colours import normalize_hex_colour, panel_type_for
from jirabridge.markup._context import MarkupContext, ReportKind
from jirabridge.markup._lists import ListBuilder, list_sanitize, list_type
from jirabridge.markup._nodes import (
    BLOCK_TYPES,
    INLINE_TYPES,
    InvalidContentError,
    Mark,
    Node,
    add_mark,
    has_any_mark,
    make,
    mark,
    text_node,
)
from jirabridge.markup._normalize import consecutive_media_groups, newline_required, normalize
from jirabridge.markup._notation import (
    CODE_LANGUAGES,
    EM_DASH,
    EMOJI_ITEMS,
    EN_DASH,
    ESCAPABLE,
    WIKI_EMOJI,
)
from jirabridge.markup._urls import (
    BAD_END,
    Link,
    is_bare_link,
    is_safe_url,
    normalise_url,
)
from jirabridge.markup._urls import (
    LINK_TEXT as LINK_URL,
)

__all__ = ["MAX_DEPTH", "is_bare_link", "parse_wiki"]

MAX_DEPTH = 24
MAX_LIST_DEPTH = 20

# token types
ADF_MACRO = "ADF_MACRO"
ANCHOR_MACRO = "ANCHOR_MACRO"
CODE_MACRO = "CODE_MACRO"
QUOTE_MACRO = "QUOTE_MACRO"
NOFORMAT_MACRO = "NOFORMAT_MACRO"
PANEL_MACRO = "PANEL_MACRO"
COLOR_MACRO = "COLOR_MACRO"
LOREM_MACRO = "LOREM_MACRO"
QUOTE = "QUOTE"
LINK_FORMAT = "LINK_FORMAT"
LINK_TEXT = "LINK_TEXT"
MEDIA = "MEDIA"
HEADING = "HEADING"
LIST = "LIST"
TABLE = "TABLE"
RULER = "RULER"
HARD_BREAK = "HARD_BREAK"
DOUBLE_DASH = "DOUBLE_DASH"
TRIPLE_DASH = "TRIPLE_DASH"
QUADRUPLE_DASH = "QUADRUPLE_DASH"
STRONG = "STRONG"
MONOSPACE = "MONOSPACE"
SUPERSCRIPT = "SUPERSCRIPT"
SUBSCRIPT = "SUBSCRIPT"
EMPHASIS = "EMPHASIS"
CITATION = "CITATION"
DELETED = "DELETED"
INSERTED = "INSERTED"
EMOJI = "EMOJI"
FORCE_LINE_BREAK = "FORCE_LINE_BREAK"
ISSUE_KEY = "ISSUE_KEY"

_MACROS = (
    ("adf", ADF_MACRO, False),
    ("anchor", ANCHOR_MACRO, False),
    ("code", CODE_MACRO, False),
    ("quote", QUOTE_MACRO, False),
    ("noformat", NOFORMAT_MACRO, False),
    ("panel", PANEL_MACRO, False),
    ("color", COLOR_MACRO, True),  # the only case-sensitive one
    ("loremipsum", LOREM_MACRO, False),
)
_BRACED = (
    ("{-}", DELETED),
    ("{+}", INSERTED),
    ("{*}", STRONG),
    ("{^}", SUPERSCRIPT),
    ("{~}", SUBSCRIPT),
    ("{_}", EMPHASIS),
    ("{{{}", MONOSPACE),
    ("{??}", CITATION),
    ("{{", MONOSPACE),
)
_SINGLE = {
    "+": INSERTED,
    "*": STRONG,
    "^": SUPERSCRIPT,
    "~": SUBSCRIPT,
    "_": EMPHASIS,
    "!": MEDIA,
    "[": LINK_FORMAT,
    "\r": HARD_BREAK,
    "\n": HARD_BREAK,
}
_URL_WORDS = {
    "h": "http",
    "f": "ftp",
    "j": "jamfselfservice",
    "i": "irc",
    "m": "mailto",
}
# Characters that can start a keyword; runs of anything else are copied in one step.
_LIST_PLAIN = re.compile(r"[^\r\n{]+")
_TABLE_PLAIN = re.compile(r"[^\r\n|:;(!{\[]+")
_PLAIN_RUN = re.compile(r"[^\[hfjim\\\r\n!\-{+*^~_?:(;]+")

_ALL_INLINE_TOKENS = frozenset(
    {
        ADF_MACRO,
        ANCHOR_MACRO,
        CODE_MACRO,
        QUOTE_MACRO,
        NOFORMAT_MACRO,
        PANEL_MACRO,
        COLOR_MACRO,
        LOREM_MACRO,
        QUOTE,
        ISSUE_KEY,
        LINK_FORMAT,
        LINK_TEXT,
        MEDIA,
        HEADING,
        LIST,
        TABLE,
        RULER,
        HARD_BREAK,
        DOUBLE_DASH,
        TRIPLE_DASH,
        QUADRUPLE_DASH,
        STRONG,
        MONOSPACE,
        SUPERSCRIPT,
        SUBSCRIPT,
        EMPHASIS,
        CITATION,
        DELETED,
        INSERTED,
        EMOJI,
        FORCE_LINE_BREAK,
    }
)
_DASHES = frozenset({DOUBLE_DASH, TRIPLE_DASH, QUADRUPLE_DASH})
_FORMAT_IGNORE = _DASHES | {ISSUE_KEY, TABLE}

_LEADING = (
    (re.compile(r"bq\."), QUOTE),
    (re.compile(r"h[1-6]\."), HEADING),
    (re.compile(r"-{4,5}(?:\s|\Z)"), RULER),
    (re.compile(r"-{3}\s"), TRIPLE_DASH),
    (re.compile(r"-{2}\s"), DOUBLE_DASH),
    (re.compile(r"(?:[*#]{1," + str(MAX_LIST_DEPTH) + r"}|-) "), LIST),
    (re.compile(r"\|{1,2}"), TABLE),
)

_ALNUM_OR_NON_ASCII = re.compile(r"[a-zA-Z0-9]|[^\x00-\x7f]")
_LINE = r"[^\n\r\u2028\u2029]*"
_HEADING = re.compile(r"h([1-6])\.(" + _LINE + ")")
_BLOCKQUOTE = re.compile(r"bq\.(" + _LINE + ")")
_RULER = re.compile(r"-{4,5}(?:\s|\Z)")
_MULTI_DASH = re.compile(r"-{4,}(?:\s|\Z)")
_WHITESPACE = re.compile(r"\s")
_LINK_FORMAT = re.compile(r"\[([^\[\]\n]+)]")
_LIST_ITEM = re.compile(r" *([*\-#]{1," + str(MAX_LIST_DEPTH) + r"}) ")
_EMPTY_LINE = re.compile(r"[ \t]*\r?\n")
_RULER_SYMBOLS = re.compile(r"-{4,5}")
_CELL = re.compile(r"([ \t]*)(\|+)([ \t]*)")
_WRAPPING_QUOTES = re.compile(r'^"(.+)"$', re.DOTALL)
_JS_INT = re.compile(r"\s*([+-]?\d+)")

_ESCAPABLE = ESCAPABLE

Token = tuple[int, str | None, list[Node] | None]
"""(length consumed, text to buffer | None, nodes | None)."""


def _text_token(s: str, pos: int, length: int = 1) -> Token:
    return (length, s[pos : pos + length], None)


def _js_int(value: str) -> int | None:
    m = _JS_INT.match(value)
    return int(m[1]) if m else None


def _parse_attrs(raw: str | None, sep: str = "|") -> dict[str, str]:
    out: dict[str, str] = {}
    if not raw:
        return out
    for part in raw.split(sep):
        key, _, value = part.partition("=")
        if not out.get(key):
            out[key] = value
    return out


class _Level:
    """Memo for one input string: avoids rescanning the same text (keeps parsing linear)."""

    __slots__ = ("find_cache", "formatter_fail", "pipe_cache", "s", "space_cache")

    def __init__(self, s: str) -> None:
        self.s = s
        self.find_cache: dict[str, tuple[int, int]] = {}
        self.formatter_fail: dict[tuple[str, str], tuple[int, int]] = {}
        self.pipe_cache: tuple[int, int] = (0, -1)
        self.space_cache: tuple[int, int] = (0, -1)

    def next_space(self, start: int) -> int:
        """Index of the first whitespace at or after ``start`` (``len(s)`` when none).

        Memoised like :meth:`find`, so the caller's scans over one run add up to linear.
        """
        searched_from, found = self.space_cache
        if found != -1 and searched_from <= start <= found:
            return found
        m = _WHITESPACE.search(self.s, start)
        found = m.start() if m else len(self.s)
        self.space_cache = (start, found)
        return found

    def find(self, sub: str, start: int) -> int:
        cached = self.find_cache.get(sub)
        if cached is not None:
            searched_from, found = cached
            if searched_from <= start and (found == -1 or start <= found):
                return found
        found = self.s.find(sub, start)
        self.find_cache[sub] = (start, found)
        return found


class _Parser:
    def __init__(self, ctx: MarkupContext | None) -> None:
        self.ctx = ctx
        self.depth = 0
        self.probe = 0
        self.levels: list[_Level] = []
        self.handlers: dict[str, Callable[[str, int], Token]] = {
            DOUBLE_DASH: self._double_dash,
            TRIPLE_DASH: self._triple_dash,
            QUADRUPLE_DASH: self._quadruple_dash,
            RULER: self._ruler,
            STRONG: self._strong,
            MONOSPACE: self._monospace,
            SUPERSCRIPT: self._superscript,
            SUBSCRIPT: self._subscript,
            EMPHASIS: self._emphasis,
            CITATION: self._citation,
            DELETED: self._deleted,
            INSERTED: self._inserted,
            HARD_BREAK: self._hardbreak,
            LINK_FORMAT: self._link_format,
            LINK_TEXT: self._link_text,
            HEADING: self._heading,
            MEDIA: self._media,
            LIST: self._list,
            QUOTE: self._blockquote,
            TABLE: self._table,
            EMOJI: self._emoji,
            ADF_MACRO: self._adf_macro,
            ANCHOR_MACRO: self._anchor_macro,
            CODE_MACRO: self._code_macro,
            QUOTE_MACRO: self._quote_macro,
            NOFORMAT_MACRO: self._noformat_macro,
            PANEL_MACRO: self._panel_macro,
            COLOR_MACRO: self._color_macro,
            FORCE_LINE_BREAK: self._force_line_break,
        }

    # --- reporting -------------------------------------------------------------------------

    def report(self, kind: ReportKind, detail: str) -> None:
        if self.ctx is not None and not self.probe:
            self.ctx.report.add(kind, detail)

    # --- keywords --------------------------------------------------------------------------

    @staticmethod
    def macro_keyword(s: str, i: int) -> str | None:
        if i >= len(s) or s[i] != "{":
            return None
        head = s[i + 1 : i + 11]
        lower = head.lower()
        for name, ttype, case_sensitive in _MACROS:
            if (head if case_sensitive else lower).startswith(name):
                return ttype
        return None

    @staticmethod
    def other_keyword(s: str, i: int) -> str | None:
        c = s[i]
        if c in _SINGLE:
            return _SINGLE[c]
        if c in _URL_WORDS:
            return LINK_TEXT if s.startswith(_URL_WORDS[c], i) else None
        if c == "\\":
            return FORCE_LINE_BREAK if s.startswith("\\\\", i) else None
        if c == "-":
            if s.startswith("----", i):
                return QUADRUPLE_DASH
            if s.startswith("---", i):
                return TRIPLE_DASH
            if s.startswith("--", i):
                return DOUBLE_DASH
            return DELETED
        if c == "{":
            for word, ttype in _BRACED:
                if s.startswith(word, i):
                    return ttype
            return None
        if c == "?":
            return CITATION if s.startswith("??", i) else None
        if c in ":(;":
            return EMOJI
        return None

    @staticmethod
    def leading_keyword(s: str, i: int) -> str | None:
        c = s[i]
        if c not in "bh-*#|":
            return None
        for pattern, ttype in _LEADING:
            if pattern.match(s, i):
                return ttype
        return None

    # --- the inline/paragraph engine -------------------------------------------------------

    def parse_token(self, s: str, i: int, ttype: str) -> Token:
        handler = self.handlers.get(ttype)
        if handler is None:
            return _text_token(s, i)
        try:
            token = handler(s, i)
        except InvalidContentError:
            return _text_token(s, i)
        if token[0] <= 0:
            return _text_token(s, i)
        return token

    def parse_string(
        self, s: str, ignore: frozenset[str] = frozenset(), leading_space: bool = False
    ) -> list[Node]:
        if self.depth >= MAX_DEPTH:
            self.report(ReportKind.LOSSY, "nesting too deep: kept as plain text")
            return [text_node(s)] if s else []
        self.depth += 1
        self.levels.append(_Level(s))
        try:
            return self._parse_string(s, ignore, leading_space)
        finally:
            self.levels.pop()
            self.depth -= 1

    def _parse_string(self, s: str, ignore: frozenset[str], leading_space: bool) -> list[Node]:
        newline, buffer_, token_, escape_ = 0, 1, 2, 3
        n = len(s)
        i = 0
        state = newline
        buf: list[str] = []
        new_lines: list[Node] = []
        output: list[Node] = []
        inline: list[Node] = []
        ttype = ""
        while i < n:
            if state == newline:
                c = s[i]
                if c == " " or c == "\t":
                    i += 1
                    if leading_space:
                        buf.append(c)
                    continue
                kw = (
                    self.leading_keyword(s, i)
                    or self.macro_keyword(s, i)
                    or self.other_keyword(s, i)
                )
                if kw is not None and kw not in ignore:
                    ttype = kw
                    state = token_
                else:
                    state = buffer_
                continue
            if state == buffer_:
                if buf and buf[-1].endswith("{"):
                    kw = self.other_keyword(s, i)
                else:
                    kw = self.macro_keyword(s, i) or self.other_keyword(s, i)
                if kw is not None and kw not in ignore:
                    ttype = kw
                    state = token_
                    continue
                if s[i] == "\\":
                    state = escape_
                    continue
                m = _PLAIN_RUN.match(s, i + 1)
                end = m.end() if m else i + 1
                buf.append(s[i:end])
                i = end
                continue
            if state == token_:
                length, text, nodes = self.parse_token(s, i, ttype)
                if text is not None:
                    buf.append(text)
                elif nodes is not None:
                    is_break = ttype == HARD_BREAK
                    if len(new_lines) >= 2 and (not is_break or buf):
                        consecutive_media = consecutive_media_groups(inline, nodes)
                        output.extend(normalize(inline))
                        inline = list(new_lines) if consecutive_media else []
                        new_lines = []
                    if not inline:
                        new_lines = []
                    if new_lines and newline_required(inline, buf, nodes):
                        inline.extend(new_lines)
                        new_lines = []
                    joined = "".join(buf)
                    if joined:
                        inline.append(text_node(joined))
                    if is_break:
                        new_lines.extend(nodes)
                    else:
                        inline.extend(nodes)
                        if nodes:
                            new_lines = []
                    buf = []
                i += length
                state = newline if ttype == HARD_BREAK else buffer_
                continue
            # escape
            buf.append(self._escape(s, i))
            i += 2
            state = buffer_
        rest = "".join(buf)
        if rest:
            if len(new_lines) >= 2:
                output.extend(normalize(inline))
                inline = []
                new_lines = []
            if new_lines and inline and not inline[-1].is_block:
                inline.extend(new_lines)
            inline.append(text_node(rest))
        return output + inline

    @staticmethod
    def _escape(s: str, i: int) -> str:
        prev = s[i - 1] if i > 0 else ""
        nxt = s[i + 1] if i + 1 < len(s) else ""
        if nxt not in _ESCAPABLE or nxt == "" or prev == "\\":
            return "\\" + nxt
        return nxt

    # --- common formatter (*strong*, _em_, {{mono}}, !media!, ...) -------------------------

    def _surrounding(self, s: str, pos: int, opening: str, closing: str) -> tuple[str, str]:
        braced_open = "{" + opening + "}"
        open_symbol = braced_open if s.startswith(braced_open, pos) else opening
        skip = len(opening) + 2 if open_symbol == braced_open else len(opening)
        level = self.levels[-1] if self.levels and self.levels[-1].s is s else None
        end = level.find(closing, pos + skip) if level else s.find(closing, pos + skip)
        if (
            end > -1
            and end > 0
            and s[end - 1] == "{"
            and s[end + len(closing) : end + len(closing) + 1] == "}"
        ):
            return open_symbol, "{" + closing + "}"
        return open_symbol, closing

    def _formatter(
        self,
        s: str,
        pos: int,
        opening: str,
        closing: str,
        process: Callable[[str, int], Token],
    ) -> Token:
        olen, clen = len(opening), len(closing)
        open_wrapped = opening.startswith("{") and opening.endswith("}")
        close_wrapped = closing.startswith("{") and closing.endswith("}")
        n = len(s)
        if pos > 0:
            before = s[pos - 1]
            if not open_wrapped and before != "\xa0" and _ALNUM_OR_NON_ASCII.match(before):
                return _text_token(s, pos, olen)
        if not s.startswith(opening, pos) or s[pos + olen : pos + olen + 1] == " ":
            return _text_token(s, pos, olen)
        level = self.levels[-1] if self.levels and self.levels[-1].s is s else None
        key = (opening, closing)
        if level is not None:
            failed = level.formatter_fail.get(key)
            if failed is not None and failed[0] < pos < failed[1]:
                return _text_token(s, pos, olen)
        i = pos + olen
        buf: list[str] = []
        while i < n:
            c = s[i]
            if c == "\r" or c == "\n":
                break
            if s.startswith(closing, i):
                i += clen
                if not buf:
                    return _text_token(s, pos, olen)
                if i < n:
                    after = s[i]
                    if not close_wrapped and after != "\xa0" and _ALNUM_OR_NON_ASCII.match(after):
                        buf.append(closing)
                        continue
                if buf[-1].endswith(" "):
                    return _text_token(s, pos, olen)
                return process("".join(buf), i - pos)
            if s.startswith("{{", i):
                buf.append("{{")
                i += 2
            elif c == "{":
                kw = self.macro_keyword(s, i)
                if kw is None:
                    buf.append(c)
                    i += 1
                    continue
                self.probe += 1
                try:
                    length, text, _ = self.parse_token(s, i, kw)
                finally:
                    self.probe -= 1
                if text is not None:
                    buf.append(text)
                elif kw == COLOR_MACRO:
                    buf.append(s[i : i + length])
                else:
                    return _text_token(s, pos, olen)
                i += length
            elif c == "[":
                self.probe += 1
                try:
                    length, text, _ = self._link_format(s, i)
                finally:
                    self.probe -= 1
                buf.append(text if text is not None else s[i : i + length])
                i += length
            elif c == "\\":
                buf.append(self._escape(s, i))
                i += 2
            else:
                buf.append(c)
                i += 1
        if level is not None:
            level.formatter_fail[key] = (pos, i)
        return _text_token(s, pos, olen)

    def _mark_formatter(
        self,
        s: str,
        pos: int,
        symbol: str,
        new_mark: Mark,
        ignore: frozenset[str],
        citation: bool = False,
    ) -> Token:
        opening, closing = self._surrounding(s, pos, symbol, symbol)
        exclusive = (new_mark[0], "code")

        def process(raw: str, length: int) -> Token:
            content = self.parse_string(raw, ignore)
            out: list[Node] = []
            for index, node in enumerate(content):
                if node.is_text and not has_any_mark(node, exclusive):
                    if citation and index == 0:
                        node = Node("text", text=f"{EM_DASH} {node.text}", marks=node.marks)
                    node = add_mark(node, new_mark)
                out.append(node)
            return (length, None, out)

        return self._formatter(s, pos, opening, closing, process)

    def _strong(self, s: str, pos: int) -> Token:
        return self._mark_formatter(s, pos, "*", mark("strong"), _FORMAT_IGNORE)

    def _emphasis(self, s: str, pos: int) -> Token:
        return self._mark_formatter(s, pos, "_", mark("em"), _FORMAT_IGNORE)

    def _deleted(self, s: str, pos: int) -> Token:
        return self._mark_formatter(s, pos, "-", mark("strike"), _FORMAT_IGNORE)

    def _inserted(self, s: str, pos: int) -> Token:
        return self._mark_formatter(s, pos, "+", mark("underline"), _FORMAT_IGNORE)

    def _superscript(self, s: str, pos: int) -> Token:
        return self._mark_formatter(s, pos, "^", mark("subsup", type="sup"), _FORMAT_IGNORE)

    def _subscript(self, s: str, pos: int) -> Token:
        return self._mark_formatter(s, pos, "~", mark("subsup", type="sub"), _FORMAT_IGNORE)

    def _citation(self, s: str, pos: int) -> Token:
        return self._mark_formatter(s, pos, "??", mark("em"), _DASHES | {ISSUE_KEY}, citation=True)

    def _monospace(self, s: str, pos: int) -> Token:
        opening, closing = self._surrounding(s, pos, "{{", "}}")

        def process(raw: str, length: int) -> Token:
            content = self.parse_string(raw, _ALL_INLINE_TOKENS)
            out = [n if n.is_text and n.marks else n.with_marks((mark("code"),)) for n in content]
            return (length, None, out)

        return self._formatter(s, pos, opening, closing, process)

    # --- simple tokens ---------------------------------------------------------------------

    @staticmethod
    def _dash(s: str, pos: int, size: int, symbol: str) -> Token:
        if pos > 0 and not s[pos - 1].isspace():
            return (size, "-" * size, None)
        if pos + size < len(s) and not s[pos + size].isspace():
            return (size, "-" * size, None)
        return (size, symbol, None)

    def _double_dash(self, s: str, pos: int) -> Token:
        return self._dash(s, pos, 2, EN_DASH)

    def _triple_dash(self, s: str, pos: int) -> Token:
        return self._dash(s, pos, 3, EM_DASH)

    @staticmethod
    def _quadruple_dash(s: str, pos: int) -> Token:
        m = _MULTI_DASH.match(s, pos)
        if not m:
            return (4, "----", None)
        return (len(m[0]), m[0], None)

    @staticmethod
    def _ruler(s: str, pos: int) -> Token:
        m = _RULER.match(s, pos)
        if m:
            return (len(m[0]), None, [Node("rule")])
        return _text_token(s, pos)

    @staticmethod
    def _hardbreak(s: str, pos: int) -> Token:
        if s.startswith("\r\n", pos):
            return (2, None, [Node("hardBreak")])
        if s[pos] in "\r\n":
            return (1, None, [Node("hardBreak")])
        return _text_token(s, pos)

    def _force_line_break(self, s: str, pos: int) -> Token:
        r"""A double backslash breaks the line unless a backslash follows in the same word.

        This was the look-ahead regex ``\\{2}(?!\S*\\)``, which rescanned the rest of the
        word at every match (quadratic on ``\\\\a`` repeated). The end of the word is
        memoised per input instead, and the backslash search stops there: linear.
        """
        if pos > 0 and s[pos - 1] == "\\":
            return _text_token(s, pos, 2)
        level = self.levels[-1] if self.levels and self.levels[-1].s is s else _Level(s)
        word_end = level.next_space(pos + 2)
        if s.find("\\", pos + 2, word_end) == -1:
            return (2, None, [Node("hardBreak")])
        return _text_token(s, pos, 2)

    @staticmethod
    def _emoji(s: str, pos: int) -> Token:
        for size in range(2, 10):
            if pos + size > len(s):
                break
            emoji_id = WIKI_EMOJI.get(s[pos : pos + size])
            if emoji_id is not None:
                after = s[pos + size : pos + size + 1]
                if after == "" or not (after.isascii() and after.isalnum()):
                    short, text = EMOJI_ITEMS[emoji_id]
                    node = Node("emoji", {"shortName": short, "id": emoji_id, "text": text})
                    return (size, None, [node])
        return _text_token(s, pos)

    # --- headings, quotes ------------------------------------------------------------------

    def _heading(self, s: str, pos: int) -> Token:
        m = _HEADING.match(s, pos)
        if not m:
            return _text_token(s, pos)
        content = self.parse_string(m[2], _DASHES)
        try:
            node = make("heading", {"level": int(m[1])}, content)
        except InvalidContentError:
            return (4, "", None)
        return (len(m[0]), None, [node])

    def _blockquote(self, s: str, pos: int) -> Token:
        m = _BLOCKQUOTE.match(s, pos)
        if not m:
            return _text_token(s, pos)
        return self._quote_content(m[1], len(m[0]))

    def _quote_content(self, raw: str, length: int) -> Token:
        if not raw:
            return (length, None, [make("blockquote", None, [make("paragraph")])])
        content = normalize(self.parse_string(raw))
        out: list[Node] = []
        pending: list[Node] = []
        for node in content:
            if node.type in (
                "paragraph",
                "bulletList",
                "orderedList",
                "codeBlock",
                "mediaSingle",
                "mediaGroup",
            ):
                pending.append(node)
            elif node.type == "heading":
                pending.append(_heading_as_paragraph(node))
            else:
                if pending:
                    out.append(make("blockquote", None, pending))
                    pending = []
                out.append(node)
        if pending:
            out.append(make("blockquote", None, pending))
        return (length, None, out)

    # --- macros ----------------------------------------------------------------------------

    def _macro(
        self,
        s: str,
        pos: int,
        keyword: str,
        paired: bool,
        process: Callable[[str | None, str, int], Token],
    ) -> Token:
        m = _macro_pattern(keyword).match(s, pos)
        if not m:
            return _text_token(s, pos)
        open_len = len(m[0])
        if not paired:
            return process(m[2], "", open_len)
        closing = "{" + m[1] + "}"
        level = self.levels[-1] if self.levels and self.levels[-1].s is s else None
        start = pos + open_len
        end = level.find(closing, start) if level else s.find(closing, start)
        if end < 0:
            return process(m[2], "", open_len)
        return process(m[2], s[start:end], end + len(closing) - pos)

    def _adf_macro(self, s: str, pos: int) -> Token:
        def process(_attrs: str | None, raw: str, length: int) -> Token:
            try:
                data = json.loads(raw)
            except ValueError:
                data = None
            if (
                isinstance(data, dict)
                and data.get("type") in _ADF_MACRO_TOP
                and _well_formed_adf(data, 0)
            ):
                return (length, None, [Node(data["type"], raw=data)])
            node = make("codeBlock", None, [text_node(f"Invalid ADF Macro: {raw}")] if raw else [])
            return (length, None, [node])

        return self._macro(s, pos, "adf", True, process)

    def _anchor_macro(self, s: str, pos: int) -> Token:
        return self._macro(s, pos, "anchor", False, lambda _a, _r, length: (length, "", None))

    def _code_macro(self, s: str, pos: int) -> Token:
        def process(raw_attrs: str | None, raw: str, length: int) -> Token:
            attrs = _parse_attrs(raw_attrs)
            out: list[Node] = []
            if attrs.get("title"):
                out.append(_title(attrs["title"]))
            keys = {k.lower() for k in attrs}
            language = next((lang for lang in CODE_LANGUAGES if lang in keys), None)
            if language is None:
                language = "objective-c" if "objc" in keys else "java"
            body = raw.strip()
            out.append(make("codeBlock", {"language": language}, [text_node(body)] if body else []))
            return (length, None, out)

        return self._macro(s, pos, "code", True, process)

    def _noformat_macro(self, s: str, pos: int) -> Token:
        def process(raw_attrs: str | None, raw: str, length: int) -> Token:
            attrs = _parse_attrs(raw_attrs)
            out: list[Node] = []
            if attrs.get("title"):
                out.append(_title(attrs["title"]))
            body = raw.strip()
            out.append(make("codeBlock", None, [text_node(body)] if body else []))
            return (length, None, out)

        return self._macro(s, pos, "noformat", True, process)

    def _quote_macro(self, s: str, pos: int) -> Token:
        return self._macro(s, pos, "quote", True, lambda _a, raw, n: self._quote_content(raw, n))

    def _panel_macro(self, s: str, pos: int) -> Token:
        def process(raw_attrs: str | None, raw: str, length: int) -> Token:
            attrs = _parse_attrs(raw_attrs)
            panel_attrs = {"panelType": panel_type_for(attrs.get("bgColor"))}
            content = normalize(self.parse_string(raw))
            pending: list[Node] = [_title(attrs["title"])] if attrs.get("title") else []
            out: list[Node] = []
            for node in content:
                if node.type in ("paragraph", "heading", "orderedList", "bulletList"):
                    pending.append(node)
                else:
                    out.append(make("panel", panel_attrs, pending or [make("paragraph")]))
                    pending = []
                    out.append(node)
            if pending:
                out.append(make("panel", panel_attrs, pending))
            if not out:
                out = [make("panel", {"panelType": "info"}, [make("paragraph")])]
            return (length, None, out)

        return self._macro(s, pos, "panel", True, process)

    def _color_macro(self, s: str, pos: int) -> Token:
        def process(raw_attrs: str | None, raw: str, length: int) -> Token:
            attrs = _parse_attrs(raw_attrs)
            first = next(iter(attrs), None)
            colour = normalize_hex_colour(first) or "#000000"
            colour_mark = mark("textColor", color=colour)
            content = self.parse_string(raw, _DASHES | {TABLE})
            out = [
                add_mark(n, colour_mark)
                if n.is_text and not has_any_mark(n, ("textColor", "code"))
                else n
                for n in content
            ]
            return (length, None, out)

        return self._macro(s, pos, "color", True, process)

    # --- links and media -------------------------------------------------------------------

    def _link_text(self, s: str, pos: int) -> Token:
        m = LINK_URL.match(s, pos)
        if not m:
            return _text_token(s, pos)
        whole = BAD_END.sub("", m[0])
        rest = BAD_END.sub("", m[2])
        shown = rest if m[1] == "mailto:" else whole
        unescaped = re.sub(r"\\(.?)", r"\1", whole, flags=re.DOTALL)
        url = normalise_url(unescaped)
        if not is_safe_url(url):
            return _text_token(s, pos)
        node = text_node(shown, (mark("link", href=self._rewrite_href(url)),))
        return (len(whole), None, [node])

    def _link_format(self, s: str, pos: int) -> Token:
        m = _LINK_FORMAT.match(s, pos)
        if not m:
            return (1, "[", None)
        link = Link(m[1])
        length = len(m[1]) + 2
        resolved = (
            self._attachment_link(link)
            or self._mention_link(link)
            or self._card_link(link)
            or self._url_link(link)
        )
        if resolved is not None:
            return (length, None, resolved)
        ignore = _DASHES | {TABLE, RULER, LINK_TEXT, LINK_FORMAT}
        return (len(m[0]), None, self.parse_string(m[0], ignore))

    def _attachment_link(self, link: Link) -> list[Node] | None:
        if not link.attachment:
            return None
        media = Node("media", self._media_file_attrs(link.attachment))
        return [make("mediaGroup", None, [media])]

    def _mention_link(self, link: Link) -> list[Node] | None:
        body = link.not_body
        if body.lower() == "~accountid:" or body == "~":
            raise InvalidContentError("empty mention")
        if not body.startswith("~"):
            return None
        reference = body[1:]
        users = self.ctx.users if self.ctx is not None else None
        if users is None:
            return [Node("mention", {"id": reference, "text": "", "accessLevel": ""})]
        user = users.resolve_wiki_user(reference)
        if user is None:
            self.report(ReportKind.UNRESOLVED_USER, reference)
            return [text_node(f"@{reference}")]
        name = user.display_name.lstrip("@")
        attrs = {"id": user.account_id, "text": f"@{name}" if name else "", "accessLevel": ""}
        return [Node("mention", attrs)]

    def _card_link(self, link: Link) -> list[Node] | None:
        kinds = {
            "smart-card": "blockCard",
            "block-link": "blockCard",
            "smart-link": "inlineCard",
            "smart-embed": "embedCard",
        }
        kind = kinds.get(link.title or "")
        if kind is None:
            return None
        return [Node(kind, {"url": self._rewrite_href(link.not_body)})]

    def _url_link(self, link: Link) -> list[Node] | None:
        url = link.not_body
        if not is_safe_url(url):
            return None
        shown = link.body or link.not_body
        href = self._rewrite_href(url)
        link_mark = mark("link", href=href)
        raw = re.sub(r"^mailto:", "", shown)
        content = self.parse_string(raw, _DASHES | {LINK_TEXT, ISSUE_KEY})
        out = [
            add_mark(n, link_mark) if n.is_text and not has_any_mark(n, ("link", "code")) else n
            for n in content
        ]
        if not any(n.is_text for n in content):
            out.append(text_node(shown, (link_mark,)))
        return out

    def _rewrite_href(self, href: str) -> str:
        if self.ctx is None:
            return href
        from jirabridge.markup._rewrite import rewrite_href

        return rewrite_href(href, self.ctx)

    def _media_file_attrs(self, filename: str) -> dict[str, Any]:
        media_id = filename
        collection = ""
        if self.ctx is not None:
            collection = self.ctx.media_collection
            if self.ctx.attachments:
                mapped = self.ctx.attachments.get(filename)
                if mapped is None:
                    self.report(ReportKind.UNMAPPED_ATTACHMENT, filename)
                else:
                    media_id = mapped
        return {"type": "file", "id": media_id, "collection": collection}

    def _media(self, s: str, pos: int) -> Token:
        def process(raw: str, length: int) -> Token:
            parts = raw.split("|")
            if not parts[0].strip():
                # Atlassian's transformer makes a media node with an empty id here, which the
                # ADF schema rejects: keep the whole ``!...!`` as text instead.
                return (length, s[pos : pos + length], None)
            return (
                length,
                None,
                [
                    self._media_single(
                        parts[0], _parse_attrs(parts[1] if len(parts) > 1 else "", ",")
                    )
                ],
            )

        return self._formatter(s, pos, "!", "!", process)

    def _media_single(self, filename: str, attrs: dict[str, str]) -> Node:
        media_attrs: dict[str, Any] = {"width": 200, "height": 183}
        single_attrs: dict[str, Any] = {"layout": "center"}
        width = attrs.get("width")
        if width and width.endswith("%"):
            percent = _js_int(width)
            if percent is not None:
                single_attrs["width"] = max(0, min(100, percent))
            media_attrs = {}
        else:
            if width and (value := _js_int(width)) is not None:
                media_attrs["width"] = value
            height = attrs.get("height")
            if height and (value := _js_int(height)) is not None:
                media_attrs["height"] = value
        marks: tuple[Mark, ...] = ()
        if attrs.get("href"):
            href = _WRAPPING_QUOTES.sub(r"\1", attrs["href"])
            marks = (mark("link", href=href),)
        if attrs.get("alt"):
            media_attrs["alt"] = _WRAPPING_QUOTES.sub(r"\1", attrs["alt"])
        if LINK_URL.match(filename):
            media = Node("media", {"type": "external", "url": filename, **media_attrs})
        else:
            media = Node("media", {**self._media_file_attrs(filename), **media_attrs})
        media.marks = marks
        return make("mediaSingle", single_attrs, [media])

    # --- lists -----------------------------------------------------------------------------

    def _list(self, s: str, pos: int) -> Token:
        ignore = frozenset({QUADRUPLE_DASH, LIST, TABLE})
        i = pos
        n = len(s)
        buf: list[str] = []
        last_symbols = ""
        builder: ListBuilder | None = None
        content: list[Node] = []
        output: list[Node] = []

        def flush() -> list[Node]:
            nodes = list(content)
            if buf:
                nodes.extend(self.parse_string("".join(buf), ignore, leading_space=True))
            return list_sanitize(normalize(nodes))

        at_line_start = True
        while i < n:
            if at_line_start:
                line_start = i
                m = _LIST_ITEM.match(s, i)
                skip_item = False
                if m:
                    symbols = m[1]
                    ruler = _RULER_SYMBOLS.match(symbols)
                    if ruler and _EMPTY_LINE.match(s, i + len(ruler[0])):
                        skip_item = True
                if m and not skip_item:
                    symbols = m[1]
                    if builder is None:
                        builder = ListBuilder(symbols)
                        last_symbols = symbols
                    else:
                        if buf:
                            builder.add(last_symbols, flush())
                            buf = []
                            content = []
                        last_symbols = symbols
                        if list_type(symbols) != builder.type and len(symbols) == 1:
                            output.extend(builder.build())
                            builder = ListBuilder(symbols)
                    i += len(m[0])
                if not skip_item and _EMPTY_LINE.match(s, line_start):
                    break
                at_line_start = False
                continue
            c = s[i]
            if c == "\r" or c == "\n":
                length = 2 if s.startswith("\r\n", i) else 1
                buf.append(s[i : i + length])
                i += length
                at_line_start = True
                continue
            if c == "{":
                kw = self.macro_keyword(s, i)
                if kw is not None:
                    self.probe += 1
                    try:
                        length = self.parse_token(s, i, kw)[0]
                    finally:
                        self.probe -= 1
                    buf.append(s[i : i + length])
                    i += length
                    continue
            m = _LIST_PLAIN.match(s, i + 1)  # copy a run of ordinary characters at once
            end = m.end() if m else i + 1
            buf.append(s[i:end])
            i = end
        if builder is None:
            return _text_token(s, pos)
        builder.add(last_symbols, flush())
        output.extend(builder.build())
        return (i - pos, None, output)

    # --- tables ----------------------------------------------------------------------------

    def _table(self, s: str, pos: int) -> Token:
        ignore = _DASHES | {TABLE, RULER}
        new_row, buffer_, close_row, end_table, line_break = range(5)
        state = new_row
        n = len(s)
        i = pos
        buf: list[str] = []
        cells: list[tuple[str, list[Node]]] = []
        style = ""
        rows: list[list[tuple[str, list[Node]]]] | None = None
        last_pipe = (pos, -2)

        def to_cells(text: str) -> None:
            if text:
                content = self.parse_string(text, ignore)
                if style == "||":
                    content = [_bold_deep(node) for node in content]
                cells.append((style, normalize(content)))

        def add_row() -> None:
            nonlocal cells
            if rows is not None and cells:
                rows.append(cells)
            cells = []

        while i < n and state != end_table:
            c = s[i]
            if state == new_row:
                m = _CELL.match(s, i)
                if m:
                    if rows is None:
                        rows = []
                    i += len(m[1])
                    style = m[2]
                    i += len(m[2])
                    state = buffer_
                else:
                    state = end_table
                continue
            if state == line_break:
                if _EMPTY_LINE.match(s, i):
                    to_cells("".join(buf))
                    state = end_table
                elif _CELL.match(s, i):
                    state = close_row
                else:
                    state = buffer_
                continue
            if state == close_row:
                text = "".join(buf)
                if text.strip():
                    to_cells(text)
                    buf = []
                add_row()
                state = new_row
                continue
            # buffer
            if c == "\r" or c == "\n":
                length = 2 if s.startswith("\r\n", i) else 1
                searched, found = last_pipe
                recent = s.rfind("|", searched, i)
                if recent < 0 and found == -2:
                    recent = s.rfind("|", 0, searched)
                last_pipe = (i, recent if recent >= 0 else found)
                before = s[last_pipe[1] + 1 : i]
                if before == "":
                    state = close_row
                else:
                    state = line_break
                    buf.append(s[i : i + length])
                i += length
                continue
            if c == "|":
                to_cells("".join(buf))
                buf = []
                m = _CELL.match(s, i)
                if m:
                    style = m[2]
                    i += len(m[2])
                continue
            if c in ":;(!{[":
                self.probe += 1
                try:
                    if c == "[":
                        length, link_text, _ = self._link_format(s, i)
                        piece = link_text if link_text is not None else s[i : i + length]
                    elif c == "!":
                        length = self._media(s, i)[0]
                        piece = s[i : i + length]
                    elif c == "{":
                        kw = self.macro_keyword(s, i)
                        if kw is None:
                            length, piece = 1, c
                        else:
                            length = self.parse_token(s, i, kw)[0]
                            piece = s[i : i + length]
                    else:
                        length = self._emoji(s, i)[0]
                        piece = s[i : i + length]
                finally:
                    self.probe -= 1
                buf.append(piece)
                i += length
                continue
            m = _TABLE_PLAIN.match(s, i + 1)  # copy a run of ordinary characters at once
            end = m.end() if m else i + 1
            buf.append(s[i:end])
            i = end
        if state != end_table:
            text = "".join(buf)
            if text.strip():
                to_cells(text)
        if rows is None:
            return (i - pos, None, [])
        add_row()
        table_rows = [
            make(
                "tableRow",
                None,
                [
                    make(
                        "tableHeader" if "||" in cell_style else "tableCell",
                        None,
                        content or [make("paragraph")],
                    )
                    for cell_style, content in row
                ],
            )
            for row in rows
        ]
        if not table_rows:
            table_rows = [make("tableRow", None, [make("tableCell", None, [make("paragraph")])])]
        table = make("table", {"isNumberColumnEnabled": False, "layout": "default"}, table_rows)
        return (i - pos, None, [table])


_ADF_MACRO_TOP = (BLOCK_TYPES | INLINE_TYPES) - {"text"}
_ADF_MACRO_INNER = _ADF_MACRO_TOP | {
    "text",
    "listItem",
    "tableRow",
    "tableCell",
    "tableHeader",
    "media",
    "taskItem",
    "decisionItem",
    "caption",
}


def _well_formed_adf(node: Any, depth: int) -> bool:
    """A node from an ``{adf}`` macro: known types and ADF shapes only (else it is text)."""
    if depth > 50 or not isinstance(node, dict) or node.get("type") not in _ADF_MACRO_INNER:
        return False
    if node["type"] == "text" and not (isinstance(node.get("text"), str) and node["text"]):
        return False
    if not isinstance(node.get("attrs", {}), dict) or not isinstance(node.get("marks", []), list):
        return False
    content = node.get("content", [])
    return isinstance(content, list) and all(_well_formed_adf(c, depth + 1) for c in content)


_MACRO_PATTERNS: dict[str, re.Pattern[str]] = {}


def _macro_pattern(keyword: str) -> re.Pattern[str]:
    pattern = _MACRO_PATTERNS.get(keyword)
    if pattern is None:
        pattern = re.compile(r"\{(" + keyword + r")(?::([^{\n}]*))?}", re.IGNORECASE)
        _MACRO_PATTERNS[keyword] = pattern
    return pattern


# --- helpers shared by the handlers ---------------------------------------------------------


def _title(text: str) -> Node:
    return make("paragraph", None, [text_node(text, (mark("strong"),))])


def _heading_as_paragraph(heading: Node) -> Node:
    level = int((heading.attrs or {}).get("level", 1))
    out: list[Node] = []
    for node in heading.content or ():
        if node.is_text:
            if level == 1 and node.text:
                node = Node("text", text=node.text.upper(), marks=node.marks)
            if level <= 4 and not has_any_mark(node, ("strong", "code")):
                node = add_mark(node, mark("strong"))
            if level in (2, 5) and not has_any_mark(node, ("em", "code")):
                node = add_mark(node, mark("em"))
            if level > 3 and not has_any_mark(node, ("textColor", "code")):
                node = add_mark(node, mark("textColor", color="#97a0af"))
        out.append(node)
    return make("paragraph", None, out)


def _bold_deep(node: Node) -> Node:
    if node.is_text:
        if not has_any_mark(node, ("strong", "code")):
            return add_mark(node, mark("strong"))
        return node
    if not node.content or node.type == "codeBlock":
        return node
    return Node(node.type, node.attrs, [_bold_deep(c) for c in node.content], node.marks)


def parse_wiki(text: str, ctx: MarkupContext | None = None) -> Node:
    """Parse wiki markup into a ``doc`` node."""
    parser = _Parser(ctx)
    content = normalize(parser.parse_string(text))
    return Node("doc", {"version": 1}, content)
