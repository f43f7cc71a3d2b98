"""A typed async client of the ``/_emulator`` control plane, for tests, demos and benchmarks.

::

    async with ControlClient("http://127.0.0.1:8080") as ctl:           # or transport=...
        await ctl.rate_limits(capacity=20, fill_rate=5)
        await ctl.faults(errors=[{"status": 503, "rate": 0.3}], seed=7)
        ... run the client under test ...
        print((await ctl.counters())["total"])

Errors: a refused body raises :class:`~jirabridge.errors.BadInputError` with the emulator's
message; an emulator that cannot be reached raises :class:`~jirabridge.errors.RetryLaterError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from jirabridge.errors import BadInputError, RequestInfo, RetryLaterError

__all__ = ["ControlClient"]

PREFIX = "/_emulator"


class ControlClient:
    """Calls the control plane of one emulated site (no Jira credentials needed)."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8080",
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: float = 60.0,
    ) -> None:
        self._owned = client is None
        self._client = client or httpx.AsyncClient(
            base_url=base_url.rstrip("/"), transport=transport, timeout=timeout
        )

    async def __aenter__(self) -> ControlClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owned:
            await self._client.aclose()

    async def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        url = PREFIX + path
        try:
            response = await self._client.request(
                method, url, json=dict(body) if body is not None else None
            )
        except httpx.TransportError as exc:
            raise RetryLaterError(
                f"The emulator's control plane did not answer: {type(exc).__name__}",
                request=RequestInfo(method, url),
            ) from exc
        if response.status_code >= 400:
            try:
                data = response.json()
                parts = list(data.get("errorMessages", [])) + [
                    f"{k}: {v}" for k, v in data.get("errors", {}).items()
                ]
                message = "; ".join(parts) or response.text
            except (ValueError, AttributeError):
                message = response.text
            raise BadInputError(
                f"The control plane refused {method} {url} ({response.status_code}): {message}",
                request=RequestInfo(method, url),
            )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # site ---------------------------------------------------------------------------------
    async def reset(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "/reset")
        return result

    async def seed_demo(self, *, seed: int = 1) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "/seed", {"kind": "demo", "seed": seed})
        return result

    async def seed_bulk(
        self,
        *,
        projects: int = 1,
        issues: int = 10,
        comments: int = 0,
        users: int = 3,
        sprints: int = 0,
        seed: int = 1,
    ) -> dict[str, Any]:
        body = {
            "projects": projects,
            "issues": issues,
            "comments": comments,
            "users": users,
            "sprints": sprints,
            "seed": seed,
        }
        result: dict[str, Any] = await self._call("POST", "/seed", body)
        return result

    async def state(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/state")
        return result

    # clock --------------------------------------------------------------------------------
    async def clock(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/clock")
        return result

    async def freeze(self, at: datetime | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"freeze": at.isoformat() if at is not None else True}
        result: dict[str, Any] = await self._call("POST", "/clock", body)
        return result

    async def advance(self, seconds: float) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "/clock", {"advance": seconds})
        return result

    async def unfreeze(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "/clock", {"unfreeze": True})
        return result

    # limits and faults --------------------------------------------------------------------
    async def rate_limits(self, **fields: Any) -> dict[str, Any]:
        """Turn limits on with the control plane's camelCase or snake_case field names
        (``capacity``, ``fill_rate``, ``interval_seconds``, ``burst_per_second``, ...)."""
        result: dict[str, Any] = await self._call("POST", "/ratelimits", _camel(fields))
        return result

    async def disable_rate_limits(self) -> None:
        await self._call("POST", "/ratelimits", {"enabled": False})

    async def latency(
        self, ms: float, *, jitter_ms: float = 0, pattern: str = "*", method: str | None = None
    ) -> dict[str, Any]:
        body = {"ms": ms, "jitterMs": jitter_ms, "pattern": pattern, "method": method}
        result: dict[str, Any] = await self._call("POST", "/latency", body)
        return result

    async def faults(
        self,
        *,
        errors: Sequence[Mapping[str, Any]] = (),
        timeouts: Sequence[Mapping[str, Any]] = (),
        seed: int | None = None,
    ) -> dict[str, Any]:
        body = {
            "errors": [_camel(e) for e in errors],
            "timeouts": [_camel(t) for t in timeouts],
            "seed": seed,
        }
        result: dict[str, Any] = await self._call("POST", "/faults", body)
        return result

    async def clear_faults(self) -> None:
        await self._call("POST", "/faults", {"clear": True})
        await self._call("POST", "/latency", {"clear": True})
        await self._call("POST", "/downtime", {"clear": True})

    async def downtime(
        self, seconds: float, *, mode: str = "503", pattern: str = "*", starts_in: float = 0
    ) -> dict[str, Any]:
        body = {"seconds": seconds, "mode": mode, "pattern": pattern, "startsIn": starts_in}
        result: dict[str, Any] = await self._call("POST", "/downtime", body)
        return result

    # counters -----------------------------------------------------------------------------
    async def counters(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/counters")
        return result

    async def reset_counters(self) -> None:
        await self._call("DELETE", "/counters")

    # webhooks -----------------------------------------------------------------------------
    async def webhook_faults(
        self,
        *,
        drop_rate: float = 0,
        duplicate_rate: float = 0,
        delay_rate: float = 0,
        delay_seconds: float = 60,
    ) -> dict[str, Any]:
        body = {
            "dropRate": drop_rate,
            "duplicateRate": duplicate_rate,
            "delayRate": delay_rate,
            "delaySeconds": delay_seconds,
        }
        result: dict[str, Any] = await self._call("POST", "/webhooks/faults", body)
        return result

    async def deliveries(self, status: str | None = None) -> dict[str, Any]:
        path = "/webhooks/deliveries" + (f"?status={status}" if status else "")
        result: dict[str, Any] = await self._call("GET", path)
        return result

    async def flush(self, *, include_scheduled: bool = False, within: float = 30) -> bool:
        body = {"includeScheduled": include_scheduled, "timeout": within}
        result = await self._call("POST", "/webhooks/flush", body)
        return bool(result["idle"])

    # auth ---------------------------------------------------------------------------------
    async def oauth_client(self, name: str = "app", **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "POST", "/oauth/clients", {"name": name, **_camel(fields)}
        )
        return result

    async def oauth_code(self, client_id: str, user_key: str, scope: str | None = None) -> str:
        body = {"clientId": client_id, "userKey": user_key, "scope": scope}
        result = await self._call("POST", "/oauth/codes", body)
        return str(result["code"])

    async def expire_access_tokens(self, user_key: str | None = None) -> int:
        result = await self._call("POST", "/oauth/expire", {"userKey": user_key})
        return int(result["expired"])

    async def revoke_token(self, token: str) -> int:
        result = await self._call("POST", "/oauth/revoke", {"token": token})
        return int(result["revoked"])

    async def oauth1_consumer(
        self,
        consumer_key: str,
        public_key_pem: str,
        *,
        name: str = "application link",
        callback: str | None = None,
        timestamp_window: float | None = None,
    ) -> dict[str, Any]:
        """Server: register an application link's incoming OAuth 1.0a (RSA-SHA1)."""
        body = {
            "consumerKey": consumer_key,
            "publicKey": public_key_pem,
            "name": name,
            "callback": callback,
            "timestampWindow": timestamp_window,
        }
        result: dict[str, Any] = await self._call("POST", "/oauth1/consumers", body)
        return result

    async def oauth1_token(self, consumer_key: str, user_key: str) -> tuple[str, str]:
        """Server: an OAuth 1.0a access token and its secret, without the three legs."""
        body = {"consumerKey": consumer_key, "userKey": user_key}
        result = await self._call("POST", "/oauth1/tokens", body)
        return str(result["token"]), str(result["tokenSecret"])

    async def oauth1_revoke(self, token: str) -> bool:
        result = await self._call("POST", "/oauth1/revoke", {"token": token})
        return bool(result["revoked"])

    async def add_credential(
        self,
        kind: str,
        secret: str,
        user_key: str,
        *,
        login: str | None = None,
        expires_in: float | None = None,
    ) -> None:
        body = {
            "kind": kind,
            "secret": secret,
            "userKey": user_key,
            "login": login,
            "expiresIn": expires_in,
        }
        await self._call("POST", "/credentials", body)

    async def revoke_credential(self, secret: str) -> None:
        await self._call("POST", "/credentials/revoke", {"secret": secret})


def _camel(fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in fields.items():
        head, *rest = key.split("_")
        out[head + "".join(p[:1].upper() + p[1:] for p in rest)] = value
    return out
