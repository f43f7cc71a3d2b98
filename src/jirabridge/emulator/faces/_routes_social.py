"""What hangs off an issue: comments, worklogs, attachments, issue links, remote links,
entity properties and watchers."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.responses import Response

from jirabridge.emulator.faces._context import Ctx, JiraJSONResponse
from jirabridge.emulator.faces._errors import JiraHttpError
from jirabridge.emulator.faces._inputs import rich_in, visibility_in
from jirabridge.emulator.faces._render import user_json
from jirabridge.emulator.faces._table import ROOT, RouteSpec
from jirabridge.emulator.faces._views import renderer_of, view_of
from jirabridge.emulator.faces._wire import parse_datetime, parse_json
from jirabridge.emulator.model import Attachment

__all__ = ["ROUTES", "content_disposition"]

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def _created(body: Any) -> Response:
    return JiraJSONResponse(body, status_code=201)


def _paged(ctx: Ctx, items: list[Any], key: str, default_max: int = 5000) -> dict[str, Any]:
    start = max(0, ctx.query_int("startAt", 0))
    limit = max(0, ctx.query_int("maxResults", default_max))
    return {
        "startAt": start,
        "maxResults": limit,
        "total": len(items),
        key: items[start : start + limit],
    }


# -- comments ------------------------------------------------------------------------------------


async def list_comments(ctx: Ctx) -> Any:
    site = ctx.site
    issue = site.get_issue(ctx.path("issueIdOrKey"))
    renderer = renderer_of(ctx)
    comments = site.issue_comments(issue.id, ctx.user_key)
    if (ctx.query("orderBy") or "").lstrip("+") == "-created":
        comments = list(reversed(comments))
    expand = ctx.query_list("expand")
    rendered, props = "renderedBody" in expand, "properties" in expand
    return _paged(
        ctx,
        [renderer.comment(c, rendered=rendered, properties=props) for c in comments],
        "comments",
    )


async def add_comment(ctx: Ctx) -> Any:
    site = ctx.site
    issue = site.get_issue(ctx.path("issueIdOrKey"))
    body = await ctx.json_object()
    text = rich_in(ctx, body.get("body"), "comment")
    props = _properties_in(body.get("properties"))
    comment = site.add_comment(
        ctx.user_key,
        issue.id,
        text,
        visibility=visibility_in(body.get("visibility")),
        properties=props,
    )
    return _created(
        renderer_of(ctx).comment(comment, properties="properties" in ctx.query_list("expand"))
    )


async def comment_list(ctx: Ctx) -> Any:
    """Cloud ``POST /comment/list``: comments by id (at most 1,000), those the caller may see."""
    body = await ctx.json_object()
    ids = body.get("ids")
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        raise JiraHttpError(400, ["ids must be a list of comment ids."])
    if len(ids) > 1000:
        raise JiraHttpError(400, ["The number of comment ids must not exceed 1000."])
    site = ctx.site
    renderer = renderer_of(ctx)
    expand = ctx.query_list("expand")
    values = []
    for cid in dict.fromkeys(ids):
        comment = site.comments.get(cid)
        if comment is None:
            continue
        issue = site.issues.get(comment.issue_id)
        if issue is None or not site.can_see(ctx.user_key, issue, comment.visibility):
            continue
        values.append(
            renderer.comment(
                comment,
                rendered="renderedBody" in expand,
                properties="properties" in expand,
            )
        )
    start = max(0, ctx.query_int("startAt", 0))
    limit = max(1, ctx.query_int("maxResults", 1000))
    chunk = values[start : start + limit]
    return {
        "isLast": start + len(chunk) >= len(values),
        "maxResults": limit,
        "startAt": start,
        "total": len(values),
        "values": chunk,
    }


def _properties_in(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, list) or not all(
        isinstance(p, dict) and isinstance(p.get("key"), str) and "value" in p for p in raw
    ):
        raise JiraHttpError(400, ["Properties must be a list of {key, value} objects."])
    return {p["key"]: p.get("value") for p in raw}


async def get_comment(ctx: Ctx) -> Any:
    site = ctx.site
    issue = site.get_issue(ctx.path("issueIdOrKey"))
    comment = site.get_comment(issue.id, ctx.path("id"))
    if not site.can_see(ctx.user_key, issue, comment.visibility):
        raise JiraHttpError(404, [f"Can not find a comment for the id: {comment.id}."])
    expand = ctx.query_list("expand")
    return renderer_of(ctx).comment(
        comment, rendered="renderedBody" in expand, properties="properties" in expand
    )


async def update_comment(ctx: Ctx) -> Any:
    site = ctx.site
    issue = site.get_issue(ctx.path("issueIdOrKey"))
    body = await ctx.json_object()
    text = rich_in(ctx, body.get("body"), "comment")
    kwargs: dict[str, Any] = {}
    if "visibility" in body:
        kwargs["visibility"] = visibility_in(body.get("visibility"))
    if "properties" in body:
        kwargs["properties"] = _properties_in(body.get("properties"))
    comment = site.update_comment(ctx.user_key, issue.id, ctx.path("id"), text, **kwargs)
    return renderer_of(ctx).comment(comment)


async def delete_comment(ctx: Ctx) -> Any:
    site = ctx.site
    issue = site.get_issue(ctx.path("issueIdOrKey"))
    site.delete_comment(ctx.user_key, issue.id, ctx.path("id"))
    return None


# -- worklogs ------------------------------------------------------------------------------------


def _worklog_args(ctx: Ctx, body: dict[str, Any], *, required: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    spent = body.get("timeSpentSeconds", body.get("timeSpent"))
    if spent is None and required:
        raise JiraHttpError(400, errors={"timeLogged": "You must indicate the time spent working."})
    if spent is not None:
        if isinstance(spent, bool) or not isinstance(spent, int | str):
            raise JiraHttpError(400, errors={"timeLogged": "Invalid time duration entered."})
        out["time_spent"] = spent
    started = body.get("started")
    if started is not None:
        if not isinstance(started, str):
            raise JiraHttpError(400, errors={"started": "Invalid date format."})
        try:
            out["started"] = parse_datetime(started)
        except ValueError as exc:
            raise JiraHttpError(400, errors={"started": "Invalid date format."}) from exc
    if body.get("comment") is not None:
        out["comment"] = rich_in(ctx, body.get("comment"), "comment")
    return out


async def list_worklogs(ctx: Ctx) -> Any:
    site = ctx.site
    renderer = renderer_of(ctx)
    logs = site.issue_worklogs(ctx.path("issueIdOrKey"))
    return _paged(ctx, [renderer.worklog(w) for w in logs], "worklogs")


async def add_worklog(ctx: Ctx) -> Any:
    site = ctx.site
    issue = site.get_issue(ctx.path("issueIdOrKey"))
    body = await ctx.json_object()
    args = _worklog_args(ctx, body, required=True)
    adjust = ctx.query("adjustEstimate") or "auto"
    worklog = site.add_worklog(
        ctx.user_key,
        issue.id,
        args.pop("time_spent"),
        visibility=visibility_in(body.get("visibility"), "visibility"),
        adjust_estimate="leave" if adjust == "leave" else "auto",
        **args,
    )
    return _created(renderer_of(ctx).worklog(worklog))


async def get_worklog(ctx: Ctx) -> Any:
    worklog = ctx.site.get_worklog(ctx.path("issueIdOrKey"), ctx.path("id"))
    return renderer_of(ctx).worklog(worklog)


async def update_worklog(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    args = _worklog_args(ctx, body, required=False)
    worklog = ctx.site.update_worklog(
        ctx.user_key, ctx.path("issueIdOrKey"), ctx.path("id"), **args
    )
    return renderer_of(ctx).worklog(worklog)


async def delete_worklog(ctx: Ctx) -> Any:
    ctx.site.delete_worklog(ctx.user_key, ctx.path("issueIdOrKey"), ctx.path("id"))
    return None


# -- attachments ---------------------------------------------------------------------------------


async def add_attachments(ctx: Ctx) -> Any:
    token = ctx.request.headers.get("x-atlassian-token", "")
    if token.lower() not in ("no-check", "nocheck"):
        raise JiraHttpError(403, ["XSRF check failed"])
    site = ctx.site
    issue = site.get_issue(ctx.path("issueIdOrKey"))
    content_type = ctx.request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise JiraHttpError(
            415, ["Unsupported Media Type: attachments must be sent as multipart/form-data"]
        )
    try:
        form = await ctx.request.form(max_files=60, max_fields=60)
    except Exception as exc:  # malformed multipart bodies
        raise JiraHttpError(400, ["The multipart request could not be read."]) from exc
    uploads = [v for k, v in form.multi_items() if k == "file" and isinstance(v, UploadFile)]
    if not uploads:
        raise JiraHttpError(400, ["No file was attached: send the file in a 'file' form field."])
    renderer = renderer_of(ctx)
    out = []
    try:
        for upload in uploads:
            data = await upload.read(MAX_ATTACHMENT_BYTES + 1)
            if len(data) > MAX_ATTACHMENT_BYTES:
                raise JiraHttpError(
                    413, [f"The file {upload.filename} is larger than the attachment limit."]
                )
            attachment = site.add_attachment(
                ctx.user_key,
                issue.id,
                upload.filename or "attachment",
                data,
                upload.content_type if upload.content_type else None,
            )
            out.append(renderer.attachment(attachment))
    finally:
        await form.close()
    return out


async def attachment_meta(ctx: Ctx) -> Any:
    return {"enabled": True, "uploadLimit": MAX_ATTACHMENT_BYTES}


async def get_attachment(ctx: Ctx) -> Any:
    out = renderer_of(ctx).attachment(ctx.site.get_attachment(ctx.path("id")))
    if ctx.cloud:  # Cloud's attachment metadata carries a numeric id
        out["id"] = int(out["id"])
    return out


async def delete_attachment(ctx: Ctx) -> Any:
    ctx.site.delete_attachment(ctx.user_key, ctx.path("id"))
    return None


async def attachment_content(ctx: Ctx) -> Any:
    return _content(ctx.site.get_attachment(ctx.path("id")))


MEDIA_PATH = "/media/file/{fileId}/binary"
"""Where the emulator serves Cloud's Media API (``https://api.media.atlassian.com``) under its
own base URL: ``/media/file/<media id>/binary``."""


async def attachment_content_cloud(ctx: Ctx) -> Any:
    """Cloud's ``/attachment/content/{id}``: 303 to the file on the Media API (whose URL
    carries the attachment's media file id, the id ADF ``media`` nodes use), or the bytes
    themselves with ``redirect=false``."""
    attachment = ctx.site.get_attachment(ctx.path("id"))
    if (ctx.query("redirect") or "").lower() == "false":
        return _content(attachment)
    media_id = ctx.site.media_id_of(attachment)
    name = quote(attachment.filename, safe="")
    location = f"{ctx.face.base_url}{MEDIA_PATH.format(fileId=media_id)}?dl=true&name={name}"
    return Response(status_code=303, headers={"Location": location})


async def media_binary(ctx: Ctx) -> Any:
    """The Media API's file download (reached through the 303 of ``/attachment/content``)."""
    return _content(ctx.site.attachment_by_media_id(ctx.path("fileId")))


