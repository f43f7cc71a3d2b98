"""Authentication of both flavours and the OAuth 2.0 (3LO) token state, without HTTP.

Server: basic ``user:password``; personal access tokens as ``Authorization: Bearer`` (a PAT is
not accepted as a basic password). Cloud: basic ``email:api_token`` (a password is refused);
OAuth 2.0 access tokens as ``Authorization: Bearer``. Passwords, API tokens and PATs belong to
the model's users and are checked with a :data:`CredentialChecker`; infra keeps its own
:class:`CredentialStore` for credentials added through the control plane, with expiry and
revocation that also apply to the site's own credentials.

OAuth: clients, authorization codes (issued by the control plane, single use, 10 minutes),
access tokens (``access_token_ttl`` seconds on the emulator clock) and refresh tokens that
rotate: each use returns a new one and invalidates the old; a reused refresh token fails with
``invalid_grant``. Tokens come from one seeded source, so runs repeat.
"""

from __future__ import annotations

import base64
import binascii
import functools
import random
import re
import threading
from dataclasses import dataclass, field, replace
from enum import StrEnum

from jirabridge.emulator.infra._ports import CredentialChecker, FlavourName
from jirabridge.errors import BadInputError, ReauthenticateError

__all__ = [
    "SCOPE_MISMATCH",
    "AccessGrant",
    "AuthKind",
    "AuthOutcome",
    "Authenticator",
    "CredentialStore",
    "OAuthClient",
    "OAuthGrantError",
    "OAuthRequestError",
    "OAuthStore",
    "TokenPair",
    "scope_allows",
]

CODE_TTL = 600.0
SCOPE_MISMATCH = "Unauthorized; scope does not match"
_READ_POSTS = ("/search", "/bulkfetch", "/picker", "/approximate-count", "/jql/")
_WEBHOOK_PATH = re.compile(r"^/rest/api/(?:2|3|latest)/webhook(?:/|$)")


def scope_allows(scope: str, method: str, path: str) -> bool:
    """Whether an OAuth 2.0 token with ``scope`` may make this call (classic scopes, broadly:
    reads need a ``read:``/``write:``/``manage:`` scope, writes a ``write:``/``manage:`` one,
    app webhooks ``manage:jira-webhook``; POSTs that only search count as reads)."""
    have = scope.split()
    if _WEBHOOK_PATH.match(path):
        return "manage:jira-webhook" in have
    read = method.upper() in {"GET", "HEAD", "OPTIONS"} or (
        method.upper() == "POST" and any(p in path for p in _READ_POSTS)
    )
    prefixes = ("read:", "write:", "manage:") if read else ("write:", "manage:")
    return any(s.startswith(prefixes) for s in have)


class AuthKind(StrEnum):
    """How a request authenticated (stored in ``request.state.auth_kind``)."""

    ANONYMOUS = "anonymous"
    BASIC = "basic"
    API_TOKEN = "api_token"  # noqa: S105 - a kind name, not a secret
    PAT = "pat"
    OAUTH = "oauth"
    OAUTH1 = "oauth1"  # Server application links: OAuth 1.0a, RSA-SHA1


class OAuthGrantError(ReauthenticateError):
    """The grant (code, refresh token, client credentials) is invalid: authenticate again."""

    def __init__(self, error: str, description: str, *, status: int = 403) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


class OAuthRequestError(BadInputError):
    """The token request itself is malformed (missing parameter, unknown grant type)."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str
    name: str = "app"
    redirect_uri: str = "http://127.0.0.1/callback"
    scopes: tuple[str, ...] = (
        "read:jira-work",
        "read:jira-user",
        "write:jira-work",
        "manage:jira-webhook",
        "offline_access",
    )


@dataclass(frozen=True)
class AccessGrant:
    """What an access token stands for."""

    user_key: str
    client_id: str
    scope: str
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True)
class _RefreshGrant:
    user_key: str
    client_id: str
    scope: str
    used: bool = False
    revoked: bool = False


@dataclass(frozen=True)
class _Code:
    client_id: str
    user_key: str
    scope: str
    redirect_uri: str
    expires_at: float


@dataclass(frozen=True)
class TokenPair:
    """The token endpoint's answer."""

    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "access_token": self.access_token,
            "expires_in": self.expires_in,
            "token_type": "Bearer",
            "scope": self.scope,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        return body


