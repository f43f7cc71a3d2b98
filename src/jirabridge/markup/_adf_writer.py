"""ADF -> Jira wiki markup.

Writes the notation the parser in :mod:`jirabridge.markup._wiki_parser` reads back to the same
document (wiki -> ADF -> wiki is stable after one round). Where Atlassian's own encoder loses
information or produces text that reads back differently (it does not escape ``*`` in plain
text, writes mentions of Server users as ``[~accountid:jsmith]`` and turns attachment groups
into thumbnails), this writer escapes, keeps the user name and writes ``[^file]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from jirabridge.markup._adf_validate import validate_adf
from jirabridge.markup._colours import PANEL_TYPE_HEX
from jirabridge.markup._context import MarkupContext, ReportKind
from jirabridge.markup._notation import CODE_LANGUAGES, EMOJI_ITEMS, WIKI_EMOJI
from jirabridge.markup._rewrite import rewrite_href, rewrite_issue_keys
from jirabridge.markup._urls import is_bare_link

__all__ = ["write_wiki"]

_KNOWN_LANGUAGES = frozenset(CODE_LANGUAGES)
_LANGUAGE_ALIASES = {
    "js": "javascript",
    "ts": "typescript",
    "py": "python",
    "sh": "shell",
    "bash": "shell",
    "cpp": "c++",
    "c#": "csharp",
    "cs": "csharp",
    "objc": "objective-c",
}
_PLAIN_LANGUAGES = frozenset({"text", "plaintext", "plain", "none", ""})
_EMOJI_WIKI: dict[str, str] = {}  # emoji id -> the first (canonical) wiki emoticon
for _emoticon, _emoji_id in WIKI_EMOJI.items():
    _EMOJI_WIKI.setdefault(_emoji_id, _emoticon)
_EMOJI_BY_SHORTNAME = {short: emoji_id for emoji_id, (short, _) in EMOJI_ITEMS.items()}
_ACCOUNT_ID = re.compile(r"[0-9a-f]{24}|\d+:[0-9a-f-]{36}|[0-9a-zA-Z]{6,}:[0-9a-f-]{8,}", re.I)
_FORMAT_CHARS = frozenset("*_+^~-?!")
_ALWAYS_ESCAPE = frozenset("{[|")
_ESCAPABLE = frozenset("-#*_+?^~|%{}[]()!@\\")
_LINE_START_LIST = re.compile(r"([*#-]+)(?= )")
_LINE_START_WORD = re.compile(r"bq\.|h[1-6]\.")
_MARK_SYMBOLS = {"em": "_", "strike": "-", "strong": "*", "underline": "+"}
_MARK_CHARS = {**_MARK_SYMBOLS, "subsup": "^"}
_DEFAULT_MEDIA_SIZE = (200, 183)
_WRAPPABLE = frozenset({"em", "strike", "strong", "underline", "subsup", "textColor"})


def _is_word(c: str) -> bool:
    return c != "" and c != "\xa0" and (c.isalnum() or not c.isascii())


# --- writer -----------------------------------------------------------------------------------


def _attrs(node: Mapping[str, Any]) -> Mapping[str, Any]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, Mapping) else {}


def _children(node: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    content = node.get("content")
    return content if isinstance(content, list) else []


def _plain_text(node: Mapping[str, Any]) -> str:
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    attrs = _attrs(node)
    for key in ("text", "shortName", "url"):
        value = attrs.get(key)
        if isinstance(value, str) and value:
            return value
    return "".join(_plain_text(child) for child in _children(node))


class _Writer:
    def __init__(self, ctx: MarkupContext | None) -> None:
        self.ctx = ctx

    def report(self, kind: ReportKind, detail: str, path: str) -> None:
        if self.ctx is not None:
            self.ctx.report.add(kind, detail, path)

    # --- blocks -----------------------------------------------------------------------------

    def blocks(self, nodes: Sequence[Mapping[str, Any]], path: str, sep: str = "\n\n") -> str:
        out = ""
        previous = ""
        for i, node in enumerate(nodes):
            part = self.block(node, f"{path}.content[{i}]")
            if part == "":
                continue
            joint = sep
            if node.get("type") == "mediaGroup" and previous == "mediaGroup":
                # Jira merges attachment groups that follow each other (depending on what
                # comes after them): write them as one group, so the text reads back the same
                self.report(ReportKind.LOSSY, "adjacent attachment groups merged", path)
                joint = " "
            elif node.get("type") == "paragraph" and sep == "\n\n":
                if previous == "table":
                    # a line that does not start with | ends a table: no blank line, which
                    # Jira would otherwise count as a break inside this paragraph
                    joint = "\n"
                elif previous in ("bulletList", "orderedList"):
                    # a list ends only at a blank line, which Jira counts towards the first
                    # line break of the next paragraph and splits it there: force that break
                    part = _FIRST_BREAK.sub(lambda _m: "\\\\", part, count=1)
            out = out + joint + part if out else part
            previous = str(node.get("type"))
        return out

    def block(self, node: Mapping[str, Any], path: str) -> str:
        kind = node["type"]
        method = getattr(self, f"b_{kind}", None)
        if method is not None:
            result: str = method(node, path)
            return result
        if kind in ("text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status"):
            return self.inlines([node], path)
        self.report(ReportKind.UNSUPPORTED, f"{kind} written as its text", path)
        content = _children(node)
        if content and all(c.get("type") not in _INLINE_KINDS for c in content):
            return self.blocks(content, path)
        return self.inlines(content, path) if content else self.escape(_plain_text(node), True)

    def b_paragraph(self, node: Mapping[str, Any], path: str) -> str:
        # Jira skips blank space at the start of every line, and line breaks at either end
        # of a paragraph: write neither, so the text reads back the same.
        text = self.inlines(_children(node), path)
        text = "\n".join(line.lstrip(" \t") for line in text.split("\n")).strip("\n")
        return text if text.strip() else ""

    def b_heading(self, node: Mapping[str, Any], path: str) -> str:
        level = _attrs(node).get("level", 1)
        if not isinstance(level, int) or not 1 <= level <= 6:
            level = 1
        text = self.inlines(_children(node), path)
        if "\n" in text:
            self.report(ReportKind.LOSSY, "line break in a heading", path)
            text = text.replace("\n", " ")
        return f"h{level}. {text}"

    def b_rule(self, node: Mapping[str, Any], path: str) -> str:
        return "----"

    def b_blockquote(self, node: Mapping[str, Any], path: str) -> str:
        children = _children(node)
        inner = self.blocks(children, path)
        if len(children) == 1 and children[0].get("type") == "paragraph" and "\n" not in inner:
            return "bq. " + inner
        return "{quote}\n" + self._unclose(inner, "quote", path) + "\n{quote}"

    def _unclose(self, inner: str, macro: str, path: str) -> str:
        """Text inside ``{macro}`` must not contain the closing tag (Jira has no escape)."""
        tag = "{" + macro + "}"
        if tag.lower() not in inner.lower():
            return inner
        self.report(ReportKind.LOSSY, f"{tag} inside a {macro}", path)
        return re.sub(re.escape(tag), "{ " + macro + "}", inner, flags=re.IGNORECASE)

    def b_panel(self, node: Mapping[str, Any], path: str) -> str:
        panel_type = _attrs(node).get("panelType", "info")
        colour = PANEL_TYPE_HEX.get(str(panel_type))
        if colour is None:
            self.report(ReportKind.LOSSY, f"panel type {panel_type} written as info", path)
            colour = PANEL_TYPE_HEX["info"]
        inner = self._unclose(self.blocks(_children(node), path), "panel", path)
        return f"{{panel:bgColor={colour}}}\n{inner}\n{{panel}}"

    def b_codeBlock(self, node: Mapping[str, Any], path: str) -> str:
        text = "".join(str(c.get("text", "")) for c in _children(node) if c.get("type") == "text")
        raw_language = _attrs(node).get("language")
        language = str(raw_language).lower() if isinstance(raw_language, str) else None
        if language is not None:
            language = _LANGUAGE_ALIASES.get(language, language)
        if "{code}" in text or "{noformat}" in text:
            self.report(ReportKind.LOSSY, "code block contains a closing macro tag", path)
            text = text.replace("{code}", "{ code}").replace("{noformat}", "{ noformat}")
        if text != text.strip():
            self.report(ReportKind.LOSSY, "leading/trailing blank space of a code block", path)
        if language is None or language in _PLAIN_LANGUAGES:
            return "{noformat}\n" + text + "\n{noformat}"
        if language not in _KNOWN_LANGUAGES:
            self.report(ReportKind.LOSSY, f"code language {language} unknown to Jira", path)
            return "{noformat}\n" + text + "\n{noformat}"
        return f"{{code:{language}}}\n{text}\n{{code}}"

    def b_bulletList(self, node: Mapping[str, Any], path: str) -> str:
        return self.list_(node, path, "*")

    def b_orderedList(self, node: Mapping[str, Any], path: str) -> str:
        return self.list_(node, path, "#")

    def b_taskList(self, node: Mapping[str, Any], path: str) -> str:
        self.report(ReportKind.LOSSY, "task list written as a bullet list", path)
        lines = []
        for i, item in enumerate(_children(node)):
            sub = f"{path}.content[{i}]"
            if item.get("type") == "taskList":
                lines.append(self.b_taskList(item, sub).replace("* ", "** ", 1))
                continue
            box = "(/)" if _attrs(item).get("state") == "DONE" else "(x)"
            lines.append(f"* {box} " + self.inlines(_children(item), sub).replace("\n", " "))
        return "\n".join(lines)

    def b_decisionList(self, node: Mapping[str, Any], path: str) -> str:
        self.report(ReportKind.LOSSY, "decision list written as a bullet list", path)
        return "\n".join(
            "* " + self.inlines(_children(item), f"{path}.content[{i}]").replace("\n", " ")
            for i, item in enumerate(_children(node))
        )

    def list_(self, node: Mapping[str, Any], path: str, symbol: str) -> str:
        lines: list[str] = []
        for i, item in enumerate(_children(node)):
            lines.extend(self.list_item(item, f"{path}.content[{i}]", symbol))
        return "\n".join(lines)

    def list_item(self, item: Mapping[str, Any], path: str, prefix: str) -> list[str]:
        lines: list[str] = []
        pending: list[str] = []

        def flush() -> None:
            if pending:
                lines.append(f"{prefix} " + "\n".join(pending))
                pending.clear()

        for i, child in enumerate(_children(item)):
            sub = f"{path}.content[{i}]"
            kind = child.get("type")
            if kind in ("bulletList", "orderedList"):
                flush()
                nested_symbol = "*" if kind == "bulletList" else "#"
                for j, nested in enumerate(_children(child)):
                    lines.extend(
                        self.list_item(nested, f"{sub}.content[{j}]", prefix + nested_symbol)
                    )
            elif kind == "paragraph":
                pending.append(self.inlines(_children(child), sub))
            else:
                if kind not in ("codeBlock", "mediaSingle", "mediaGroup"):
                    self.report(ReportKind.LOSSY, f"{kind} inside a list item", sub)
                pending.append(self.block(child, sub))
        flush()
        if lines and lines[0] == f"{prefix} ":
            lines = lines[1:]  # an empty item reads back as nothing: write nothing
        return lines

    def b_table(self, node: Mapping[str, Any], path: str) -> str:
        rows = []
        for i, row in enumerate(_children(node)):
            cells = []
            for j, cell in enumerate(_children(row)):
                sub = f"{path}.content[{i}].content[{j}]"
                header = cell.get("type") == "tableHeader"
                attrs = _attrs(cell)
                if attrs.get("colspan", 1) != 1 or attrs.get("rowspan", 1) != 1:
                    self.report(ReportKind.LOSSY, "merged table cells", sub)
                content = _children(cell)
                if any(c.get("type") == "rule" for c in content):
                    self.report(ReportKind.LOSSY, "horizontal rule inside a table cell", sub)
                    content = [c for c in content if c.get("type") != "rule"]
                if header:
                    content = [_drop_strong(c) for c in content]
                text = self.blocks(content, sub, sep="\n").strip("\n")
                text = re.sub(r"\n{2,}", "\n", text)
                marker = "||" if header else "|"
                cells.append(marker + (text if text.strip() else " "))
            if cells:
                last = "||" if cells[-1].startswith("||") else "|"
                rows.append("".join(cells) + last)
        return "\n".join(rows)

    def b_mediaSingle(self, node: Mapping[str, Any], path: str) -> str:
        parts = []
        width = _attrs(node).get("width")
        for i, media in enumerate(_children(node)):
            if media.get("type") != "media":
                continue
            parts.append(self.media(media, f"{path}.content[{i}]", width, single=True))
        return " ".join(parts)

    def b_mediaGroup(self, node: Mapping[str, Any], path: str) -> str:
        return " ".join(
            self.media(m, f"{path}.content[{i}]", None, single=False)
            for i, m in enumerate(_children(node))
            if m.get("type") == "media"
        )

    def media(self, media: Mapping[str, Any], path: str, percent: object, single: bool) -> str:
        attrs = _attrs(media)
        if attrs.get("type") == "external":
            name = str(attrs.get("url", ""))
        else:
            name = self.attachment_name(attrs, path)
        if not single:
            return f"[^{name}]"
        options = []
        if isinstance(percent, int | float) and not isinstance(percent, bool):
            options.append(f"width={int(percent)}%")
        else:
            size = (attrs.get("width"), attrs.get("height"))
            if all(isinstance(v, int | float) for v in size) and size != _DEFAULT_MEDIA_SIZE:
                options.append(f"width={int(size[0])},height={int(size[1])}")  # type: ignore[arg-type]
        alt = attrs.get("alt")
        if isinstance(alt, str) and alt:
            options.append(f'alt="{alt}"')
        for mark in media.get("marks") or ():
            if mark.get("type") == "link":
                href = str((mark.get("attrs") or {}).get("href", ""))
                if self.ctx is not None:
                    href = rewrite_href(href, self.ctx)
                options.append(f'href="{href}"')
        return f"!{name}|{','.join(options)}!" if options else f"!{name}!"

    def attachment_name(self, attrs: Mapping[str, Any], path: str) -> str:
        media_id = str(attrs.get("id", ""))
        if self.ctx is not None and self.ctx.attachments:
            mapped = self.ctx.attachments.get(media_id)
            if mapped is not None:
                return mapped
            self.report(ReportKind.UNMAPPED_ATTACHMENT, media_id, path)
        for key in ("__fileName", "alt"):
            value = attrs.get(key)
            if isinstance(value, str) and value and self.ctx is not None and media_id:
                return value
        return media_id

    def b_blockCard(self, node: Mapping[str, Any], path: str) -> str:
        url = str(_attrs(node).get("url") or "")
        if not url:
            self.report(ReportKind.LOSSY, "card without a URL", path)
            return ""
        return f"[{url}|{url}|smart-card]"

    def b_embedCard(self, node: Mapping[str, Any], path: str) -> str:
        url = str(_attrs(node).get("url") or "")
        return f"[{url}|{url}|smart-embed]" if url else ""

    def b_expand(self, node: Mapping[str, Any], path: str) -> str:
        self.report(ReportKind.LOSSY, "expand written as a titled section", path)
        title = str(_attrs(node).get("title") or "")
        body = self.blocks(_children(node), path)
        return (f"*{self.escape(title, True)}*\n\n" if title.strip() else "") + body

    b_nestedExpand = b_expand

    def b_layoutSection(self, node: Mapping[str, Any], path: str) -> str:
        self.report(ReportKind.LOSSY, "layout columns written one after the other", path)
        return "\n\n".join(
            self.blocks(_children(col), f"{path}.content[{i}]")
            for i, col in enumerate(_children(node))
        )

    # --- inlines ----------------------------------------------------------------------------

    def inlines(self, nodes: Sequence[Mapping[str, Any]], path: str) -> str:
        """Write inline nodes; a run of text nodes sharing one link becomes one ``[...|href]``."""
        out: list[str] = []
        i = 0
        while i < len(nodes):
            href = _link_href(nodes[i])
            if href is None:
                following = nodes[i + 1] if i + 1 < len(nodes) else None
                out.append(self._inlines(nodes[i : i + 1], path, i, following, out))
                i += 1
                continue
            j = i
            while j < len(nodes) and _link_href(nodes[j]) == href:
                j += 1
            outer = _outer_marks(nodes[i:j])
            run = [_without_link(n, outer) for n in nodes[i:j]]
            plain = "".join(str(n.get("text", "")) for n in run if not n.get("marks"))
            same = (
                all(not n.get("marks") for n in run)
                and plain == href
                and (self.escape(plain, False) == plain or "!" in plain)
            )
            if self.ctx is not None:
                href = rewrite_href(href, self.ctx)
            following = nodes[j] if j < len(nodes) else None
            if following is None or following.get("type") == "hardBreak":
                after = ""
            elif following.get("type") == "text" and not following.get("marks"):
                after = self.escape(str(following.get("text", "")), False)
            else:
                after = ":"  # whatever comes next may continue a URL: stay in brackets
            bare = plain == href and all(not n.get("marks") for n in run)
            if bare and is_bare_link(href, after):
                out.append(href)
            elif same:
                out.append(f"[{href}]")
            else:
                out.append(f"[{self._inlines(run, path, i, None, [])}|{href}]")
            for mark in outer:  # marks the document lists after the link go around it
                out[-1] = self._wrap_mark(out[-1], mark, "", "")
            i = j
        return "".join(out)

    def _inlines(
        self,
        nodes: Sequence[Mapping[str, Any]],
        path: str,
        offset: int,
        following: Mapping[str, Any] | None,
        written: list[str],
    ) -> str:
        out: list[str] = []
        for k, node in enumerate(nodes):
            i = k + offset
            sub = f"{path}.content[{i}]"
            kind = node.get("type")
            if kind == "text":
                nxt = nodes[k + 1] if k + 1 < len(nodes) else following
                tail = next((piece[-1] for piece in reversed(out) if piece), "")
                if not tail and not out:
                    tail = next((piece[-1] for piece in reversed(written[-3:]) if piece), "")
                out.append(self.text(node, tail, tail in ("", "\n"), nxt))
            elif kind == "hardBreak":
                out.append("\n")
            elif kind == "mention":
                out.append(self.mention(node, sub))
            elif kind == "emoji":
                nxt = nodes[k + 1] if k + 1 < len(nodes) else following
                next_text = str(nxt.get("text", "")) if nxt and nxt.get("type") == "text" else ""
                glued = next_text[:1].isascii() and next_text[:1].isalnum()
                out.append(self.emoji(node, sub, glued))
            elif kind == "inlineCard":
                url = str(_attrs(node).get("url") or "")
                if self.ctx is not None:
                    url = rewrite_href(url, self.ctx)
                out.append(f"[{url}|{url}|smart-link]" if url else "")
            elif kind == "date":
                out.append(self.date(node, sub))
            elif kind == "status":
                self.report(ReportKind.LOSSY, "status lozenge written as text", sub)
                out.append(self.escape(str(_attrs(node).get("text", "")).upper(), True))
            elif kind == "mediaInline":
                out.append(f"[^{self.attachment_name(_attrs(node), sub)}]")
            else:
                self.report(ReportKind.UNSUPPORTED, f"{kind} written as its text", sub)
                out.append(self.escape(_plain_text(node), True))
        return "".join(out)

    def date(self, node: Mapping[str, Any], path: str) -> str:
        self.report(ReportKind.LOSSY, "date written as text", path)
        raw = _attrs(node).get("timestamp")
        try:
            stamp = datetime.fromtimestamp(int(str(raw)) / 1000, tz=UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            return self.escape(str(raw or ""), True)
        return stamp.date().isoformat()

    def emoji(self, node: Mapping[str, Any], path: str, glued: bool) -> str:
        """The wiki emoticon when there is one (an emoticon right before a letter or digit
        reads back as text, so the emoji's own text is written there instead)."""
        attrs = _attrs(node)
        emoji_id = attrs.get("id")
        if not isinstance(emoji_id, str) or emoji_id not in _EMOJI_WIKI:
            emoji_id = _EMOJI_BY_SHORTNAME.get(str(attrs.get("shortName", "")))
        if emoji_id is not None and emoji_id in _EMOJI_WIKI:
            if not glued:
                return _EMOJI_WIKI[emoji_id]
            self.report(ReportKind.LOSSY, "emoticon right before a word written as text", path)
        text = attrs.get("text") or attrs.get("shortName") or ""
        return self.escape(str(text), True)

    def mention(self, node: Mapping[str, Any], path: str) -> str:
        attrs = _attrs(node)
        account_id = str(attrs.get("id", ""))
        shown = str(attrs.get("text") or "")
        users = self.ctx.users if self.ctx is not None else None
        if users is None:
            if account_id.lower().startswith("accountid:"):
                return f"[~{account_id}]"
            if _ACCOUNT_ID.fullmatch(account_id):
                return f"[~accountid:{account_id}]"
            return f"[~{account_id}]"
        reference = users.wiki_reference(account_id)
        if reference is None:
            self.report(ReportKind.UNRESOLVED_USER, account_id, path)
            name = shown.lstrip("@") or account_id
            return self.escape("@" + name, True)
        return f"[~{reference}]"

    def text(
        self,
        node: Mapping[str, Any],
        prev_char: str,
        at_line_start: bool,
        nxt: Mapping[str, Any] | None,
    ) -> str:
        raw = str(node.get("text", ""))
        marks = {
            str(m.get("type")): (m.get("attrs") or {})
            for m in node.get("marks") or ()
            if isinstance(m, Mapping)
        }
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
        if self.ctx is not None:
            raw = rewrite_issue_keys(raw, self.ctx)
        if "code" in marks:
            result = _code_text(raw)
        else:
            protect = frozenset(
                _MARK_CHARS[name]
                if name != "subsup"
                else ("~" if attrs.get("type") == "sub" else "^")
                for name, attrs in marks.items()
                if name in _MARK_CHARS
            )
            formatted = bool(protect)
            result = self.escape(raw, at_line_start, formatted, protect=protect or None)
            if "\\" in raw and not (nxt is not None and raw.endswith("\\")):
                # backslashes are rare: keep them as they are when the text reads back
                plain = self.escape(
                    raw, at_line_start, formatted, keep_backslashes=True, protect=protect or None
                )
                if _reads_back_as(plain, raw):
                    result = plain
        next_text = str(nxt.get("text", "")) if nxt and nxt.get("type") == "text" else ""
        next_char = next_text[:1]
        for name, attrs in marks.items():  # listed innermost first, as the parser lists them
            if name in ("code", "link"):
                continue
            if name == "em" and raw.startswith("\u2014 ") and "strong" not in marks:
                result = _wrap(result[2:], "??", prev_char, next_char)
            elif name in _MARK_SYMBOLS or name in ("subsup", "textColor"):
                result = self._wrap_mark(
                    result, {"type": name, "attrs": attrs}, prev_char, next_char
                )
            else:
                self.report(ReportKind.LOSSY, f"{name} mark dropped", "")
        return result

    @staticmethod
    def _wrap_mark(text: str, mark: Mapping[str, Any], prev_char: str, next_char: str) -> str:
        name = mark.get("type")
        attrs = mark.get("attrs") or {}
        if name == "textColor":
            return f"{{color:{attrs.get('color', '#000000')}}}{text}{{color}}"
        if name == "subsup":
            symbol = "~" if attrs.get("type") == "sub" else "^"
        else:
            symbol = _MARK_SYMBOLS[str(name)]
        return _wrap(text, symbol, prev_char, next_char)

    @staticmethod
    def escape(
        text: str,
        at_line_start: bool,
        formatted: bool = False,
        keep_backslashes: bool = False,
        protect: frozenset[str] | None = None,
    ) -> str:
        """Backslash-escape what would otherwise read back as notation.

        A formatted span needs a valid opening symbol (not after a letter, not before a space),
        so escaping every possible opening is enough; ``{``, ``[`` and ``|`` always start
        notation, list markers only at the start of a line, emoticons anywhere. Inside a text
        effect (``protect`` = its symbols) Jira drops the escapes before reading the text
        again, so only the symbols that would end the effect early are escaped there.
        """
        out: list[str] = []
        n = len(text)
        line_start = at_line_start
        for i, c in enumerate(text):
            prev = out[-1][-1] if out and out[-1] else ""
            nxt = text[i + 1] if i + 1 < n else ""
            if c == "\n":
                out.append(c)
                line_start = True
                continue
            if line_start and c in "*#-" and _LINE_START_LIST.match(text, i):
                out.append("\\" + c)
                line_start = False
                continue
            if line_start and c in "bh" and _LINE_START_WORD.match(text, i):
                # an empty macro: the line no longer starts with the keyword (inside a text
                # effect macros are dropped before the text is read again: use a zero-width
                # space there)
                out.append(("\u200b" if formatted else "{anchor}") + c)
                line_start = False
                continue
            line_start = line_start and c in " \t"
            opener = c in _FORMAT_CHARS and (
                (not _is_word(prev) and nxt != " " and (c != "?" or nxt == "?"))
                or (c == "-" and (prev == "-" or nxt == "-"))
            )
            if protect is not None and opener and prev != "\u200b" and c in text[i + 1 :]:
                # inside a text effect the escapes are gone when Jira reads the text again:
                # a zero-width space before the symbol makes it a non-opening one
                out.append("\u200b" + ("\\" + c if c in protect else c))
            elif c in _ALWAYS_ESCAPE or (opener and (protect is None or c in protect)):
                out.append("\\" + c)
            elif c == "\\" and not keep_backslashes and (nxt in ("", "\n") or nxt in _ESCAPABLE):
                # Jira has no escape for a backslash: before a special character it would
                # escape it (or make a line break), so a zero-width space keeps them apart.
                out.append(c + "\u200b")
            else:
                out.append(c)
        return _break_emoticons("".join(out))


_FIRST_BREAK = re.compile(r"\n(?![^\s\\]*\\)")
_INLINE_KINDS = frozenset(
    {"text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status", "mediaInline"}
)
_EMOTICONS = sorted(WIKI_EMOJI, key=len, reverse=True)


def _starts_emoticon(text: str, i: int) -> bool:
    return any(text.startswith(e, i) for e in _EMOTICONS)


def _break_emoticons(text: str) -> str:
    """Escape the bracket of text that would read back as an emoticon (``:)`` -> ``:\\)``)."""
    if not any(e in text for e in _EMOTICONS):
        return text
    out = text
    for e in _EMOTICONS:
        if e in out:
            bracket = next((k for k, ch in enumerate(e) if ch in "()"), None)
            if bracket is None:
                continue
            escaped = "\\(" + e[1:] if e[0] == "(" else e[:bracket] + "\\" + e[bracket:]
            out = out.replace(e, escaped)
    return out


def _reads_back_as(wiki: str, text: str) -> bool:
    from jirabridge.markup._api import wiki_to_adf

    content = wiki_to_adf(wiki)["content"]
    if len(content) != 1 or content[0].get("type") != "paragraph":
        return False
    nodes = content[0].get("content", [])
    return len(nodes) == 1 and nodes[0].get("text") == text and not nodes[0].get("marks")


def _code_text(text: str) -> str:
    """``{{text}}``; blank space at either end goes outside (Jira needs the braces to touch
    the text), line breaks become spaces, and ``}}`` inside is split."""
    inner = text.replace("\n", " ").replace("}}", "} }")
    stripped = inner.strip()
    if not stripped:
        return inner
    lead = inner[: len(inner) - len(inner.lstrip())]
    trail = inner[len(inner.rstrip()) :]
    return lead + "{{" + stripped + "}}" + trail


def _wrap(text: str, symbol: str, prev_char: str, next_char: str) -> str:
    stripped = text.strip()
    if not stripped:
        return text
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    inner_first = lead == "" and _is_word(prev_char)
    inner_last = trail == "" and _is_word(next_char)
    if inner_first or inner_last or symbol == "??":
        if symbol == "??":
            return f"{lead}??{stripped}??{trail}"
        return f"{lead}{{{symbol}}}{stripped}{{{symbol}}}{trail}"
    return f"{lead}{symbol}{stripped}{symbol}{trail}"


def _link_href(node: Mapping[str, Any]) -> str | None:
    if node.get("type") != "text":
        return None
    for mark in node.get("marks") or ():
        if isinstance(mark, Mapping) and mark.get("type") == "link":
            return str((mark.get("attrs") or {}).get("href", ""))
    return None


def _after_link(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    marks = [m for m in node.get("marks") or () if isinstance(m, Mapping)]
    names = [m.get("type") for m in marks]
    return marks[names.index("link") + 1 :] if "link" in names else []


def _outer_marks(run: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Text-effect marks every node of a link run lists after the link (they wrap the link)."""
    common = _after_link(run[0])
    for node in run[1:]:
        common = [m for m in common if m in _after_link(node)]
    return [m for m in common if m.get("type") in _WRAPPABLE]


def _without_link(
    node: Mapping[str, Any], outer: Sequence[Mapping[str, Any]] = ()
) -> Mapping[str, Any]:
    marks = [m for m in node.get("marks") or () if m.get("type") != "link" and m not in outer]
    return {**node, "marks": marks}


def _drop_strong(node: Mapping[str, Any]) -> Mapping[str, Any]:
    if node.get("type") == "text":
        marks = [m for m in node.get("marks") or () if m.get("type") != "strong"]
        return {**node, "marks": marks}
    content = node.get("content")
    if isinstance(content, list) and node.get("type") != "codeBlock":
        return {**node, "content": [_drop_strong(c) for c in content]}
    return node


def write_wiki(doc: Mapping[str, Any], ctx: MarkupContext | None = None) -> str:
    """Write an ADF document as wiki markup (validating its shape first)."""
    validate_adf(doc)
    writer = _Writer(ctx)
    return writer.blocks(_children(doc), "$")
