"""Builds ``corpus.jsonl``: the wiki markup conformance corpus (run again after editing).

    .venv/bin/python tests/data/markup/build_corpus.py [--shared ../shared]

Three sources, one category each:
- ``fixture``: every rich text found in ``shared/fixtures`` (webhook descriptions and comment
  bodies, descriptions in the Jira 8.8 backup's ``entities.xml``);
- ``notation``: Jira's documented text formatting notation (the "Text Formatting Notation Help"
  page: headings, text effects, breaks, links, lists, images, tables, advanced formatting,
  emoticons);
- ``edge``: hard cases: nesting, unbalanced markers, escapes, unicode, blank lines, Windows
  newlines, huge tables, long lines.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lxml import etree

HERE = Path(__file__).resolve().parent
RICH_KEYS = ("description", "body", "environment")


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value


def fixture_texts(shared: Path) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for path in sorted((shared / "fixtures" / "webhooks").rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for key, value in _walk(data):
            if key in RICH_KEYS and isinstance(value, str) and value.strip():
                found.setdefault(value, f"webhook:{path.stem}:{key}")
    backup = shared / "fixtures" / "backups" / "jira-8.8.0-h2" / "backup.zip"
    if backup.exists():
        with zipfile.ZipFile(backup) as archive:
            raw = archive.read("entities.xml")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        root = etree.fromstring(raw, parser)
        for element in root.iter():
            for attr in ("description", "body", "environment", "summary"):
                value = element.get(attr)
                if value and value.strip():
                    found.setdefault(value, f"backup:{element.tag}:{attr}")
            if element.tag in RICH_KEYS and element.text and element.text.strip():
                found.setdefault(element.text, f"backup:{element.tag}")
    return [(text, source) for text, source in found.items()]


NOTATION = [
    # headings
    "h1. Biggest heading",
    "h2. Bigger heading",
    "h3. Big heading",
    "h4. Normal heading",
    "h5. Small heading",
    "h6. Smallest heading",
    # text effects
    "*strong*",
    "_emphasis_",
    "??citation??",
    "-deleted-",
    "+inserted+",
    "^superscript^",
    "~subscript~",
    "{{monospaced}}",
    "bq. Some block quoted text",
    "{quote}\n    here is quoteable\n content to be quoted\n{quote}",
    "{color:red}\n    look ma, red text!\n{color}",
    # text breaks
    "(empty line) produces a new paragraph\n\nsecond paragraph",
    "Creates a line break.\\\\Not often needed, most of the time Jira will guess new lines"
    " for you.",
    "----",
    "a --- b",
    "a -- b",
    # links
    "[#anchor]",
    "[^attachment.ext]",
    "[http://jira.atlassian.com]",
    "[Atlassian|http://atlassian.com]",
    "[mailto:legendaryservice@atlassian.com]",
    "[file:///c:/temp/foo.txt]",
    "[file:///z:/file/on/network/share.txt]",
    "{anchor:anchorname}",
    "[~username]",
    # lists
    "* some\n* bullet\n** indented\n** bullets\n* points",
    "- different\n- bullet\n- types",
    "# a\n# numbered\n# list",
    "# a\n# numbered\n#* with\n#* nested\n#* bullet\n# list",
    "* a\n* bulleted\n*# with\n*# nested\n*# numbered\n* list",
    # images
    "!http://www.host.com/image.gif!",
    "!attached-image.gif!",
    "!image.jpg|thumbnail!",
    "!image.gif|align=right, vspace=4!",
    "!quicktime.mov!",
    "!spaceKey:pageTitle^attachment.mov!",
    "!quicktime.mov|width=300,height=400!",
    "!media.wmv|id=media!",
    # tables
    "||heading 1||heading 2||heading 3||\n|col A1|col A2|col A3|\n|col B1|col B2|col B3|",
    # advanced
    "{noformat}\npreformatted piece of text\n so *no* further _formatting_ is done here\n"
    "{noformat}",
    "{panel}Some text{panel}",
    "{panel:title=My Title}\nSome text with a title\n{panel}",
    "{panel:title=My Title|borderStyle=dashed|borderColor=#ccc|titleBGColor=#F7D6C1"
    "|bgColor=#FFFFCE}\n"
    "a block of text surrounded with a *panel*\nyet _another_ line\n{panel}",
    "{code:title=Bar.java|borderStyle=solid}\n// Some comments here\npublic String getFoo()\n{\n"
    "    return foo;\n}\n{code}",
    '{code:xml}\n    <test>\n        <another tag="attribute"/>\n    </test>\n{code}',
    # misc
    "\\X escapes the X",
    ":) :( :P :D ;) (y) (n) (i) (/) (x) (!)",
    "(+) (-) (?) (on) (off) (*) (*r) (*g) (*b) (*y) (flag) (flagoff)",
    # documented colours and languages
    "{color:blue}blue{color} {color:#0077ff}hex{color} {color:green}green{color}",
    "{code:java}\nclass A {}\n{code}",
    "{code:javascript}\nvar x = 1;\n{code}",
    "{code:sql}\nSELECT * FROM issue;\n{code}",
    "{code:python}\nprint('hi')\n{code}",
    "{code:bash}\necho hi\n{code}",
    "{code:ruby}\nputs 1\n{code}",
    "{code}\nno language\n{code}",
    "{panel:bgColor=#deebff}info{panel}",
    "{panel:bgColor=#e3fcef}success{panel}",
    "{panel:bgColor=#fffae6}warning{panel}",
    "{panel:bgColor=#ffebe6}error{panel}",
    "{panel:bgColor=#eae6ff}note{panel}",
    "Text with an issue key PROJ-123 in it",
    "[PROJ-123]",
    "[A link to a space|SPACE:Page Title]",
    "!image.png|width=50%!",
    '!image.png|alt="Alt text"!',
    '!image.png|href="http://example.com"!',
]


def edge_cases() -> list[str]:
    cases = [
        "",
        " ",
        "\n",
        "\n\n\n",
        "plain text",
        "a\r\nb",
        "a\r\n\r\nb",
        "a\rb",
        "line one\nline two\n\n\n\nafter many blank lines",
        "trailing newline\n",
        "   leading spaces",
        "\ttab start",
        "*unclosed bold",
        "closed* only",
        "**double stars**",
        "* not a list because*",
        "*bold*text",
        "text*bold*",
        "*bold *",
        "* bold*",
        "*a*b*c*",
        "*multi\nline*",
        "_em_ _ _ _x_",
        "snake_case_variable and another_one",
        "2*3*4 = 24",
        "a - b - c",
        "-not deleted",
        "--",
        "---",
        "-----",
        "------",
        "---- ",
        "text ----\nmore",
        "--text--",
        "+plus+minus-",
        "C++ and C# and F#",
        "x^2^ + y^2^",
        "H~2~O",
        "??not closed",
        "?? spaced ??",
        "{{code with *stars*}}",
        "{{unclosed mono",
        "{{}}",
        "{{ spaced }}",
        "*_-+nested+-_*",
        "*{{code in bold}}*",
        "_{color:red}red in em{color}_",
        "{color:red}*bold in red*{color}",
        "{color:#FF0000}upper hex{color}",
        "{color:#f00}short hex{color}",
        "{color:rgb(10,20,30)}rgb{color}",
        "{color:nonsense}unknown colour{color}",
        "{color:red}unclosed colour",
        "{color}empty{color}",
        "{*}braced{*}bold",
        "a{_}braced{_}em",
        "x{{{}mono{{}}}}y",
        "\\*escaped\\*",
        "\\\\ a forced break at start",
        "double backslash\\\\\\\\",
        "C:\\Users\\name\\file.txt",
        "\\{code}not code\\{code}",
        "\\[not a link]",
        "\\!not an image\\!",
        "\\|not a table|",
        "trailing backslash\\",
        "日本語のテキスト *太字* _斜体_",
        "Ünïcödé *bøld*",
        "emoji 😀 inline 🎉",
        "right-to-left עברית *מודגש*",
        "nbsp\u00a0*bold*\u00a0after",
        "zero\u200bwidth",
        "[~user.name] [~user@example.com] [~JIRAUSER10000]",
        "[~accountid:5b10a2844c20165700ede21g]",
        "[~accountid:557058:f58131cb-b67d-43c7-b30d-6b58d40bd077]",
        "Hi [~jsmith], please review [~mjones].",
        "[~]",
        "[~accountid:]",
        "[Name|~jsmith]",
        "[]",
        "[ ]",
        "[|]",
        "[a|b|c]",
        "[unsafe|javascript:alert(1)]",
        "[relative|/browse/PROJ-1]",
        "[anchor link|#section]",
        "[http://example.com/a_b_c]",
        "[link with *bold* text|http://example.com]",
        "[http://example.com|http://example.com]",
        "[https://example.com/path?query=1&x=2#frag]",
        "https://example.com/path_with_underscores_",
        "http://example.com/a,b.",
        "see http://example.com.",
        "(see http://example.com/x)",
        "mailto:someone@example.com",
        "ftp://files.example.com/pub/file.zip",
        "irc://irc.example.net/channel",
        "http://EXAMPLE.com/Path",
        "http://example.com",
        "http://example.com:80/x",
        "url with spaces http://example.com/a b",
        "[^file with spaces.pdf]",
        "[^a.pdf] [^b.pdf]",
        "[^a.pdf]\n[^b.pdf]",
        "[^a.pdf]\n\n[^b.pdf]",
        "text before [^a.pdf] text after",
        "!a.png!!b.png!",
        "!a.png! !b.png!",
        "!a.png|thumbnail!",
        "!a.png|width=100!",
        "!a.png|height=100!",
        "!a.png|width=abc!",
        "!a.png|width=150%!",
        "! not an image !",
        "wow! really!",
        "!no-close",
        "!http://example.com/img.png|width=10,height=20!",
        "h1.No space heading",
        "h1. ",
        "h7. not a heading",
        "h1. *bold heading*",
        "h2. heading with [link|http://x.com]",
        "h3. heading with !image.png!",
        "  h1. indented heading",
        "text\nh1. heading after text\nmore",
        "bq.",
        "bq. *quoted bold*",
        "bq. line\nnext line",
        "{quote}{quote}",
        "{quote}\n* list in quote\n{quote}",
        "{quote}\nh1. heading in quote\n{quote}",
        "{quote}\nh4. small heading in quote\n{quote}",
        "{quote}\n||table||in quote||\n{quote}",
        "{quote}unclosed quote",
        "{Quote}mixed case{Quote}",
        "{panel}{panel}",
        "{panel}\n* list\n# numbered\n{panel}",
        "{panel}\n{code}code in panel{code}\n{panel}",
        "{panel:title=Only title}{panel}",
        "{panel:bgColor=red}red panel{panel}",
        "{panel:bgColor=#abc}short hex panel{panel}",
        "{panel:bgColor=rgb(255,250,230)}rgb panel{panel}",
        "{code}{code}",
        "{code:objc}\n[x y];\n{code}",
        "{code:unknown}\nx\n{code}",
        "{code:title=Title.java}\nx\n{code}",
        "{code:JAVA}\nupper\n{code}",
        "{code}\n  indented\n    more\n{code}",
        "{code}*not bold*{code}",
        "{code}unclosed code",
        "text {code}inline code macro{code} text",
        "{noformat}{noformat}",
        "{noformat:title=T}x{noformat}",
        "{noformat}\n\n\nblank lines\n\n\n{noformat}",
        "{anchor:top}Text after anchor",
        "{loremipsum}",
        "{unknownmacro}x{unknownmacro}",
        '{adf}{"type":"rule"}{adf}',
        "{adf}not json{adf}",
        "* one",
        "*one",
        "* ",
        "* a\n\n* b",
        "* a\n# b",
        "# a\n* b",
        "* a\n** b\n*** c\n**** d",
        "* a\n*** deep jump",
        "*** starts deep",
        "* a\n** b\n* c\n** d",
        "# a\n## b\n### c\n## d\n# e",
        "* a\n*# b\n*# c\n* d",
        "* item with *bold* and _em_",
        "* item with [link|http://x.com]",
        "* item\n{code}\ncode in list\n{code}",
        "* item\n!image.png!",
        "* item\n[^file.pdf]",
        "* item\nh1. heading in list",
        "* item\nbq. quote in list",
        "* item\n||table||after list||",
        "* item\n----\n* after rule",
        "* item\n\ntext after list",
        "- dash item\n- another",
        "-- not a list",
        "* a\n  * indented b",
        "   * indented list",
        "#notalist",
        "# ",
        "||a||b||\n|1|2|",
        "|a|b|",
        "|a|b",
        "||a||",
        "| spaced | cells |",
        "|a||b|",
        "||h1|c1|",
        "|a|\n\n|b|",
        "|a|\ntext after table",
        "|multi\nline cell|next|",
        "|cell with [link|http://x.com]|2|",
        "|cell with !img.png!|2|",
        "|cell with (y)|2|",
        "|cell with {code}x|y{code}|2|",
        "|cell with *bold*|_em_|",
        "||*bold header*||{{code header}}||",
        "|* list in cell|2|",
        "|a|b|c|\n|1|2|\n|x|",
        "|   |empty|",
        "||||",
        "text before\n|a|b|",
        "(y)(n)",
        ":):(",
        "a:)b",
        ":)b",
        "(i)nfo",
        "(flag)s",
        "(*)",
        "(off)line",
        ";-) wink",
        ":-D :-P :-) :-(",
        "smile :) at end :)",
        "time 10:30 (approx)",
        "[link]: not a link",
        "{not a macro}",
        "{",
        "}",
        "{{",
        "[",
        "]",
        "!",
        "|",
        "\\",
        "*",
        "_",
        "-",
        "+",
        "^",
        "~",
        "?",
        "??",
        "{color:red}",
        "{code:java}",
        "{panel:title=T}",
        "\u2028line separator",
        "emoji 👍🏽 skin tone",
    ]
    # generated: marks in every context
    marks = ["*b*", "_e_", "-s-", "+u+", "^p^", "~d~", "??c??", "{{m}}"]
    for m in marks:
        cases.append(f"before {m} after")
        cases.append(f"* item {m}")
        cases.append(f"|{m}|cell|")
        cases.append(f"h3. heading {m}")
    cases.append("|" + "|".join(f"c{i}" for i in range(40)) + "|")
    cases.append("\n".join("|" + "|".join(f"r{r}c{c}" for c in range(8)) + "|" for r in range(60)))
    cases.append(
        "||"
        + "||".join(f"H{i}" for i in range(6))
        + "||\n"
        + "\n".join("|" + "|".join(f"*{r}.{c}*" for c in range(6)) + "|" for r in range(25))
    )
    cases.append("word " * 400)
    cases.append("\n".join(f"* item {i}" for i in range(100)))
    cases.append("\n\n".join(f"Paragraph {i} with *bold* and _em_." for i in range(50)))
    cases.append("*" * 50)
    cases.append("_" * 50)
    cases.append("[" * 30 + "]" * 30)
    cases.append("{" * 30 + "}" * 30)
    cases.append("*a " * 100)
    return cases


def spec_documents(shared: Path) -> list[dict[str, Any]]:
    """ADF documents given as examples in the Jira Cloud platform OpenAPI spec."""
    spec = json.loads(
        (shared / "specs" / "jira-cloud-platform.v3.openapi.json").read_text(encoding="utf-8")
    )
    found: dict[str, dict[str, Any]] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") == "doc" and isinstance(value.get("content"), list):
                found.setdefault(json.dumps(value, sort_keys=True), value)
                return
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(spec)
    return list(found.values())


def _t(text: str, *marks: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": text}
    if marks:
        node["marks"] = list(marks)
    return node


def _p(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


def _doc(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(content)}


def _m(kind: str, **attrs: Any) -> dict[str, Any]:
    return {"type": kind, "attrs": attrs} if attrs else {"type": kind}


def _li(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "listItem", "content": list(content)}


def _cell(kind: str, *content: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "attrs": {}, "content": list(content)}


def cloud_documents() -> list[dict[str, Any]]:
    """Documents as the Cloud editor writes them (what wiki markup cannot always express)."""
    acc = "5b10ac8d82e05b22cc7d4ef5"
    docs = [
        _doc(_p(_t("plain")), _p(_t("second paragraph"))),
        _doc(_p(_t("bold", _m("strong")), _t(" and "), _t("italic", _m("em")))),
        _doc(_p(_t("all", _m("strong"), _m("em"), _m("underline"), _m("strike")))),
        _doc(
            _p(
                _t("E=mc"),
                _t("2", _m("subsup", type="sup")),
                _t(" H"),
                _t("2", _m("subsup", type="sub")),
            )
        ),
        _doc(_p(_t("red", _m("textColor", color="#ff5630")), _t(" then plain"))),
        _doc(_p(_t("in"), _t("side", _m("strong")), _t("word"))),
        _doc(_p(_t("code ", _m("code")), _t("after"))),
        _doc(_p(_t("link", _m("link", href="https://example.com")), _t(" text"))),
        _doc(_p(_t("bold link", _m("link", href="https://example.com"), _m("strong")))),
        _doc(_p(_t("https://example.com/a_b", _m("link", href="https://example.com/a_b")))),
        _doc(_p(_t("mail me", _m("link", href="mailto:me@example.com")))),
        _doc(
            _p(
                _t("Hi "),
                {"type": "mention", "attrs": {"id": acc, "text": "@John", "accessLevel": ""}},
                _t("!"),
            )
        ),
        _doc(
            _p(
                {
                    "type": "emoji",
                    "attrs": {"shortName": ":slight_smile:", "id": "1f642", "text": "🙂"},
                },
                _t(" "),
                {
                    "type": "emoji",
                    "attrs": {"shortName": ":thumbsup:", "id": "1f44d", "text": "👍"},
                },
            )
        ),
        _doc(
            _p(
                {
                    "type": "emoji",
                    "attrs": {"shortName": ":info:", "id": "atlassian-info", "text": ":info:"},
                }
            )
        ),
        _doc(_p(_t("line one"), {"type": "hardBreak"}, _t("line two"))),
        _doc(_p(_t("text with *stars* and _underscores_ and [brackets] {braces} a|b"))),
        _doc(_p(_t("- not a list")), _p(_t("# not numbered")), _p(_t("h1. not a heading"))),
        _doc(_p(_t(":) (y) -- --- ----"))),
        _doc({"type": "heading", "attrs": {"level": 1}, "content": [_t("Title")]}, _p(_t("body"))),
        _doc(
            {
                "type": "heading",
                "attrs": {"level": 3},
                "content": [_t("Mixed "), _t("bold", _m("strong"))],
            }
        ),
        _doc({"type": "bulletList", "content": [_li(_p(_t("a"))), _li(_p(_t("b")))]}),
        _doc(
            {
                "type": "orderedList",
                "attrs": {"order": 1},
                "content": [
                    _li(_p(_t("one")), {"type": "bulletList", "content": [_li(_p(_t("nested")))]}),
                    _li(_p(_t("two"))),
                ],
            }
        ),
        _doc(
            {
                "type": "bulletList",
                "content": [
                    _li(
                        _p(_t("item")),
                        {
                            "type": "codeBlock",
                            "attrs": {"language": "java"},
                            "content": [_t("int x;")],
                        },
                    )
                ],
            }
        ),
        _doc(
            {"type": "bulletList", "content": [_li(_p(_t("a")))]},
            _p(_t("after list"), {"type": "hardBreak"}, _t("second line")),
        ),
        _doc(
            {
                "type": "codeBlock",
                "attrs": {"language": "python"},
                "content": [_t("def f():\n    return 1")],
            }
        ),
        _doc({"type": "codeBlock", "attrs": {}, "content": [_t("no language")]}),
        _doc(
            {
                "type": "codeBlock",
                "attrs": {"language": "javascript"},
                "content": [_t("let a = {b: 1};")],
            }
        ),
        _doc({"type": "blockquote", "content": [_p(_t("quoted"))]}),
        _doc({"type": "blockquote", "content": [_p(_t("q1")), _p(_t("q2"))]}),
        _doc(
            *[
                {"type": "panel", "attrs": {"panelType": kind}, "content": [_p(_t(kind))]}
                for kind in ("info", "note", "success", "warning", "error")
            ]
        ),
        _doc({"type": "rule"}, _p(_t("after rule"))),
        _doc(
            {
                "type": "table",
                "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
                "content": [
                    {
                        "type": "tableRow",
                        "content": [
                            _cell("tableHeader", _p(_t("H1", _m("strong")))),
                            _cell("tableHeader", _p(_t("H2", _m("strong")))),
                        ],
                    },
                    {
                        "type": "tableRow",
                        "content": [
                            _cell("tableCell", _p(_t("a"))),
                            _cell("tableCell", _p(_t("b"))),
                        ],
                    },
                ],
            }
        ),
        _doc(
            {
                "type": "table",
                "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
                "content": [
                    {
                        "type": "tableRow",
                        "content": [
                            _cell("tableCell", _p(_t("multi"), {"type": "hardBreak"}, _t("line"))),
                            _cell("tableCell", _p()),
                        ],
                    },
                ],
            },
            _p(_t("after table"), {"type": "hardBreak"}, _t("more")),
        ),
        _doc(
            {
                "type": "mediaSingle",
                "attrs": {"layout": "center"},
                "content": [
                    {"type": "media", "attrs": {"type": "file", "id": "shot.png", "collection": ""}}
                ],
            }
        ),
        _doc(
            {
                "type": "mediaSingle",
                "attrs": {"layout": "center"},
                "content": [
                    {
                        "type": "media",
                        "attrs": {"type": "external", "url": "https://example.com/i.png"},
                    }
                ],
            }
        ),
        _doc(
            {
                "type": "mediaGroup",
                "content": [
                    {"type": "media", "attrs": {"type": "file", "id": "a.pdf", "collection": ""}},
                    {"type": "media", "attrs": {"type": "file", "id": "b.pdf", "collection": ""}},
                ],
            }
        ),
        _doc(_p({"type": "inlineCard", "attrs": {"url": "https://example.com/browse/X-1"}})),
        _doc({"type": "blockCard", "attrs": {"url": "https://example.com/page"}}),
        _doc(
            _p(
                _t("status "),
                {"type": "status", "attrs": {"text": "done", "color": "green", "localId": "s1"}},
            )
        ),
        _doc({"type": "expand", "attrs": {"title": "Details"}, "content": [_p(_t("hidden"))]}),
        _doc(
            {
                "type": "taskList",
                "attrs": {"localId": "t"},
                "content": [
                    {
                        "type": "taskItem",
                        "attrs": {"localId": "1", "state": "DONE"},
                        "content": [_t("done")],
                    }
                ],
            }
        ),
        _doc(_p(_t("unicode 日本語 — “quotes” ünïcödé"))),
        _doc(_p(_t("C:\\path\\to\\file and a trailing \\"))),
    ]
    return docs


def _case_id(category: str, text: str) -> str:
    return f"{category}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:10]}"


def build(shared: Path) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    seen: set[str] = set()

    def add(category: str, text: str, source: str) -> None:
        if text in seen:
            return
        seen.add(text)
        out.append(
            {"id": _case_id(category, text), "category": category, "source": source, "wiki": text}
        )

    for text, source in fixture_texts(shared):
        add("fixture", text, source)
    for text in NOTATION:
        add("notation", text, "Text Formatting Notation Help")
    for text in edge_cases():
        add("edge", text, "hand-written")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=HERE.parents[3] / "shared")
    parser.add_argument("--out", type=Path, default=HERE / "corpus.jsonl")
    args = parser.parse_args()
    adf_cases = [
        {
            "id": _case_id("adf-spec", json.dumps(d, sort_keys=True)),
            "category": "adf-spec",
            "adf": d,
        }
        for d in spec_documents(args.shared)
    ] + [
        {
            "id": _case_id("adf-cloud", json.dumps(d, sort_keys=True)),
            "category": "adf-cloud",
            "adf": d,
        }
        for d in cloud_documents()
    ]
    with (args.out.parent / "adf_corpus.jsonl").open("w", encoding="utf-8") as fh:
        for adf_case in adf_cases:
            fh.write(json.dumps(adf_case, ensure_ascii=False) + "\n")
    print(f"{len(adf_cases)} ADF cases -> {args.out.parent / 'adf_corpus.jsonl'}")
    cases = build(args.shared)
    with args.out.open("w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(json.dumps(case, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for case in cases:
        counts[case["category"]] = counts.get(case["category"], 0) + 1
    print(f"{len(cases)} cases -> {args.out} {counts}")


if __name__ == "__main__":
    main()
