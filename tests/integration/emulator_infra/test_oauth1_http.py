"""OAuth 1.0a in the middleware: form bodies are signed and still reach the app; Cloud does
not speak OAuth 1.0a; the control plane registers consumers."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from authlib.oauth1 import SIGNATURE_RSA_SHA1, SIGNATURE_TYPE_HEADER, ClientAuth
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jirabridge.emulator.infra import AuthKind, Infra, InfraOptions
from tests.integration.emulator_infra.conftest import FakeSite

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pems(key: rsa.RSAPrivateKey) -> tuple[str, str]:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _app(flavour: str) -> tuple[Infra, httpx.AsyncClient]:
    site = FakeSite()
    site.clock.unfreeze()
    site.clock.freeze(datetime.now(UTC))
    infra = Infra(site, flavour, options=InfraOptions(base_url="http://127.0.0.1"))

    async def echo(request: Request) -> Response:
        form = await request.form()
        return JSONResponse(
            {
                "user": request.state.user_key,
                "kind": request.state.auth_kind,
                "consumer": request.state.oauth1_consumer_key,
                "form": dict(form),
            }
        )

    app = Starlette(routes=[*infra.routes(), Route("/rest/api/2/echo", echo, methods=["POST"])])
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=infra.wrap(app)), base_url="http://127.0.0.1"
    )
    return infra, client


async def test_signed_form_body_is_verified_and_replayed(key) -> None:
    private, public = _pems(key)
    infra, client = _app("server")
    async with client:
        r = await client.post(
            "/_emulator/oauth1/consumers", json={"consumerKey": "ck", "publicKey": public}
        )
        assert r.status_code == 201 and r.json()["signatureMethod"] == "RSA-SHA1"
        r = await client.post(
            "/_emulator/oauth1/tokens", json={"consumerKey": "ck", "userKey": "U1"}
        )
        token = r.json()["token"]
        signer = ClientAuth(
            "ck",
            token=token,
            rsa_key=private,
            signature_method=SIGNATURE_RSA_SHA1,
            signature_type=SIGNATURE_TYPE_HEADER,
        )
        url = "http://127.0.0.1/rest/api/2/echo?x=1"
        body = "a=1&b=x+y%26z"
        _u, headers, _b = signer.prepare("POST", url, {"Content-Type": FORM}, body)
        r = await client.post(url, content=body, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "user": "U1",
            "kind": AuthKind.OAUTH1.value,
            "consumer": "ck",
            "form": {"a": "1", "b": "x y&z"},
        }
        # the same signature over a changed body is refused
        _u, headers, _b = signer.prepare("POST", url, {"Content-Type": FORM}, body)
        r = await client.post(url, content="a=2&b=x+y%26z", headers=headers)
        assert r.status_code == 401
        assert r.json()["errors"]["oauth_problem"] == "signature_invalid"
        assert infra.summary()["oauth1"]["accessTokens"] == 1


async def test_cloud_has_no_oauth1(key) -> None:
    _private, public = _pems(key)
    _infra, client = _app("cloud")
    async with client:
        r = await client.post("/plugins/servlet/oauth/request-token")
        assert r.status_code == 404
        r = await client.post(
            "/rest/api/2/echo", headers={"Authorization": 'OAuth oauth_consumer_key="ck"'}
        )
        assert r.status_code == 401 and "oauth_problem" not in r.text


async def test_malformed_oauth_headers_are_refused_cleanly() -> None:
    _infra, client = _app("server")
    async with client:
        for header in ['OAuth oauth_consumer_key="ck", junk', "OAuth ", 'OAuth a="%ZZ"']:
            r = await client.post("/rest/api/2/echo", headers={"Authorization": header})
            assert r.status_code == 401, header
            assert r.json()["errors"]["oauth_problem"] in {
                "parameter_rejected",
                "parameter_absent",
            }
        # the authorize page needs the token and the user
        r = await client.get("/plugins/servlet/oauth/authorize")
        assert r.status_code == 400 and r.json()["errorMessages"]
        r = await client.get("/plugins/servlet/oauth/authorize?oauth_token=nope&user=U1")
        assert r.status_code == 401 and "token_rejected" in r.headers["WWW-Authenticate"]


async def test_reset_forgets_consumers_and_tokens(key) -> None:
    _private, public = _pems(key)
    infra, client = _app("server")
    async with client:
        await client.post(
            "/_emulator/oauth1/consumers", json={"consumerKey": "ck", "publicKey": public}
        )
        await client.post("/_emulator/oauth1/tokens", json={"consumerKey": "ck", "userKey": "U1"})
        assert infra.summary()["oauth1"] == {
            "consumers": 1,
            "requestTokens": 0,
            "accessTokens": 1,
        }
        assert (await client.post("/_emulator/reset")).status_code == 200
        assert infra.summary()["oauth1"] == {
            "consumers": 0,
            "requestTokens": 0,
            "accessTokens": 0,
        }
        r = await client.post(
            "/_emulator/oauth1/tokens", json={"consumerKey": "ck", "userKey": "U1"}
        )
        assert r.status_code == 400
