from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from jirabridge.errors import FixConfigError, ReauthenticateError
from jirabridge.sync.secrets import (
    KEY_ENV,
    SecretStore,
    generate_key_file,
    load_key,
    resolve_credential,
)


@pytest.fixture
def store(tmp_path: Path) -> SecretStore:
    return SecretStore(tmp_path / "secrets.json", Fernet.generate_key())


def test_set_get_list_delete(store: SecretStore) -> None:
    store.set("cloud-token", "tok-123")
    store.set("other", "x")
    assert store.get("cloud-token") == "tok-123"
    assert store.names() == ["cloud-token", "other"]
    assert store.delete("other")
    assert not store.delete("other")
    assert store.names() == ["cloud-token"]


def test_file_is_encrypted_and_private(store: SecretStore) -> None:
    store.set("t", "plain-secret-value")
    raw = store.path.read_text()
    assert "plain-secret-value" not in raw
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"


def test_wrong_key_cannot_read(store: SecretStore) -> None:
    store.set("t", "v")
    other = SecretStore(store.path, Fernet.generate_key())
    with pytest.raises(FixConfigError, match="cannot be decrypted"):
        other.get("t")


def test_missing_secret_means_reauthenticate(store: SecretStore) -> None:
    with pytest.raises(ReauthenticateError):
        store.get("nope")


@pytest.mark.parametrize("name", ["", "a b", "../x", "a/b"])
def test_bad_names(store: SecretStore, name: str) -> None:
    with pytest.raises(FixConfigError):
        store.set(name, "v")


def test_corrupt_store_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("[1]")
    with pytest.raises(FixConfigError):
        SecretStore(path, Fernet.generate_key()).names()


def test_key_from_env_or_private_file(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    assert load_key(env={KEY_ENV: key.decode()}) == key
    path = generate_key_file(tmp_path / "key")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_key(path, env={}) == path.read_bytes().strip()
    with pytest.raises(FixConfigError):
        generate_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(FixConfigError, match="chmod 600"):
        load_key(path, env={})
    with pytest.raises(FixConfigError):
        load_key(None, env={})
    with pytest.raises(FixConfigError, match="not a valid"):
        load_key(env={KEY_ENV: "short"})


def test_resolve_credential(store: SecretStore) -> None:
    store.set("c", "from-store")
    assert resolve_credential("env:X", env={"X": "from-env"}) == "from-env"
    assert resolve_credential("store:c", store=store) == "from-store"
    with pytest.raises(ReauthenticateError, match="X is not set"):
        resolve_credential("env:X", env={})
    with pytest.raises(FixConfigError):
        resolve_credential("store:c")
    with pytest.raises(FixConfigError):
        resolve_credential("plain")
