from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import httpx
import pytest
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from authlib.oauth1.rfc5849.wrapper import OAuth1Request
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from jirabridge.errors import FixConfigError, ReauthenticateError, RetryLaterError
from jirabridge.jira import (
    BearerAuth,
    FileCredentialStore,
    MemoryCredentialStore,
    OAuth1RsaAuth,
    OAuth2Auth,
    OAuth2Token,
    basic_auth,
    cloud_api_token_auth,
)

from .conftest import jira_json

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _send(auth: httpx.Auth, method: str = "GET", **kw) -> httpx.Request:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return jira_json(200, {})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=auth) as c:
        await c.request(method, "https://jira.example.test/rest/api/2/myself?x=1", **kw)
    return seen[0]


async def test_basic_and_cloud_token_and_pat_headers() -> None:
    req = await _send(basic_auth("admin", "pw"))
    assert req.headers["Authorization"] == "Basic " + base64.b64encode(b"admin:pw").decode()
    req = await _send(cloud_api_token_auth("me@example.org", "ATATT123"))
    expected = base64.b64encode(b"me@example.org:ATATT123").decode()
    assert req.headers["Authorization"] == f"Basic {expected}"
    req = await _send(BearerAuth("NjE2MDk"))
    assert req.headers["Authorization"] == "Bearer NjE2MDk"
    assert "NjE2MDk" not in repr(BearerAuth("NjE2MDk"))


def test_bad_credentials_are_config_errors() -> None:
    with pytest.raises(FixConfigError):
        basic_auth("", "x")
    with pytest.raises(FixConfigError):
        cloud_api_token_auth("not-an-email", "t")
    with pytest.raises(FixConfigError):
        BearerAuth("")
    with pytest.raises(FixConfigError):
        OAuth1RsaAuth("c", "not a key", "tok")


async def test_oauth1_rsa_sha1_signature_verifies_with_public_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    auth = OAuth1RsaAuth("jirabridge-consumer", pem, "access-tok")
    req = await _send(auth, "POST", json={"a": 1})
    header = req.headers["Authorization"]
    assert header.startswith("OAuth ")
    params = dict(
        (k.strip(), unquote(v.strip('"')))
        for k, v in (p.split("=", 1) for p in header[6:].split(","))
    )
    assert params["oauth_signature_method"] == "RSA-SHA1"
    assert params["oauth_consumer_key"] == "jirabridge-consumer"
    assert params["oauth_token"] == "access-tok"
    # Rebuild the base string independently (server side) and verify with the public key.
    server_req = OAuth1Request(req.method, str(req.url), None, {"Authorization": header})
    base = generate_signature_base_string(server_req)
    signature = base64.b64decode(params["oauth_signature"])
    key.public_key().verify(signature, base.encode(), padding.PKCS1v15(), hashes.SHA1())
    # A tampered URL must not verify.
    tampered = OAuth1Request(
        req.method, str(req.url).replace("x=1", "x=2"), None, {"Authorization": header}
    )
    with pytest.raises(InvalidSignature):
        key.public_key().verify(
            signature,
            generate_signature_base_string(tampered).encode(),
            padding.PKCS1v15(),
            hashes.SHA1(),
        )


class TokenEndpoint:
    """Atlassian-like token endpoint: each refresh token works once (rotation)."""

    def __init__(self, first_refresh: str = "r0") -> None:
        self.valid_refresh = {first_refresh}
        self.calls = 0
        self.n = 0
        self.lock = threading.Lock()
        self.fail_with: int | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            with self.lock:
                self.calls += 1
                if self.fail_with:
                    return jira_json(self.fail_with, {"error": "server_error"})
                body = json.loads(request.content)
                assert body["grant_type"] == "refresh_token"
                assert body["client_secret"] == "csecret"
                if body["refresh_token"] not in self.valid_refresh:
                    return jira_json(
                        403,
                        {
                            "error": "invalid_grant",
                            "error_description": "Unknown refresh token.",
                        },
                    )
                self.valid_refresh.discard(body["refresh_token"])
                self.n += 1
                self.valid_refresh.add(f"r{self.n}")
                return jira_json(
                    200,
                    {
                        "access_token": f"a{self.n}",
                        "refresh_token": f"r{self.n}",
                        "expires_in": 3600,
                        "scope": "read:jira-work offline_access",
                        "token_type": "Bearer",
                    },
                )
        auth = request.headers.get("Authorization", "")
        if auth == f"Bearer a{self.n}" and self.n > 0:
            return jira_json(200, {"accountId": "abc"})
        return jira_json(401, {"errorMessages": ["expired"]})


