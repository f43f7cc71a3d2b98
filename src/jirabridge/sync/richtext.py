"""Rich text crossing from one site of a pair to the other (pure functions).

The engine holds rich text as ADF on both sides (the clients convert Server wiki markup).
Before a description, a textarea field or a comment body is written to the other site,
:func:`translate_doc` points everything in it that names something on the source site at the
matching thing on the target:

- issue keys of paired issues (in text, in link marks, in smart links / cards), the way
  :class:`~jirabridge.markup.MarkupContext` rewrites them: whole-word keys in text outside
  code, ``/browse/KEY`` in URLs;
- URLs on the source site's base URL, to the target's; ``/secure/attachment/<id>/<name>``
  URLs to the mirrored attachment;
- attachment references (``media`` / ``mediaInline`` nodes of ``type: file``): on Server
  the node's ``id`` is the file name (what wiki ``!name!`` and ``[^name]`` carry), on Cloud
  it is the media id of the attachment;
- user mentions, through the ids the caller resolved beforehand; a mention of someone unknown
  on the target becomes readable text (``@Display Name``) and is returned as a
  :class:`MentionMiss`.

What cannot be translated (an unpaired issue on the source site, an attachment without a
mirror) is left exactly as it is and recorded in the :class:`~jirabridge.markup.
ConversionReport`; nothing is dropped. :func:`reference_keys` and :func:`mention_ids` list what
a document refers to, so the caller can look up only those in the state store and the user
directories before translating.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jirabridge.markup import (
    ConversionReport,
    MarkupContext,
    ReportKind,
    find_issue_keys,
    rewrite_href,
    rewrite_issue_keys,
)
from jirabridge.sync.config import Side

__all__ = [
    "DocState",
    "MentionMiss",
    "MirroredAttachment",
    "RichTextLookups",
    "Translated",
    "mention_ids",
    "reference_keys",
    "refers_to_attachments",
    "translate_doc",
]

_BROWSE_KEY = re.compile(r"^/browse/([A-Z][A-Z0-9_]+-\d+)(?![A-Za-z0-9_])")
_ATTACHMENT_URL = re.compile(r"^/secure/attachment/(\d+)/([^?#]*)")
_FILE_MEDIA = frozenset({"media", "mediaInline"})
_CARDS = frozenset({"inlineCard", "blockCard", "embedCard"})


@dataclass(frozen=True)
class MirroredAttachment:
    """One attachment and its copy on the other site (an ``AttachmentPair`` row).

    ``cloud_media_id`` is Jira Cloud's Media Services file id of the Cloud attachment (what
    a Cloud ``media`` node carries), learned when the pair is recorded. Without it (a pair
    not yet asked) the Cloud attachment id stands for the file: a document written by an
    older version may carry it, and it is the best a target without media ids can get."""

    server_id: str
    cloud_id: str
    filename: str
    cloud_media_id: str | None = None

    @property
    def cloud_ref(self) -> str:
        """What a Cloud ``media`` node's ``id`` holds for this file."""
        return self.cloud_media_id or self.cloud_id

    def ref(self, side: Side) -> str:
        """The ``media`` node ``id`` on ``side``: the file name on Server."""
        return self.cloud_ref if side is Side.CLOUD else self.filename

    def attachment_id(self, side: Side) -> str:
        return self.cloud_id if side is Side.CLOUD else self.server_id


@dataclass(frozen=True)
class MentionMiss:
    """A mention whose user has no counterpart on the target (written as ``text``)."""

    user: str
    text: str


@dataclass(frozen=True)
class RichTextLookups:
    """What the source site's references become on ``target``.

    - ``issue_keys``: source issue key -> paired key on the target;
    - ``base_urls``: source site base URL -> target site base URL;
    - ``attachments``: the mirrored attachments of the issue pair;
    - ``mentions``: source user id (username on Server, accountId on Cloud) -> the target's;
      a mentioned id missing from it is a miss. None leaves mentions untouched;
    - ``names``: display names of source users, for the text a missed mention becomes;
    - ``unpaired``: source keys known to have no pair (looked up, not found): reported where
      they are met in text (a key never looked up is not judged).
    """

    target: Side
    issue_keys: Mapping[str, str] = field(default_factory=dict)
    base_urls: Mapping[str, str] = field(default_factory=dict)
    attachments: Sequence[MirroredAttachment] = ()
    mentions: Mapping[str, str] | None = None
    names: Mapping[str, str] = field(default_factory=dict)
    unpaired: frozenset[str] = frozenset()

    @property
    def source(self) -> Side:
        return self.target.other


