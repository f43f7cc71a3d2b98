"""Run JQL over one emulated site, as each flavour's search does.

``search(site, jql, *, viewer_key, flavour)`` parses and compiles the query once (through a
:class:`~jirabridge.emulator.jql.Resolver` over the site), scans only the issues the query can
match (``project = X`` and ``key = / IN`` use the site's indexes instead of a full scan), keeps
the issues the viewer may browse, and orders them. The :class:`SearchResult` holds every match
in order; the faces page it: :meth:`SearchResult.server_page` (``startAt``/``maxResults``, no
result past the 10,000 window) and :meth:`SearchResult.cloud_page` (``nextPageToken``, valid
7 days, bound to the query).

Values resolve as each flavour does: users by username, email or key on Server and by
accountId on Cloud; status, priority, issue type and resolution by name or id; project by
key, name or id; sprint by id or name. Without ``ORDER BY`` issues come ``key DESC`` (Jira's
default sort), except free-text (``~``) queries, which Jira ranks by relevance (approximated:
term hits damped by text length, then ``key DESC``); ``ORDER BY f`` without a direction uses
the field's default (dates, priority and votes descending), as Jira does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jirabridge.emulator.jql import (
    FieldDef,
    FieldKind,
    FieldRef,
    JqlError,
    Resolver,
    SortSpec,
    Validation,
    check_arity,
    compile_query,
    parse,
    pinned_literals,
)
from jirabridge.emulator.model import Flavour, Issue, Site, StatusCategory

__all__ = [
    "CLOUD_TOKEN_LIFETIME",
    "DEFAULT_ORDER",
    "SERVER_MAX_RESULT_WINDOW",
    "UNBOUNDED",
    "CloudPage",
    "PageTokenError",
    "SearchResult",
    "ServerPage",
    "SiteResolver",
    "plain_text",
    "search",
]

DEFAULT_ORDER = (SortSpec(FieldRef("key"), descending=True),)
SERVER_MAX_RESULT_WINDOW = 10_000  # jira.search.platform.max.result.window
CLOUD_TOKEN_LIFETIME = timedelta(days=7)
UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
_KEY_FIELDS = frozenset({"key", "issuekey", "issue", "id"})
_FREE_TEXT = frozenset({"textfield", "textarea", "gh-epic-label"})
_PROJECT_FIELDS = frozenset({"project"})


class PageTokenError(JqlError):
    """A ``nextPageToken`` that is malformed, expired, or from another query."""


@dataclass(frozen=True)
class ServerPage:
    """One Server ``/search`` page: ``total`` counts every match, even past the window."""

    issues: tuple[Issue, ...]
    start_at: int
    max_results: int
    total: int


@dataclass(frozen=True)
class CloudPage:
    """One Cloud ``/search/jql`` page: no total; ``next_page_token`` None on the last page."""

    issues: tuple[Issue, ...]
    next_page_token: str | None
    is_last: bool


@dataclass(frozen=True)
class SearchResult:
    """Every issue the query matches that the viewer may browse, in query order.

    ``warnings`` are the validation problems a ``validation="warn"`` search let through
    (Jira's ``warningMessages``).
    """

    jql: str
    issues: tuple[Issue, ...]
    warnings: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return len(self.issues)

    def server_page(
        self, start_at: int = 0, max_results: int = 50, *, window: int = SERVER_MAX_RESULT_WINDOW
    ) -> ServerPage:
        """``startAt``/``maxResults`` paging; nothing at or past ``window`` is ever returned."""
        start = max(start_at, 0)
        size = max(max_results, 0)
        end = min(start + size, window, len(self.issues))
        page = self.issues[start:end] if start < end else ()
        return ServerPage(tuple(page), start, size, len(self.issues))

    def cloud_page(
        self, now: datetime, next_page_token: str | None = None, max_results: int = 50
    ) -> CloudPage:
        """Token paging; the token names this query and an offset and lives 7 days."""
        offset = 0 if not next_page_token else _read_token(next_page_token, self.jql, now)
        size = max(max_results, 1)
        page = self.issues[offset : offset + size]
        nxt = offset + len(page)
        if nxt >= len(self.issues):
            return CloudPage(tuple(page), None, True)
        return CloudPage(tuple(page), _make_token(self.jql, nxt, now), False)


def _query_hash(jql: str) -> str:
    return hashlib.sha256(jql.strip().encode()).hexdigest()[:16]


def _make_token(jql: str, offset: int, now: datetime) -> str:
    raw = json.dumps({"q": _query_hash(jql), "o": offset, "t": int(now.timestamp())})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_token(token: str, jql: str, now: datetime) -> int:
    bad = PageTokenError("The provided next page token is invalid or expired.")
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset, issued, qhash = int(data["o"]), int(data["t"]), str(data["q"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise bad from exc
    age = now.timestamp() - issued
    if qhash != _query_hash(jql) or offset < 0 or age > CLOUD_TOKEN_LIFETIME.total_seconds():
        raise bad
    return offset


def search(
    site: Site,
    jql: str,
    *,
    viewer_key: str | None,
    flavour: Flavour | None = None,
    require_bounded: bool = False,
    validation: Validation | str = Validation.STRICT,
) -> SearchResult:
    """Run ``jql`` on ``site`` for ``viewer_key`` (None: anonymous, sees nothing).

    ``flavour`` defaults to the site's. ``require_bounded`` refuses a query without a
    restriction (Cloud's ``/search/jql``). ``validation`` is Jira's ``validateQuery``:
    ``"strict"`` raises every semantic problem, ``"warn"``/``"none"`` run the query with the
    faulty clauses matching nothing (Cloud's ``/search/jql`` behaves so: 200, no issues).
    Syntax errors always raise. Raises :class:`JqlError` with Jira's wording.
    """
    flavour = flavour or site.flavour
    query = parse(jql)
    if require_bounded and query.where is None:
        raise JqlError(UNBOUNDED)
    resolver = SiteResolver(site, viewer_key, flavour)
    compiled = compile_query(query, resolver, default_order=DEFAULT_ORDER, validation=validation)
    browsable = resolver.browsable_projects()
    matches = compiled.matches
    found = [
        issue
        for issue in _candidates(site, query.where, resolver)
        if issue.project_id in browsable and matches(issue)
    ]
    return SearchResult(jql, tuple(compiled.sort(found)), compiled.warnings)


def _candidates(site: Site, where: Any, resolver: SiteResolver) -> Iterable[Issue]:
    keys = pinned_literals(where, _KEY_FIELDS)
    if keys is not None:
        seen: dict[int, Issue] = {}
        for literal in keys:
            issue = _find_issue(site, literal)
            if issue is not None:
                seen.setdefault(issue.id, issue)
        return sorted(seen.values(), key=lambda i: i.id)
    projects = pinned_literals(where, _PROJECT_FIELDS)
    if projects is not None:
        ids: set[int] = set()
        for literal in projects:
            ids |= {p for p in resolver.project_ids(literal) if isinstance(p, int)}
        out = [
            site.issues[iid]
            for pid in sorted(ids)
            for iid in site.issues_by_project.get(pid, {})
            if iid in site.issues
        ]
        return sorted(out, key=lambda i: i.id)
    return list(site.issues.values())


# -- plain text of native rich text ------------------------------------------------------


def plain_text(value: object) -> str:
    """Searchable text of a native rich-text value: wiki ``str`` as is, ADF ``dict`` walked.

    The walk is iterative, so a hostile, deeply nested document cannot exhaust the stack.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    parts: list[str] = []
    stack: list[object] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            text = node.get("text")
            if isinstance(text, str):
                parts.append(text)
            attrs = node.get("attrs")
            if isinstance(attrs, Mapping) and node.get("type") == "mention":
                mention = attrs.get("text")
                if isinstance(mention, str):
                    parts.append(mention)
            stack.append(node.get("content"))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return " ".join(parts)


# -- the resolver ------------------------------------------------------------------------


def _as_id(text: str) -> int | None:
    """``text`` as a numeric id, or None (only ASCII digits: ``'²'.isdigit()`` is true too)."""
    stripped = text.strip()
    return int(stripped) if stripped.isascii() and stripped.isdigit() else None


def _find_issue(site: Site, text: str) -> Issue | None:
    """The issue a JQL literal names (key, old key or id), without tripping on odd digits."""
    ref = text.strip()
    if not ref.isascii():
        return None
    return site.find_issue(ref)


def _lookup(
    table: Mapping[int, Any], text: str, name_of: Callable[[Any], str]
) -> frozenset[object]:
    ident = _as_id(text)
    if ident is not None and ident in table:
        return frozenset({ident})
    low = text.lower()
    return frozenset(k for k, v in table.items() if name_of(v).lower() == low)


class SiteResolver(Resolver[Issue]):
    """Field definitions and function inputs of one site, for one viewer and flavour."""

    def __init__(self, site: Site, viewer_key: str | None, flavour: Flavour) -> None:
        self.site = site
        self.flavour = flavour
        viewer = site.users.get(viewer_key) if viewer_key is not None else None
        self.viewer = viewer if viewer is not None and viewer.active else None
        self._tz = _zone(self.viewer.time_zone if self.viewer is not None else "UTC")
        self._status_pos = {sid: n for n, sid in enumerate(site.statuses)}
        self._priority_pos = {pid: n for n, pid in enumerate(site.priorities)}
        self._texts: dict[int, str] = {}
        self._free_text_ids = tuple(
            fd.id
            for fd in self._custom_fields()
            if (fd.custom or "").rsplit(":", 1)[-1] in _FREE_TEXT
        )

    # -- Resolver API ----------------------------------------------------------------
    def now(self) -> datetime:
        return self.site.now()

    def time_zone(self) -> tzinfo:
        return self._tz

    def current_user(self) -> object | None:
        return None if self.viewer is None else self.viewer.key

    def members_of(self, group: str) -> frozenset[object] | None:
        found = self.site.groups.get(group)
        if found is None:
            low = group.lower()
            found = next((g for g in self.site.groups.values() if g.name.lower() == low), None)
        return None if found is None else frozenset(found.members)

    def sprints(self, state: str) -> frozenset[object]:
        wanted = {"open": ("active", "future"), "closed": ("closed",), "future": ("future",)}[state]
        return frozenset(s.id for s in self.site.sprints.values() if str(s.state) in wanted)

    def field(self, name: str, cf_id: int | None) -> FieldDef[Issue] | None:
        if cf_id is not None:
            for fd in self._custom_fields():
                if fd.custom_id == cf_id:
                    return self._custom(fd)
            return None
        low = name.lower()
        builder = _SYSTEM_FIELDS.get(low)
        if builder is not None:
            return builder(self)
        for fd in self._custom_fields():
            if fd.name.lower() == low or fd.id.lower() == low:
                return self._custom(fd)
        return None

    # -- permissions -----------------------------------------------------------------
    def browsable_projects(self) -> frozenset[int]:
        """Projects the viewer may browse (the site's ``can_browse``); none when anonymous."""
        site = self.site
        if self.viewer is None:
            return frozenset()
        return frozenset(p for p in site.projects if site.can_browse(self.viewer.key, p))

    # -- value resolution --------------------------------------------------------------
    def project_ids(self, text: str, _name: str = "project") -> frozenset[object]:
        site = self.site
        pid = site.projects_by_key.get(text.upper())
        if pid is not None:
            return frozenset({pid})
        return _lookup(site.projects, text, lambda p: p.name)

    def issue_key(self, text: str, name: str) -> frozenset[object]:
        issue = _find_issue(self.site, text)
        if issue is not None:
            return frozenset({(issue.project_id, issue.number)})
        head, _, num = text.strip().rpartition("-")
        if not head or _as_id(num) is None:
            if _as_id(text) is not None:
                raise JqlError(f"An issue with key '{text}' does not exist for field '{name}'.")
            raise JqlError(f"The issue key '{text}' for field '{name}' is invalid.")
        raise JqlError(f"An issue with key '{text}' does not exist for field '{name}'.")

    def issue_id(self, text: str, name: str) -> frozenset[object]:
        issue = _find_issue(self.site, text)
        if issue is None:
            raise JqlError(f"An issue with key '{text}' does not exist for field '{name}'.")
        return frozenset({issue.id})

    def user(self, text: str, _name: str) -> frozenset[object]:
        site = self.site
        if self.flavour is Flavour.CLOUD:
            user = site.users.get(text)  # Cloud JQL names users by accountId only
            return frozenset() if user is None else frozenset({user.key})
        user = site.find_user(text)  # Server: username, key or email ...
        if user is not None:
            return frozenset({user.key})
        low = text.lower()  # ... then full name, as Jira's user resolver falls back to
        return frozenset(u.key for u in site.users.values() if u.display_name.lower() == low)

    def user_sort(self, key: object) -> object:
        user = self.site.users.get(key) if isinstance(key, str) else None
        return None if user is None else user.display_name.lower()

    def sprint(self, text: str, _name: str) -> frozenset[object]:
        return _lookup(self.site.sprints, text, lambda s: s.name)

    def _custom_fields(self) -> list[Any]:
        return [
            fd
            for fd in self.site.fields.values()
            if fd.custom_id is not None and self.flavour in fd.flavours and fd.searchable
        ]

    def _date(self, value: object) -> datetime | None:
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=self._tz)
        return None

    def _custom(self, fd: Any) -> FieldDef[Issue]:
        fid: str = fd.id
        stype: str = fd.schema_type
        items: str | None = fd.items
        custom: str = fd.custom or ""
        short = custom.rsplit(":", 1)[-1]

        def raw(issue: Issue) -> Any:
            return issue.fields.get(fid)

        if short == "gh-sprint" or fid == self.site.agile.sprint:
            return FieldDef(
                fid,
                FieldKind.SPRINT,
                lambda i: frozenset(raw(i) or ()),
                self.sprint,
                lambda i: max(raw(i) or (0,)),
                multi=True,
            )
        if short == "gh-lexo-rank":
            return _rank(self)
        if short == "gh-epic-link":
            return FieldDef(fid, FieldKind.VALUE, raw, self.issue_id, None)
        if stype == "number":
            return FieldDef(fid, FieldKind.NUMBER, raw, None, raw)
        if stype in ("date", "datetime"):
            return FieldDef(
                fid,
                FieldKind.DATE,
                lambda i: self._date(raw(i)),
                None,
                lambda i: self._date(raw(i)),
            )
        if stype == "user" or (stype == "array" and items == "user"):
            multi = stype == "array"
            return FieldDef(
                fid,
                FieldKind.USER,
                (lambda i: frozenset(raw(i) or ())) if multi else raw,
                self.user,
                None if multi else (lambda i: self.user_sort(raw(i))),
                multi=multi,
            )
        if stype == "option" or (stype == "array" and items in ("option", "option-with-child")):
            options = fd.options
            multi = stype == "array"

            def resolve_option(text: str, _name: str) -> frozenset[object]:
                return _lookup(options, text, lambda o: o.value)

            def option_sort(i: Issue) -> object:
                value = raw(i)
                first = value[0] if isinstance(value, list) and value else value
                opt = options.get(first) if isinstance(first, int) else None
                return None if opt is None else opt.value.lower()

            return FieldDef(
                fid,
                FieldKind.VALUE,
                (lambda i: frozenset(raw(i) or ())) if multi else raw,
                resolve_option,
                option_sort,
                multi=multi,
            )
        if stype == "array":
            return FieldDef(
                fid,
                FieldKind.VALUE,
                lambda i: frozenset(raw(i) or ()),
                None,
                lambda i: min(raw(i)) if raw(i) else None,
                multi=True,
            )
        if stype == "string":
            sortable = short not in ("textarea",)
            return FieldDef(
                fid,
                FieldKind.TEXT,
                lambda i: plain_text(raw(i)) or None,
                None,
                (lambda i: plain_text(raw(i)).lower() or None) if sortable else None,
            )
        return FieldDef(fid, FieldKind.VALUE, raw, None, None)

    def text_of(self, value: object) -> str:
        """:func:`plain_text`, remembered for this query: ADF documents are walked once even
        when matching and ranking both read them (keyed by identity; the site keeps the
        values alive for the query's duration)."""
        if value is None or isinstance(value, str):
            return value or ""
        key = id(value)
        cached = self._texts.get(key)
        if cached is None:
            cached = self._texts[key] = plain_text(value)
        return cached

    def comment_texts(self, issue: Issue) -> tuple[str, ...]:
        site = self.site
        viewer = None if self.viewer is None else self.viewer.key
        out = []
        for cid in site.comments_by_issue.get(issue.id, ()):
            comment = site.comments.get(cid)
            if comment is None:
                continue
            if not site.can_see(viewer, issue, comment.visibility):  # restricted comments
                continue
            out.append(self.text_of(comment.body))
        return tuple(out)

    def all_texts(self, issue: Issue) -> tuple[str, ...]:
        f = issue.fields
        texts = [str(f.get("summary") or ""), self.text_of(f.get("description"))]
        texts.append(self.text_of(f.get("environment")))
        # free-text custom fields only: a URL field is not part of ``text ~`` in Jira
        texts.extend(self.text_of(f[fid]) for fid in self._free_text_ids if fid in f)
        texts.extend(self.comment_texts(issue))
        return tuple(t for t in texts if t)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _f(field_id: str) -> Callable[[Issue], Any]:
    return lambda issue: issue.fields.get(field_id)


def _fset(field_id: str) -> Callable[[Issue], frozenset[Any]]:
    return lambda issue: frozenset(issue.fields.get(field_id) or ())


def _project(r: SiteResolver) -> FieldDef[Issue]:
    projects = r.site.projects

    def lead_by(fname: str, args: tuple[str, ...]) -> frozenset[object]:
        """``projectsLeadByUser([user])``."""
        check_arity(fname, args, 0, 1)
        lead = _user_arg(r, fname, args)
        return frozenset(p.id for p in projects.values() if p.lead_key == lead)

    return FieldDef(
        "project",
        FieldKind.VALUE,
        lambda i: i.project_id,
        r.project_ids,
        lambda i: projects[i.project_id].key if i.project_id in projects else None,
        emptiable=False,
        functions={"projectsleadbyuser": lead_by},
    )


def _key(r: SiteResolver) -> FieldDef[Issue]:
    def key_sort(i: Issue) -> object:
        head, _, num = i.key.rpartition("-")
        return (head, int(num))

    def people(attr: str) -> Callable[[str, tuple[str, ...]], frozenset[object]]:
        """``watchedIssues()`` / ``votedIssues()``: issues the viewer watches or voted for."""

        def run(fname: str, args: tuple[str, ...]) -> frozenset[object]:
            check_arity(fname, args, 0, 0)
            viewer = r.current_user()
            return frozenset(
                (i.project_id, i.number)
                for i in r.site.issues.values()
                if viewer in getattr(i, attr)
            )

        return run

    def history(fname: str, args: tuple[str, ...]) -> frozenset[object]:
        """``issueHistory()``: the emulator keeps no view history, so it names no issue."""
        check_arity(fname, args, 0, 0)
        return frozenset()

    return FieldDef(
        "issuekey",
        FieldKind.KEY,
        lambda i: (i.project_id, i.number),
        r.issue_key,
        key_sort,
        emptiable=False,
        functions={
            "watchedissues": people("watchers"),
            "votedissues": people("voters"),
            "issuehistory": history,
        },
    )


def _text_field(
    field_id: str, *, sortable: bool, emptiable: bool
) -> Callable[..., FieldDef[Issue]]:
    def build(r: SiteResolver) -> FieldDef[Issue]:
        def get(i: Issue) -> str | None:
            return r.text_of(i.fields.get(field_id)) or None

        return FieldDef(
            field_id,
            FieldKind.TEXT,
            get,
            None,
            (lambda i: (get(i) or "").lower()) if sortable else None,
            emptiable=emptiable,
        )

    return build


def _named(field_id: str, table: str, sort: str) -> Callable[[SiteResolver], FieldDef[Issue]]:
    def build(r: SiteResolver) -> FieldDef[Issue]:
        records = getattr(r.site, table)
        get = _f(field_id)
        if sort == "status":
            pos = r._status_pos

            def sort_key(i: Issue) -> object:
                return pos.get(get(i))
        elif sort == "priority":
            ppos = r._priority_pos

            def sort_key(i: Issue) -> object:
                value = ppos.get(get(i))
                return None if value is None else -value  # DESC lists Highest first
        else:

            def sort_key(i: Issue) -> object:
                rec = records.get(get(i))
                return None if rec is None else rec.name.lower()

        def resolve(text: str, _name: str) -> frozenset[object]:
            found = _lookup(records, text, lambda rec: rec.name)
            if not found and field_id == "resolution" and text.lower() == "unresolved":
                return frozenset({None})
            return found

        emptiable = field_id not in ("issuetype", "status")  # every issue has both
        functions: FieldFunctions = {}
        if field_id == "issuetype":

            def types(subtask: bool) -> Callable[[str, tuple[str, ...]], frozenset[object]]:
                def run(fname: str, args: tuple[str, ...]) -> frozenset[object]:
                    check_arity(fname, args, 0, 0)
                    return frozenset(k for k, t in records.items() if t.subtask is subtask)

                return run

            functions = {
                "standardissuetypes": types(False),
                "subtaskissuetypes": types(True),
            }
        return FieldDef(
            field_id,
            FieldKind.VALUE,
            get,
            resolve,
            sort_key,
            emptiable=emptiable,
            default_descending=field_id == "priority",  # Highest first
            functions=functions,
        )

    return build


def _status_category(r: SiteResolver) -> FieldDef[Issue]:
    statuses = r.site.statuses

    def get(i: Issue) -> object:
        status = statuses.get(i.fields.get("status"))  # type: ignore[arg-type]
        return None if status is None else status.category.id

    def resolve(text: str, _name: str) -> frozenset[object]:
        low = text.lower()
        return frozenset(
            c.id for c in StatusCategory if low in (str(c.id), c.key, c.display_name.lower())
        )

    return FieldDef("statusCategory", FieldKind.VALUE, get, resolve, get, emptiable=False)


def _user_field(field_id: str) -> Callable[[SiteResolver], FieldDef[Issue]]:
    def build(r: SiteResolver) -> FieldDef[Issue]:
        get = _f(field_id)
        return FieldDef(field_id, FieldKind.USER, get, r.user, lambda i: r.user_sort(get(i)))

    return build


def _multi_named(field_id: str, table: str) -> Callable[[SiteResolver], FieldDef[Issue]]:
    def build(r: SiteResolver) -> FieldDef[Issue]:
        records = getattr(r.site, table)
        get = _fset(field_id)

        def resolve(text: str, _name: str) -> frozenset[object]:
            return _lookup(records, text, lambda rec: rec.name)

        def sort_key(i: Issue) -> object:
            names = sorted(records[v].name.lower() for v in get(i) if v in records)
            return tuple(names) or None

        functions = _version_functions(r) if table == "versions" else _component_functions(r)
        return FieldDef(
            field_id, FieldKind.VALUE, get, resolve, sort_key, multi=True, functions=functions
        )

    return build


FieldFunctions = dict[str, Callable[[str, tuple[str, ...]], frozenset[object]]]


def _project_arg(r: SiteResolver, fname: str, arg: str) -> int:
    found = [p for p in r.project_ids(arg) if isinstance(p, int)]
    if not found:
        raise JqlError(f"Could not resolve the project '{arg}' provided to function '{fname}'.")
    return found[0]


def _user_arg(r: SiteResolver, fname: str, args: tuple[str, ...]) -> object | None:
    if not args:
        return r.current_user()
    found = r.user(args[0], fname)
    if not found:
        raise JqlError(f"Could not resolve the user '{args[0]}' provided to function '{fname}'.")
    return next(iter(found))


def _version_functions(r: SiteResolver) -> FieldFunctions:
    """``releasedVersions([project])``, ``unreleasedVersions([project])``,
    ``earliestUnreleasedVersion(project)``, ``latestReleasedVersion(project)``."""
    versions = r.site.versions

    def scoped(fname: str, args: tuple[str, ...], lo: int) -> list[Any]:
        check_arity(fname, args, lo, 1)
        pid = _project_arg(r, fname, args[0]) if args else None
        return [v for v in versions.values() if pid is None or v.project_id == pid]

    def released(fname: str, args: tuple[str, ...]) -> frozenset[object]:
        return frozenset(v.id for v in scoped(fname, args, 0) if v.released)

    def unreleased(fname: str, args: tuple[str, ...]) -> frozenset[object]:
        return frozenset(v.id for v in scoped(fname, args, 0) if not v.released and not v.archived)

    def earliest(fname: str, args: tuple[str, ...]) -> frozenset[object]:
        pending = [v for v in scoped(fname, args, 1) if not v.released and not v.archived]
        return frozenset({pending[0].id}) if pending else frozenset()

    def latest(fname: str, args: tuple[str, ...]) -> frozenset[object]:
        done = [v for v in scoped(fname, args, 1) if v.released]
        return frozenset({done[-1].id}) if done else frozenset()

    return {
        "releasedversions": released,
        "unreleasedversions": unreleased,
        "earliestunreleasedversion": earliest,
        "latestreleasedversion": latest,
    }


def _component_functions(r: SiteResolver) -> FieldFunctions:
    """``componentsLeadByUser([user])`` (the viewer when no user is given)."""

    def lead_by(fname: str, args: tuple[str, ...]) -> frozenset[object]:
        check_arity(fname, args, 0, 1)
        lead = _user_arg(r, fname, args)
        return frozenset(c.id for c in r.site.components.values() if c.lead_key == lead)

    return {"componentsleadbyuser": lead_by}


def _labels(_r: SiteResolver) -> FieldDef[Issue]:
    get = _fset("labels")
    return FieldDef(
        "labels", FieldKind.VALUE, get, None, lambda i: tuple(sorted(get(i))) or None, multi=True
    )


def _date_field(attr: str) -> Callable[[SiteResolver], FieldDef[Issue]]:
    def build(r: SiteResolver) -> FieldDef[Issue]:
        if attr in ("created", "updated", "resolution_date"):

            def get(i: Issue) -> datetime | None:
                value: datetime | None = getattr(i, attr)
                return value
        else:

            def get(i: Issue) -> datetime | None:
                return r._date(i.fields.get(attr))

        # Jira lists created/updated/resolved newest first when ORDER BY names no direction
        newest_first = attr in ("created", "updated", "resolution_date")
        return FieldDef(attr, FieldKind.DATE, get, None, get, default_descending=newest_first)

    return build


def _sprint(r: SiteResolver) -> FieldDef[Issue]:
    fid = r.site.agile.sprint
    get = _fset(fid)
    return FieldDef(
        fid, FieldKind.SPRINT, get, r.sprint, lambda i: max(get(i)) if get(i) else None, multi=True
    )


def _parent(r: SiteResolver) -> FieldDef[Issue]:
    return FieldDef("parent", FieldKind.VALUE, _f("parent"), r.issue_id, None)


def _count(attr: str) -> Callable[[SiteResolver], FieldDef[Issue]]:
    def build(_r: SiteResolver) -> FieldDef[Issue]:
        def get(i: Issue) -> int:
            return len(getattr(i, attr))

        return FieldDef(
            attr, FieldKind.NUMBER, get, None, get, emptiable=False, default_descending=True
        )

    return build


def _rank(_r: SiteResolver) -> FieldDef[Issue]:
    """Rank: only for ``ORDER BY Rank`` (boards); searching it matches nothing useful."""
    return FieldDef("rank", FieldKind.NUMBER, lambda i: i.rank, None, lambda i: i.rank)


def _people(attr: str) -> Callable[[SiteResolver], FieldDef[Issue]]:
    """``watcher`` / ``voter``: the users watching or voting, as a multi-valued user field."""

    def build(r: SiteResolver) -> FieldDef[Issue]:
        def get(i: Issue) -> frozenset[str]:
            return frozenset(getattr(i, attr))

        return FieldDef(attr, FieldKind.USER, get, r.user, None, multi=True)

    return build


def _attachments(r: SiteResolver) -> FieldDef[Issue]:
    """``attachments IS [NOT] EMPTY`` (the only way Jira searches attachments)."""
    by_issue = r.site.attachments_by_issue

    def get(i: Issue) -> frozenset[int]:
        return frozenset(by_issue.get(i.id, ()))

    return FieldDef(
        "attachments", FieldKind.VALUE, get, lambda _t, _n: frozenset(), None, multi=True
    )


def _comment(r: SiteResolver) -> FieldDef[Issue]:
    return FieldDef("comment", FieldKind.TEXT, r.comment_texts, None, None)


def _text(r: SiteResolver) -> FieldDef[Issue]:
    return FieldDef("text", FieldKind.TEXT, r.all_texts, None, None, emptiable=False)


_SYSTEM_FIELDS: dict[str, Callable[[SiteResolver], FieldDef[Issue]]] = {
    "project": _project,
    "key": _key,
    "issuekey": _key,
    "issue": _key,
    "id": _key,
    "summary": _text_field("summary", sortable=True, emptiable=False),
    "description": _text_field("description", sortable=False, emptiable=True),
    "environment": _text_field("environment", sortable=False, emptiable=True),
    "comment": _comment,
    "text": _text,
    "issuetype": _named("issuetype", "issue_types", "name"),
    "type": _named("issuetype", "issue_types", "name"),
    "status": _named("status", "statuses", "status"),
    "statuscategory": _status_category,
    "category": _status_category,
    "priority": _named("priority", "priorities", "priority"),
    "resolution": _named("resolution", "resolutions", "name"),
    "assignee": _user_field("assignee"),
    "reporter": _user_field("reporter"),
    "creator": _user_field("creator"),
    "labels": _labels,
    "label": _labels,
    "component": _multi_named("components", "components"),
    "components": _multi_named("components", "components"),
    "fixversion": _multi_named("fixVersions", "versions"),
    "affectedversion": _multi_named("versions", "versions"),
    "created": _date_field("created"),
    "createddate": _date_field("created"),
    "updated": _date_field("updated"),
    "updateddate": _date_field("updated"),
    "resolved": _date_field("resolution_date"),
    "resolutiondate": _date_field("resolution_date"),
    "due": _date_field("duedate"),
    "duedate": _date_field("duedate"),
    "sprint": _sprint,
    "parent": _parent,
    "rank": _rank,
    "watcher": _people("watchers"),
    "voter": _people("voters"),
    "attachments": _attachments,
    "votes": _count("voters"),
    "watchers": _count("watchers"),
}
