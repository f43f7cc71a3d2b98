"""OAuth 1.0a with RSA-SHA1, as Jira Server/Data Center application links do it; no HTTP.

A consumer (an application link's incoming authentication) is a consumer key and an RSA
public key. The three-legged flow: a signed request for a *request token* (with
``oauth_callback``), the user authorizes it (which yields an ``oauth_verifier``), a signed
exchange of the authorized request token and the verifier for an *access token*; then every
REST call is signed with the access token. Only the RSA-SHA1 method is accepted (Jira's only
one for application links), so token secrets never take part in signatures.

Checks, in the order Jira's OAuth filter makes them, each failing with an
:class:`OAuth1Problem` named like Jira's ``oauth_problem``: ``version_rejected``,
``parameter_absent``, ``signature_method_rejected``, ``consumer_key_unknown``,
``timestamp_refused`` (more than ``timestamp_window`` seconds from the emulator clock),
``nonce_used`` (a consumer+token+nonce+timestamp seen before within the window),
``token_rejected`` / ``token_expired``, ``signature_invalid``. A nonce is recorded only once
its request verified, so a forged request cannot burn a genuine client's nonce.

The signature base string (RFC 5849 section 3.4.1) is written here, a few lines over the
standard library, so that the exact rules (what is encoded, sorted and left out) are visible
and tested; ``cryptography`` verifies the RSA signature.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from urllib.parse import quote, unquote, urlsplit

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from jirabridge.errors import BadInputError, ReauthenticateError

__all__ = [
    "RSA_SHA1",
    "OAuth1Consumer",
    "OAuth1Problem",
    "OAuth1Stage",
    "OAuth1Store",
    "SignedRequest",
    "Verified",
    "base_string_uri",
    "normalized_parameters",
    "parse_authorization_header",
    "percent_encode",
    "signature_base_string",
]

RSA_SHA1 = "RSA-SHA1"
REQUIRED = (
    "oauth_consumer_key",
    "oauth_signature_method",
    "oauth_signature",
    "oauth_timestamp",
    "oauth_nonce",
)
#: Jira's answers for a fresh access token: five years, as Jira Server hands them out.
ACCESS_TOKEN_TTL = 157_680_000.0
REQUEST_TOKEN_TTL = 600.0
_HEADER_PARAM = re.compile(r'\s*([^=\s,]+)\s*=\s*"([^"]*)"\s*(?:,|$)')


def percent_encode(value: str) -> str:
    """RFC 5849 3.6: UTF-8, then every byte but ``A-Z a-z 0-9 - . _ ~`` as ``%XX``."""
    return quote(value.encode("utf-8"), safe="~")


def parse_authorization_header(value: str) -> list[tuple[str, str]]:
    """The parameters of an ``Authorization: OAuth k="v", ...`` header (``realm`` left out).

    Raises :class:`BadInputError` for a header that is not OAuth or does not parse.
    """
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "oauth":
        raise BadInputError("not an OAuth authorization header")
    out: list[tuple[str, str]] = []
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        match = _HEADER_PARAM.match(rest, pos)
        if match is None:
            raise BadInputError("the OAuth authorization header does not parse")
        name, raw = unquote(match.group(1)), unquote(match.group(2))
        if name != "realm":
            out.append((name, raw))
        pos = match.end()
    return out


def base_string_uri(url: str) -> str:
    """RFC 5849 3.4.1.2: scheme and host in lower case, default ports dropped, no query."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not scheme or not host:
        raise BadInputError("the request URL has no scheme or host")
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    authority = host if port is None or port == default else f"{host}:{port}"
    return f"{scheme}://{authority}{parts.path or '/'}"


def normalized_parameters(params: Iterable[tuple[str, str]]) -> str:
    """RFC 5849 3.4.1.3.2: encode names and values, sort, join; ``oauth_signature`` out."""
    pairs = sorted(
        (percent_encode(k), percent_encode(v)) for k, v in params if k != "oauth_signature"
    )
    return "&".join(f"{k}={v}" for k, v in pairs)


def signature_base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """RFC 5849 3.4.1.1: ``METHOD&encoded base URI&encoded normalized parameters``."""
    return "&".join(
        (
            percent_encode(method.upper()),
            percent_encode(base_string_uri(url)),
            percent_encode(normalized_parameters(params)),
        )
    )


class OAuth1Stage(StrEnum):
    """What a signed request is for: which token it must carry."""

    REQUEST_TOKEN = "request_token"  # noqa: S105 - a stage name
    ACCESS_TOKEN = "access_token"  # noqa: S105 - a stage name
    RESOURCE = "resource"


