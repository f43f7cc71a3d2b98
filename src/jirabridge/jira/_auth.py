"""Authentication for both flavours, as ``httpx.Auth`` objects.

- :func:`basic_auth` — Server user and password;
- :class:`BearerAuth` — Server/DC personal access token (``Authorization: Bearer``);
- :func:`cloud_api_token_auth` — Cloud ``email:api_token`` basic;
- :class:`OAuth1RsaAuth` — Server application links, OAuth 1.0a RSA-SHA1 (signed with authlib);
- :class:`OAuth2Auth` — Cloud OAuth 2.0 (3LO) with rotating refresh tokens, see ``_oauth2``.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx
from authlib.oauth1 import SIGNATURE_RSA_SHA1, SIGNATURE_TYPE_HEADER, ClientAuth
from authlib.oauth1.rfc5849.errors import InsecureTransportError, OAuth1Error

from jirabridge.errors import FixConfigError

__all__ = [
    "BearerAuth",
    "OAuth1RsaAuth",
    "basic_auth",
    "cloud_api_token_auth",
    "static_authorization",
]


def basic_auth(username: str, password: str) -> httpx.Auth:
    """Server/DC basic authentication."""
    if not username or not password:
        raise FixConfigError("basic authentication needs a username and a password")
    return httpx.BasicAuth(username, password)


def cloud_api_token_auth(email: str, api_token: str) -> httpx.Auth:
    """Cloud API token: basic authentication with the account's email and the token."""
    if "@" not in email or not api_token:
        raise FixConfigError("a Cloud API token needs the account email and the token")
    return httpx.BasicAuth(email, api_token)


class BearerAuth(httpx.Auth):
    """Server/DC personal access token (8.14+), sent as ``Authorization: Bearer``."""

    def __init__(self, token: str) -> None:
        if not token:
            raise FixConfigError("a personal access token is empty")
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


def static_authorization(auth: httpx.Auth | None) -> str | None:
    """The ``Authorization`` value ``auth`` puts on every request, when it is the same on every
    request (basic, personal access token), so it can be set once instead of running an auth
    flow per request; ``None`` for flows that sign or refresh per request (OAuth)."""
    if type(auth) not in (httpx.BasicAuth, BearerAuth):  # subclasses may do more per request
        return None
    assert auth is not None
    flow = auth.sync_auth_flow(httpx.Request("GET", "https://jirabridge.invalid/"))
    signed = next(flow)
    flow.close()
    value: str | None = signed.headers.get("Authorization")
    return value


def sign_oauth1(
    client: ClientAuth,
    method: str,
    url: httpx.URL,
    headers: dict[str, str],
    body: bytes,
) -> dict[str, str]:
    """Sign one request with authlib; its refusals become :class:`FixConfigError`."""
    try:
        _url, signed, _body = client.prepare(method, str(url), headers, body)
    except InsecureTransportError as exc:
        raise FixConfigError(
            f"OAuth 1.0a signing refuses plain http for {url.host}: give the site's"
            " https URL (authlib allows http only for localhost, or with"
            " AUTHLIB_INSECURE_TRANSPORT=1 in a lab)"
        ) from exc
    except (OAuth1Error, ValueError, TypeError) as exc:
        raise FixConfigError(
            f"OAuth 1.0a could not sign the request ({type(exc).__name__}); check the"
            " consumer key and the private key"
        ) from exc
    return dict(signed)


class OAuth1RsaAuth(httpx.Auth):
    """OAuth 1.0a with RSA-SHA1 signatures, as Jira Server application links use it."""

    requires_request_body = True

    def __init__(
        self,
        consumer_key: str,
        private_key_pem: str,
        access_token: str,
        token_secret: str | None = None,
    ) -> None:
        if not consumer_key or not access_token:
            raise FixConfigError("OAuth 1.0a needs a consumer key and an access token")
        if "PRIVATE KEY" not in private_key_pem:
            raise FixConfigError("OAuth 1.0a needs a PEM private key")
        self._client = ClientAuth(
            consumer_key,
            token=access_token,
            token_secret=token_secret,
            rsa_key=private_key_pem,
            signature_method=SIGNATURE_RSA_SHA1,
            signature_type=SIGNATURE_TYPE_HEADER,
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        content_type = request.headers.get("Content-Type", "")
        # Only form bodies take part in the signature (RFC 5849 3.4.1.3.1); JSON does not.
        body = request.content if content_type.startswith("application/x-www-form") else b""
        sign_headers = {"Content-Type": content_type} if content_type else {}
        headers = sign_oauth1(self._client, request.method, request.url, sign_headers, body)
        request.headers["Authorization"] = headers["Authorization"]
        yield request

    def __repr__(self) -> str:
        return "OAuth1RsaAuth(***)"
