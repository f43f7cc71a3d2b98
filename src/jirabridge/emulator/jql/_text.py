"""Jira's ``~`` (CONTAINS) match, approximated without a search index.

Jira analyses text into lower-case words; a query matches when every query word is found
(``foo*`` matches a word prefix, ``?`` one character) and a quoted phrase (``"\\"a b\\""``)
matches consecutive words. No stemming and no stop words: the emulator is stricter than Jira
there, which is the safe side for tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["TextQuery", "compile_text_query", "words"]

_WORD = re.compile(r"[^\W_]+(?:['.][^\W_]+)*", re.UNICODE)
_QUERY_TERM = re.compile(r'"([^"]*)"|(\S+)')


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` as the matcher sees them."""
    return [w.lower() for w in _WORD.findall(text)]


@dataclass(frozen=True)
class TextQuery:
    """A compiled text query: ``matches(texts)`` is true when any text holds every term."""

    terms: tuple[Callable[[list[str]], bool], ...]

    def matches(self, texts: Iterable[str]) -> bool:
        all_words: list[list[str]] = [words(t) for t in texts if t]
        return all(any(term(ws) for ws in all_words) for term in self.terms)


def _word_matcher(pattern: str) -> Callable[[list[str]], bool]:
    if "*" in pattern or "?" in pattern:
        parts = [re.escape(p) for p in re.split(r"([*?])", pattern) if p]
        rx = "".join({"\\*": ".*", "\\?": ".", "*": ".*", "?": "."}.get(p, p) for p in parts)
        compiled = re.compile(rx + r"\Z")
        return lambda ws: any(compiled.match(w) for w in ws)
    return lambda ws: pattern in ws


def _phrase_matcher(phrase: list[str]) -> Callable[[list[str]], bool]:
    size = len(phrase)

    def match(ws: list[str]) -> bool:
        return any(ws[i : i + size] == phrase for i in range(len(ws) - size + 1))

    return match


def compile_text_query(text: str) -> TextQuery | None:
    """Compile the right-hand side of ``~``; None when it has no searchable word.

    Raises ``ValueError`` when a term starts with a wildcard (Jira refuses those).
    """
    terms: list[Callable[[list[str]], bool]] = []
    for phrase, bare in _QUERY_TERM.findall(text):
        if phrase:
            ws = words(phrase)
            if ws:
                terms.append(_phrase_matcher(ws) if len(ws) > 1 else _word_matcher(ws[0]))
            continue
        token = bare.lower()
        if token[0] in "*?":
            raise ValueError(token)
        if "*" in token or "?" in token:
            cleaned = re.sub(r"[^\w*?.']", "", token)
            if cleaned:
                terms.append(_word_matcher(cleaned))
            continue
        terms.extend(_word_matcher(w) for w in words(token))
    return TextQuery(tuple(terms)) if terms else None