class OAuth1Problem(ReauthenticateError):
    """A signed request was refused; ``problem`` is Jira's ``oauth_problem`` value and
    ``extra`` the additional ``oauth_*`` parameters Jira adds (acceptable timestamps,
    absent parameters)."""

    def __init__(self, problem: str, detail: str = "", **extra: str) -> None:
        super().__init__(f"OAuth 1.0a: {problem}" + (f" ({detail})" if detail else ""))
        self.problem = problem
        self.extra = dict(extra)

    def parameters(self) -> list[tuple[str, str]]:
        return [("oauth_problem", self.problem), *self.extra.items()]


@dataclass(frozen=True)
class OAuth1Consumer:
    consumer_key: str
    public_key_pem: str
    name: str = "application link"
    callback: str | None = None


@dataclass(frozen=True)
class SignedRequest:
    """A request as the signature saw it: method, full URL (query included or not: only the
    base URI is used) and every parameter (query, form body and ``Authorization`` header)."""

    method: str
    url: str
    params: Sequence[tuple[str, str]]

    def first(self, name: str) -> str | None:
        for k, v in self.params:
            if k == name:
                return v
        return None


@dataclass(frozen=True)
class Verified:
    """A request that passed every check; ``user_key`` is set for access tokens."""

    consumer_key: str
    token: str | None
    user_key: str | None


@dataclass(frozen=True)
class _Token:
    consumer_key: str
    secret: str
    expires_at: float
    access: bool
    user_key: str | None = None
    callback: str | None = None
    verifier: str | None = None
    revoked: bool = False