def _auth(store, endpoint, **kw) -> OAuth2Auth:
    return OAuth2Auth(
        "site1",
        store,
        client_id="cid",
        client_secret="csecret",
        token_url="https://auth.example.test/oauth/token",
        transport=httpx.MockTransport(endpoint),
        now=kw.pop("now", lambda: NOW),
        **kw,
    )


def _expired(refresh: str = "r0") -> OAuth2Token:
    return OAuth2Token("a-old", refresh, NOW - timedelta(seconds=1))


async def _call(auth: OAuth2Auth, endpoint: TokenEndpoint) -> int:
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint), auth=auth) as c:
        r = await c.get("https://api.example.test/rest/api/3/myself")
    return r.status_code


async def test_oauth2_refreshes_ahead_of_expiry_and_persists_rotated_token(tmp_path) -> None:
    store = FileCredentialStore(tmp_path)
    store.save("site1", OAuth2Token("a-old", "r0", NOW + timedelta(seconds=100)))
    endpoint = TokenEndpoint()
    auth = _auth(store, endpoint, refresh_ahead=300)
    assert await _call(auth, endpoint) == 200
    saved = store.load("site1")
    assert saved is not None and saved.refresh_token == "r1" and saved.access_token == "a1"
    assert saved.expires_at == NOW + timedelta(seconds=3600)
    mode = stat.S_IMODE(os.stat(tmp_path / "site1.json").st_mode)
    assert mode == 0o600
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".site1")]  # no temp left
    # A second call uses the stored token, no new refresh.
    assert await _call(auth, endpoint) == 200
    assert endpoint.calls == 1


async def test_oauth2_concurrent_tasks_refresh_once() -> None:
    store = MemoryCredentialStore()
    store.save("site1", _expired())
    endpoint = TokenEndpoint()
    auths = [_auth(store, endpoint) for _ in range(3)]  # three workers, one credential
    codes = await asyncio.gather(*(_call(a, endpoint) for a in auths for _ in range(5)))
    assert codes == [200] * 15
    assert endpoint.calls == 1  # nobody burnt the rotated token


def test_oauth2_two_processes_refresh_once(tmp_path) -> None:
    """Two event loops in two threads, each with its own store object (as two processes)."""
    FileCredentialStore(tmp_path).save("site1", _expired())
    endpoint = TokenEndpoint()
    results: list[int] = []

    def worker() -> None:
        auth = _auth(FileCredentialStore(tmp_path), endpoint)
        results.append(asyncio.run(_call(auth, endpoint)))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 4
    assert endpoint.calls == 1
    assert FileCredentialStore(tmp_path).load("site1").refresh_token == "r1"


async def test_oauth2_401_forces_one_refresh() -> None:
    store = MemoryCredentialStore()
    store.save("site1", OAuth2Token("revoked", "r0", NOW + timedelta(hours=1)))
    endpoint = TokenEndpoint()
    assert await _call(_auth(store, endpoint), endpoint) == 200
    assert endpoint.calls == 1


async def test_oauth2_rotated_away_token_asks_to_reauthenticate() -> None:
    store = MemoryCredentialStore()
    store.save("site1", _expired("r-burnt"))
    endpoint = TokenEndpoint()
    with pytest.raises(ReauthenticateError) as info:
        await _call(_auth(store, endpoint), endpoint)
    assert "invalid_grant" in str(info.value)
    assert "r-burnt" not in str(info.value) and "csecret" not in str(info.value)
    assert store.load("site1").refresh_token == "r-burnt"  # nothing lost


async def test_oauth2_token_endpoint_down_is_retry_later() -> None:
    store = MemoryCredentialStore()
    store.save("site1", _expired())
    endpoint = TokenEndpoint()
    endpoint.fail_with = 503
    with pytest.raises(RetryLaterError):
        await _call(_auth(store, endpoint), endpoint)
    assert store.load("site1").refresh_token == "r0"


