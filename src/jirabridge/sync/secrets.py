"""Credentials: references in the config (`env:NAME`, `store:NAME`) and the encrypted store.

The store is one JSON file mapping names to Fernet tokens (AES-128-CBC + HMAC-SHA256, from
``cryptography``). The key comes from the environment variable ``JIRABRIDGE_SECRETS_KEY`` or
from a key file that only its owner may read (mode 0600); a key file readable by others is
refused. Secret values are never logged, printed or put in an error message.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from jirabridge.errors import FixConfigError, ReauthenticateError

__all__ = [
    "KEY_ENV",
    "SecretStore",
    "generate_key_file",
    "load_key",
    "resolve_credential",
]

KEY_ENV = "JIRABRIDGE_SECRETS_KEY"
_NAME_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def generate_key_file(path: str | Path) -> Path:
    """Create a new key file with mode 0600 (refuses to overwrite one)."""
    target = Path(path)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise FixConfigError(f"key file {target} exists already") from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(Fernet.generate_key())
    return target


def load_key(key_file: str | Path | None = None, env: Mapping[str, str] | None = None) -> bytes:
    """The store key: from ``JIRABRIDGE_SECRETS_KEY``, else from ``key_file`` (mode 0600)."""
    environ = os.environ if env is None else env
    raw: bytes
    if environ.get(KEY_ENV):
        raw = environ[KEY_ENV].encode("ascii", "replace")
    elif key_file is not None:
        path = Path(key_file)
        try:
            info = path.stat()
        except OSError as exc:
            raise FixConfigError(f"cannot read key file {path}: {exc.strerror}") from exc
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise FixConfigError(f"key file {path} is readable by others; run `chmod 600 {path}`")
        raw = path.read_bytes().strip()
    else:
        raise FixConfigError(f"no key for the credential store: set {KEY_ENV} or a key file")
    try:
        Fernet(raw)
    except (ValueError, TypeError) as exc:
        raise FixConfigError("the credential store key is not a valid Fernet key") from exc
    return raw


class SecretStore:
    """Encrypted name -> secret store in one JSON file."""

    def __init__(self, path: str | Path, key: bytes) -> None:
        self.path = Path(path)
        self._fernet = Fernet(key)

    def _read(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise FixConfigError(f"credential store {self.path} is unreadable") from exc
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise FixConfigError(f"credential store {self.path} is not a name -> token map")
        return data

    def _write(self, data: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".secrets-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @staticmethod
    def _check_name(name: str) -> None:
        if not name or not set(name) <= _NAME_OK:
            raise FixConfigError("secret names use letters, digits, '_', '.', '-' only")

    def set(self, name: str, value: str) -> None:
        self._check_name(name)
        if not value:
            raise FixConfigError("refusing to store an empty secret")
        data = self._read()
        data[name] = self._fernet.encrypt(value.encode("utf-8")).decode("ascii")
        self._write(data)

    def get(self, name: str) -> str:
        data = self._read()
        if name not in data:
            raise ReauthenticateError(f"no secret named {name!r} in the credential store")
        try:
            return self._fernet.decrypt(data[name].encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise FixConfigError(
                f"secret {name!r} cannot be decrypted with this key (wrong key or tampered)"
            ) from exc

    def names(self) -> list[str]:
        return sorted(self._read())

    def delete(self, name: str) -> bool:
        data = self._read()
        if name not in data:
            return False
        del data[name]
        self._write(data)
        return True


def resolve_credential(
    ref: str, *, store: SecretStore | None = None, env: Mapping[str, str] | None = None
) -> str:
    """The secret a reference points at; :class:`ReauthenticateError` when it is missing."""
    kind, _, name = ref.partition(":")
    if kind == "env":
        environ = os.environ if env is None else env
        value = environ.get(name)
        if not value:
            raise ReauthenticateError(f"environment variable {name} is not set")
        return value
    if kind == "store":
        if store is None:
            raise FixConfigError(f"credential {ref} needs the credential store, none is set up")
        return store.get(name)
    raise FixConfigError("credential references look like env:NAME or store:NAME")