@dataclass(frozen=True)
class Translated:
    """A translated document, what could not be translated, and the mentions that missed."""

    doc: Any
    report: ConversionReport
    mention_misses: tuple[MentionMiss, ...] = ()


@dataclass
class DocState:
    """What one apply job has gathered for the documents it translates (mutable: filled as
    the job looks things up, read by every translation of the job).

    - ``issue_keys``: per source side, source key -> the paired key on the other side;
    - ``looked_up``: per source side, the keys already looked up (paired or not);
    - ``attachments``: the issue pair's mirrored attachments, the ones this job copied too
      (``attachments_loaded`` once the stored ones are in);
    - ``names``: per source side, display names of mentioned users;
    - ``notes``: what the job's translations could not carry over, one entry per kind,
      reference and direction (``(kind, detail, source side)`` -> the source issue key).
    """

    issue_keys: dict[Side, dict[str, str]] = field(
        default_factory=lambda: {Side.SERVER: {}, Side.CLOUD: {}}
    )
    looked_up: dict[Side, set[str]] = field(
        default_factory=lambda: {Side.SERVER: set(), Side.CLOUD: set()}
    )
    attachments: list[MirroredAttachment] = field(default_factory=list)
    attachments_loaded: bool = False  # the stored ones (the issue pair exists)
    names: dict[Side, dict[str, str]] = field(
        default_factory=lambda: {Side.SERVER: {}, Side.CLOUD: {}}
    )
    notes: dict[tuple[ReportKind, str, Side], tuple[str, str]] = field(default_factory=dict)

    def note(self, result: Translated, source: Side, issue_key: str) -> None:
        """Keep what ``result`` could not translate (first occurrence wins): the detail,
        and for a mention the text it became."""
        shown = {m.user: m.text for m in result.mention_misses}
        for item in result.report.items:
            entry = (item.kind, item.detail, source)
            if entry not in self.notes:
                self.notes[entry] = (issue_key, shown.get(item.detail, ""))


# ---- what a document refers to ------------------------------------------------------------


def _nodes(doc: Any, *, skip: str = "") -> Iterator[Mapping[str, Any]]:
    """Every node of ``doc`` (a document, a node or a list of them), depth first, leaving
    out the nodes of type ``skip`` and everything inside them."""
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(reversed(item))
        elif isinstance(item, Mapping) and (not skip or item.get("type") != skip):
            yield item
            content = item.get("content")
            if isinstance(content, list):
                stack.extend(reversed(content))


def _attrs(node: Mapping[str, Any]) -> Mapping[str, Any]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, Mapping) else {}


def _in_code(node: Mapping[str, Any]) -> bool:
    return any(isinstance(m, Mapping) and m.get("type") == "code" for m in _marks(node))


def _marks(node: Mapping[str, Any]) -> list[Any]:
    marks = node.get("marks")
    return marks if isinstance(marks, list) else []


def _urls(node: Mapping[str, Any]) -> Iterator[str]:
    kind = node.get("type")
    attrs = _attrs(node)
    if kind in _CARDS or (kind in _FILE_MEDIA and attrs.get("type") == "external"):
        url = attrs.get("url")
        if isinstance(url, str):
            yield url
    for m in _marks(node):
        if isinstance(m, Mapping) and m.get("type") == "link":
            href = _attrs(m).get("href")
            if isinstance(href, str):
                yield href


