"""JiraHttp sends straight to the transport (no AsyncClient.send): the requests it builds
are the ones httpx's client would build, static credentials are set once, other auth flows
still run, redirects are answers, timeouts fire, and no cookies are kept."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import time
from collections.abc import AsyncIterator, Generator
from typing import Any

import httpx
import pytest

from jirabridge.errors import RetryLaterError, SkipItemError
from jirabridge.jira import BearerAuth, OAuth1RsaAuth, RetryPolicy, basic_auth
from jirabridge.jira._auth import static_authorization
from jirabridge.jira._http import AmbiguousWriteError, JiraHttp

from .conftest import jira_json

BASE = "https://jira.example.test/ctx"


class Recorder:
    """A MockTransport handler that keeps what it was sent and answers from a list."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.seen: list[httpx.Request] = []
        self.headers: list[httpx.Headers] = []  # as sent (an auth flow may resend the request)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        self.headers.append(request.headers.copy())
        return self.answers.pop(0) if self.answers else jira_json(200, {"ok": True})


def _http(handler: Recorder, auth: httpx.Auth | None = None, **kw: Any) -> JiraHttp:
    return JiraHttp(BASE, auth=auth, transport=httpx.MockTransport(handler), **kw)


# -- static credentials -------------------------------------------------------------------
def test_static_authorization_is_what_the_auth_flow_sets() -> None:
    basic = base64.b64encode("ädmin:p:w".encode()).decode()
    assert static_authorization(basic_auth("ädmin", "p:w")) == f"Basic {basic}"
    assert static_authorization(httpx.BasicAuth("ädmin", "p:w")) == f"Basic {basic}"
    assert static_authorization(BearerAuth("tok")) == "Bearer tok"


class SigningBasic(httpx.BasicAuth):
    """A subclass may do more per request: not treated as static."""


def test_flows_that_change_per_request_are_not_static() -> None:
    assert static_authorization(None) is None
    assert static_authorization(SigningBasic("a", "b")) is None
    assert static_authorization(httpx.DigestAuth("a", "b")) is None


async def test_static_header_sent_and_withheld_from_foreign_hosts() -> None:
    rec = Recorder()
    http = _http(rec, basic_auth("svc", "pw"))
    await http.request("GET", "/rest/api/2/myself")
    await http.request("GET", "https://media.example.test/file/1", credentials=False)
    expected = "Basic " + base64.b64encode(b"svc:pw").decode()
    assert rec.seen[0].headers["Authorization"] == expected
    assert "Authorization" not in rec.seen[1].headers
    assert str(rec.seen[1].url) == "https://media.example.test/file/1"
    await http.aclose()


# -- the request is the one AsyncClient would build ---------------------------------------
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/rest/api/2/issue/OPS-1", {}),
    ("GET", "/rest/api/2/issue/OPS 1/ä", {"params": {"expand": ["a", "b"], "x": None}}),
    ("GET", "/rest/api/2/search", {"params": {"jql": "a = 'b c' & d", "flag": True}}),
    ("GET", "/rest/api/2/search", {"params": {"startAt": 100, "maxResults": 50, "e": "ü@x/y"}}),
    ("GET", "/rest/api/2/issue/OPS-2", {"params": {"only": None}}),
    ("GET", "/rest/api/2/search?jql=a%20b", {}),
    ("GET", "/rest/api/2/search?jql=dropped", {"params": {"jql": "kept"}}),
    ("GET", "rest/api/2/serverInfo", {}),
    ("GET", "https://other.example.test:8443/x/y?z=1", {}),
    ("PUT", "/rest/api/2/issue/OPS-1", {"json_body": {"fields": {"summary": "ü ✓"}}}),
    ("POST", "/rest/api/2/issue/OPS-1/transitions", {}),
    ("DELETE", "/rest/api/2/issue/OPS-1", {}),
    ("POST", "/rest/api/2/x", {"content": b"raw", "headers": {"Content-Type": "text/plain"}}),
    ("GET", "/secure/attachment/1/a", {"headers": {"Accept": "*/*", "X-Atlassian-Token": "no"}}),
]


@pytest.mark.parametrize(("method", "path", "kw"), CASES)
async def test_request_matches_httpx_client(method: str, path: str, kw: dict[str, Any]) -> None:
    http = _http(Recorder())
    ours = http.build_request(method, path, **kw)
    client = http.client
    theirs = client.build_request(
        method,
        path,
        params=_clean(kw.get("params")),
        json=kw.get("json_body"),
        content=kw.get("content"),
        headers=kw.get("headers"),
    )
    assert ours.url == theirs.url
    assert ours.method == theirs.method
    assert _headers(ours) == _headers(theirs)
    assert ours.content == theirs.content
    assert ours.extensions["timeout"] == theirs.extensions["timeout"]
    await http.aclose()