class OAuthStore:
    """OAuth clients, codes and tokens; thread-safe so racing refreshes resolve to one winner."""

    def __init__(self, *, seed: int = 1, access_token_ttl: float = 3600.0) -> None:
        self._random = random.Random(f"oauth:{seed}")
        self._lock = threading.Lock()
        self.access_token_ttl = access_token_ttl
        self.clients: dict[str, OAuthClient] = {}
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, AccessGrant] = {}
        self._refresh: dict[str, _RefreshGrant] = {}

    def _token(self, prefix: str, nbytes: int = 24) -> str:
        return prefix + self._random.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def create_client(
        self,
        name: str = "app",
        *,
        redirect_uri: str = "http://127.0.0.1/callback",
        scopes: tuple[str, ...] | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> OAuthClient:
        with self._lock:
            client = OAuthClient(
                client_id=client_id or self._token("", 16),
                client_secret=client_secret or self._token("", 32),
                name=name,
                redirect_uri=redirect_uri,
                scopes=scopes or OAuthClient.scopes,
            )
            self.clients[client.client_id] = client
            return client

    def issue_code(
        self, client_id: str, user_key: str, now: float, *, scope: str | None = None
    ) -> str:
        """What the consent screen would do: an authorization code for ``user_key``."""
        with self._lock:
            client = self.clients.get(client_id)
            if client is None:
                raise OAuthGrantError("invalid_client", "Unknown client", status=401)
            code = self._token("code-", 16)
            self._codes[code] = _Code(
                client_id,
                user_key,
                scope or " ".join(client.scopes),
                client.redirect_uri,
                now + CODE_TTL,
            )
            return code

    def _client(self, client_id: str | None, client_secret: str | None) -> OAuthClient:
        if not client_id:
            raise OAuthRequestError("invalid_request", "Missing client_id")
        client = self.clients.get(client_id)
        if client is None or client.client_secret != client_secret:
            raise OAuthGrantError("access_denied", "Unauthorized", status=401)
        return client

    def _pair(self, user_key: str, client_id: str, scope: str, now: float) -> TokenPair:
        access = self._token("at-")
        self._access[access] = AccessGrant(user_key, client_id, scope, now + self.access_token_ttl)
        refresh: str | None = None
        if "offline_access" in scope.split():
            refresh = self._token("rt-")
            self._refresh[refresh] = _RefreshGrant(user_key, client_id, scope)
        return TokenPair(access, round(self.access_token_ttl), scope, refresh)

    def exchange_code(
        self,
        *,
        client_id: str | None,
        client_secret: str | None,
        code: str | None,
        redirect_uri: str | None,
        now: float,
    ) -> TokenPair:
        with self._lock:
            client = self._client(client_id, client_secret)
            if not code:
                raise OAuthRequestError("invalid_request", "Missing code")
            grant = self._codes.pop(code, None)
            if grant is None or grant.client_id != client.client_id or now >= grant.expires_at:
                raise OAuthGrantError("invalid_grant", "Invalid authorization code")
            if redirect_uri is not None and redirect_uri != grant.redirect_uri:
                raise OAuthGrantError("invalid_grant", "redirect_uri does not match")
            return self._pair(grant.user_key, client.client_id, grant.scope, now)

    def refresh(
        self,
        *,
        client_id: str | None,
        client_secret: str | None,
        refresh_token: str | None,
        now: float,
    ) -> TokenPair:
        """Rotate: the old refresh token is spent whether or not the caller sees the answer."""
        with self._lock:
            client = self._client(client_id, client_secret)
            if not refresh_token:
                raise OAuthRequestError("invalid_request", "Missing refresh_token")
            grant = self._refresh.get(refresh_token)
            if grant is None or grant.used or grant.revoked or grant.client_id != client.client_id:
                raise OAuthGrantError("invalid_grant", "Unknown or invalid refresh token.")
            self._refresh[refresh_token] = replace(grant, used=True)
            return self._pair(grant.user_key, grant.client_id, grant.scope, now)

    def access(self, token: str, now: float) -> AccessGrant | None:
        """The grant behind a live access token, or ``None`` (unknown, expired or revoked)."""
        with self._lock:
            grant = self._access.get(token)
        if grant is None or grant.revoked or now >= grant.expires_at:
            return None
        return grant

    def expire_access_tokens(self, *, user_key: str | None = None) -> int:
        """Make live access tokens (of one user, or all) expire now; returns how many."""
        with self._lock:
            n = 0
            for token, grant in list(self._access.items()):
                if user_key is None or grant.user_key == user_key:
                    self._access[token] = replace(grant, expires_at=float("-inf"))
                    n += 1
            return n

    def revoke(self, token: str) -> bool:
        """Revoke one access or refresh token."""
        with self._lock:
            if token in self._access:
                self._access[token] = replace(self._access[token], revoked=True)
                return True
            if token in self._refresh:
                self._refresh[token] = replace(self._refresh[token], revoked=True)
                return True
            return False

    def revoke_user(self, user_key: str) -> int:
        with self._lock:
            n = 0
            for token, access in list(self._access.items()):
                if access.user_key == user_key and not access.revoked:
                    self._access[token] = replace(access, revoked=True)
                    n += 1
            for token, rgrant in list(self._refresh.items()):
                if rgrant.user_key == user_key and not rgrant.revoked:
                    self._refresh[token] = replace(rgrant, revoked=True)
                    n += 1
            return n

    def summary(self) -> dict[str, int]:
        with self._lock:
            return {
                "clients": len(self.clients),
                "accessTokens": len(self._access),
                "refreshTokens": sum(1 for g in self._refresh.values() if not g.used),
            }


@dataclass(frozen=True)
class _Credential:
    user_key: str
    kind: str
    login: str | None
    expires_at: float | None


@dataclass
class CredentialStore:
    """Credentials added through the control plane, plus revocations of any credential.

    ``kind`` is ``"password"``, ``"api_token"`` (Cloud, with the user's email as login) or
    ``"pat"`` (Server, no login).
    """

    _by_secret: dict[tuple[str, str], _Credential] = field(default_factory=dict)
    _revoked: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self,
        kind: str,
        secret: str,
        user_key: str,
        *,
        login: str | None = None,
        expires_at: float | None = None,
    ) -> None:
        if kind not in {"password", "api_token", "pat"}:
            raise ValueError("kind must be password, api_token or pat")
        if not secret:
            raise ValueError("secret must not be empty")
        with self._lock:
            self._by_secret[(kind, secret)] = _Credential(user_key, kind, login, expires_at)
            self._revoked.discard(secret)

    def revoke(self, secret: str) -> None:
        with self._lock:
            self._revoked.add(secret)

    def expire(self, secret: str, at: float) -> bool:
        with self._lock:
            for key, cred in list(self._by_secret.items()):
                if key[1] == secret:
                    self._by_secret[key] = replace(cred, expires_at=at)
                    return True
            return False

    def is_revoked(self, secret: str) -> bool:
        with self._lock:
            return secret in self._revoked

    def check(self, kind: str, login: str, secret: str, now: float) -> str | None:
        with self._lock:
            if secret in self._revoked:
                return None
            cred = self._by_secret.get((kind, secret))
        if cred is None:
            return None
        if cred.expires_at is not None and now >= cred.expires_at:
            return None
        if cred.login is not None and cred.login.lower() != login.lower():
            return None
        return cred.user_key