def reference_keys(doc: Any) -> set[str]:
    """Issue keys ``doc`` refers to: whole-word keys in text outside code, and the keys of
    ``/browse/KEY`` links (whatever their site: the caller looks them up by key)."""
    out: set[str] = set()
    for node in _nodes(doc, skip="codeBlock"):
        if node.get("type") == "text" and not _in_code(node):
            out.update(find_issue_keys(str(node.get("text", ""))))
        for url in _urls(node):
            at = url.find("/browse/")
            if at >= 0:
                m = _BROWSE_KEY.match(url[at:])
                if m:
                    out.add(m[1])
    return out


def refers_to_attachments(doc: Any) -> bool:
    """Whether ``doc`` holds a file reference (``media`` / ``mediaInline``) or a link to an
    attachment (``/secure/attachment/``): only then are the mirrored attachments needed."""
    for node in _nodes(doc):
        if node.get("type") in _FILE_MEDIA and _attrs(node).get("type") != "external":
            return True
        if any("/secure/attachment/" in url for url in _urls(node)):
            return True
    return False


def mention_ids(doc: Any) -> set[str]:
    """The user ids of the mentions in ``doc``."""
    out: set[str] = set()
    for node in _nodes(doc):
        if node.get("type") == "mention":
            ident = _attrs(node).get("id")
            if isinstance(ident, str) and ident:
                out.add(ident)
    return out


# ---- translation --------------------------------------------------------------------------