def _clean(params: dict[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    out: dict[str, Any] = {}
    for k, v in params.items():
        if v is not None:
            out[k] = ",".join(v) if isinstance(v, list) else ("true" if v is True else v)
    return out


def _headers(request: httpx.Request) -> list[tuple[str, str]]:
    return sorted((k.lower(), v) for k, v in request.headers.multi_items())


async def test_files_and_streamed_content_use_httpx_encoding_and_keep_credentials() -> None:
    rec = Recorder()
    http = _http(rec, BearerAuth("tok"))
    await http.request("POST", "/up", files={"file": ("a.txt", b"hello", "text/plain")})
    sent = rec.seen[0]
    assert sent.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b"hello" in sent.content
    assert sent.headers["Authorization"] == "Bearer tok"
    await http.aclose()


# -- other auth flows still run -----------------------------------------------------------
class RefreshOn401(httpx.Auth):
    """Like OAuth 2.0: a token, and a fresh one when the first is refused."""

    def __init__(self) -> None:
        self.flows = 0

    async def async_auth_flow(self, request: httpx.Request) -> AsyncIterator[httpx.Request]:  # type: ignore[override]
        self.flows += 1
        request.headers["Authorization"] = "Bearer old"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = "Bearer new"
            yield request


async def test_a_flow_answering_401_with_another_request_is_followed() -> None:
    rec = Recorder(jira_json(401, {"errorMessages": ["expired"]}), jira_json(200, {"n": 1}))
    auth = RefreshOn401()
    http = _http(rec, auth)
    assert await http.json("GET", "/rest/api/3/myself") == {"n": 1}
    assert [h["Authorization"] for h in rec.headers] == ["Bearer old", "Bearer new"]
    assert auth.flows == 1
    # without credentials the flow does not run at all
    await http.request("GET", "https://media.example.test/f", credentials=False)
    assert auth.flows == 1 and "Authorization" not in rec.seen[-1].headers
    await http.aclose()


class BrokenFlow(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise httpx.LocalProtocolError("cannot sign")
        yield request  # pragma: no cover


async def test_a_failing_flow_is_a_transport_error() -> None:
    http = _http(Recorder(), BrokenFlow(), retry=RetryPolicy(max_attempts=1))
    with pytest.raises(RetryLaterError):
        await http.request("GET", "/x")
    await http.aclose()


async def test_oauth1_signs_each_request_through_its_flow(rsa_pem: str) -> None:
    rec = Recorder()
    http = _http(rec, OAuth1RsaAuth("ck", rsa_pem, "tok"))
    await http.request("GET", "/rest/api/2/myself")
    await http.request("GET", "/rest/api/2/myself")
    signatures = [r.headers["Authorization"] for r in rec.seen]
    assert all(s.startswith("OAuth ") for s in signatures)
    assert signatures[0] != signatures[1]  # a fresh nonce each time
    await http.aclose()


@pytest.fixture(scope="module")
def rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


# -- answers ------------------------------------------------------------------------------
async def test_a_redirect_is_an_answer_not_followed() -> None:
    rec = Recorder(httpx.Response(302, headers={"Location": "/elsewhere"}))
    http = _http(rec, basic_auth("svc", "pw"))
    response = await http.request("GET", "/rest/api/2/issue/OPS-1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/elsewhere"
    assert response.url == httpx.URL(f"{BASE}/rest/api/2/issue/OPS-1")
    assert len(rec.seen) == 1
    await http.aclose()


async def test_a_gzip_answer_is_decoded_and_its_encoding_headers_dropped() -> None:
    body = json.dumps({"key": "OPS-1"}).encode()
    packed = gzip.compress(body)
    rec = Recorder(
        httpx.Response(
            200,
            content=packed,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
    )
    http = _http(rec)
    response = await http.request("GET", "/rest/api/2/issue/OPS-1")
    assert response.content == body
    assert "Content-Encoding" not in response.headers
    assert response.headers["Content-Length"] == str(len(body))
    await http.aclose()


async def test_an_answer_within_the_cap_is_read_as_sent_and_one_past_it_refused() -> None:
    body = json.dumps({"key": "OPS-1"}).encode()
    sent = httpx.Response(200, content=body, headers={"Content-Type": "application/json"})
    http = _http(Recorder(sent, httpx.Response(204)))
    response = await http.request("GET", "/rest/api/2/issue/OPS-1")
    assert response is sent and response.content == body and response.is_closed
    assert (await http.request("PUT", "/rest/api/2/issue/OPS-1")).content == b""
    await http.aclose()
    # a transport that does not frame the body by its length (an in-process app) still
    # cannot pass the cap: the length is checked again once read
    liar = httpx.Response(200, content=b"x" * 100, headers={"Content-Length": "10"})
    http = _http(Recorder(liar), max_answer_bytes=50)
    with pytest.raises(SkipItemError, match="larger than the limit of 50"):
        await http.request("GET", "/rest/api/2/issue/OPS-1")
    await http.aclose()


# -- timeouts over a real socket ----------------------------------------------------------
async def _silent_server() -> tuple[asyncio.Server, str]:
    """Accepts connections and reads, never answers."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(65536):
            pass
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def test_the_timeout_fires_on_the_default_transport() -> None:
    server, url = await _silent_server()
    http = JiraHttp(url, auth=None, timeout=0.2, retry=RetryPolicy(max_attempts=1))
    started = time.monotonic()
    with pytest.raises(RetryLaterError, match="did not answer in time"):
        await http.request("GET", "/rest/api/2/myself")
    # a write that timed out after it was sent may have reached Jira
    with pytest.raises(AmbiguousWriteError):
        await http.request("POST", "/rest/api/2/issue", json_body={"fields": {}})
    assert time.monotonic() - started < 5
    await http.aclose()
    server.close()
    await server.wait_closed()
