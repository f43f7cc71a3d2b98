from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from jirabridge.emulator.infra._oauth1 import (
    OAuth1Problem,
    OAuth1Stage,
    OAuth1Store,
    SignedRequest,
    base_string_uri,
    parse_authorization_header,
    percent_encode,
    signature_base_string,
)
from jirabridge.emulator.infra._routes_oauth1 import signed_request
from jirabridge.errors import BadInputError, ReauthenticateError

# RFC 5849 section 3.4.1.1, verbatim: the request and the base string it must give.
RFC_HEADER = (
    'OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2",'
    ' oauth_token="kkk9d7dh3k39sjv7", oauth_signature_method="HMAC-SHA1",'
    ' oauth_timestamp="137131201", oauth_nonce="7d8f3e4a",'
    ' oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"'
)
RFC_BASE = (
    "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
    "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9dj"
    "dj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1"
    "%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
)
NOW = 1_800_000_000.0


def test_rfc5849_example_base_string() -> None:
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "path": "/request",
        "raw_path": b"/request",
        "query_string": b"b5=%3D%253D&a3=a&c%40=&a2=r%20b",
        "headers": [(b"host", b"example.com")],
    }
    signed = signed_request(scope, RFC_HEADER, b"c2&a3=2+q", "application/x-www-form-urlencoded")
    assert signature_base_string(signed.method, signed.url, signed.params) == RFC_BASE


def test_encoding_and_uri_rules() -> None:
    assert percent_encode("a b~-._*+/é") == "a%20b~-._%2A%2B%2F%C3%A9"
    assert base_string_uri("HTTP://Example.COM:80/r%20v/X?q=1") == "http://example.com/r%20v/X"
    assert base_string_uri("https://www.example.net:8080/?q=1") == "https://www.example.net:8080/"
    assert base_string_uri("https://h:443") == "https://h/"
    with pytest.raises(BadInputError):
        base_string_uri("/no/host")


@pytest.mark.parametrize(
    "header", ["Basic abc", 'OAuth oauth_nonce="x", garbage', 'OAuth a="1" b="2"']
)
def test_bad_authorization_headers_are_rejected(header: str) -> None:
    with pytest.raises(BadInputError):
        parse_authorization_header(header)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _sign(key, method, url, params) -> SignedRequest:
    base = signature_base_string(method, url, params)
    sig = key.sign(base.encode(), padding.PKCS1v15(), hashes.SHA1())
    return SignedRequest(
        method, url, [*params, ("oauth_signature", base64.b64encode(sig).decode())]
    )


def _params(token: str | None, nonce: str = "n1", ts: float = NOW, **extra: str):
    fields = {
        "oauth_consumer_key": "ck",
        "oauth_signature_method": "RSA-SHA1",
        "oauth_timestamp": str(int(ts)),
        "oauth_nonce": nonce,
        "oauth_version": "1.0",
        **extra,
    }
    out = list(fields.items())
    if token is not None:
        out.append(("oauth_token", token))
    return out


def test_verify_checks_each_rule_in_turn(key) -> None:
    store = OAuth1Store(timestamp_window=300)
    store.add_consumer("ck", _pem(key))
    token, _secret = store.issue_access_token("ck", "JIRAUSER1", NOW)
    url = "http://jira.test/rest/api/2/myself"
    ok = store.verify(_sign(key, "GET", url, _params(token)), NOW, OAuth1Stage.RESOURCE)
    assert ok.user_key == "JIRAUSER1" and ok.consumer_key == "ck"

    def problem(req: SignedRequest, now: float = NOW, stage=OAuth1Stage.RESOURCE) -> str:
        with pytest.raises(OAuth1Problem) as info:
            store.verify(req, now, stage)
        assert isinstance(info.value, ReauthenticateError)
        return info.value.problem

    assert problem(_sign(key, "GET", url, _params(token))) == "nonce_used"
    assert problem(_sign(key, "GET", url, _params(token, "n2", NOW - 301))) == "timestamp_refused"
    assert problem(_sign(key, "GET", url, _params(token, "n3")), now=NOW + 400) == (
        "timestamp_refused"
    )
    assert problem(_sign(key, "GET", url, _params("nope", "n4"))) == "token_rejected"
    assert problem(_sign(key, "GET", url, _params(None, "n5"))) == "parameter_absent"
    tampered = _sign(key, "GET", url, _params(token, "n6"))
    tampered = SignedRequest("POST", tampered.url, tampered.params)
    assert problem(tampered) == "signature_invalid"
    hmac = [(k, "HMAC-SHA1" if k == "oauth_signature_method" else v) for k, v in _params(token)]
    assert problem(_sign(key, "GET", url, hmac)) == "signature_method_rejected"
    unknown = [(k, "other" if k == "oauth_consumer_key" else v) for k, v in _params(token, "n7")]
    assert problem(_sign(key, "GET", url, unknown)) == "consumer_key_unknown"
    assert problem(_sign(key, "GET", url, _params(token, "n8", oauth_version="2.0"))) == (
        "version_rejected"
    )
    # a forged request did not burn the nonce: the genuine one with n6 still passes
    assert store.verify(_sign(key, "GET", url, _params(token, "n6")), NOW, OAuth1Stage.RESOURCE)
    # a request token cannot call REST, an access token cannot be exchanged
    req, _ = store.issue_request_token(ok, "oob", NOW)
    assert problem(_sign(key, "GET", url, _params(req, "n9"))) == "token_rejected"
    store.revoke(token)
    assert problem(_sign(key, "GET", url, _params(token, "n10"))) == "token_rejected"