def _content(attachment: Attachment) -> Response:
    return Response(
        attachment.content,
        media_type=attachment.mime_type,
        headers={"Content-Disposition": content_disposition(attachment.filename)},
    )


def content_disposition(filename: str) -> str:
    """``attachment`` with a header-safe ASCII name and the exact name as RFC 5987
    ``filename*`` (control characters and quotes can never reach the header)."""
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


# -- issue links ---------------------------------------------------------------------------------


def _issue_ref_in(raw: Any, name: str) -> str:
    if not isinstance(raw, dict):
        raise JiraHttpError(400, errors={name: f"The {name} must be an object with key or id."})
    ref = raw.get("key", raw.get("id"))
    if not isinstance(ref, str | int) or isinstance(ref, bool):
        raise JiraHttpError(400, errors={name: f"The {name} must have a key or an id."})
    return str(ref)


async def create_link(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    link_type = body.get("type")
    if not isinstance(link_type, dict):
        raise JiraHttpError(400, errors={"issueLinkType": "No issue link type name specified."})
    type_ref = link_type.get("name", link_type.get("id"))
    if not isinstance(type_ref, str | int) or isinstance(type_ref, bool):
        raise JiraHttpError(400, errors={"issueLinkType": "No issue link type name specified."})
    source = _issue_ref_in(body.get("inwardIssue"), "inwardIssue")
    destination = _issue_ref_in(body.get("outwardIssue"), "outwardIssue")
    site = ctx.site
    site.create_link(ctx.user_key, type_ref, source, destination)
    comment = body.get("comment")
    if isinstance(comment, dict) and comment.get("body") is not None:
        site.add_comment(
            ctx.user_key,
            source,
            rich_in(ctx, comment.get("body"), "comment"),
            visibility=visibility_in(comment.get("visibility")),
        )
    return Response(status_code=201)


async def get_link(ctx: Ctx) -> Any:
    link = ctx.site.get_link(ctx.path("linkId"))
    renderer = renderer_of(ctx)
    seen = renderer.link(link, link.source_issue_id) or {}
    source = ctx.site.issues.get(link.source_issue_id)
    if source is not None:
        seen["inwardIssue"] = renderer.issue_ref(source)
    return seen


async def delete_link(ctx: Ctx) -> Any:
    ctx.site.delete_link(ctx.user_key, ctx.path("linkId"))
    return None


# -- remote links --------------------------------------------------------------------------------


async def list_remote_links(ctx: Ctx) -> Any:
    renderer = renderer_of(ctx)
    links = ctx.site.issue_remote_links(ctx.path("issueIdOrKey"))
    global_id = ctx.query("globalId")
    if global_id is not None:  # Jira answers the one link with that global id
        for link in links:
            if link.global_id == global_id:
                return renderer.remote_link(link)
        raise JiraHttpError(404, [f"No remote link with global id '{global_id}' exists."])
    return [renderer.remote_link(link) for link in links]


async def add_remote_link(ctx: Ctx) -> Any:
    body = await ctx.json_object()
    obj = body.get("object")
    if not isinstance(obj, dict):
        raise JiraHttpError(400, errors={"object": "'object' is required."})
    url, title = obj.get("url"), obj.get("title")
    for name, value in (("url", url), ("title", title)):
        if value is not None and not isinstance(value, str):
            raise JiraHttpError(400, errors={name: f"'{name}' must be a string."})
    icon_raw = obj.get("icon")
    icon: dict[str, Any] = icon_raw if isinstance(icon_raw, dict) else {}
    app_raw = body.get("application")
    application: dict[str, Any] = app_raw if isinstance(app_raw, dict) else {}
    link, created = ctx.site.add_remote_link(
        ctx.user_key,
        ctx.path("issueIdOrKey"),
        url or "",
        title or "",
        global_id=body.get("globalId") if isinstance(body.get("globalId"), str) else None,
        relationship=(
            body.get("relationship") if isinstance(body.get("relationship"), str) else None
        ),
        summary=obj.get("summary") if isinstance(obj.get("summary"), str) else None,
        icon_url=icon.get("url16x16") if isinstance(icon.get("url16x16"), str) else None,
        application={str(k): str(v) for k, v in application.items()},
    )
    out = {"id": link.id, "self": view_of(ctx).api(f"issue/{link.issue_id}/remotelink/{link.id}")}
    return _created(out) if created else out


async def get_remote_link(ctx: Ctx) -> Any:
    link = ctx.site.get_remote_link(ctx.path("issueIdOrKey"), ctx.path("linkId"))
    return renderer_of(ctx).remote_link(link)


async def delete_remote_link(ctx: Ctx) -> Any:
    ctx.site.delete_remote_link(ctx.user_key, ctx.path("issueIdOrKey"), ctx.path("linkId"))
    return None


# -- entity properties ---------------------------------------------------------------------------


def _entity(ctx: Ctx) -> tuple[str, str, str]:
    issue = ctx.site.get_issue(ctx.path("issueIdOrKey"))
    return "issue", str(issue.id), f"issue/{issue.key}"


async def property_keys(ctx: Ctx) -> Any:
    entity, entity_id, base = _entity(ctx)
    view = view_of(ctx)
    return {
        "keys": [
            {"self": view.api(f"{base}/properties/{key}"), "key": key}
            for key in ctx.site.property_keys(entity, entity_id)
        ]
    }


async def get_property(ctx: Ctx) -> Any:
    entity, entity_id, _ = _entity(ctx)
    key = ctx.path("propertyKey")
    return {"key": key, "value": ctx.site.get_property(entity, entity_id, key)}


async def set_property(ctx: Ctx) -> Any:
    entity, entity_id, _ = _entity(ctx)
    value = await ctx.json()
    created = ctx.site.set_property(entity, entity_id, ctx.path("propertyKey"), value)
    return Response(status_code=201 if created else 200)


async def delete_property(ctx: Ctx) -> Any:
    entity, entity_id, _ = _entity(ctx)
    ctx.site.delete_property(entity, entity_id, ctx.path("propertyKey"))
    return None


# -- comment properties (``/comment/{commentId}/properties``: by comment id alone) ---------------


async def comment_property_keys(ctx: Ctx) -> Any:
    comment = ctx.site.visible_comment(ctx.user_key, ctx.path("commentId"))
    view = view_of(ctx)
    return {
        "keys": [
            {"self": view.api(f"comment/{comment.id}/properties/{key}"), "key": key}
            for key in comment.properties
        ]
    }


async def get_comment_property(ctx: Ctx) -> Any:
    comment = ctx.site.visible_comment(ctx.user_key, ctx.path("commentId"))
    key = ctx.path("propertyKey")
    if key not in comment.properties:
        raise JiraHttpError(404, [f"The property with key '{key}' does not exist."])
    return {"key": key, "value": comment.properties[key]}


async def set_comment_property(ctx: Ctx) -> Any:
    value = await ctx.json()
    created = ctx.site.set_comment_property(
        ctx.user_key, ctx.path("commentId"), ctx.path("propertyKey"), value
    )
    return Response(status_code=201 if created else 200)


async def delete_comment_property(ctx: Ctx) -> Any:
    ctx.site.delete_comment_property(ctx.user_key, ctx.path("commentId"), ctx.path("propertyKey"))
    return None


# -- watchers ------------------------------------------------------------------------------------


async def get_watchers(ctx: Ctx) -> Any:
    issue = ctx.site.get_issue(ctx.path("issueIdOrKey"))
    view = view_of(ctx)
    users = [
        user_json(view, ctx.site.users[k]) for k in sorted(issue.watchers) if k in ctx.site.users
    ]
    return {
        "self": view.api(f"issue/{issue.key}/watchers"),
        "isWatching": ctx.user_key in issue.watchers,
        "watchCount": len(users),
        "watchers": users,
    }


async def add_watcher(ctx: Ctx) -> Any:
    raw = await ctx.body()
    user_ref: str | None = None
    if raw.strip():
        value = parse_json(raw)
        if not isinstance(value, str):
            raise JiraHttpError(400, ["The user must be given as a JSON string."])
        user_ref = value
    ctx.site.add_watcher(ctx.user_key, ctx.path("issueIdOrKey"), user_ref)
    return None


async def remove_watcher(ctx: Ctx) -> Any:
    ref = ctx.query("accountId") if ctx.cloud else ctx.query("username")
    if not ref:
        raise JiraHttpError(400, ["The user to remove must be given."])
    ctx.site.remove_watcher(ctx.user_key, ctx.path("issueIdOrKey"), ref)
    return None


async def get_votes(ctx: Ctx) -> Any:
    issue = ctx.site.get_issue(ctx.path("issueIdOrKey"))
    view = view_of(ctx)
    voters = [
        user_json(view, ctx.site.users[k]) for k in sorted(issue.voters) if k in ctx.site.users
    ]
    return {
        "self": view.api(f"issue/{issue.key}/votes"),
        "votes": len(voters),
        "hasVoted": ctx.user_key in issue.voters,
        "voters": voters,
    }


async def add_vote(ctx: Ctx) -> Any:
    ctx.site.vote(ctx.user_key, ctx.path("issueIdOrKey"))
    return None


async def remove_vote(ctx: Ctx) -> Any:
    ctx.site.unvote(ctx.user_key, ctx.path("issueIdOrKey"))
    return None


_I = "/issue/{issueIdOrKey}"

ROUTES: list[RouteSpec] = [
    RouteSpec(
        "GET",
        f"{_I}/comment",
        list_comments,
        note="paged: startAt, maxResults; expand=renderedBody,properties",
    ),
    RouteSpec("POST", f"{_I}/comment", add_comment, note="visibility, properties"),
    RouteSpec("GET", f"{_I}/comment/{{id}}", get_comment, note="expand=renderedBody,properties"),
    RouteSpec("PUT", f"{_I}/comment/{{id}}", update_comment, note="visibility, properties"),
    RouteSpec("DELETE", f"{_I}/comment/{{id}}", delete_comment),
    RouteSpec(
        "POST",
        "/comment/list",
        comment_list,
        server=False,
        note="≤1,000 ids; expand=renderedBody,properties",
    ),
    RouteSpec("GET", "/comment/{commentId}/properties", comment_property_keys),
    RouteSpec("GET", "/comment/{commentId}/properties/{propertyKey}", get_comment_property),
    RouteSpec(
        "PUT",
        "/comment/{commentId}/properties/{propertyKey}",
        set_comment_property,
        note="author or admin",
    ),
    RouteSpec("DELETE", "/comment/{commentId}/properties/{propertyKey}", delete_comment_property),
    RouteSpec("GET", f"{_I}/worklog", list_worklogs),
    RouteSpec("POST", f"{_I}/worklog", add_worklog, note="adjustEstimate=auto|leave"),
    RouteSpec("GET", f"{_I}/worklog/{{id}}", get_worklog),
    RouteSpec("PUT", f"{_I}/worklog/{{id}}", update_worklog),
    RouteSpec("DELETE", f"{_I}/worklog/{{id}}", delete_worklog),
    RouteSpec(
        "POST", f"{_I}/attachments", add_attachments, note="multipart; X-Atlassian-Token: no-check"
    ),
    RouteSpec("GET", "/attachment/meta", attachment_meta),
    RouteSpec("GET", "/attachment/{id}", get_attachment),
    RouteSpec("DELETE", "/attachment/{id}", delete_attachment),
    RouteSpec(
        "GET",
        "/attachment/content/{id}",
        attachment_content_cloud,
        server=False,
        note="303 to the media file (its media id); redirect=false: the bytes",
    ),
    RouteSpec(
        "GET",
        MEDIA_PATH,
        media_binary,
        family=ROOT,
        server=False,
        note="Media API file download (api.media.atlassian.com)",
    ),
    RouteSpec(
        "GET",
        "/secure/attachment/{id}/{filename}",
        attachment_content,
        family=ROOT,
        note="attachment download (the `content` URL)",
    ),
    RouteSpec("POST", "/issueLink", create_link),
    RouteSpec("GET", "/issueLink/{linkId}", get_link),
    RouteSpec("DELETE", "/issueLink/{linkId}", delete_link),
    RouteSpec("GET", f"{_I}/remotelink", list_remote_links),
    RouteSpec("POST", f"{_I}/remotelink", add_remote_link, note="globalId upserts"),
    RouteSpec("GET", f"{_I}/remotelink/{{linkId}}", get_remote_link),
    RouteSpec("DELETE", f"{_I}/remotelink/{{linkId}}", delete_remote_link),
    RouteSpec("GET", f"{_I}/properties", property_keys),
    RouteSpec("GET", f"{_I}/properties/{{propertyKey}}", get_property),
    RouteSpec("PUT", f"{_I}/properties/{{propertyKey}}", set_property),
    RouteSpec("DELETE", f"{_I}/properties/{{propertyKey}}", delete_property),
    RouteSpec("GET", f"{_I}/watchers", get_watchers),
    RouteSpec("POST", f"{_I}/watchers", add_watcher),
    RouteSpec("DELETE", f"{_I}/watchers", remove_watcher),
    RouteSpec("GET", f"{_I}/votes", get_votes),
    RouteSpec("POST", f"{_I}/votes", add_vote),
    RouteSpec("DELETE", f"{_I}/votes", remove_vote),
]
