"""The documented normalisations of the conformance comparison, one by one."""

from __future__ import annotations

from jirabridge.markup.conformance import normalise


def test_null_attributes_and_empty_attrs_are_dropped() -> None:
    assert normalise({"type": "x", "attrs": {"a": None}}) == {"type": "x"}
    assert normalise({"type": "x", "attrs": {}}) == {"type": "x"}


def test_local_ids_are_dropped() -> None:
    assert normalise({"type": "x", "attrs": {"localId": "r1", "b": 1}}) == {
        "type": "x",
        "attrs": {"b": 1},
    }


def test_media_sizes_are_dropped_but_not_other_sizes() -> None:
    media = {"type": "media", "attrs": {"id": "a", "width": 1, "height": 2}}
    assert normalise(media) == {"type": "media", "attrs": {"id": "a"}}
    single = {"type": "mediaSingle", "attrs": {"width": 50}}
    assert normalise(single) == single


def test_missing_paragraph_content_equals_empty() -> None:
    assert normalise({"type": "paragraph"}) == {"type": "paragraph", "content": []}


def test_real_differences_survive() -> None:
    assert normalise({"type": "text", "text": "a"}) != normalise({"type": "text", "text": "b"})
    assert normalise({"type": "x", "attrs": {"a": 1}}) != normalise(
        {"type": "x", "attrs": {"a": 2}}
    )
    assert normalise([{"type": "a"}, {"type": "b"}]) != normalise([{"type": "b"}, {"type": "a"}])
