"""Links: the URL rules of the link scanner (safe schemes, a browser's normalisation) and
Jira's link grammar (``[alias|target|title]``, ``[space:page^attachment]``)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from jirabridge.markup._nodes import InvalidContentError

__all__ = [
    "BAD_END",
    "LINK_TEXT",
    "Link",
    "is_bare_link",
    "is_safe_url",
    "normalise_url",
]

LINK_TEXT = re.compile(
    r"((?:(?:https?|ftps?)://)|irc://|mailto:)"
    r"([\w?!~^/\\#$%&'()*+,\-./:;<=@]*[\w~^/\\#$%&'()*+,\-/:;<=@])",
    re.IGNORECASE | re.ASCII,
)
BAD_END = re.compile(r"[.,>)\];}\"'!]*\Z")

_SAFE_URL = re.compile(
    r"(?:https?|ftps?|gopher|integrity|file|smb|dynamicsnav|jamfselfservice|scp|sftp|hipchat)://"
    r"|/|mailto:|skype:|callto:|facetime:|git:|irc6?:|news:|nntp:|feed:|cvs:|svn:|mvn:|ssh:"
    r"|itms:|notes:|sourcetree:|urn:|tel:|xmpp:|telnet:|vnc:|rdp:|whatsapp:|slack:|sips?:"
    r"|magnet:|#",
    re.IGNORECASE,
)


def is_safe_url(url: str) -> bool:
    trimmed = url.strip()
    return not trimmed or _SAFE_URL.match(trimmed) is not None


_DEFAULT_PORTS = {"http": "80", "https": "443", "ftp": "21", "ws": "80", "wss": "443"}
# WHATWG URL percent-encode sets (besides C0 controls and non-ASCII, always encoded)
_PATH_ENCODE = frozenset(' "<>`{}')
_QUERY_ENCODE = frozenset(" \"<>'")
_FRAGMENT_ENCODE = frozenset(' "<>`')


def _percent_encode(part: str, encode: frozenset[str]) -> str:
    out = []
    for c in part:
        if c in encode or ord(c) < 0x20 or ord(c) > 0x7E:
            out.append("".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass")))
        else:
            out.append(c)
    return "".join(out)


def normalise_url(raw: str) -> str:
    """What a browser's ``new URL(raw).href`` gives for the URLs the link scanner accepts:
    scheme and host lower-cased, default port dropped, the root path made explicit,
    backslashes in the path read as slashes, unsafe characters percent-encoded."""
    try:
        parts = urlsplit(raw)
    except ValueError as exc:
        raise InvalidContentError("not a URL") from exc
    scheme = parts.scheme.lower()
    if scheme in ("http", "https", "ftp", "ftps"):
        if not parts.netloc:
            raise InvalidContentError("URL without host")
        userinfo, _, hostport = parts.netloc.rpartition("@")
        host, sep, port = hostport.partition(":")
        if port and _DEFAULT_PORTS.get(scheme) == port:
            sep, port = "", ""
        netloc = (userinfo + "@" if userinfo else "") + host.lower() + sep + port
        path = parts.path.replace("\\", "/") or "/"
        out = f"{scheme}://{netloc}{_percent_encode(path, _PATH_ENCODE)}"
        if parts.query or (raw.endswith("?") and not parts.fragment):
            out += "?" + _percent_encode(parts.query, _QUERY_ENCODE)
        if parts.fragment or raw.endswith("#"):
            out += "#" + _percent_encode(parts.fragment, _FRAGMENT_ENCODE)
        return out
    return scheme + raw[len(scheme) :]


def is_bare_link(url: str, written_after: str = "") -> bool:
    """Whether ``url`` written bare (no brackets), followed by ``written_after``, reads back
    as exactly this link."""
    m = LINK_TEXT.match(url + written_after)
    if not m or m[1] == "mailto:" or "\\" in url:
        return False
    if BAD_END.sub("", m[0]) != url:
        return False
    try:
        return normalise_url(url) == url
    except InvalidContentError:
        return False


class _Buf:
    """A mutable string, for the link grammar's cut-and-keep steps."""

    __slots__ = ("s",)

    def __init__(self, s: str) -> None:
        self.s = s

    def divide_on(self, divider: str) -> str | None:
        if not self.s:
            return None
        i = self.s.find(divider)
        if i < 0:
            return None
        if i == 0:
            self.s = self.s[1:]
            return None
        body = self.s[:i]
        self.s = self.s[i + 1 :]
        return body

    def divide_after(self, index: int) -> str | None:
        if index < 0:
            return None
        if index == len(self.s) - 1:
            self.s = self.s[:-1]
            return None
        body = self.s[index + 1 :]
        self.s = self.s[:index]
        return body


def _strip(value: str | None) -> str | None:
    return None if value is None else value.strip()


class Link:
    __slots__ = ("attachment", "body", "not_body", "original", "title")

    def __init__(self, original: str) -> None:
        self.original = original
        text = original.replace("&#039;", "'", 1)
        buf = _Buf(text)
        self.body = self._extract_body(buf)
        self.title = _strip(buf.divide_after(buf.s.find("|")))
        self.not_body = buf.s.strip()
        self.attachment = self._attachment()

    @staticmethod
    def _extract_body(buf: _Buf) -> str | None:
        bang = buf.s.find("!")
        pipe = buf.s.find("|")
        if bang == -1 or bang > pipe or bang == buf.s.rfind("!"):
            return buf.divide_on("|")
        body: list[str] = []
        in_escape = False
        for i, c in enumerate(buf.s):
            if c == "!":
                in_escape = not in_escape
            if c == "|" and not in_escape:
                buf.s = buf.s[i + 1 :]
                return "".join(body)
            body.append(c)
        return None

    def _attachment(self) -> str | None:
        shortcut = None
        if not self.not_body.startswith("~"):
            sbuf = _Buf(self.not_body)
            shortcut = _strip(sbuf.divide_after(sbuf.s.rfind("@")) if sbuf.s else None)
        if shortcut and shortcut.strip():
            return None
        buf = _Buf(self.not_body)
        buf.divide_on(":")
        if buf.s.startswith("$"):
            digits = re.match(r"\d*", buf.s[1:])
            if not digits or not digits[0] or int(digits[0]) == 0:
                return None
            buf.s = buf.s[1 + len(digits[0]) :]
        return _strip(buf.divide_after(buf.s.find("^")))
