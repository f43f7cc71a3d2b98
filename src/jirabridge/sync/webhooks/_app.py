"""The webhook receiver: ``POST /webhooks/{site}`` -> durable change notices -> 2xx.

Order of checks, each with its own answer and nothing stored until all pass:
unknown site 404; body over the cap 413 (before reading it when Content-Length says so);
no secret 401, wrong secret 403 (query ``?secret=`` / ``?token=``, or an HMAC-SHA256
``X-Hub-Signature: sha256=<hex>`` of the raw body; compared in constant time); not JSON or
not a known webhook shape 400. Then: a Cloud retry (same ``X-Atlassian-Webhook-Identifier``)
is answered 200 without queueing again; the integration user's own events are answered 200
and dropped (no echo); anything else is queued and the dedupe id recorded in one transaction
before the 202. If the store is down the answer is 503, so Cloud retries the delivery.

Deliveries are written through the store's group writer (``Store.write``), the one the
sync jobs' reads and commits go through: whatever arrives while a transaction is being
written shares the next one, each delivery in its own savepoint, answered only once the
commit is durable; if that commit fails, each is written again in its own transaction, so
one bad delivery never fails another. One writer thread for both, instead of a receiver
thread taking turns with it on SQLite's write lock, halved the receiver's answer time at
200 deliveries a second (bench/sync_live.py: p50 12-14 -> 5-12 ms, p99 33-41 -> 18-34 ms),
and a slow answer holds one of the site's few delivery slots.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

import orjson
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from jirabridge.errors import BadInputError, JirabridgeError, RetryLaterError
from jirabridge.sync.config import SyncConfig
from jirabridge.sync.notices import ChangeNotice
from jirabridge.sync.queue import Clock, Queue, SystemClock
from jirabridge.sync.store import AuditEntry, WebhookSeen
from jirabridge.sync.webhooks._parse import ParsedWebhook, parse_webhook

__all__ = ["ReceiverSite", "create_receiver", "immediate_fields", "sites_from_config"]

log = logging.getLogger("jirabridge.sync.webhooks")

DEDUPE_HEADER = "x-atlassian-webhook-identifier"


@dataclass(frozen=True)
class ReceiverSite:
    """What the receiver needs to know about a site."""

    name: str
    secret: str | None  # None: deliveries for this site are refused
    integration_user: frozenset[str]  # ids of the engine's own user (echo filter)

    def __repr__(self) -> str:  # never show the secret
        return f"ReceiverSite(name={self.name!r}, secret=***)"


class _TooLarge(Exception):
    pass


def create_receiver(
    *,
    sites: Mapping[str, ReceiverSite] | Callable[[], Mapping[str, ReceiverSite]],
    queue: Queue,
    max_body_bytes: int | Callable[[], int] = 1_048_576,
    dedupe_ttl: timedelta | Callable[[], timedelta] = timedelta(hours=48),
    clock: Clock | None = None,
    immediate: Callable[[ChangeNotice], bool] | None = None,
) -> Starlette:
    """The receiver app. ``sites`` may be a callable, so a reloaded config takes effect;
    ``immediate`` says which notices skip the coalescing delay (e.g. a priority change).
    ``max_body_bytes`` and ``dedupe_ttl`` may be callables too, read on every delivery."""
    now_of: Clock = clock or SystemClock()
    store = queue.store
    last_purge: list[datetime] = []

    def current_sites() -> Mapping[str, ReceiverSite]:
        return sites() if callable(sites) else sites

    def answer(status: int, message: str, **extra: object) -> _Answer:
        return status, {"status": status, "message": message, **extra}

    def body_limit() -> int:
        return max_body_bytes() if callable(max_body_bytes) else max_body_bytes

    async def read_body(headers: Mapping[str, str], chunks: _Chunks, limit: int) -> bytes:
        declared = headers.get("content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    raise _TooLarge
            except ValueError as exc:
                raise BadInputError("bad Content-Length") from exc
        parts: list[bytes] = []
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            parts.append(chunk)
        return b"".join(parts)

    def authorised(
        site: ReceiverSite, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> int | None:
        """None when the caller proved the secret, else the status to answer."""
        if site.secret is None:
            return 403
        given = query.get("secret") or query.get("token")
        if given is not None:
            ok = hmac.compare_digest(given.encode(), site.secret.encode())
            return None if ok else 403
        signature = headers.get("x-hub-signature-256") or headers.get("x-hub-signature")
        if signature is None:
            return 401
        algo, _, digest = signature.partition("=")
        if algo.lower() != "sha256" or not digest:
            return 403
        expected = hmac.new(site.secret.encode(), body, hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(digest.lower().encode(), expected.encode()) else 403

    def store_notices(
        session: Session, site: ReceiverSite, parsed: ParsedWebhook, webhook_id: str | None
    ) -> str:
        now = now_of.now()
        if webhook_id is not None:
            seen = session.get(WebhookSeen, (site.name, webhook_id))
            if seen is not None and seen.expires_at > now:
                return "duplicate"
            if seen is not None:
                session.delete(seen)
                session.flush()
            try:
                with session.begin_nested():
                    session.add(
                        WebhookSeen(
                            site=site.name,
                            identifier=webhook_id,
                            received_at=now,
                            expires_at=now + (dedupe_ttl() if callable(dedupe_ttl) else dedupe_ttl),
                        )
                    )
            except IntegrityError:
                return "duplicate"  # a concurrent retry won the race
        for notice in parsed.notices:
            now_please = immediate is not None and immediate(notice)
            queue.enqueue(notice, session=session, immediate=now_please)
        if not last_purge or now - last_purge[0] > timedelta(minutes=10):
            session.execute(delete(WebhookSeen).where(WebhookSeen.expires_at <= now))
            last_purge[:] = [now]
        return "queued"

    recorded: dict[tuple[str, int], datetime] = {}

    def record_rejection(site: str, status: int, reason: str) -> None:
        # at most one audit row per site and status a minute: rejected calls are cheap to
        # send, and must not be able to fill the store
        now = now_of.now()
        last = recorded.get((site, status))
        if last is not None and now - last < timedelta(minutes=1):
            log.info("webhook for %s rejected (%s): %s", site, status, reason)
            return
        recorded[(site, status)] = now
        try:
            with store.session() as session:
                session.add(
                    AuditEntry(
                        at=now_of.now(),
                        kind="webhook_rejected",
                        site=site,
                        subject=None,
                        message=reason,
                        details={"status": status},
                    )
                )
        except JirabridgeError:
            log.warning("could not record a rejected webhook for %s", site)

    async def deliver(
        name: str, query: Mapping[str, str], headers: Mapping[str, str], chunks: _Chunks
    ) -> _Answer:
        """One delivery, from the site's name, the query, the headers (lower-case names)
        and the body's chunks to the status and JSON body of the answer."""
        site = current_sites().get(name)
        if site is None:
            return answer(404, f"no site named {name[:100]!r}")
        limit = body_limit()
        try:
            body = await read_body(headers, chunks, limit)
        except _TooLarge:
            record_rejection(name, 413, "body too large")
            return answer(413, f"body larger than {limit} bytes")
        except BadInputError as exc:
            return answer(400, exc.message)
        refused = authorised(site, query, headers, body)
        if refused is not None:
            reason = {401: "no secret given", 403: "wrong secret"}[refused]
            if site.secret is None:
                reason = "no webhook_secret configured for this site"
            record_rejection(name, refused, reason)
            return answer(refused, reason)
        webhook_id = headers.get(DEDUPE_HEADER)
        if webhook_id is not None and not (0 < len(webhook_id) <= 200):
            return answer(400, "bad X-Atlassian-Webhook-Identifier")
        try:
            payload = _loads(body)
            parsed = parse_webhook(name, payload, observed_at=now_of.now(), webhook_id=webhook_id)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            record_rejection(name, 400, "body is not JSON")
            return answer(400, "body is not JSON")
        except BadInputError as exc:
            record_rejection(name, 400, exc.message)
            return answer(400, exc.message)
        if parsed.ignored is not None:
            return answer(200, f"ignored: {parsed.event} is {parsed.ignored}")
        if parsed.actor and parsed.actor & site.integration_user:
            return answer(200, "ignored: the integration user's own change (echo)")
        try:
            outcome = await store.write(
                lambda session: store_notices(session, site, parsed, webhook_id)
            )
        except RetryLaterError as exc:
            log.warning("webhook for %s not stored: %s", name, exc)
            return answer(503, "state store unavailable; retry")
        except JirabridgeError as exc:
            log.error("webhook for %s not stored: %s", name, exc)
            return answer(503, "could not store the notice; retry")
        if outcome == "duplicate":
            return answer(200, "duplicate delivery (already queued)")
        return answer(202, "queued", notices=len(parsed.notices))

    async def receive(request: Request) -> JSONResponse:
        # reached only for what the fast path leaves to Starlette (see _Receiver)
        status, content = await deliver(
            request.path_params["site"],
            request.query_params,
            request.headers,
            request.stream(),
        )
        return JSONResponse(content, status_code=status)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return _Receiver(
        deliver,
        routes=[
            Route("/webhooks/{site}", receive, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ],
    )


_Answer = tuple[int, dict[str, object]]
_Chunks = AsyncIterator[bytes]
_Deliver = Callable[[str, Mapping[str, str], Mapping[str, str], _Chunks], Awaitable[_Answer]]
_WANTED_HEADERS = frozenset(
    {b"content-length", b"x-hub-signature", b"x-hub-signature-256", DEDUPE_HEADER.encode()}
)


class _Gone(Exception):
    """The client went away before its body was read."""


class _Receiver(Starlette):
    """Starlette for every route, except that ``POST /webhooks/{site}``, the one a site
    calls for every change, is answered by a plain ASGI path: Starlette's Request, routing
    and middleware layers cost as much CPU as our own checks of a delivery. Other methods
    on that path (405), a trailing slash (redirect) and every other route go to Starlette
    as before."""

    def __init__(self, deliver: _Deliver, *, routes: Sequence[BaseRoute]) -> None:
        super().__init__(routes=routes)
        self._deliver = deliver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        site = _hot_site(scope)
        if site is None:
            await super().__call__(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            if raw_name in _WANTED_HEADERS:
                headers.setdefault(raw_name.decode("latin-1"), raw_value.decode("latin-1"))
        raw_query: bytes = scope.get("query_string", b"")
        query = dict(parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True))
        started = False
        try:
            status, content = await self._deliver(site, query, headers, _chunks(receive))
            body = json.dumps(
                content, ensure_ascii=False, allow_nan=False, separators=(",", ":")
            ).encode()
            started = True
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-length", str(len(body)).encode()),
                        (b"content-type", b"application/json"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        except _Gone:
            return  # nobody to answer
        except Exception:
            # as Starlette's error middleware: a plain 500 if nothing was sent yet, and the
            # error goes on to the server, which logs it
            if not started:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                    }
                )
                await send({"type": "http.response.body", "body": b"Internal Server Error"})
            raise


