"""Rich text on the wire: wiki markup strings (Server v2, Cloud v2) or ADF (Cloud v3).

The model keeps rich text in the site's native form (wiki ``str`` on Server, ADF ``dict`` on
Cloud). :func:`to_wire` and :func:`from_wire` convert between the stored form and the form of
the API version of the request with :mod:`jirabridge.markup`. On a Cloud site, wiki mentions
are ``[~accountid:<id>]`` (Cloud REST v2) and ADF mentions carry the accountId; the
:class:`CloudV2Users` directory does that translation. Embedded files are ``!name!`` in wiki
and ``media`` nodes carrying the attachment's media file id (a UUID) in Cloud ADF. Should the
converter ever fail on a value, a plain-paragraph fallback keeps the text (the emulator must
not crash on content).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from jirabridge.emulator.model import NotFound
from jirabridge.markup import MarkupContext, ResolvedUser
from jirabridge.markup import adf_to_wiki as _adf_to_wiki
from jirabridge.markup import wiki_to_adf as _wiki_to_adf

__all__ = ["CloudV2Users", "adf_to_wiki", "from_wire", "is_adf", "to_wire", "wiki_to_adf"]

_ACCOUNT_PREFIX = "accountid:"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class CloudV2Users:
    """Mentions as Cloud REST v2 writes them: ``[~accountid:<accountId>]`` <-> ADF mention."""

    def __init__(self, site: Any) -> None:
        self._users = getattr(site, "users", {})

    def resolve_wiki_user(self, reference: str) -> ResolvedUser | None:
        account_id = (
            reference[len(_ACCOUNT_PREFIX) :]
            if reference.startswith(_ACCOUNT_PREFIX)
            else reference
        )
        user = self._users.get(account_id)
        name = user.display_name if user is not None else ""
        return ResolvedUser(account_id=account_id, display_name=name)

    def wiki_reference(self, account_id: str) -> str | None:
        return f"{_ACCOUNT_PREFIX}{account_id}"


class _MediaNames(Mapping[str, str]):
    """Media id -> file name over all attachments of a Cloud site (media ids are unique
    site-wide): how Cloud v2 writes an ADF ``media`` node as wiki ``!name!``."""

    def __init__(self, site: Any) -> None:
        self._site = site

    def __getitem__(self, media_id: str) -> str:
        find = getattr(self._site, "attachment_by_media_id", None)
        if find is None or not _UUID.match(media_id):
            raise KeyError(media_id)
        try:
            return str(find(media_id).filename)
        except NotFound as exc:
            raise KeyError(media_id) from exc

    def __iter__(self) -> Iterator[str]:
        return iter(())  # looked up one id at a time, never listed

    def __len__(self) -> int:
        return len(getattr(self._site, "attachments", ()))


def _context(site: Any, attachments: Mapping[str, str] | None = None) -> MarkupContext | None:
    if site is None:
        return None
    return MarkupContext(users=CloudV2Users(site), attachments=attachments or {})


def _fallback_wiki_to_adf(text: str) -> dict[str, Any]:
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    content: list[dict[str, Any]] = []
    for para in paragraphs:
        inline: list[dict[str, Any]] = []
        for i, line in enumerate(para.split("\n")):
            if i:
                inline.append({"type": "hardBreak"})
            if line:
                inline.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": inline})
    return {"type": "doc", "version": 1, "content": content}


def _collect_text(node: Any, out: list[str]) -> None:
    if not isinstance(node, Mapping):
        return
    kind = node.get("type")
    if kind == "text":
        out.append(str(node.get("text", "")))
    elif kind == "hardBreak":
        out.append("\n")
    elif kind == "mention":
        attrs = node.get("attrs") or {}
        out.append(f"[~{_ACCOUNT_PREFIX}{attrs.get('id', '')}]")
    for child in node.get("content") or []:
        _collect_text(child, out)


def _fallback_adf_to_wiki(doc: Mapping[str, Any]) -> str:
    blocks: list[str] = []
    for block in doc.get("content") or []:
        parts: list[str] = []
        _collect_text(block, parts)
        blocks.append("".join(parts))
    return "\n\n".join(blocks)


def wiki_to_adf(
    text: str, site: Any = None, attachments: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Wiki markup -> ADF document (mentions as Cloud v2 writes them when ``site`` is given;
    ``attachments``: file name -> media id of the issue's files, for ``!name!``)."""
    try:
        return _wiki_to_adf(text, _context(site, attachments))
    except Exception:  # a converter bug must not crash the emulator
        return _fallback_wiki_to_adf(text)


def adf_to_wiki(doc: Mapping[str, Any], site: Any = None) -> str:
    """ADF document -> wiki markup (mentions as ``[~accountid:...]`` and media ids as file
    names when ``site`` is given)."""
    try:
        return _adf_to_wiki(doc, _context(site, _MediaNames(site) if site is not None else None))
    except Exception:  # a converter bug must not crash the emulator
        return _fallback_adf_to_wiki(doc)


def is_adf(value: Any) -> bool:
    """True for a dict that looks like an ADF document."""
    return isinstance(value, Mapping) and value.get("type") == "doc"


def to_wire(stored: Any, *, adf_api: bool, site: Any = None) -> Any:
    """Stored rich text -> the request's API form (ADF for Cloud v3, wiki otherwise)."""
    if stored is None:
        return None
    if adf_api:
        if is_adf(stored):
            return stored
        return wiki_to_adf(str(stored), site)
    if isinstance(stored, Mapping):
        return adf_to_wiki(stored, site)
    return stored


def from_wire(
    value: Any,
    *,
    native_adf: bool,
    site: Any = None,
    attachments: Mapping[str, str] | None = None,
) -> Any:
    """A value from a request -> the site's native form (ADF on Cloud, wiki on Server).

    The caller has already checked the type against the API version (string for v2, ADF
    document for v3). ``attachments`` (file name -> media id of the issue's files) makes a
    Cloud ``!name!`` a ``media`` node of that file, as Jira Cloud does.
    """
    if value is None:
        return None
    if native_adf:
        if is_adf(value):
            return value
        return wiki_to_adf(str(value), site, attachments)
    if isinstance(value, Mapping):
        return adf_to_wiki(value, site)
    return value
