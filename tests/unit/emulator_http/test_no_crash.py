"""No request body or path value crashes the app: every route answers below 500 (except the
documented Server search-window 500) with Jira's error shape on 4xx."""

from __future__ import annotations

import re

import httpx
import pytest

from jirabridge.emulator.faces import prefixes, route_specs

BODIES: list[dict] = [
    {"content": b"{", "headers": {"Content-Type": "application/json"}},
    {"json": []},
    {"json": {}},
    {"json": "text"},
    {"json": {"fields": 5, "update": [], "body": 7, "issues": "x", "jql": 3, "transition": 1}},
    {
        "json": {
            "fields": {"summary": {"a": 1}, "labels": 3, "assignee": []},
            "name": [],
            "project": {},
        }
    },
    {"json": {"issueUpdates": [1, None, {"fields": None}], "issueIdsOrKeys": [None], "type": 5}},
]
VALUES = ["DEMO-1", "999999", "x%20y", "-1"]


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


@pytest.mark.parametrize("value", VALUES)
async def test_every_route_survives_garbage(
    client: httpx.AsyncClient, flavour: str, value: str
) -> None:
    cloud = flavour == "cloud"
    failures = []
    for spec in route_specs():
        if (cloud and not spec.cloud) or (not cloud and not spec.server):
            continue
        prefix = prefixes(spec.family, cloud)[1 if spec.family == "rest" and cloud else 0][0]
        url = prefix + _fill(spec.path, value)
        for body in BODIES if spec.method in ("POST", "PUT") else [{}]:
            response = await client.request(spec.method, url, **body)
            if response.status_code >= 500 and "Search limit exceeded" not in response.text:
                failures.append((spec.method, url, body, response.status_code, response.text[:200]))
            elif 400 <= response.status_code < 500 and response.content:
                shape = response.json()
                bulk = spec.path == "/issue/bulk" and set(shape) == {"issues", "errors"}
                if set(shape) != {"errorMessages", "errors"} and not bulk:
                    failures.append((spec.method, url, body, response.status_code, "shape"))
    assert failures == []
