from __future__ import annotations

import base64
import threading

import pytest

from jirabridge.emulator.infra import (
    Authenticator,
    AuthKind,
    CredentialStore,
    FlavourName,
    OAuthGrantError,
    OAuthRequestError,
    OAuthStore,
)
from jirabridge.errors import BadInputError, ReauthenticateError


def basic(login: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{secret}".encode()).decode()


def site_checker(kind: str, login: str, secret: str) -> str | None:
    table = {
        ("password", "alice", "pw"): "JIRAUSER10000",
        ("api_token", "alice@acme.io", "tok"): "5b10ac8d82e05b22cc7d4ef5",
        ("pat", "", "NjY3-pat"): "JIRAUSER10000",
    }
    return table.get((kind, login, secret))


@pytest.fixture
def store() -> OAuthStore:
    s = OAuthStore(seed=7, access_token_ttl=3600)
    s.create_client("sync", client_id="cid", client_secret="csecret")
    return s


def _pair(store: OAuthStore, now: float = 0.0):
    code = store.issue_code("cid", "acct-1", now, scope="read:jira-work offline_access")
    return store.exchange_code(
        client_id="cid", client_secret="csecret", code=code, redirect_uri=None, now=now
    )


def test_code_exchange_gives_bearer_pair_and_code_is_single_use(store: OAuthStore) -> None:
    code = store.issue_code("cid", "acct-1", 0.0)
    pair = store.exchange_code(
        client_id="cid", client_secret="csecret", code=code, redirect_uri=None, now=1.0
    )
    body = pair.as_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["refresh_token"]
    with pytest.raises(OAuthGrantError) as err:
        store.exchange_code(
            client_id="cid", client_secret="csecret", code=code, redirect_uri=None, now=2.0
        )
    assert err.value.error == "invalid_grant"
    assert isinstance(err.value, ReauthenticateError)


def test_code_expires_after_ten_minutes(store: OAuthStore) -> None:
    code = store.issue_code("cid", "acct-1", 0.0)
    with pytest.raises(OAuthGrantError):
        store.exchange_code(
            client_id="cid", client_secret="csecret", code=code, redirect_uri=None, now=601.0
        )


def test_access_token_expires_on_the_clock(store: OAuthStore) -> None:
    pair = _pair(store, now=100.0)
    assert store.access(pair.access_token, 100.0 + 3599).user_key == "acct-1"
    assert store.access(pair.access_token, 100.0 + 3600) is None


def test_refresh_rotates_and_old_token_fails(store: OAuthStore) -> None:
    first = _pair(store)
    second = store.refresh(
        client_id="cid", client_secret="csecret", refresh_token=first.refresh_token, now=10.0
    )
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    with pytest.raises(OAuthGrantError) as err:
        store.refresh(
            client_id="cid", client_secret="csecret", refresh_token=first.refresh_token, now=11.0
        )
    assert err.value.error == "invalid_grant"
    # the new one still works exactly once
    third = store.refresh(
        client_id="cid", client_secret="csecret", refresh_token=second.refresh_token, now=12.0
    )
    assert third.refresh_token not in (first.refresh_token, second.refresh_token)


def test_concurrent_refreshes_with_one_token_have_exactly_one_winner(store: OAuthStore) -> None:
    token = _pair(store).refresh_token
    results: list[str] = []
    barrier = threading.Barrier(8)

    def race() -> None:
        barrier.wait()
        try:
            store.refresh(client_id="cid", client_secret="csecret", refresh_token=token, now=5.0)
            results.append("ok")
        except OAuthGrantError as exc:
            results.append(exc.error)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["invalid_grant"] * 7 + ["ok"]


def test_wrong_client_secret_and_missing_params(store: OAuthStore) -> None:
    token = _pair(store).refresh_token
    with pytest.raises(OAuthGrantError) as err:
        store.refresh(client_id="cid", client_secret="nope", refresh_token=token, now=1.0)
    assert err.value.status == 401
    with pytest.raises(OAuthRequestError) as bad:
        store.refresh(client_id="cid", client_secret="csecret", refresh_token=None, now=1.0)
    assert isinstance(bad.value, BadInputError) and bad.value.error == "invalid_request"
    # the failed attempts did not spend the token
    assert store.refresh(client_id="cid", client_secret="csecret", refresh_token=token, now=2.0)


def test_no_refresh_token_without_offline_access(store: OAuthStore) -> None:
    code = store.issue_code("cid", "acct-1", 0.0, scope="read:jira-work")
    pair = store.exchange_code(
        client_id="cid", client_secret="csecret", code=code, redirect_uri=None, now=0.0
    )
    assert pair.refresh_token is None and "refresh_token" not in pair.as_json()


def test_revoke_and_expire(store: OAuthStore) -> None:
    pair = _pair(store)
    assert store.revoke(pair.access_token)
    assert store.access(pair.access_token, 1.0) is None
    other = _pair(store)
    assert store.expire_access_tokens(user_key="acct-1") >= 1
    assert store.access(other.access_token, 1.0) is None
    assert store.revoke_user("acct-1") >= 1
    with pytest.raises(OAuthGrantError):
        store.refresh(
            client_id="cid", client_secret="csecret", refresh_token=other.refresh_token, now=2.0
        )


def test_tokens_repeat_with_the_same_seed() -> None:
    def run() -> tuple[str, str | None]:
        s = OAuthStore(seed=3)
        s.create_client(client_id="c", client_secret="s")
        pair = _pair_for(s)
        return pair.access_token, pair.refresh_token

    def _pair_for(s: OAuthStore):
        code = s.issue_code("c", "u", 0.0)
        return s.exchange_code(
            client_id="c", client_secret="s", code=code, redirect_uri=None, now=0
        )

    assert run() == run()


def test_server_basic_and_pat(store: OAuthStore) -> None:
    auth = Authenticator(FlavourName.SERVER, store, CredentialStore(), site_checker)
    ok = auth.authenticate(basic("alice", "pw"), 0)
    assert (ok.kind, ok.user_key, ok.failed) == (AuthKind.BASIC, "JIRAUSER10000", False)
    pat = auth.authenticate("Bearer NjY3-pat", 0)
    assert (pat.kind, pat.user_key) == (AuthKind.PAT, "JIRAUSER10000")
    # a PAT is not a basic password
    assert auth.authenticate(basic("alice", "NjY3-pat"), 0).failed
    assert auth.authenticate(basic("alice", "wrong"), 0).failed
    assert auth.authenticate("Basic !!!not-base64", 0).failed
    assert auth.authenticate("Digest abc", 0).failed
    anon = auth.authenticate(None, 0)
    assert anon.kind is AuthKind.ANONYMOUS and anon.user_key is None and not anon.failed


def test_cloud_api_token_and_oauth(store: OAuthStore) -> None:
    auth = Authenticator(FlavourName.CLOUD, store, CredentialStore(), site_checker)
    ok = auth.authenticate(basic("alice@acme.io", "tok"), 0)
    assert (ok.kind, ok.user_key) == (AuthKind.API_TOKEN, "5b10ac8d82e05b22cc7d4ef5")
    # a Server password is not an API token
    assert auth.authenticate(basic("alice", "pw"), 0).failed
    pair = _pair(store, now=0)
    bearer = auth.authenticate(f"Bearer {pair.access_token}", 10)
    assert (bearer.kind, bearer.user_key, bearer.client_id) == (AuthKind.OAUTH, "acct-1", "cid")
    expired = auth.authenticate(f"Bearer {pair.access_token}", 3600)
    assert expired.failed and expired.gateway


def test_credential_store_adds_expires_and_revokes(store: OAuthStore) -> None:
    creds = CredentialStore()
    auth = Authenticator(FlavourName.CLOUD, store, creds, site_checker)
    creds.add("api_token", "extra", "acct-9", login="bot@acme.io", expires_at=100.0)
    assert auth.authenticate(basic("bot@acme.io", "extra"), 50).user_key == "acct-9"
    assert auth.authenticate(basic("other@acme.io", "extra"), 50).failed
    assert auth.authenticate(basic("bot@acme.io", "extra"), 100).failed
    # revoking also blocks a credential that lives on the site
    creds.revoke("tok")
    assert auth.authenticate(basic("alice@acme.io", "tok"), 0).failed
    with pytest.raises(ValueError):
        creds.add("cookie", "x", "u")


def test_server_captcha_lock_after_failed_logins(store: OAuthStore) -> None:
    auth = Authenticator(
        FlavourName.SERVER, store, CredentialStore(), site_checker, captcha_after=3
    )
    assert auth.authenticate(basic("alice", "bad"), 0).failed
    assert auth.authenticate(basic("alice", "pw"), 0).user_key  # success resets the count
    for _ in range(3):
        out = auth.authenticate(basic("ALICE", "bad"), 0)
        assert out.failed and not out.captcha
    locked = auth.authenticate(basic("alice", "pw"), 0)
    assert locked.failed and locked.captcha  # even the right password is refused now
    assert auth.authenticate("Bearer NjY3-pat", 0).user_key  # PATs are not CAPTCHA-locked
    auth.clear_failures("alice")
    assert auth.authenticate(basic("alice", "pw"), 0).user_key


def test_cloud_has_no_captcha_lock(store: OAuthStore) -> None:
    auth = Authenticator(FlavourName.CLOUD, store, CredentialStore(), site_checker, captcha_after=1)
    auth.authenticate(basic("alice@acme.io", "bad"), 0)
    assert auth.authenticate(basic("alice@acme.io", "tok"), 0).user_key


def test_scope_allows_reads_writes_searches_and_webhooks() -> None:
    from jirabridge.emulator.infra._auth import scope_allows

    read_only = "read:jira-work offline_access"
    assert scope_allows(read_only, "GET", "/rest/api/3/issue/PRJ-1")
    assert scope_allows(read_only, "POST", "/rest/api/3/search/jql")
    assert not scope_allows(read_only, "PUT", "/rest/api/3/issue/PRJ-1")
    assert not scope_allows("offline_access", "GET", "/rest/api/3/myself")
    assert scope_allows("write:jira-work", "POST", "/rest/api/3/issue")
    assert not scope_allows("write:jira-work", "POST", "/rest/api/3/webhook")
    assert scope_allows("manage:jira-webhook", "GET", "/rest/api/3/webhook")


def test_repeated_basic_header_is_checked_again_each_time(store: OAuthStore) -> None:
    """The decoded header is memoised, the credential check is not: a password changed (or a
    credential revoked) between two calls with the same header makes the second one fail."""
    passwords = {"alice": "pw"}

    def changing_checker(kind: str, login: str, secret: str) -> str | None:
        ok = kind == "password" and passwords.get(login) == secret
        return "JIRAUSER10000" if ok else None

    creds = CredentialStore()
    auth = Authenticator(FlavourName.SERVER, store, creds, changing_checker)
    header = basic("alice", "pw")
    assert auth.authenticate(header, 0.0).user_key == "JIRAUSER10000"
    assert auth.authenticate(header, 0.0).user_key == "JIRAUSER10000"
    passwords["alice"] = "new"
    assert auth.authenticate(header, 0.0).failed
    assert auth.authenticate(basic("alice", "new"), 0.0).user_key == "JIRAUSER10000"
    creds.revoke("new")
    assert auth.authenticate(basic("alice", "new"), 0.0).failed
    # a malformed header stays malformed when repeated
    assert auth.authenticate("Basic !!!", 0.0).failed
    assert auth.authenticate("Basic !!!", 0.0).failed