@dataclass
class OAuth1Store:
    """Consumers, request and access tokens, and seen nonces. Times are emulator-clock Unix
    seconds (``clock.now().timestamp()``), since ``oauth_timestamp`` is wall time."""

    seed: int = 1
    timestamp_window: float = 300.0
    consumers: dict[str, OAuth1Consumer] = field(default_factory=dict)
    _keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)
    _tokens: dict[str, _Token] = field(default_factory=dict)
    _nonces: dict[tuple[str, str, str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(f"oauth1:{self.seed}")

    def _secret(self, nbytes: int = 16) -> str:
        return self._random.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    # consumers ----------------------------------------------------------------------------
    def add_consumer(
        self,
        consumer_key: str,
        public_key_pem: str,
        *,
        name: str = "application link",
        callback: str | None = None,
    ) -> OAuth1Consumer:
        """Register an application link's incoming OAuth; the key must be an RSA public key
        in PEM (``-----BEGIN PUBLIC KEY-----``)."""
        if not consumer_key.strip():
            raise BadInputError("the consumer key must not be empty")
        try:
            key = serialization.load_pem_public_key(public_key_pem.encode("utf-8"))
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise BadInputError("the public key is not a PEM public key") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise BadInputError("the public key must be an RSA key (RSA-SHA1)")
        consumer = OAuth1Consumer(consumer_key, public_key_pem, name, callback)
        with self._lock:
            self.consumers[consumer_key] = consumer
            self._keys[consumer_key] = key
        return consumer

    def remove_consumer(self, consumer_key: str) -> bool:
        with self._lock:
            self._keys.pop(consumer_key, None)
            return self.consumers.pop(consumer_key, None) is not None

    # verification -------------------------------------------------------------------------
    def verify(self, request: SignedRequest, now: float, stage: OAuth1Stage) -> Verified:
        """Check one signed request; raise :class:`OAuth1Problem` on the first failure."""
        params = request.params
        version = request.first("oauth_version")
        if version is not None and version != "1.0":
            raise OAuth1Problem("version_rejected", oauth_acceptable_versions="1.0-1.0")
        absent = [p for p in REQUIRED if request.first(p) in (None, "")]
        if stage is not OAuth1Stage.REQUEST_TOKEN and request.first("oauth_token") in (None, ""):
            absent.append("oauth_token")
        if absent:
            raise OAuth1Problem("parameter_absent", oauth_parameters_absent="&".join(absent))
        if request.first("oauth_signature_method") != RSA_SHA1:
            raise OAuth1Problem("signature_method_rejected", "only RSA-SHA1 is accepted")
        consumer_key = str(request.first("oauth_consumer_key"))
        with self._lock:
            key = self._keys.get(consumer_key)
        if key is None:
            raise OAuth1Problem("consumer_key_unknown")
        raw_ts = str(request.first("oauth_timestamp"))
        lo, hi = int(now - self.timestamp_window), int(now + self.timestamp_window)
        sane = raw_ts.isascii() and raw_ts.isdigit() and len(raw_ts) <= 12
        if not sane or not lo <= int(raw_ts) <= hi:
            raise OAuth1Problem("timestamp_refused", oauth_acceptable_timestamps=f"{lo}-{hi}")
        token = request.first("oauth_token") or ""
        nonce_key = (consumer_key, token, str(request.first("oauth_nonce")), raw_ts)
        with self._lock:
            self._prune(now)
            if nonce_key in self._nonces:
                raise OAuth1Problem("nonce_used")
        user_key = self._check_token(consumer_key, token, now, stage)
        try:
            signature = base64.b64decode(str(request.first("oauth_signature")), validate=True)
            base = signature_base_string(request.method, request.url, params)
            key.verify(signature, base.encode("utf-8"), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
        except (binascii.Error, ValueError, InvalidSignature, BadInputError) as exc:
            raise OAuth1Problem("signature_invalid") from exc
        with self._lock:
            if nonce_key in self._nonces:  # a concurrent twin got there first
                raise OAuth1Problem("nonce_used")
            self._nonces[nonce_key] = int(raw_ts) + self.timestamp_window
        return Verified(consumer_key, token or None, user_key)

    def _check_token(
        self, consumer_key: str, token: str, now: float, stage: OAuth1Stage
    ) -> str | None:
        if stage is OAuth1Stage.REQUEST_TOKEN:
            return None
        with self._lock:
            grant = self._tokens.get(token)
        want_access = stage is OAuth1Stage.RESOURCE
        if grant is None or grant.revoked or grant.consumer_key != consumer_key:
            raise OAuth1Problem("token_rejected")
        if grant.access != want_access:
            raise OAuth1Problem("token_rejected", "wrong kind of token for this call")
        if now >= grant.expires_at:
            raise OAuth1Problem("token_expired")
        return grant.user_key

    def _prune(self, now: float) -> None:
        if len(self._nonces) < 1024:
            return
        for key, until in list(self._nonces.items()):
            if until < now:
                del self._nonces[key]

    # the three legs -----------------------------------------------------------------------
    def issue_request_token(
        self, verified: Verified, callback: str | None, now: float
    ) -> tuple[str, str]:
        """Leg 1: an unauthorized request token (and its secret) for ``callback``."""
        if not callback:
            raise OAuth1Problem("parameter_absent", oauth_parameters_absent="oauth_callback")
        with self._lock:
            token, secret = self._secret(), self._secret()
            self._tokens[token] = _Token(
                verified.consumer_key, secret, now + REQUEST_TOKEN_TTL, False, callback=callback
            )
        return token, secret

    def authorize(self, token: str, user_key: str, now: float) -> tuple[str, str]:
        """Leg 2 (the user's consent): returns ``(verifier, callback)``."""
        with self._lock:
            grant = self._tokens.get(token)
            if grant is None or grant.access or grant.revoked or now >= grant.expires_at:
                raise OAuth1Problem("token_rejected")
            if grant.verifier is not None:
                raise OAuth1Problem("token_used")
            verifier = self._secret(8)
            self._tokens[token] = replace(grant, user_key=user_key, verifier=verifier)
            return verifier, grant.callback or "oob"

    def exchange(self, verified: Verified, verifier: str | None, now: float) -> tuple[str, str]:
        """Leg 3: the authorized request token (spent now) and its verifier for an access
        token and its secret."""
        token = verified.token or ""
        with self._lock:
            grant = self._tokens.get(token)
            if grant is None or grant.user_key is None or grant.verifier is None:
                raise OAuth1Problem("permission_unknown", "the request token is not authorized")
            if not verifier or verifier != grant.verifier:
                raise OAuth1Problem("token_rejected", "wrong oauth_verifier")
            self._tokens[token] = replace(grant, revoked=True)
        return self.issue_access_token(verified.consumer_key, grant.user_key, now)

    def issue_access_token(
        self, consumer_key: str, user_key: str, now: float, *, ttl: float = ACCESS_TOKEN_TTL
    ) -> tuple[str, str]:
        """An access token for ``user_key`` (leg 3, or the control plane's shortcut)."""
        with self._lock:
            if consumer_key not in self.consumers:
                raise BadInputError(f"unknown consumer key {consumer_key!r}")
            token, secret = self._secret(), self._secret()
            self._tokens[token] = _Token(consumer_key, secret, now + ttl, True, user_key)
        return token, secret

    def revoke(self, token: str) -> bool:
        with self._lock:
            grant = self._tokens.get(token)
            if grant is None:
                return False
            self._tokens[token] = replace(grant, revoked=True)
            return True

    def summary(self) -> dict[str, int]:
        with self._lock:
            live = [t for t in self._tokens.values() if not t.revoked]
            return {
                "consumers": len(self.consumers),
                "requestTokens": sum(1 for t in live if not t.access),
                "accessTokens": sum(1 for t in live if t.access),
            }
