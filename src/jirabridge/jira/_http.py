"""Sending one Jira request: governor, retries, counters and error mapping in one loop."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlencode

import httpx
import orjson

from jirabridge._keepalive import KEEPALIVE_EXPIRY, KeepAliveTransport
from jirabridge.errors import FixConfigError, JirabridgeError, RetryLaterError, SkipItemError
from jirabridge.jira._auth import static_authorization
from jirabridge.jira._errors import (
    Scope,
    error_from_response,
    error_from_transport,
    request_info,
    request_was_not_sent,
)
from jirabridge.jira._governor import RateGovernor
from jirabridge.jira._metrics import CallStats, endpoint_template
from jirabridge.jira._shape import Answer

__all__ = ["AmbiguousWriteError", "JiraHttp", "KeepAliveTransport", "RetryPolicy"]


class AmbiguousWriteError(RetryLaterError):
    """A write that is not safe to repeat failed after it may have reached Jira.

    The caller must check whether it took effect before trying again.
    """


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a call that is safe to repeat.

    ``max_retry_after``: a ``Retry-After`` longer than this is not waited for inside the call;
    the :class:`~jirabridge.errors.RetryLaterError` goes to the caller with ``retry_after``.
    """

    max_attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 20.0
    max_retry_after: float = 120.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff for attempt ``attempt`` (1-based)."""
        cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return rng.uniform(cap / 2, cap)


BucketFn = Callable[[str, str], str]


DEFAULT_MAX_ANSWER_BYTES = 256 * 1024**2
"""No JSON answer of Jira's comes near this; a larger body is refused while it streams."""


