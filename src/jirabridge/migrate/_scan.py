"""A byte-level pass over an XML stream, run while lxml parses it.

lxml stops at the first invalid character, so this scanner finds and counts them all (with
line and column), blanks them (``check``: same length, so lxml's positions stay right) or
strips them (``fix``), refuses DOCTYPE/ENTITY declarations before the parser sees them, and
collects the URLs found in the text. It is written by hand because no library offers a
streaming invalid-character locator; every per-byte loop runs inside ``re`` (C speed).
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from jirabridge.errors import BadInputError

__all__ = ["InvalidChar", "ScanMode", "ScanningReader", "UrlStats"]

# XML 1.0 forbids C0 controls except TAB, LF, CR, and U+FFFE / U+FFFF (EF BF BE / EF BF BF).
# ... and character references to them ("&#x1f;", "&#0;"), which Jira exports too.
_INVALID = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]"
    rb"|&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]|[fF]{3}[eEfF])"
    rb"|0*(?:[0-8]|1[1-2]|1[4-9]|2[0-9]|3[01]|6553[45]));"
)
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 13))
_URL = re.compile(rb"(https?://[A-Za-z0-9.:\-]+)(/[A-Za-z]+/?)?")  # origin, first segment
_JIRA_PATHS = frozenset(
    {"/browse/", "/secure/", "/projects/", "/rest/", "/issues/", "/jira/", "/plugins/"}
)
_URL_CARRY = 1024
_MAX_URL_KEYS = 100_000
_PROLOG_LIMIT = 4 << 20


class ScanMode(enum.Enum):
    BLANK = "blank"  # replace each invalid byte with a space (positions unchanged)
    STRIP = "strip"  # remove invalid characters (the fix)


class _Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class InvalidChar:
    """One invalid XML character: where (1-based line, byte column) and which code point."""

    line: int
    column: int
    codepoint: int


@dataclass
class UrlStats:
    """Per origin (``https://host:port``): occurrences, of which look like Jira links, samples."""

    count: int = 0
    jira_like: int = 0
    samples: list[str] = field(default_factory=list)


class ScanningReader:
    """File-like wrapper that scans bytes as they are read (``read(n)`` for lxml)."""

    def __init__(
        self,
        raw: _Readable,
        *,
        mode: ScanMode = ScanMode.BLANK,
        scan_invalid: bool = True,
        max_locations: int = 1000,
        max_line_bytes: int = 10 << 20,
        collect_urls: bool = True,
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        self._raw = raw
        self._mode = mode
        self._scan_invalid = scan_invalid
        self._max_locations = max_locations
        self._max_line = max_line_bytes
        self.long_lines: list[tuple[int, int]] = []  # (line, bytes so far) over the limit
        self._collect_urls = collect_urls
        self._on_bytes = on_bytes
        self._hold = b""  # a partial EF / EF BF sequence kept for the next read
        self._url_carry = b""
        self._line = 1
        self._col0 = 0  # bytes already on the current line before this chunk
        self._prolog: bytearray | None = bytearray()
        self._eof = False
        self.bytes_in = 0
        self.invalid_count = 0
        self.invalid: list[InvalidChar] = []
        self._url_counts: Counter[tuple[bytes, bytes]] = Counter()
        self.urls_truncated = False
        self.encoding_note: str | None = None

    @property
    def lines(self) -> int:
        return self._line

    def read(self, n: int = -1) -> bytes:
        if self._eof:
            return b""
        size = n if n and n > 0 else 1 << 20
        data = self._raw.read(size)
        if not data:
            self._eof = True
            chunk, self._hold = self._hold, b""
            if self._prolog is not None:
                self._check_prolog(final=True)
            if chunk:
                chunk = self._scan(chunk, final=True)
            self._scan_urls(b"", final=True)
            return chunk
        self.bytes_in += len(data)
        if self._on_bytes is not None:
            self._on_bytes(len(data))
        chunk = self._hold + data
        self._hold = b""
        if chunk.endswith(b"\xef"):
            chunk, self._hold = chunk[:-1], b"\xef"
        elif chunk.endswith(b"\xef\xbf"):
            chunk, self._hold = chunk[:-2], b"\xef\xbf"
        else:
            amp = chunk.rfind(b"&", max(len(chunk) - 12, 0))
            if amp >= 0 and b";" not in chunk[amp:]:  # a character reference cut in two
                chunk, self._hold = chunk[:amp], chunk[amp:]
        if self._prolog is not None:
            self._prolog += chunk
            self._check_prolog(final=False)
        out = self._scan(chunk, final=False)
        if not out and not self._eof:
            # never answer b"" before the end: lxml would take it for end of file
            return self.read(n)
        return out

    # -- prolog: encoding and DOCTYPE ---------------------------------------------------------
    def _check_prolog(self, *, final: bool) -> None:
        assert self._prolog is not None
        buf = bytes(self._prolog)
        if buf.startswith((b"\xff\xfe", b"\xfe\xff")) or buf[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
            raise BadInputError(
                "the XML is UTF-16 encoded; Jira writes and Site Import reads UTF-8: re-export"
            )
        pos = 3 if buf.startswith(b"\xef\xbb\xbf") else 0
        while True:
            lt = buf.find(b"<", pos)
            if lt < 0 or lt + 9 > len(buf):
                break
            if buf.startswith(b"<?", lt):
                end = buf.find(b"?>", lt)
                if end < 0:
                    break
                decl = buf[lt:end]
                m = re.search(rb"encoding\s*=\s*[\"']([A-Za-z0-9._\-]+)", decl)
                if m and m.group(1).lower() not in (b"utf-8", b"utf8"):
                    self.encoding_note = m.group(1).decode("ascii")
                pos = end + 2
                continue
            if buf.startswith(b"<!--", lt):
                end = buf.find(b"-->", lt + 4)
                if end < 0:
                    break
                pos = end + 3
                continue
            if buf.startswith((b"<!DOCTYPE", b"<!ENTITY"), lt):
                line = buf.count(b"\n", 0, lt) + 1
                raise BadInputError(
                    f"line {line}: the XML carries a DOCTYPE/ENTITY declaration; Jira backups "
                    "never do, and entity expansion or external entities are refused"
                )
            self._prolog = None  # the root element starts: the prolog is over
            return
        if final or len(buf) > _PROLOG_LIMIT:
            if len(buf) > _PROLOG_LIMIT:
                raise BadInputError("no root element in the first 4 MiB of the XML")
            self._prolog = None

    # -- invalid characters -------------------------------------------------------------------
    def _scan(self, chunk: bytes, *, final: bool) -> bytes:
        if self._collect_urls:
            self._scan_urls(chunk, final=final)
        first = None
        if self._scan_invalid and (
            len(chunk.translate(None, _CONTROL)) != len(chunk)  # C-speed pre-filter
            or b"\xef\xbf\xbe" in chunk
            or b"\xef\xbf\xbf" in chunk
            or b"&#" in chunk
        ):
            first = _INVALID.search(chunk)
        out = chunk
        if first is not None:
            self._locate(chunk, first.start())
            if self._mode is ScanMode.BLANK:
                out = _INVALID.sub(lambda m: b" " * len(m.group(0)), chunk)
            else:
                out = _INVALID.sub(b"", chunk)
        # positions are counted on the input, so later locations stay true when stripping
        nl = chunk.count(b"\n")
        if nl:
            first_line = self._col0 + chunk.find(b"\n")
            if first_line > self._max_line:
                self._long(first_line)
            self._line += nl
            self._col0 = len(chunk) - chunk.rfind(b"\n") - 1
        else:
            self._col0 += len(chunk)
            if self._col0 > self._max_line:
                self._long(self._col0)
        return out

    def _long(self, length: int) -> None:
        if self.long_lines and self.long_lines[-1][0] == self._line:
            self.long_lines[-1] = (self._line, length)
        elif len(self.long_lines) < 100:
            self.long_lines.append((self._line, length))

    def _locate(self, chunk: bytes, start: int) -> None:
        for m in _INVALID.finditer(chunk, start):
            self.invalid_count += 1
            if len(self.invalid) >= self._max_locations:
                continue
            p = m.start()
            before = chunk.count(b"\n", 0, p)
            line = self._line + before
            col = p - chunk.rfind(b"\n", 0, p) if before else self._col0 + p + 1
            raw = m.group(0)
            if raw.startswith(b"&#"):
                digits = raw[2:-1]
                cp = int(digits[1:], 16) if digits[:1] in (b"x", b"X") else int(digits)
            elif len(raw) == 1:
                cp = raw[0]
            else:
                cp = 0xFFFE if raw[-1] == 0xBE else 0xFFFF
            self.invalid.append(InvalidChar(line, col, cp))

    # -- URLs ---------------------------------------------------------------------------------
    def _scan_urls(self, chunk: bytes, *, final: bool) -> None:
        if not self._collect_urls:
            return
        buf = self._url_carry + chunk
        if final:
            cut = len(buf)
        else:
            # URLs never contain these bytes, so no URL straddles the cut
            cut = max(buf.rfind(b"<"), buf.rfind(b" "), buf.rfind(b"\n"))
            if cut < len(buf) - _URL_CARRY:
                cut = len(buf) - _URL_CARRY
        if not self.urls_truncated:
            self._url_counts.update(_URL.findall(buf, 0, cut))
            if len(self._url_counts) > _MAX_URL_KEYS:
                self.urls_truncated = True
        self._url_carry = buf[cut:]

    @property
    def urls(self) -> dict[str, UrlStats]:
        """Per origin: occurrences, Jira-like links, and sample path prefixes."""
        out: dict[str, UrlStats] = {}
        for (origin_b, seg_b), n in self._url_counts.most_common():
            origin = origin_b.decode("ascii", "replace").lower()
            seg = seg_b.decode("ascii", "replace")
            stats = out.setdefault(origin, UrlStats())
            stats.count += n
            if seg.lower() in _JIRA_PATHS or seg.lower() + "/" in _JIRA_PATHS:
                stats.jira_like += n
            if seg and len(stats.samples) < 3:
                stats.samples.append(origin + seg + ("" if seg.endswith("/") else "/") + "...")
        return out
