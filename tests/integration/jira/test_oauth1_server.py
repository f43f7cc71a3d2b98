"""OAuth 1.0a (RSA-SHA1 application links) between jirabridge's client and the Server emulator.

The three legs are signed by authlib's client (an implementation independent of the
emulator's verifier); REST calls by :class:`jirabridge.jira.OAuth1RsaAuth`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import pytest
from authlib.oauth1 import SIGNATURE_RSA_SHA1, SIGNATURE_TYPE_HEADER, ClientAuth
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jirabridge.errors import ReauthenticateError
from jirabridge.jira import OAuth1RsaAuth

CONSUMER = "jirabridge-link"
CALLBACK = "http://127.0.0.1:9/callback"


def _keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return _keypair()


@pytest.fixture(scope="module")
def other_keys() -> tuple[str, str]:
    return _keypair()


async def _register(emu, public: str) -> None:
    await emu.control("/oauth1/consumers", {"consumerKey": CONSUMER, "publicKey": public})


async def _token(emu) -> str:
    return (
        await emu.control(
            "/oauth1/tokens", {"consumerKey": CONSUMER, "userKey": emu.site.admin_key}
        )
    )["token"]


def _www_authenticate(response: httpx.Response) -> dict[str, str]:
    header = response.headers["WWW-Authenticate"]
    assert header.startswith("OAuth realm=")
    return {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header)}


def _problem(response: httpx.Response) -> str:
    """The oauth_problem of a 401, checked to agree between the header and Jira's JSON body."""
    assert response.status_code == 401, response.text
    params = _www_authenticate(response)
    body = response.json()
    assert body["errors"]["oauth_problem"] == params["oauth_problem"]
    assert params["oauth_problem"] in body["errorMessages"][0]
    return params["oauth_problem"]


def _signer(private: str, token: str | None = None, **kw) -> ClientAuth:
    return ClientAuth(
        CONSUMER,
        token=token,
        rsa_key=private,
        signature_method=SIGNATURE_RSA_SHA1,
        signature_type=SIGNATURE_TYPE_HEADER,
        **kw,
    )


async def test_three_legged_dance_then_rest_calls(server_emu, keys) -> None:
    private, public = keys
    await _register(server_emu, public)
    base = server_emu.app.base_url
    async with httpx.AsyncClient(transport=server_emu.transport, base_url=base) as raw:
        # leg 1: request token
        url = f"{base}/plugins/servlet/oauth/request-token"
        _u, headers, _b = _signer(private, redirect_uri=CALLBACK).prepare("POST", url, {}, b"")
        r = await raw.post(url, headers=headers)
        assert r.status_code == 200, r.text
        leg1 = dict(parse_qsl(r.text))
        assert leg1["oauth_callback_confirmed"] == "true"
        # leg 2: the user approves; Jira redirects to the callback with a verifier
        r = await raw.get(
            "/plugins/servlet/oauth/authorize",
            params={"oauth_token": leg1["oauth_token"], "user": server_emu.site.admin_key},
        )
        assert r.status_code == 302
        location = urlsplit(r.headers["location"])
        assert location.path == "/callback"
        leg2 = dict(parse_qsl(location.query))
        assert leg2["oauth_token"] == leg1["oauth_token"]
        # leg 3: a wrong verifier is refused, the right one gives an access token
        url = f"{base}/plugins/servlet/oauth/access-token"
        signer = _signer(private, token=leg1["oauth_token"], verifier="wrong")
        _u, headers, _b = signer.prepare("POST", url, {}, b"")
        assert _problem(await raw.post(url, headers=headers)) == "token_rejected"
        signer = _signer(private, token=leg1["oauth_token"], verifier=leg2["oauth_verifier"])
        _u, headers, _b = signer.prepare("POST", url, {}, b"")
        r = await raw.post(url, headers=headers)
        assert r.status_code == 200, r.text
        leg3 = dict(parse_qsl(r.text))
        assert int(leg3["oauth_expires_in"]) > 0
        # the request token is spent
        _u, headers, _b = _signer(
            private, token=leg1["oauth_token"], verifier=leg2["oauth_verifier"]
        ).prepare("POST", url, {}, b"")
        assert _problem(await raw.post(url, headers=headers)) in {
            "token_rejected",
            "permission_unknown",
        }

    client = server_emu.client(auth=OAuth1RsaAuth(CONSUMER, private, leg3["oauth_token"]))
    me = await client.myself()
    assert me.name == "admin"
    # the request token is not an access token
    bad = server_emu.client(auth=OAuth1RsaAuth(CONSUMER, private, leg1["oauth_token"]))
    with pytest.raises(ReauthenticateError):
        await bad.myself()


async def test_signed_writes_with_json_and_query(server_emu, keys) -> None:
    private, public = keys
    await _register(server_emu, public)
    from jirabridge.jira import IssueInput

    client = server_emu.client(auth=OAuth1RsaAuth(CONSUMER, private, await _token(server_emu)))
    key = await client.create_issue(
        IssueInput(project_key="PRJ", issue_type="Task", summary="a b&c")
    )
    issue = await client.get_issue(key)
    assert issue.summary == "a b&c"
    found = [i.key async for i in client.search('summary ~ "a b" ORDER BY key')]
    assert key in found


