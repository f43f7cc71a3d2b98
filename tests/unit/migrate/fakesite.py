"""A tiny fake of the few Jira REST endpoints verify reads, for httpx.MockTransport."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from lxml import etree

from jirabridge.markup import wiki_to_adf


@dataclass
class FakeSite:
    cloud: bool = True
    projects: list[dict[str, str]] = field(default_factory=list)
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> issue json
    comments: dict[str, list[Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    fail: dict[str, list[int]] = field(default_factory=dict)  # path -> statuses to answer first
    repeat_token: bool = False
    groups: dict[str, set[str]] = field(default_factory=dict)  # name -> access types
    embed_comments: bool = False  # put comments in search answers, as Jira does

    @classmethod
    def from_backup(cls, path: Path, *, cloud: bool = True) -> FakeSite:
        with zipfile.ZipFile(path) as zf:
            name = next(n for n in zf.namelist() if n.endswith("entities.xml"))
            root = etree.fromstring(zf.read(name))
        site = cls(cloud=cloud)
        projects = {e.get("id"): e for e in root if e.tag == "Project"}
        names = {
            (e.tag, e.get("id")): e.get("name") for e in root if e.tag in ("IssueType", "Status")
        }
        site.projects = [{"key": p.get("key"), "name": p.get("name")} for p in projects.values()]
        by_id: dict[str, str] = {}
        for e in root:
            if e.tag != "Issue":
                continue
            desc = e.findtext("description") or ""
            key = e.get("key")
            by_id[e.get("id")] = key
            site.issues[key] = {
                "id": e.get("id"),  # real answers carry ids (the pager's loop check reads them)
                "key": key,
                "fields": {
                    "summary": e.get("summary"),
                    "description": wiki_to_adf(desc) if cloud else desc,
                    "attachment": [],
                    "project": {"key": projects[e.get("project")].get("key")},
                    "status": {"name": names.get(("Status", e.get("status")), "")},
                    "issuetype": {"name": names.get(("IssueType", e.get("type")), "")},
                },
            }
            site.comments[key] = []
        for e in root:
            if e.tag == "Action" and e.get("type") == "comment":
                body = e.get("body") or e.findtext("body") or ""
                site.comments[by_id[e.get("issue")]].append(wiki_to_adf(body) if cloud else body)
            if e.tag == "FileAttachment":
                site.issues[by_id[e.get("issue")]]["fields"]["attachment"].append(
                    {"filename": e.get("filename"), "size": int(e.get("filesize"))}
                )
        return site

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append(f"{request.method} {path}")
        queued = self.fail.get(path)
        if queued:
            status = queued.pop(0)
            return httpx.Response(
                status, headers={"Retry-After": "0"}, json={"errorMessages": ["x"]}
            )
        if request.headers.get("Authorization") is None:
            return httpx.Response(401, json={"errorMessages": ["unauthorized"]})
        q = request.url.params
        if path == "/rest/api/3/project/search":
            start, size = int(q.get("startAt", 0)), int(q.get("maxResults", 50))
            values = self.projects[start : start + size]
            return httpx.Response(
                200, json={"values": values, "isLast": start + size >= len(self.projects)}
            )
        if path == "/rest/api/3/group/bulk":
            access = q.get("accessType")
            names = sorted(n for n, a in self.groups.items() if access is None or access in a)
            start, size = int(q.get("startAt", 0)), int(q.get("maxResults", 50))
            values = [{"name": n, "groupId": f"id-{n}"} for n in names[start : start + size]]
            return httpx.Response(
                200, json={"values": values, "isLast": start + size >= len(names)}
            )
        if path == "/rest/api/2/project":
            return httpx.Response(200, json=self.projects)
        if path == "/rest/api/3/search/jql":
            body = json.loads(request.content)
            project = body["jql"].split('"')[1]
            keys = self._keys(project)
            token = body.get("nextPageToken") or "0"
            start = 2 if token == "same" else int(token)
            size = body["maxResults"]
            page = [self._with_comments(self.issues[k]) for k in keys[start : start + size]]
            more = start + size < len(keys)
            answer: dict[str, Any] = {"issues": page, "isLast": not more}
            if more:
                answer["nextPageToken"] = "same" if self.repeat_token else str(start + size)
            return httpx.Response(200, json=answer)
        if path == "/rest/api/2/search":
            if request.method == "POST":  # the body carries what a GET puts in the query
                q = httpx.QueryParams({k: str(v) for k, v in json.loads(request.content).items()})
            jql = q["jql"]
            project = jql.split('"')[1]
            keys = self._keys(project)
            if "issuekey >" in jql:
                last = jql.split("issuekey > ")[1].split()[0]
                keys = [k for k in keys if _num(k) > _num(last)]
            start, size = int(q.get("startAt", 0)), int(q["maxResults"])
            page = [self.issues[k] for k in keys[start : start + size]]
            return httpx.Response(
                200,
                json={"issues": page, "startAt": start, "maxResults": size, "total": len(keys)},
            )
        if path.endswith("/comment"):
            key = path.split("/")[-2]
            start, size = int(q.get("startAt", 0)), int(q.get("maxResults", 50))
            bodies = self.comments.get(key, [])
            page = [
                {"id": f"{key}-c{n}", "body": b}
                for n, b in enumerate(bodies[start : start + size], start)
            ]
            return httpx.Response(
                200, json={"comments": page, "total": len(bodies), "startAt": start}
            )
        return httpx.Response(404, json={"errorMessages": ["no route"]})

    def _with_comments(self, issue: dict[str, Any]) -> dict[str, Any]:
        if not self.embed_comments:
            return issue
        bodies = self.comments.get(issue["key"], [])
        fields = dict(issue["fields"])
        fields["comment"] = {"comments": [{"body": b} for b in bodies], "total": len(bodies)}
        return {**issue, "fields": fields}

    def _keys(self, project: str) -> list[str]:
        return sorted((k for k in self.issues if k.startswith(project + "-")), key=_num)


def _num(key: str) -> int:
    return int(key.rsplit("-", 1)[1])