class _Translator:
    def __init__(self, lookups: RichTextLookups) -> None:
        self.lk = lookups
        self.report = ConversionReport()
        self.ctx = MarkupContext(
            issue_keys=lookups.issue_keys, base_urls=lookups.base_urls, report=self.report
        )
        self.misses: dict[str, MentionMiss] = {}
        self._by_ref = self._attachment_index()

    def _attachment_index(self) -> dict[str, MirroredAttachment]:
        """Source-side reference -> attachment; the newest of equal file names wins (the
        one a wiki ``!name!`` shows)."""
        index: dict[str, MirroredAttachment] = {}
        source = self.lk.source
        for att in sorted(self.lk.attachments, key=lambda a: _numeric(a.attachment_id(source))):
            if source is Side.CLOUD:
                index[att.cloud_id] = att
                if att.cloud_media_id:
                    index[att.cloud_media_id] = att
            index[f"name:{att.filename}"] = att
        return index

    # -- nodes

    def node(self, node: Any, path: str, *, code: bool = False) -> Any:
        if isinstance(node, list):
            return [self.node(n, f"{path}[{i}]", code=code) for i, n in enumerate(node)]
        if not isinstance(node, Mapping):
            return node
        kind = node.get("type")
        if kind == "mention" and self.lk.mentions is not None:
            return self.mention(node, path)
        out = dict(node)
        if kind == "text" and not code and not _in_code(node):
            text = node.get("text")
            if isinstance(text, str):
                out["text"] = self.text(text, path, _link_of(node))
        if kind in _CARDS or (kind in _FILE_MEDIA and _attrs(node).get("type") == "external"):
            url = _attrs(node).get("url")
            if isinstance(url, str):
                out["attrs"] = {**_attrs(node), "url": self.url(url, path)}
        elif kind in _FILE_MEDIA and isinstance(node.get("attrs"), Mapping):
            out["attrs"] = self.media(_attrs(node), path)
        if isinstance(node.get("marks"), list):
            out["marks"] = [self.mark(m, path) for m in _marks(node)]
        content = node.get("content")
        if isinstance(content, list):
            inner = code or kind == "codeBlock"
            out["content"] = [
                self.node(c, f"{path}.content[{i}]", code=inner) for i, c in enumerate(content)
            ]
        return out

    def mark(self, mark: Any, path: str) -> Any:
        if not isinstance(mark, Mapping) or mark.get("type") != "link":
            return mark
        href = _attrs(mark).get("href")
        if not isinstance(href, str):
            return mark
        return {**mark, "attrs": {**_attrs(mark), "href": self.url(href, path)}}

    def text(self, text: str, path: str, href: str | None) -> str:
        if href is not None and text == href:
            return self.url(href, path)  # a link showing its own URL shows the new one
        if self.lk.unpaired:
            for key in find_issue_keys(text):
                if key in self.lk.unpaired:
                    self.report.add(ReportKind.UNMAPPED_ISSUE, key, path)
        return rewrite_issue_keys(text, self.ctx)

    def url(self, url: str, path: str) -> str:
        """A URL on the source site, pointed at the target; any other URL as it is (a
        ``/browse/`` link elsewhere is not ours to rewrite, even with a paired key)."""
        base = _base_of(url, self.lk.base_urls)
        if base is None:
            return url
        rest = url[len(base.rstrip("/")) :]
        browse = _BROWSE_KEY.match(rest)
        if browse and browse[1] not in self.lk.issue_keys:
            self.report.add(ReportKind.UNMAPPED_ISSUE, browse[1], path)
            return url  # the target's issue of that key is another one: keep the source's
        attachment = _ATTACHMENT_URL.match(rest)
        if attachment:
            found = self._by_attachment_id(attachment[1])
            if found is None:
                self.report.add(ReportKind.UNMAPPED_ATTACHMENT, attachment[1], path)
                return url
            target_base = self.lk.base_urls[base].rstrip("/")
            tail = rest[attachment.end() :]
            return (
                f"{target_base}/secure/attachment/{found.attachment_id(self.lk.target)}/"
                f"{attachment[2]}{tail}"
            )
        return rewrite_href(url, self.ctx)

    def _by_attachment_id(self, attachment_id: str) -> MirroredAttachment | None:
        source = self.lk.source
        return next(
            (a for a in self.lk.attachments if a.attachment_id(source) == attachment_id), None
        )

    def media(self, attrs: Mapping[str, Any], path: str) -> dict[str, Any]:
        ident = attrs.get("id")
        ident = ident if isinstance(ident, str) else ""
        found = self._by_ref.get(ident) if self.lk.source is Side.CLOUD else None
        if found is None:
            names = [ident] if self.lk.source is Side.SERVER else []
            names += [v for k in ("__fileName", "alt") if isinstance(v := attrs.get(k), str)]
            if self.lk.source is Side.CLOUD:
                names.append(ident)  # a v2 wiki write keeps the file name as the id
            found = next(
                (self._by_ref[f"name:{n}"] for n in names if f"name:{n}" in self._by_ref), None
            )
        if found is None:
            self.report.add(ReportKind.UNMAPPED_ATTACHMENT, ident, path)
            return dict(attrs)
        return {**attrs, "id": found.ref(self.lk.target)}

    def mention(self, node: Mapping[str, Any], path: str) -> dict[str, Any]:
        attrs = _attrs(node)
        ident = str(attrs.get("id") or "")
        mapped = (self.lk.mentions or {}).get(ident)
        if mapped is not None:
            return {**node, "attrs": {**attrs, "id": mapped}}
        shown = str(attrs.get("text") or "").lstrip("@")
        name = shown or self.lk.names.get(ident) or ident or "?"
        text = f"@{name}"
        self.report.add(ReportKind.UNRESOLVED_USER, ident, path)
        self.misses.setdefault(ident, MentionMiss(ident, text))
        return {"type": "text", "text": text}


def _link_of(node: Mapping[str, Any]) -> str | None:
    for m in _marks(node):
        if isinstance(m, Mapping) and m.get("type") == "link":
            href = _attrs(m).get("href")
            return href if isinstance(href, str) else None
    return None


def _numeric(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (-1, value)


def _base_of(url: str, bases: Iterable[str]) -> str | None:
    for base in bases:
        trimmed = base.rstrip("/")
        if url == trimmed or url.startswith((trimmed + "/", trimmed + "?", trimmed + "#")):
            return base
    return None


def translate_doc(doc: Any, lookups: RichTextLookups) -> Translated:
    """``doc`` (ADF from the source site) as the target site should receive it.

    Never raises on odd content: anything that is not a well-formed node is copied as it is.
    The input is not modified."""
    translator = _Translator(lookups)
    out = translator.node(doc, "$")
    return Translated(out, translator.report, tuple(translator.misses.values()))
