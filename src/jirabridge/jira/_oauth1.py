"""The three legs of OAuth 1.0a (RSA-SHA1) against Jira Server/Data Center application links.

Done once, when a site is set up::

    dance = OAuth1Dance("https://jira.corp", "jirabridge", private_key_pem)
    pending = await dance.request_token()                 # leg 1
    print("approve at", dance.authorize_url(pending))     # leg 2: a person approves in Jira
    access = await dance.access_token(pending, verifier)  # leg 3 (verifier from the callback)
    server = ServerClient("https://jira.corp", auth=dance.auth(access))

Jira answers the legs form-encoded (``oauth_token=...&oauth_token_secret=...``). A refusal is
a 401 naming the problem in ``WWW-Authenticate`` (see :func:`oauth_problem`): raised as
:class:`~jirabridge.errors.ReauthenticateError` with that problem in its message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import httpx
from authlib.oauth1 import SIGNATURE_RSA_SHA1, SIGNATURE_TYPE_HEADER, ClientAuth

from jirabridge.errors import BadInputError, FixConfigError
from jirabridge.jira._auth import OAuth1RsaAuth, sign_oauth1
from jirabridge.jira._errors import Scope, error_from_response, error_from_transport

__all__ = ["OAuth1Dance", "OAuth1Token"]

SERVLET = "/plugins/servlet/oauth"


@dataclass(frozen=True)
class OAuth1Token:
    """A request or access token and its secret (the secret never shows in ``repr``)."""

    token: str
    secret: str = field(repr=False)


class OAuth1Dance:
    """Leg by leg; ``callback`` is where Jira sends the person after approval (``oob``: Jira
    shows the verifier instead). ``transport`` lets tests use the emulator in-process."""

    def __init__(
        self,
        base_url: str,
        consumer_key: str,
        private_key_pem: str,
        *,
        callback: str = "oob",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not consumer_key:
            raise FixConfigError("OAuth 1.0a needs a consumer key")
        if "PRIVATE KEY" not in private_key_pem:
            raise FixConfigError("OAuth 1.0a needs a PEM private key")
        self.base_url = base_url.rstrip("/")
        self.consumer_key = consumer_key
        self._key = private_key_pem
        self.callback = callback
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> OAuth1Dance:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _signer(self, token: OAuth1Token | None = None, **extra: str) -> ClientAuth:
        return ClientAuth(
            self.consumer_key,
            token=token.token if token else None,
            token_secret=token.secret if token else None,
            rsa_key=self._key,
            signature_method=SIGNATURE_RSA_SHA1,
            signature_type=SIGNATURE_TYPE_HEADER,
            **extra,
        )

    async def _leg(self, name: str, signer: ClientAuth) -> dict[str, str]:
        url = httpx.URL(f"{self.base_url}{SERVLET}/{name}")
        headers = sign_oauth1(signer, "POST", url, {}, b"")
        request = self._http.build_request("POST", url, headers=headers)
        try:
            response = await self._http.send(request)
        except httpx.HTTPError as exc:
            raise error_from_transport(exc, request) from exc
        if response.status_code >= 400:
            raise error_from_response(response, scope=Scope.CONFIG)
        try:
            answer = dict(parse_qsl(response.text, keep_blank_values=True, strict_parsing=True))
        except ValueError as exc:
            raise BadInputError(f"Jira's {name} answer is not form-encoded") from exc
        if not answer.get("oauth_token") or "oauth_token_secret" not in answer:
            raise BadInputError(f"Jira's {name} answer has no oauth_token/oauth_token_secret")
        return answer

    async def request_token(self) -> OAuth1Token:
        """Leg 1: an unauthorized request token."""
        answer = await self._leg("request-token", self._signer(redirect_uri=self.callback))
        return OAuth1Token(answer["oauth_token"], answer["oauth_token_secret"])

    def authorize_url(self, request_token: OAuth1Token | str) -> str:
        """Leg 2: the page where a Jira user approves the request token."""
        token = request_token.token if isinstance(request_token, OAuth1Token) else request_token
        return f"{self.base_url}{SERVLET}/authorize?{urlencode({'oauth_token': token})}"

    async def access_token(self, request_token: OAuth1Token, verifier: str) -> OAuth1Token:
        """Leg 3: the approved request token and its verifier for an access token."""
        if not verifier:
            raise BadInputError("the oauth_verifier is empty")
        answer = await self._leg("access-token", self._signer(request_token, verifier=verifier))
        return OAuth1Token(answer["oauth_token"], answer["oauth_token_secret"])

    def auth(self, access: OAuth1Token) -> OAuth1RsaAuth:
        """``httpx.Auth`` that signs REST calls with the access token."""
        return OAuth1RsaAuth(self.consumer_key, self._key, access.token, access.secret)