async def test_wrong_key_is_signature_invalid(server_emu, keys, other_keys) -> None:
    _private, public = keys
    await _register(server_emu, public)
    token = await _token(server_emu)
    impostor = OAuth1RsaAuth(CONSUMER, other_keys[0], token)
    async with httpx.AsyncClient(
        transport=server_emu.transport, base_url=server_emu.app.base_url, auth=impostor
    ) as raw:
        r = await raw.get("/rest/api/2/myself")
    assert _problem(r) == "signature_invalid"
    with pytest.raises(ReauthenticateError, match=r"OAuth 1\.0a: signature_invalid"):
        await server_emu.client(auth=impostor).myself()


async def test_replayed_nonce_is_refused(server_emu, keys) -> None:
    private, public = keys
    await _register(server_emu, public)
    auth = OAuth1RsaAuth(CONSUMER, private, await _token(server_emu))
    request = httpx.Request("GET", f"{server_emu.app.base_url}/rest/api/2/myself")
    signed = next(auth.auth_flow(request))
    async with httpx.AsyncClient(transport=server_emu.transport) as raw:
        first = await raw.send(signed)
        assert first.status_code == 200, first.text
        replay = await raw.send(signed)
    assert _problem(replay) == "nonce_used"


async def test_stale_timestamp_is_refused(server_emu, keys) -> None:
    private, public = keys
    await _register(server_emu, public)
    auth = OAuth1RsaAuth(CONSUMER, private, await _token(server_emu))
    await server_emu.control("/clock", {"advance": 3600})  # the site's clock runs an hour ahead
    async with httpx.AsyncClient(
        transport=server_emu.transport, base_url=server_emu.app.base_url, auth=auth
    ) as raw:
        r = await raw.get("/rest/api/2/myself")
    assert _problem(r) == "timestamp_refused"
    lo, hi = _www_authenticate(r)["oauth_acceptable_timestamps"].split("-")
    now = server_emu.site.clock.now().timestamp()
    assert int(lo) <= now <= int(hi) and int(hi) - int(lo) == 600


async def test_unknown_consumer_and_revoked_token(server_emu, keys) -> None:
    private, public = keys
    token_before = None
    async with httpx.AsyncClient(
        transport=server_emu.transport,
        base_url=server_emu.app.base_url,
        auth=OAuth1RsaAuth(CONSUMER, private, "no-such-token"),
    ) as raw:
        assert _problem(await raw.get("/rest/api/2/myself")) == "consumer_key_unknown"
        await _register(server_emu, public)
        assert _problem(await raw.get("/rest/api/2/myself")) == "token_rejected"
        token_before = await _token(server_emu)
        await server_emu.control("/oauth1/revoke", {"token": token_before})
        r = await raw.get("/rest/api/2/myself", auth=OAuth1RsaAuth(CONSUMER, private, token_before))
        assert _problem(r) == "token_rejected"


async def test_bad_consumer_registration_changes_nothing(server_emu) -> None:
    async with httpx.AsyncClient(
        transport=server_emu.transport, base_url=server_emu.app.base_url
    ) as raw:
        r = await raw.post(
            "/_emulator/oauth1/consumers", json={"consumerKey": "x", "publicKey": "not a pem"}
        )
        assert r.status_code == 400 and "PEM" in r.json()["errorMessages"][0]
        r = await raw.post("/_emulator/oauth1/consumers", json={"consumerKey": "x"})
        assert r.status_code == 400 and "publicKey" in r.json()["errors"]
        state = (await raw.get("/_emulator/state")).json()
    assert state["oauth1"]["consumers"] == 0


async def test_oauth1_dance_helper_against_the_emulator(server_emu, keys) -> None:
    from jirabridge.errors import BadInputError
    from jirabridge.jira import OAuth1Dance, OAuth1Token

    private, public = keys
    base = server_emu.app.base_url
    async with OAuth1Dance(base, CONSUMER, private, transport=server_emu.transport) as dance:
        # not registered yet: Jira's problem is named
        with pytest.raises(ReauthenticateError, match="consumer_key_unknown"):
            await dance.request_token()
        await _register(server_emu, public)
        pending = await dance.request_token()
        assert pending.secret not in repr(pending)
        url = dance.authorize_url(pending)
        assert url.startswith(f"{base}/plugins/servlet/oauth/authorize?oauth_token=")
        async with httpx.AsyncClient(transport=server_emu.transport) as person:
            page = await person.get(f"{url}&user={server_emu.site.admin_key}")
        assert page.status_code == 200  # oob: the verifier is shown, not redirected
        verifier = dict(parse_qsl(page.text))["oauth_verifier"]
        with pytest.raises(BadInputError):
            await dance.access_token(pending, "")
        with pytest.raises(ReauthenticateError, match="token_rejected"):
            await dance.access_token(pending, "wrong")
        access = await dance.access_token(pending, verifier)
        assert isinstance(access, OAuth1Token) and access.token != pending.token
        client = server_emu.client(auth=dance.auth(access))
        assert (await client.myself()).name == "admin"
