"""The byte scanner against a whole-buffer reference, over random chunkings (hypothesis)."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jirabridge.errors import BadInputError
from jirabridge.migrate._scan import ScanMode, ScanningReader

INVALID = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]|&#x1f;|&#0;|&#xFFFE;")
PIECES = [b"a", b"\n", b"\xc3\xa9", b"\x01", b"\x0b", b"\xef\xbf\xbf", b"\xef\xbf\xbe", b" ",
          b"\xef\xbf\xbd", b"\t", b"http://h.io/browse/X-1 ", b"&#x1f;", b"&#10;", b"&#0;",
          b"&#xFFFE;", b"&amp;", b"&#233;"]  # fmt: skip


class Chunked(io.RawIOBase):
    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self.data, self.sizes, self.pos = data, sizes or [1], 0

    def read(self, n: int = -1) -> bytes:
        size = self.sizes[self.pos % len(self.sizes)] if self.sizes else n
        out = self.data[self.pos : self.pos + size]
        self.pos += len(out)
        return out


def reference(data: bytes) -> list[tuple[int, int]]:
    out = []
    for m in INVALID.finditer(data):
        line = data.count(b"\n", 0, m.start()) + 1
        col = m.start() - (data.rfind(b"\n", 0, m.start()) + 1) + 1
        out.append((line, col))
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), max_size=60),
    st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=5),
    st.sampled_from(list(ScanMode)),
)
def test_scanner_matches_reference(pieces: list[bytes], sizes: list[int], mode: ScanMode) -> None:
    data = b"<r>" + b"".join(pieces) + b"</r>"
    reader = ScanningReader(Chunked(data, sizes), mode=mode)
    out = b""
    while chunk := reader.read(4):
        out += chunk
    expected = reference(data)
    assert reader.invalid_count == len(expected)
    assert [(c.line, c.column) for c in reader.invalid] == expected
    if mode is ScanMode.STRIP:
        assert out == INVALID.sub(b"", data)
    else:
        assert len(out) == len(data) and INVALID.search(out) is None
    linked = data.count(b"http://h.io/")
    if linked:
        assert reader.urls["http://h.io"].count == linked
    else:
        assert "http://h.io" not in reader.urls


def test_prolog_with_comments_and_pi_is_accepted() -> None:
    data = b'<?xml version="1.0"?>\n<!-- <!DOCTYPE in a comment --><?pi x?>\n<root/>'
    reader = ScanningReader(Chunked(data, [3]))
    out = b""
    while chunk := reader.read(3):
        out += chunk
    assert out == data
    assert reader.invalid_count == 0


@pytest.mark.parametrize("sizes", [[1], [5], [1000]])
def test_doctype_is_refused_whatever_the_chunking(sizes: list[int]) -> None:
    data = b'<?xml version="1.0"?>\n<!-- header -->\n<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>'
    reader = ScanningReader(Chunked(data, sizes))
    with pytest.raises(BadInputError, match="DOCTYPE"):
        while reader.read(8):
            pass


@pytest.mark.parametrize(
    ("ref", "invalid"),
    [(b"&#0;", True), (b"&#8;", True), (b"&#9;", False), (b"&#10;", False), (b"&#11;", True),
     (b"&#13;", False), (b"&#31;", True), (b"&#32;", False), (b"&#x1F;", True), (b"&#xb;", True),
     (b"&#xa;", False), (b"&#xd;", False), (b"&#x20;", False), (b"&#65535;", True),
     (b"&#xfffe;", True), (b"&#xfffd;", False), (b"&#233;", False)],
)  # fmt: skip
def test_character_references(ref: bytes, invalid: bool) -> None:
    reader = ScanningReader(io.BytesIO(b"<r>" + ref + b"</r>"), mode=ScanMode.STRIP)
    out = reader.read(100)
    assert reader.invalid_count == int(invalid)
    assert (ref not in out) is invalid