def _hot_site(scope: Scope) -> str | None:
    """The site of a ``POST /webhooks/{site}`` request (the path relative to the root path,
    as Starlette's routing sees it), else None."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] == "/":
        path = path[len(root) :]
    if not path.startswith("/webhooks/"):
        return None
    site = path[len("/webhooks/") :]
    return site if site and "/" not in site else None


async def _chunks(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Gone
        chunk: bytes = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def _loads(body: bytes) -> object:
    """A delivery's JSON. orjson first: several times faster on a whole-issue body, with a
    depth limit. What it refuses but is JSON all the same (a lone surrogate escape from a
    summary cut mid-emoji, a number past a double's range) is read by ``json``: a 400 would
    lose the change, as sites do not resend a 4xx. Both raise json.JSONDecodeError (orjson's
    is one) or UnicodeDecodeError."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body.decode("utf-8"))


def sites_from_config(config: SyncConfig, resolve: Callable[[str], str]) -> dict[str, ReceiverSite]:
    """Receiver sites from the configuration; ``resolve`` turns a credential ref into the
    secret. A site whose secret cannot be resolved refuses deliveries (and is logged)."""
    out: dict[str, ReceiverSite] = {}
    for name, site in config.sites.items():
        secret: str | None = None
        if site.webhook_secret is not None:
            try:
                secret = resolve(site.webhook_secret)
            except JirabridgeError as exc:
                log.error("webhooks for site %s are refused: %s", name, exc)
        out[name] = ReceiverSite(
            name=name, secret=secret, integration_user=frozenset({site.integration_user})
        )
    return out


def immediate_fields(config: SyncConfig) -> Callable[[ChangeNotice], bool]:
    """A test for notices that change a field marked ``immediate`` in a pair of their site."""
    by_site: dict[str, set[str]] = {}
    for pair in config.pairs:
        for rule in pair.fields:
            if rule.immediate:
                by_site.setdefault(pair.server.site, set()).update({rule.server_id, rule.name})
                by_site.setdefault(pair.cloud.site, set()).update({rule.cloud_id, rule.name})

    def test(notice: ChangeNotice) -> bool:
        wanted = by_site.get(notice.site)
        return bool(wanted and wanted & set(notice.fields))

    return test
