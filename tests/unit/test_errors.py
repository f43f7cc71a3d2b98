from __future__ import annotations

import pytest

import jirabridge
from jirabridge.errors import (
    BadInputError,
    FixConfigError,
    JirabridgeError,
    JiraErrorBody,
    ReauthenticateError,
    RequestInfo,
    RetryLaterError,
    SkipItemError,
    redact,
)


@pytest.mark.parametrize(
    "cls", [RetryLaterError, ReauthenticateError, FixConfigError, SkipItemError, BadInputError]
)
def test_every_branch_derives_from_the_root(cls: type[JirabridgeError]) -> None:
    assert issubclass(cls, JirabridgeError)
    with pytest.raises(JirabridgeError):
        raise cls("boom")


def test_public_api_is_curated() -> None:
    assert set(jirabridge.__all__) == {
        "BadInputError",
        "FixConfigError",
        "JirabridgeError",
        "ReauthenticateError",
        "RetryLaterError",
        "SkipItemError",
        "__version__",
    }
    for name in jirabridge.__all__:
        assert hasattr(jirabridge, name)


@pytest.mark.parametrize(
    ("raw", "secret"),
    [
        ("Authorization: Basic YWRtaW46YWRtaW4=", "YWRtaW46YWRtaW4="),
        ("authorization=Bearer abc.def.ghi", "abc.def.ghi"),
        ('{"refresh_token": "r-123456"}', "r-123456"),
        ("password=hunter2&user=bob", "hunter2"),
        ("https://bob:s3cret@jira.example.org/rest", "s3cret"),
        ("client_secret=xyz987", "xyz987"),
        ('{"Authorization": "Basic YWRtaW46YWRtaW4="}', "YWRtaW46YWRtaW4="),
        ("{'authorization': 'Bearer xyz123'}", "xyz123"),
        ("sent Bearer abc.def.ghi upstream", "abc.def.ghi"),
        ("passwd=hunter2", "hunter2"),
        ("oauth_signature=abc%3D&oauth_token=tok1", "tok1"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEsecret\n-----END RSA PRIVATE KEY-----", "MIIE"),
        ("-----BEGIN PRIVATE KEY-----\nMIIEtruncated", "MIIE"),
    ],
)
def test_redact_masks_credentials(raw: str, secret: str) -> None:
    out = redact(raw)
    assert secret not in out
    assert "***" in out


@pytest.mark.parametrize(
    "text",
    ["X-Atlassian-Token: no-check", "(OAuth 1.0a: signature_invalid)", "GET /rest/api/2/myself"],
)
def test_redact_keeps_text_that_is_no_secret(text: str) -> None:
    assert redact(text) == text


def test_error_text_never_carries_a_secret() -> None:
    err = RetryLaterError(
        "rate limited, token=abc123",
        retry_after=2.5,
        request=RequestInfo("GET", "https://admin:pw@site.test/rest/api/3/myself"),
        jira=JiraErrorBody(429, ["Rate limit exceeded"], {}),
    )
    text = str(err)
    assert "abc123" not in text
    assert ":pw@" not in text
    assert "Rate limit exceeded" in text
    assert "GET https://" in text
    assert err.retry_after == 2.5


def test_jira_error_summary_joins_messages_and_field_errors() -> None:
    body = JiraErrorBody(400, ["Bad request"], {"summary": "You must specify a summary."})
    assert body.summary() == "Bad request; summary: You must specify a summary."
    assert JiraErrorBody(404).summary() == "HTTP 404"