class JiraHttp:
    """The transport-level part shared by both clients."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None,
        transport: httpx.AsyncBaseTransport | None = None,
        governor: RateGovernor | None = None,
        stats: CallStats | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        bucket_of: BucketFn | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        pool_size: int = 16,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise FixConfigError(f"Jira base URL must start with http:// or https://: {base_url}")
        self.base_url = base_url.rstrip("/")
        self.governor = governor or RateGovernor()
        self.stats = stats or CallStats()
        self.retry = retry or RetryPolicy()
        self._bucket_of = bucket_of or (lambda method, endpoint: "")
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.transport = transport  # as given (None: the default)
        self.max_answer_bytes = max_answer_bytes
        # Requests do not go through this client's send (its redirect and auth layers, and a
        # cookie jar read on every answer, cost more CPU than the request itself over
        # loopback): it holds the default headers, the cookies the site set, the transport
        # (with a pool of ``pool_size`` idle connections) and the proxies named by the
        # environment, and requests go to the transport directly.
        if transport is None and not urllib.request.getproxies():
            # no proxy to honour: our pool (httpx's costs more CPU per request than the rest
            # of the request); with proxies in the environment, httpx's transports use them
            transport = KeepAliveTransport(max_idle=pool_size)
        self.client = httpx.AsyncClient(
            base_url=self.base_url,
            auth=auth,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json", "User-Agent": "jirabridge"},
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=max(100, pool_size),
                max_keepalive_connections=pool_size,
                keepalive_expiry=KEEPALIVE_EXPIRY,
            ),
        )
        self._auth = auth
        self._authorization = static_authorization(auth)
        self._timeout = httpx.Timeout(timeout).as_dict()
        # lower-case name -> the header as sent (httpx's defaults with ours over them)
        self._default_headers = {k.lower(): (k, v) for k, v in self.client.headers.raw}

    async def aclose(self) -> None:
        await self.client.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        scope: Scope = Scope.CONFIG,
        idempotent: bool | None = None,
        ok_statuses: tuple[int, ...] = (),
        max_bytes: int | None = None,
        credentials: bool = True,
        sink: IO[bytes] | None = None,
    ) -> httpx.Response:
        """Send a request; retry what is safe to retry; raise a jirabridge error otherwise.

        ``idempotent`` defaults to True for GET/PUT/DELETE/HEAD and False for POST. A
        non-idempotent call is resent only when Jira certainly did not process it (429, or no
        connection); otherwise :class:`AmbiguousWriteError` tells the caller to check first.

        ``path`` may be an absolute URL (a media redirect); ``credentials=False`` sends it
        without our auth (a foreign host). Every body is streamed and reading stops with
        :class:`SkipItemError` as soon as it grows past ``max_bytes`` (default: the client's
        ``max_answer_bytes``). ``sink``: a 2xx body is written there (from its start, again
        on a retry) instead of being kept in the answer, whose content is then empty.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method != "POST"
        endpoint = endpoint_template(path)
        bucket = self._bucket_of(method, endpoint)
        gate = _issue_write_gate(method, path)
        attempt = 0
        while True:
            attempt += 1
            waited_from = time.monotonic()
            response: httpx.Response | None = None
            error: JirabridgeError
            resend_ok = idempotent
            async with self.governor.slot(bucket, gate=gate) as slot:
                self.stats.record_wait(time.monotonic() - waited_from)
                started = time.monotonic()
                built: httpx.Request | None = None
                try:
                    built = self.build_request(
                        method,
                        path,
                        params=params,
                        json_body=json_body,
                        content=content,
                        files=files,
                        headers=headers,
                        credentials=credentials,
                    )
                    streamed = await self._send(built, credentials)
                    # a body cut short leaves ``response`` None: retried like no answer
                    response = await _read_capped(
                        streamed,
                        max_bytes or self.max_answer_bytes,
                        sink if 200 <= streamed.status_code < 300 else None,
                    )
                except httpx.HTTPError as exc:
                    self.stats.record(
                        endpoint=endpoint,
                        method=method,
                        status=0,
                        latency=time.monotonic() - started,
                    )
                    error = error_from_transport(exc, built or _request_of(exc))
                    resend_ok = idempotent or request_was_not_sent(exc)
                    if not resend_ok:
                        raise AmbiguousWriteError(
                            f"{error.message}; the write may have reached Jira",
                            request=error.request,
                        ) from exc
                    if not isinstance(error, RetryLaterError) or attempt >= self.retry.max_attempts:
                        raise error from exc
                else:
                    slot.observe(response)
                    self.stats.record(
                        endpoint=endpoint,
                        method=method,
                        status=response.status_code,
                        latency=time.monotonic() - started,
                    )
            if response is not None:
                status = response.status_code
                if status < 400 or status in ok_statuses:
                    return response
                error = error_from_response(response, scope=scope)
                if not isinstance(error, RetryLaterError):
                    raise error
                if status == 429:
                    resend_ok = True  # Jira rejected it before doing anything
                if not resend_ok:
                    raise AmbiguousWriteError(
                        f"{error.message}; the write may have reached Jira",
                        retry_after=error.retry_after,
                        request=error.request,
                        jira=error.jira,
                    )
                if attempt >= self.retry.max_attempts:
                    raise error
                if error.retry_after is not None:
                    if error.retry_after > self.retry.max_retry_after:
                        raise error
                    if status != 429 and status != 503:
                        self.governor.block(bucket, error.retry_after)
                    # the governor holds the bucket (or the site) until Retry-After has passed
                    self.stats.record_retry()
                    continue
            delay = self.retry.backoff(attempt, self._rng)
            self.stats.record_retry()
            self.stats.record_wait(delay)
            await self._sleep(delay)

    def build_request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        credentials: bool = True,
    ) -> httpx.Request:
        """The request ``AsyncClient.build_request`` would make (same URL, headers and body;
        the cookies the site set), with the static ``Authorization`` (basic, token) already set."""
        cleaned = _clean_params(params)
        if path[:1] == "/" and "?" not in path:
            # the query encoded as httpx encodes params (urlencode), in one parse of the
            # URL instead of two (``copy_with`` parses again): a third of building a request
            query = f"?{urlencode(cleaned)}" if cleaned else ""
            url = httpx.URL(self.base_url + path + query)
        else:
            if path[:1] == "/":
                url = httpx.URL(self.base_url + path)
            else:  # an absolute URL (a media redirect), or relative without the slash
                url = httpx.URL(path)
                if url.is_relative_url:
                    url = httpx.URL(self.base_url + "/" + path)
            if cleaned is not None:  # as httpx does: given params replace the URL's query
                url = url.copy_with(params=cleaned)
        extensions = {"timeout": self._timeout}
        if files is not None or not (content is None or isinstance(content, bytes)):
            request = self.client.build_request(
                method, url, json=json_body, content=content, files=files, headers=headers
            )
            request.extensions = extensions
            if credentials and self._authorization is not None:
                request.headers["Authorization"] = self._authorization
            return request
        raw = self._default_headers.copy()
        raw[b"host"] = (b"Host", url.netloc)
        body = content
        if json_body is not None and body is None:
            body = _json_bytes(json_body)
            raw[b"content-type"] = (b"Content-Type", b"application/json")
        if body is not None:
            raw[b"content-length"] = (b"Content-Length", str(len(body)).encode())
        elif method in ("POST", "PUT", "PATCH"):
            raw[b"content-length"] = (b"Content-Length", b"0")
        if credentials and self._authorization is not None:
            raw[b"authorization"] = (b"Authorization", self._authorization.encode("latin-1"))
        if headers:
            for key, value in headers.items():
                name = key.encode("ascii")
                raw[name.lower()] = (name, value.encode("latin-1"))
        request = httpx.Request(
            method,
            url,
            headers=list(raw.values()),
            stream=httpx.ByteStream(body or b""),
            extensions=extensions,
        )
        request.read()  # the body is in memory already: ``request.content`` for auth flows
        if self.client.cookies.jar:  # only what matches the URL's domain and path
            self.client.cookies.set_cookie_header(request)
        return request

    async def _send(self, request: httpx.Request, credentials: bool) -> httpx.Response:
        """Hand ``request`` to the transport (the auth flow first, for OAuth); the answer's
        body is still to be read. Redirects are answers (not followed); cookies are kept."""
        transport = self.client._transport_for_url(request.url)  # proxies from the environment
        auth = self._auth if credentials and self._authorization is None else None
        if auth is None:
            response = await transport.handle_async_request(request)
            response.request = request
            self._keep_cookies(response)
            return response
        # as AsyncClient runs it (``Auth.async_auth_flow`` reads the bodies the flow needs)
        flow = auth.async_auth_flow(request)
        try:
            request = await flow.__anext__()
            while True:
                response = await transport.handle_async_request(request)
                response.request = request
                self._keep_cookies(response)
                try:
                    following = await flow.asend(response)
                except StopAsyncIteration:
                    return response
                except BaseException:
                    await response.aclose()
                    raise
                await response.aread()  # the flow answered it with another request
                request = following
        finally:
            await flow.aclose()

    def _keep_cookies(self, response: httpx.Response) -> None:
        """Keep what the site sets, as a browser would, to send it back: Server/Data
        Center's session (``JSESSIONID``: without it every basic-auth or token request opens
        a new session) and a load balancer's node affinity (Data Center wants requests of
        one client on one node). Read only when the answer sets any (the jar costs CPU)."""
        if "set-cookie" in response.headers:
            self.client.cookies.extract_cookies(response)

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request`, then the answer's JSON (``None`` for an empty body)."""
        response = await self.request(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return parse_json(response)
        except ValueError as exc:
            raise FixConfigError(
                f"Jira answered HTTP {response.status_code} with something that is not JSON;"
                " is the base URL right?",
                request=request_info(response.request),
            ) from exc

    async def json_object(self, method: str, path: str, **kwargs: Any) -> Answer:
        """:meth:`json` for an answer that must be a JSON object, with checked field access."""
        response = await self.request(method, path, **kwargs)
        data: Any = None
        if response.content:
            try:
                data = parse_json(response)
            except ValueError as exc:
                raise FixConfigError(
                    f"Jira answered HTTP {response.status_code} with something that is not"
                    " JSON; is the base URL right?",
                    request=request_info(response.request),
                ) from exc
        return Answer.of(data, request_info(response.request))


async def _read_capped(
    response: httpx.Response, max_bytes: int, sink: IO[bytes] | None = None
) -> httpx.Response:
    """Read a streamed body up to ``max_bytes``; an answer with the body in memory, or
    (``sink``) written to ``sink`` from its start and the answer's content empty."""
    if sink is None and _fits_as_sent(response, max_bytes):
        try:
            await response.aread()  # a socket transport frames the body by its length
        finally:
            await response.aclose()
        if len(response.content) <= max_bytes:  # others may not (an app in-process)
            return response
        raise _too_large(response, max_bytes)
    chunks: list[bytes] = []
    size = 0
    if sink is not None:
        sink.seek(0)
        sink.truncate()
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(response, max_bytes)
            if sink is None:
                chunks.append(chunk)
            else:
                sink.write(chunk)
    finally:
        await response.aclose()
    headers = response.headers.copy()
    for decoded_away in ("content-encoding", "content-length"):  # the body is decoded now
        headers.pop(decoded_away, None)
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=b"".join(chunks),
        request=response.request,
        extensions=response.extensions,
    )


def _too_large(response: httpx.Response, max_bytes: int) -> SkipItemError:
    return SkipItemError(
        f"the answer is larger than the limit of {max_bytes} bytes"
        " (raise the client's max_attachment_bytes or max_answer_bytes)",
        request=request_info(response.request),
    )


def _fits_as_sent(response: httpx.Response, max_bytes: int) -> bool:
    """True when the body is known not to pass ``max_bytes`` and needs no decoding, so the
    answer can be read as it is (no copy of its headers, no second ``Response``)."""
    headers = response.headers
    if "content-encoding" in headers:  # a small compressed body may inflate past the cap
        return False
    if response.status_code in (204, 304):  # no body, whatever the headers say
        return True
    length = headers.get("content-length")
    return length is not None and length.isdigit() and int(length) <= max_bytes


_ISSUE_PATH = re.compile(r"^/rest/api/[^/]+/issue/([^/]+)")


def _issue_write_gate(method: str, path: str) -> str | None:
    """``issue:KEY`` for a write to one issue (Cloud limits those per issue)."""
    if method == "GET":
        return None
    match = _ISSUE_PATH.match(path)
    if match is None or match.group(1) in ("bulk", "createmeta"):
        return None
    return f"issue:{match.group(1)}"


def _request_of(exc: httpx.HTTPError) -> httpx.Request | None:
    try:
        return exc.request
    except RuntimeError:
        return None


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = value
    return out


def parse_json(response: httpx.Response) -> Any:
    """The answer's JSON. orjson reads UTF-8 several times faster than ``json`` (an issue
    read with its changelog is most of a sync job's parsing); an answer it refuses (UTF-16,
    a NaN literal) is read as httpx reads it, which raises ValueError if it is no
    JSON at all."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()


def _json_bytes(value: Any) -> bytes:
    """A JSON body as httpx encodes ``json=``: compact, UTF-8, no NaN."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