async def test_oauth2_missing_credential() -> None:
    with pytest.raises(ReauthenticateError):
        await _call(_auth(MemoryCredentialStore(), TokenEndpoint()), TokenEndpoint())


def test_file_store_rejects_unsafe_ids_and_bad_files(tmp_path) -> None:
    store = FileCredentialStore(tmp_path)
    with pytest.raises(FixConfigError):
        store.load("../etc/passwd")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(FixConfigError):
        store.load("broken")
    assert store.load("absent") is None
    assert "a1" not in repr(OAuth2Token("a1", "r1", NOW))


async def test_oauth2_rotated_token_is_stored_before_it_is_used(tmp_path) -> None:
    store = FileCredentialStore(tmp_path)
    store.save("site1", _expired())
    endpoint = TokenEndpoint()
    seen_on_disk: list[str] = []
    inner = endpoint.__call__

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/oauth/token":
            # the API call with the new access token: the new pair must already be on disk
            seen_on_disk.append(FileCredentialStore(tmp_path).load("site1").refresh_token)
        return inner(request)

    auth = OAuth2Auth(
        "site1",
        store,
        client_id="cid",
        client_secret="csecret",
        token_url="https://auth.example.test/oauth/token",
        transport=httpx.MockTransport(handler),
        now=lambda: NOW,
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=auth) as c:
        assert (await c.get("https://api.example.test/rest/api/3/myself")).status_code == 200
    assert seen_on_disk == ["r1"]


def test_file_store_save_is_atomic(tmp_path, monkeypatch) -> None:
    store = FileCredentialStore(tmp_path)
    store.save("site1", OAuth2Token("a1", "r1", NOW))

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        store.save("site1", OAuth2Token("a2", "r2", NOW))
    monkeypatch.undo()
    assert store.load("site1").refresh_token == "r1"  # the old pair is intact
    assert sorted(os.listdir(tmp_path)) == ["site1.json"]  # no temp file left behind


async def test_oauth1_over_plain_http_is_a_config_error(monkeypatch) -> None:
    monkeypatch.delenv("AUTHLIB_INSECURE_TRANSPORT", raising=False)
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    auth = OAuth1RsaAuth("ck", pem, "tok")
    request = httpx.Request("GET", "http://jira.corp.example/rest/api/2/myself")
    with pytest.raises(FixConfigError, match="https"):
        next(auth.auth_flow(request))
    # https is signed
    signed = next(auth.auth_flow(httpx.Request("GET", "https://jira.corp.example/x")))
    assert signed.headers["Authorization"].startswith("OAuth ")


async def test_oauth1_with_a_broken_private_key_is_a_config_error() -> None:
    auth = OAuth1RsaAuth(
        "ck", "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", "tok"
    )
    with pytest.raises(FixConfigError, match="private key"):
        next(auth.auth_flow(httpx.Request("GET", "https://jira.corp.example/x")))


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (lambda r: httpx.Response(200, text="<html>x</html>"), "BadInputError"),
        (lambda r: httpx.Response(200, text="oauth_token_secret=s"), "BadInputError"),
        (lambda r: httpx.Response(503, headers={"Retry-After": "2"}), "RetryLaterError"),
        (
            lambda r: httpx.Response(
                401, headers={"WWW-Authenticate": 'OAuth realm="x", oauth_problem="nonce_used"'}
            ),
            "ReauthenticateError",
        ),
    ],
    ids=["html", "no-token", "503", "401"],
)
async def test_oauth1_dance_rejects_bad_answers(answer, error) -> None:
    import jirabridge.errors as errors
    from jirabridge.jira import OAuth1Dance

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    async with OAuth1Dance(
        "https://jira.corp.example", "ck", pem, transport=httpx.MockTransport(handler)
    ) as dance:
        with pytest.raises(getattr(errors, error)) as info:
            await dance.request_token()
    assert seen[0].url.path == "/plugins/servlet/oauth/request-token"
    assert 'oauth_callback="oob"' in seen[0].headers["Authorization"]
    if error == "ReauthenticateError":
        assert "nonce_used" in str(info.value)
