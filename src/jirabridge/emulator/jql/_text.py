"""Jira's ``~`` (CONTAINS) match, approximated without a search index.

Jira analyses text with Lucene's English analysis: lower-case words, English stop words
dropped, plurals folded. A query matches when every query word is found (``foo*`` matches a
word prefix, ``?`` one character), and a quoted phrase (``"\\"a b\\""``) matches consecutive
words. Stemming here is only the minimal plural rule set (``printers`` -> ``printer``,
``queries`` -> ``query``), the part every English analyser agrees on; wildcard terms are not
stemmed, as in Lucene. Hand-written: a stemming library would be a dependency for five rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["STOP_WORDS", "TextQuery", "compile_text_query", "stem", "words"]

_WORD = re.compile(r"[^\W_]+(?:['.][^\W_]+)*", re.UNICODE)
_QUERY_TERM = re.compile(r'"([^"]*)"|(\S+)')

# Lucene's classic English stop set, which Jira's English indexing drops.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)


def stem(word: str) -> str:
    """Fold an English plural to its singular (minimal stemming)."""
    n = len(word)
    if n < 3 or word[-1] != "s" or word[-2] in "us":
        return word
    if word[-2] == "e":
        if n > 3 and word[-3] == "i" and word[-4] not in "ae":
            return word[:-3] + "y"
        if word[-3] in "iaoe":
            return word
    return word[:-1]


@lru_cache(maxsize=65536)
def words(text: str) -> tuple[str, ...]:
    """Indexed words of ``text``: lower-case, possessive ``'s`` cut, stop words dropped, plurals
    folded (the order of Lucene's English analysis).

    Cached: a scan meets the same summaries again (match, then relevance, then next query).
    """
    found = (w[:-2] if w.endswith("'s") else w for w in _WORD.findall(text.lower()))
    return tuple(stem(w) for w in found if w not in STOP_WORDS)


Term = Callable[[tuple[str, ...]], int]  # how many times the term occurs in a list of words


def _needle(word: str) -> str:
    """A substring every text holding ``word`` (stemmed, wildcards allowed) must contain."""
    head = re.split(r"[*?]", word, maxsplit=1)[0]
    return head[:-1] if head.endswith("y") else head  # "query" is written "queries"


@dataclass(frozen=True)
class TextQuery:
    """A compiled text query: ``matches(texts)`` is true when the texts hold every term.

    ``needles`` are plain substrings the texts must contain for the terms to have a chance;
    checking them first keeps a scan of mostly non-matching issues cheap.
    """

    terms: tuple[Term, ...]
    needles: tuple[str, ...] = ()

    def matches(self, texts: Iterable[str]) -> bool:
        present = [t for t in texts if t]
        if self.needles:
            lowered = [t.lower() for t in present]
            if not all(any(n in low for low in lowered) for n in self.needles):
                return False
        all_words = [words(t) for t in present]
        return all(any(term(ws) for ws in all_words) for term in self.terms)

    def score(self, texts: Iterable[str]) -> float:
        """A relevance figure in the spirit of Lucene's: term hits, damped by text length."""
        total = 0.0
        for t in texts:
            ws = words(t) if t else ()
            if ws:
                total += sum(term(ws) for term in self.terms) / math.sqrt(len(ws))
        return total


def _word_matcher(pattern: str) -> Term:
    if "*" in pattern or "?" in pattern:
        rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        compiled = re.compile(rx + r"\Z")
        return lambda ws: sum(1 for w in ws if compiled.match(w))
    return lambda ws: ws.count(pattern)


def _phrase_matcher(phrase: tuple[str, ...]) -> Term:
    size = len(phrase)

    def match(ws: tuple[str, ...]) -> int:
        return sum(1 for i in range(len(ws) - size + 1) if ws[i : i + size] == phrase)

    return match


def compile_text_query(text: str) -> TextQuery | None:
    """Compile the right-hand side of ``~``; None when it has no searchable word.

    Raises ``ValueError`` when a term starts with a wildcard (Jira refuses those).
    """
    terms: list[Term] = []
    needles: list[str] = []
    for phrase, bare in _QUERY_TERM.findall(text):
        if phrase:
            ws = words(phrase)
            if ws:
                terms.append(_phrase_matcher(ws) if len(ws) > 1 else _word_matcher(ws[0]))
                needles.extend(_needle(w) for w in ws)
            continue
        token = bare.lower()
        if token[0] in "*?":
            raise ValueError(token)
        if "*" in token or "?" in token:
            cleaned = re.sub(r"[^\w*?.']", "", token)
            if cleaned:
                terms.append(_word_matcher(cleaned))
                needles.append(_needle(cleaned))
            continue
        for w in words(token):
            terms.append(_word_matcher(w))
            needles.append(_needle(w))
    useful = tuple(dict.fromkeys(n for n in needles if n))
    return TextQuery(tuple(terms), useful) if terms else None
