"""The ~ matcher: words, stop words, plurals, wildcards, phrases, and the substring pre-check."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from jirabridge.emulator.jql._text import compile_text_query, stem, words


def test_words_drop_stop_words_and_fold_plurals() -> None:
    assert words("The Printers are on FIRE") == ("printer", "fire")
    assert words("queries, boxes; glass bus") == ("query", "boxe", "glass", "bus")
    assert words("v1.2 d.dude:123 it's Jira's") == ("v1.2", "d.dude", "123", "jira")


def test_stem_rules() -> None:
    assert [stem(w) for w in ("days", "tries", "plays", "shoes", "as", "is")] == [
        "day",
        "try",
        "play",
        "shoes",
        "as",
        "is",
    ]


def test_wildcards_and_phrases() -> None:
    tq = compile_text_query('pr?nt* "big office"')
    assert tq is not None
    assert tq.matches(["Printing in the big office"])
    assert not tq.matches(["Printing in the office, big"])
    assert not tq.matches(["Painting in the big office"])


VOCAB = ["printer", "printers", "query", "queries", "box", "boxes", "the", "fire", "d.dude", "x"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(VOCAB), max_size=8).map(" ".join), max_size=3),
    st.lists(
        st.sampled_from([*VOCAB, "print*", "quer*", "b?x", '"printer fire"']),
        min_size=1,
        max_size=3,
    ),
)
def test_substring_precheck_never_changes_the_answer(texts: list[str], query: list[str]) -> None:
    tq = compile_text_query(" ".join(query))
    if tq is None:
        return
    slow = replace(tq, needles=())
    assert tq.matches(texts) == slow.matches(texts)
