"""The PyPI ``jira`` client's ``oauth=`` option (requests-oauthlib, RSA-SHA1) against the
Server emulator over a real socket; the three legs done with requests-oauthlib's
``OAuth1Session``, as an application link's setup script does them."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt  # noqa: F401  # oauthlib signs RSA-SHA1 with PyJWT (dev dependency pyjwt)
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jira import JIRA, JIRAError
from oauthlib.oauth1 import SIGNATURE_RSA
from requests_oauthlib import OAuth1Session

from jirabridge.emulator import create_app
from tests.support.served import base_url_of, bound_socket, serve_on

CONSUMER = "pypi-jira-link"


def _keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_jira_client_oauth_option_after_the_dance() -> None:
    private, public = _keypair()
    sock = bound_socket()
    app = create_app("server", base_url=base_url_of(sock))
    app.site.create_project("PRJ", "Project", app.site.admin_key)
    with serve_on(app, sock) as url:
        r = httpx.post(
            f"{url}/_emulator/oauth1/consumers",
            json={"consumerKey": CONSUMER, "publicKey": public},
        )
        assert r.status_code == 201, r.text

        dance = OAuth1Session(
            CONSUMER,
            signature_method=SIGNATURE_RSA,
            rsa_key=private,
            callback_uri="http://127.0.0.1:9/callback",
        )
        leg1 = dance.fetch_request_token(f"{url}/plugins/servlet/oauth/request-token")
        consent = httpx.get(
            f"{url}/plugins/servlet/oauth/authorize",
            params={"oauth_token": leg1["oauth_token"], "user": app.site.admin_key},
        )
        assert consent.status_code == 302
        verifier = dict(parse_qsl(urlsplit(consent.headers["location"]).query))["oauth_verifier"]
        finish = OAuth1Session(
            CONSUMER,
            signature_method=SIGNATURE_RSA,
            rsa_key=private,
            resource_owner_key=leg1["oauth_token"],
            resource_owner_secret=leg1["oauth_token_secret"],
            verifier=verifier,
        )
        leg3 = finish.fetch_access_token(f"{url}/plugins/servlet/oauth/access-token")

        oauth = {
            "access_token": leg3["oauth_token"],
            "access_token_secret": leg3["oauth_token_secret"],
            "consumer_key": CONSUMER,
            "key_cert": private,
        }
        client = JIRA(server=url, oauth=oauth, get_server_info=True)
        try:
            assert client.current_user() == "admin"
            issue = client.create_issue(
                project="PRJ", summary="signed & sent", issuetype={"name": "Task"}
            )
            assert client.issue(issue.key).fields.summary == "signed & sent"
            found = client.search_issues('summary ~ "signed"')
            assert issue.key in [i.key for i in found]
        finally:
            client.close()

        impostor = dict(oauth, key_cert=_keypair()[0])
        with pytest.raises(JIRAError) as info:
            JIRA(server=url, oauth=impostor, get_server_info=True, max_retries=0)
        assert info.value.status_code == 401
        assert 'oauth_problem="signature_invalid"' in str(
            info.value.response.headers.get("WWW-Authenticate")
        )
