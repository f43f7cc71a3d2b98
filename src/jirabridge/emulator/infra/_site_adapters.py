"""Adapters from the model's ``Site`` (and the JQL search) to the small ports infra uses.

They look methods up at call time, so infra keeps working with a partial site (a test double,
or a model that has not grown a method yet): a missing method means "no such credential".
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from jirabridge.emulator.infra._ports import CredentialChecker, FlavourName, JqlMatcher
from jirabridge.errors import BadInputError

__all__ = ["search_jql_matcher", "site_credential_checker"]

log = logging.getLogger(__name__)


def _key_of(user: Any) -> str | None:
    if user is None:
        return None
    key = getattr(user, "key", None)
    return str(key) if key else None


def site_credential_checker(site: Any, flavour: FlavourName) -> CredentialChecker | None:
    """Check passwords, API tokens and PATs with ``check_password``, ``check_api_token`` and
    ``user_for_personal_token`` of the site; ``None`` when the site has none of them."""
    names = ("check_password", "check_api_token", "user_for_personal_token")
    if not any(callable(getattr(site, n, None)) for n in names):
        return None

    def check(kind: str, login: str, secret: str) -> str | None:
        if kind == "password":
            fn = getattr(site, "check_password", None)
            return _key_of(fn(login, secret)) if callable(fn) else None
        if kind == "api_token":
            fn = getattr(site, "check_api_token", None)
            return _key_of(fn(login, secret)) if callable(fn) else None
        if kind == "pat":
            fn = getattr(site, "user_for_personal_token", None)
            return _key_of(fn(secret)) if callable(fn) else None
        return None

    return check


def search_jql_matcher(site: Any, flavour: FlavourName) -> JqlMatcher | None:
    """Decide webhook JQL filters with ``jirabridge.emulator.search.search`` when present.

    ``matcher(issue_key, jql, viewer_key)`` answers whether the issue matches the query as
    the viewer (the webhook's owner) sees it; with an empty ``issue_key`` it only validates
    the query (raises ``BadInputError`` with Jira's wording when it does not parse).
    """
    try:
        search_mod = importlib.import_module("jirabridge.emulator.search")
    except ImportError:
        return None
    search_fn = getattr(search_mod, "search", None)
    if not callable(search_fn):
        return None

    def matcher(issue_key: str, jql: str, viewer_key: str | None) -> bool:
        query = f"issuekey = {issue_key} AND ({jql})" if issue_key else jql
        try:
            result = search_fn(site, query, viewer_key=viewer_key)
        except BadInputError:
            raise
        except Exception as exc:  # a bug in search must not stop webhook delivery
            log.warning("webhook JQL filter %r could not be evaluated: %s", jql, exc)
            return False
        if not issue_key:
            return True
        issues = getattr(result, "issues", result)
        try:
            return len(issues) > 0
        except TypeError:
            return bool(issues)

    return matcher
