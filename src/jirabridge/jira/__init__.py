"""Clients for Jira Server/Data Center and Jira Cloud, and the canonical issue model.

One async interface (:class:`JiraClient`), two implementations on httpx
(:class:`ServerClient` over REST v2, :class:`CloudClient` over REST v3), both taking a
``transport`` so tests can run the emulators in-process. Every call goes through a shared
:class:`RateGovernor`, retries what is safe to retry, is counted in :class:`CallStats`, and
fails with one of the branches of :class:`jirabridge.errors.JirabridgeError`::

    people = [UserRef(account_id="5b10...", name="jsmith", key="JIRAUSER10100")]
    server = ServerClient("https://jira.corp", auth=BearerAuth(pat),
                          users=UserTable(people), codec=MarkupCodec.for_people(people))
    cloud = CloudClient("https://corp.atlassian.net",
                        auth=cloud_api_token_auth("bot@corp.com", token),
                        users=UserTable(people), codec=MarkupCodec.for_people(people))
    async for issue in server.search("project = OPS"):        # canonical Issue, ADF text
        key = await cloud.create_issue(IssueInput(project_key="OPS", issue_type="Task",
                                                  summary=issue.summary,
                                                  description=issue.description),
                                       check=find_existing_copy)   # never a blind re-create
    print(server.stats.snapshot())

Server application links (OAuth 1.0a, RSA-SHA1): :class:`OAuth1Dance` gets the access token
once (three legs); ``dance.auth(token)`` (an :class:`OAuth1RsaAuth`) signs every call.
"""

from __future__ import annotations

from jirabridge.jira._auth import BearerAuth, OAuth1RsaAuth, basic_auth, cloud_api_token_auth
from jirabridge.jira._client import BaseClient as JiraClient
from jirabridge.jira._client import CreateCheck
from jirabridge.jira._cloud import CloudClient
from jirabridge.jira._convert import IssueReader, IssueWriter
from jirabridge.jira._errors import (
    Scope,
    error_from_response,
    error_from_transport,
    oauth_problem,
)
from jirabridge.jira._governor import RateGovernor
from jirabridge.jira._http import AmbiguousWriteError, RetryPolicy
from jirabridge.jira._metrics import CallKey, CallStats
from jirabridge.jira._model import (
    Attachment,
    Board,
    BulkCreateResult,
    ChangeItem,
    ChangelogEntry,
    Comment,
    CustomFieldValue,
    FieldInfo,
    Issue,
    IssueInput,
    IssueLink,
    JiraFlavour,
    LinkDirection,
    RemoteLink,
    ServerInfo,
    Sprint,
    SprintState,
    Transition,
    UserRef,
)
from jirabridge.jira._oauth1 import OAuth1Dance, OAuth1Token
from jirabridge.jira._oauth2 import (
    ATLASSIAN_TOKEN_URL,
    CredentialStore,
    FileCredentialStore,
    MemoryCredentialStore,
    OAuth2Auth,
    OAuth2Token,
)
from jirabridge.jira._paging import PaginationLoopError
from jirabridge.jira._richtext import MarkupCodec, PlainCodec, RichTextCodec, default_codec
from jirabridge.jira._server import ServerClient
from jirabridge.jira._users import UserResolver, UserTable
from jirabridge.jira._workflows import project_statuses

__all__ = [
    "ATLASSIAN_TOKEN_URL",
    "AmbiguousWriteError",
    "Attachment",
    "BearerAuth",
    "Board",
    "BulkCreateResult",
    "CallKey",
    "CallStats",
    "ChangeItem",
    "ChangelogEntry",
    "CloudClient",
    "Comment",
    "CreateCheck",
    "CredentialStore",
    "CustomFieldValue",
    "FieldInfo",
    "FileCredentialStore",
    "Issue",
    "IssueInput",
    "IssueLink",
    "IssueReader",
    "IssueWriter",
    "JiraClient",
    "JiraFlavour",
    "LinkDirection",
    "MarkupCodec",
    "MemoryCredentialStore",
    "OAuth1Dance",
    "OAuth1RsaAuth",
    "OAuth1Token",
    "OAuth2Auth",
    "OAuth2Token",
    "PaginationLoopError",
    "PlainCodec",
    "RateGovernor",
    "RemoteLink",
    "RetryPolicy",
    "RichTextCodec",
    "Scope",
    "ServerClient",
    "ServerInfo",
    "Sprint",
    "SprintState",
    "Transition",
    "UserRef",
    "UserResolver",
    "UserTable",
    "basic_auth",
    "cloud_api_token_auth",
    "default_codec",
    "error_from_response",
    "error_from_transport",
    "oauth_problem",
    "project_statuses",
]
