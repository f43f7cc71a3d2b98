"""OAuth 2.0 (3LO) for Jira Cloud with rotating refresh tokens.

Atlassian rotates refresh tokens: each refresh returns a new one and invalidates the old, and
two concurrent refreshes with one token fail with ``invalid_grant``. So, per credential:

1. only one refresh at a time: an asyncio lock within the process and a lock file across
   processes (``fcntl.flock``);
2. after taking the locks the credential is read again from the store: if another worker has
   refreshed meanwhile, its token is used and no refresh happens;
3. the new token pair is persisted atomically (temp file, fsync, rename, fsync of the folder)
   *before* the access token is used, so a crash never loses the only valid refresh token;
4. tokens are refreshed ``refresh_ahead`` seconds before they expire, and once more on a 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import re
import tempfile
import threading
import weakref
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx

from jirabridge.errors import (
    FixConfigError,
    JiraErrorBody,
    ReauthenticateError,
    RequestInfo,
    RetryLaterError,
)

__all__ = [
    "ATLASSIAN_TOKEN_URL",
    "CredentialStore",
    "FileCredentialStore",
    "MemoryCredentialStore",
    "OAuth2Auth",
    "OAuth2Token",
]

ATLASSIAN_TOKEN_URL = "https://auth.atlassian.com/oauth/token"  # noqa: S105


@dataclass(frozen=True)
class OAuth2Token:
    access_token: str
    refresh_token: str
    expires_at: datetime
    scope: str = ""
    token_type: str = "Bearer"  # noqa: S105

    def __post_init__(self) -> None:
        if self.expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")

    def __repr__(self) -> str:
        return f"OAuth2Token(expires_at={self.expires_at.isoformat()}, access_token=***)"

    def to_json(self) -> dict[str, str]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat(),
            "scope": self.scope,
            "token_type": self.token_type,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OAuth2Token:
        try:
            return cls(
                access_token=str(data["access_token"]),
                refresh_token=str(data["refresh_token"]),
                expires_at=datetime.fromisoformat(str(data["expires_at"])),
                scope=str(data.get("scope", "")),
                token_type=str(data.get("token_type", "Bearer")),
            )
        except (KeyError, ValueError) as exc:
            raise FixConfigError("stored OAuth 2.0 credential is unreadable") from exc


class CredentialStore(Protocol):
    """Where OAuth 2.0 token pairs live. ``save`` must be atomic."""

    def load(self, credential_id: str) -> OAuth2Token | None: ...

    def save(self, credential_id: str, token: OAuth2Token) -> None: ...

    def lock(self, credential_id: str) -> contextlib.AbstractContextManager[None]:
        """A lock that keeps other processes from refreshing the same credential."""
        ...


class MemoryCredentialStore:
    """In-process store (tests, embedding). Its lock is a thread lock."""

    def __init__(self) -> None:
        self._tokens: dict[str, OAuth2Token] = {}
        self._locks: dict[str, threading.Lock] = {}
        self.saves = 0

    def load(self, credential_id: str) -> OAuth2Token | None:
        return self._tokens.get(credential_id)

    def save(self, credential_id: str, token: OAuth2Token) -> None:
        self._tokens[credential_id] = token
        self.saves += 1

    @contextlib.contextmanager
    def lock(self, credential_id: str) -> Iterator[None]:
        lock = self._locks.setdefault(credential_id, threading.Lock())
        with lock:
            yield


_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class FileCredentialStore:
    """One JSON file per credential in ``directory`` (mode 0600), saved atomically."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, credential_id: str, suffix: str) -> Path:
        if not _SAFE_ID.match(credential_id) or credential_id.startswith("."):
            raise FixConfigError(f"credential id {credential_id!r} is not a safe file name")
        return self.directory / f"{credential_id}{suffix}"

    def load(self, credential_id: str) -> OAuth2Token | None:
        path = self._path(credential_id, ".json")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise FixConfigError(f"cannot read credential file {path.name}") from exc
        if not isinstance(data, dict):
            raise FixConfigError(f"credential file {path.name} is not a JSON object")
        return OAuth2Token.from_json(data)

    def save(self, credential_id: str, token: OAuth2Token) -> None:
        path = self._path(credential_id, ".json")
        fd, tmp = tempfile.mkstemp(prefix=f".{credential_id}.", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(token.to_json(), handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @contextlib.contextmanager
    def lock(self, credential_id: str) -> Iterator[None]:
        path = self._path(credential_id, ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


_PROCESS_LOCKS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[int, str], asyncio.Lock]
] = weakref.WeakKeyDictionary()


def _process_lock(store: object, credential_id: str) -> asyncio.Lock:
    """One asyncio lock per (event loop, store, credential), forgotten with its loop."""
    locks = _PROCESS_LOCKS.setdefault(asyncio.get_running_loop(), {})
    key = (id(store), credential_id)
    lock = locks.get(key)
    if lock is None:
        lock = locks[key] = asyncio.Lock()
    return lock


class OAuth2Auth(httpx.Auth):
    """Bearer access token from ``store``, refreshed with rotating refresh tokens."""

    def __init__(
        self,
        credential_id: str,
        store: CredentialStore,
        *,
        client_id: str,
        client_secret: str,
        token_url: str = ATLASSIAN_TOKEN_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        refresh_ahead: float = 300.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeout: float = 30.0,
    ) -> None:
        if not client_id or not client_secret:
            raise FixConfigError("OAuth 2.0 needs a client id and a client secret")
        self.credential_id = credential_id
        self.store = store
        self._client_id = client_id
        self._client_secret = client_secret
        self._token_url = token_url
        self._transport = transport
        self._refresh_ahead = timedelta(seconds=refresh_ahead)
        self._now = now
        self._timeout = timeout
        self.refreshes = 0  # refreshes this instance performed (for tests and stats)

    def __repr__(self) -> str:
        return f"OAuth2Auth({self.credential_id!r})"

    def sync_auth_flow(self, request: httpx.Request) -> Any:
        raise FixConfigError("OAuth2Auth works only with the async client")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.access_token()
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        response = yield request
        if response.status_code == 401:
            token = await self._refresh(stale=token.access_token)
            request.headers["Authorization"] = f"Bearer {token.access_token}"
            yield request

    async def access_token(self) -> OAuth2Token:
        """A token that is valid for at least ``refresh_ahead`` seconds more."""
        token = self._load()
        if token.expires_at - self._refresh_ahead > self._now():
            return token
        return await self._refresh(stale=token.access_token)

    def _load(self) -> OAuth2Token:
        token = self.store.load(self.credential_id)
        if token is None:
            raise ReauthenticateError(
                f"no OAuth 2.0 credential {self.credential_id!r}: authorise jirabridge first"
            )
        return token

    async def _refresh(self, *, stale: str) -> OAuth2Token:
        async with _process_lock(self.store, self.credential_id):
            lock = self.store.lock(self.credential_id)
            await asyncio.to_thread(lock.__enter__)
            try:
                current = self._load()
                fresh_enough = current.expires_at - self._refresh_ahead > self._now()
                if current.access_token != stale and fresh_enough:
                    return current  # another worker refreshed while we waited
                token = await self._call_token_endpoint(current.refresh_token)
                self.store.save(self.credential_id, token)  # persist before first use
                self.refreshes += 1
                return token
            finally:
                lock.__exit__(None, None, None)

    async def _call_token_endpoint(self, refresh_token: str) -> OAuth2Token:
        info = RequestInfo("POST", self._token_url)
        body = {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "refresh_token": refresh_token,
        }
        try:
            async with httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout
            ) as client:
                response = await client.post(self._token_url, json=body)
        except httpx.HTTPError as exc:
            raise RetryLaterError(
                f"OAuth 2.0 token endpoint unreachable ({type(exc).__name__})", request=info
            ) from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status_code >= 500 or response.status_code == 429:
            raise RetryLaterError(
                f"OAuth 2.0 token endpoint answered HTTP {response.status_code}",
                request=info,
                jira=JiraErrorBody(response.status_code),
            )
        if response.status_code != 200 or "access_token" not in data:
            code = str(data.get("error", "")) or f"HTTP {response.status_code}"
            raise ReauthenticateError(
                f"OAuth 2.0 refresh refused ({code}): the refresh token was rotated away or"
                " revoked; authorise jirabridge again",
                request=info,
                jira=JiraErrorBody(response.status_code, error_messages=[code]),
            )
        expires_in = float(data.get("expires_in", 3600))
        return OAuth2Token(
            access_token=str(data["access_token"]),
            refresh_token=str(data.get("refresh_token") or refresh_token),
            expires_at=self._now() + timedelta(seconds=expires_in),
            scope=str(data.get("scope", "")),
            token_type=str(data.get("token_type", "Bearer")),
        )