@dataclass(frozen=True)
class AuthOutcome:
    """``user_key`` set when authenticated; ``failed`` when credentials were given but wrong;
    ``gateway`` when the failure should use the OAuth gateway's 401 shape."""

    kind: AuthKind
    user_key: str | None = None
    failed: bool = False
    gateway: bool = False
    client_id: str | None = None
    captcha: bool = False
    scope: str | None = None


@functools.lru_cache(maxsize=256)
def _decode_basic(value: str) -> tuple[str, str] | None:
    """``login:secret`` of a basic header's value. Pure, so memoised: a client sends the same
    header on every call. Only the decoding is kept; the credential is checked each time."""
    try:
        raw = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    login, sep, secret = raw.partition(":")
    if not sep or not login:
        return None
    return login, secret


class Authenticator:
    """Turns an ``Authorization`` header into an :class:`AuthOutcome` for one flavour."""

    def __init__(
        self,
        flavour: FlavourName,
        oauth: OAuthStore,
        store: CredentialStore,
        checker: CredentialChecker | None,
        *,
        captcha_after: int | None = None,
    ) -> None:
        self.flavour = flavour
        self.oauth = oauth
        self.store = store
        self.checker = checker
        #: Server: after this many failed basic logins in a row, a login is CAPTCHA-locked
        #: (every basic attempt, right or wrong, is refused until :meth:`clear_failures`).
        self.captcha_after = captcha_after
        self._failures: dict[str, int] = {}
        self._lock = threading.Lock()

    def clear_failures(self, login: str | None = None) -> None:
        """Forget failed logins (of one login, or all): lifts CAPTCHA locks."""
        with self._lock:
            if login is None:
                self._failures.clear()
            else:
                self._failures.pop(login.lower(), None)

    def _captcha_locked(self, login: str) -> bool:
        limit = self.captcha_after
        if limit is None or self.flavour is not FlavourName.SERVER:
            return False
        with self._lock:
            return self._failures.get(login.lower(), 0) >= limit

    def _record_login(self, login: str, ok: bool) -> None:
        if self.flavour is not FlavourName.SERVER:
            return
        with self._lock:
            if ok:
                self._failures.pop(login.lower(), None)
            else:
                self._failures[login.lower()] = self._failures.get(login.lower(), 0) + 1

    def _check(self, kind: str, login: str, secret: str, now: float) -> str | None:
        found = self.store.check(kind, login, secret, now)
        if found is not None:
            return found
        if self.checker is None or self.store.is_revoked(secret):
            return None
        return self.checker(kind, login, secret)

    def authenticate(self, authorization: str | None, now: float) -> AuthOutcome:
        if not authorization:
            return AuthOutcome(AuthKind.ANONYMOUS)
        scheme, _, value = authorization.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            decoded = _decode_basic(value)
            kind = AuthKind.BASIC if self.flavour is FlavourName.SERVER else AuthKind.API_TOKEN
            if decoded is None:
                return AuthOutcome(kind, failed=True)
            login, secret = decoded
            if self._captcha_locked(login):
                return AuthOutcome(kind, failed=True, captcha=True)
            cred_kind = "password" if kind is AuthKind.BASIC else "api_token"
            user = self._check(cred_kind, login, secret, now)
            self._record_login(login, user is not None)
            return AuthOutcome(kind, user) if user else AuthOutcome(kind, failed=True)
        if scheme == "bearer" and value.strip():
            token = value.strip()
            if self.flavour is FlavourName.SERVER:
                user = self._check("pat", "", token, now)
                return (
                    AuthOutcome(AuthKind.PAT, user)
                    if user
                    else AuthOutcome(AuthKind.PAT, failed=True)
                )
            grant = self.oauth.access(token, now)
            if grant is None:
                return AuthOutcome(AuthKind.OAUTH, failed=True, gateway=True)
            return AuthOutcome(
                AuthKind.OAUTH, grant.user_key, client_id=grant.client_id, scope=grant.scope
            )
        return AuthOutcome(AuthKind.ANONYMOUS, failed=True)