def test_three_legs_in_the_store(key) -> None:
    store = OAuth1Store()
    store.add_consumer("ck", _pem(key))
    url = "http://jira.test/plugins/servlet/oauth/request-token"
    leg1 = store.verify(
        _sign(key, "POST", url, _params(None, oauth_callback="oob")),
        NOW,
        OAuth1Stage.REQUEST_TOKEN,
    )
    with pytest.raises(OAuth1Problem, match="parameter_absent"):
        store.issue_request_token(leg1, None, NOW)
    req, _ = store.issue_request_token(leg1, "oob", NOW)
    verifier, callback = store.authorize(req, "JIRAUSER1", NOW)
    assert callback == "oob"
    with pytest.raises(OAuth1Problem, match="token_used"):
        store.authorize(req, "JIRAUSER1", NOW)
    url3 = "http://jira.test/plugins/servlet/oauth/access-token"
    leg3 = store.verify(
        _sign(key, "POST", url3, _params(req, "m1", oauth_verifier=verifier)),
        NOW,
        OAuth1Stage.ACCESS_TOKEN,
    )
    access, _ = store.exchange(leg3, verifier, NOW)
    assert store.summary() == {"consumers": 1, "requestTokens": 0, "accessTokens": 1}
    assert (
        store.verify(
            _sign(key, "GET", "http://jira.test/x", _params(access, "m2")),
            NOW,
            OAuth1Stage.RESOURCE,
        ).user_key
        == "JIRAUSER1"
    )
    # an expired request token cannot be authorized
    req2, _ = store.issue_request_token(leg1, "oob", NOW)
    with pytest.raises(OAuth1Problem, match="token_rejected"):
        store.authorize(req2, "JIRAUSER1", NOW + 601)


def test_consumer_keys_must_be_rsa_public_keys() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    store = OAuth1Store()
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(BadInputError, match="RSA"):
        store.add_consumer("ck", ec_pem)
    with pytest.raises(BadInputError, match="PEM"):
        store.add_consumer("ck", "-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----\n")
    with pytest.raises(BadInputError):
        store.add_consumer(" ", ec_pem)
    assert store.consumers == {}


def test_hostile_parameters_get_an_oauth_problem_never_a_crash(key) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    store = OAuth1Store()
    store.add_consumer("ck", _pem(key))
    token, _ = store.issue_access_token("ck", "U", NOW)
    names = st.sampled_from(
        [
            "oauth_consumer_key",
            "oauth_token",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_signature",
            "oauth_signature_method",
            "oauth_version",
            "x",
        ]
    )
    values = st.one_of(st.text(max_size=50), st.just("9" * 5000), st.just(token))

    @settings(max_examples=150, deadline=None, database=None)
    @given(pairs=st.lists(st.tuples(names, values), max_size=6), method=st.text(max_size=8))
    def check(pairs, method) -> None:
        fields = dict(_params(token, "h"))  # a complete request, then hostile overrides
        fields["oauth_signature"] = "AAAA"
        fields.update(pairs)
        request = SignedRequest(
            method or "GET", "http://jira.test/rest/api/2/myself", list(fields.items())
        )
        try:
            store.verify(request, NOW, OAuth1Stage.RESOURCE)
        except OAuth1Problem as exc:
            assert exc.problem
        else:  # pragma: no cover - would need a forged RSA signature
            raise AssertionError("verified without a valid signature")

    check()
