"""What hangs off an issue: comments, worklogs, attachments, issue links, remote links,
entity properties, watchers and votes."""

from __future__ import annotations

import json
import mimetypes
from datetime import datetime
from typing import Any

from jirabridge.emulator.model._config import ConfigMixin
from jirabridge.emulator.model._errors import NotFound, PermissionDenied, ValidationFailed
from jirabridge.emulator.model._events import (
    AttachmentCreated,
    AttachmentDeleted,
    CommentCreated,
    CommentDeleted,
    CommentUpdated,
    IssueEventType,
    IssueLinkCreated,
    IssueLinkDeleted,
    IssueUpdated,
    WorklogCreated,
    WorklogDeleted,
    WorklogUpdated,
)
from jirabridge.emulator.model._ids import by_id
from jirabridge.emulator.model._records import (
    Attachment,
    ChangeItem,
    Comment,
    Flavour,
    Issue,
    IssueLink,
    IssueLinkType,
    RemoteLink,
    Visibility,
    Worklog,
)
from jirabridge.emulator.model._values import FieldError, parse_duration

__all__ = ["SocialMixin"]

CLOUD_LIMITS = {
    "comments": 5000,
    "worklogs": 5000,
    "attachments": 2000,
    "links": 2000,
    "remote_links": 2000,
}


def _is_empty_body(body: Any) -> bool:
    if body is None:
        return True
    if isinstance(body, str):
        return not body.strip()
    if isinstance(body, dict):
        return not body.get("content")
    return True


def _checked_property(key: Any, value: Any) -> Any:
    """An entity property value as stored (a JSON copy), after Jira's key and size checks."""
    if not isinstance(key, str) or not key:
        raise ValidationFailed("The property key cannot be empty.")
    if len(key) > 255:
        raise ValidationFailed("The property key cannot be longer than 255 characters.")
    try:
        encoded = json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("The property value must be valid JSON.") from exc
    if len(encoded) > 32768:
        raise ValidationFailed("The property value cannot be longer than 32768 characters.")
    return json.loads(encoded)


class SocialMixin(ConfigMixin):
    # -- visibility -------------------------------------------------------------------------

    def _check_visibility(self, issue: Issue, visibility: Visibility | None) -> None:
        if visibility is None:
            return
        if visibility.type == "group":
            if visibility.value not in self.groups and not any(
                g.group_id == visibility.identifier for g in self.groups.values()
            ):
                raise ValidationFailed(
                    errors={"commentLevel": f"Group: {visibility.value} does not exist."}
                )
            if visibility.identifier is None and self.flavour is Flavour.CLOUD:
                visibility.identifier = self.groups[visibility.value].group_id
        elif visibility.type == "role":
            project = self.projects[issue.project_id]
            if visibility.value not in project.roles:
                raise ValidationFailed(errors={"commentLevel": "Invalid role level specified."})
        else:
            raise ValidationFailed(errors={"commentLevel": "Invalid visibility type."})

    def can_see(self, viewer_key: str | None, issue: Issue, visibility: Visibility | None) -> bool:
        """Whether ``viewer_key`` may see something restricted by ``visibility`` on ``issue``."""
        if visibility is None:
            return True
        if viewer_key is None:
            return False
        if visibility.type == "group":
            group = self.groups.get(visibility.value)
            if group is None and visibility.identifier:
                group = next(
                    (g for g in self.groups.values() if g.group_id == visibility.identifier), None
                )
            return group is not None and viewer_key in group.members
        return self.in_role(viewer_key, issue.project_id, visibility.value)

    # -- comments ---------------------------------------------------------------------------

    def add_comment(
        self,
        actor_key: str,
        issue_ref: int | str,
        body: Any,
        *,
        visibility: Visibility | None = None,
        properties: dict[str, Any] | None = None,
        created: datetime | None = None,
    ) -> Comment:
        """Add a comment (``body`` in the site's native rich-text form). Emits
        :class:`CommentCreated` then :class:`IssueUpdated` (``issue_commented``)."""
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        self._validate_comment(issue, body, visibility)
        properties = {k: _checked_property(k, v) for k, v in (properties or {}).items()}
        comment = self._insert_comment(actor.key, issue, body, visibility, properties, created)
        self._emit(
            IssueUpdated(comment.created, actor.key, issue, IssueEventType.COMMENTED, None, comment)
        )
        return comment

    def _validate_comment(self, issue: Issue, body: Any, visibility: Visibility | None) -> None:
        if _is_empty_body(body):
            raise ValidationFailed(errors={"comment": "Comment body can not be empty!"})
        self._check_body_type(body)
        self._check_visibility(issue, visibility)
        if (
            self.flavour is Flavour.CLOUD
            and len(self.comments_by_issue.get(issue.id, ())) >= CLOUD_LIMITS["comments"]
        ):
            raise ValidationFailed(
                f"The issue has reached the limit of {CLOUD_LIMITS['comments']} comments.",
                status=413,
            )

    def _insert_comment(
        self,
        actor_key: str,
        issue: Issue,
        body: Any,
        visibility: Visibility | None,
        properties: dict[str, Any] | None = None,
        created: datetime | None = None,
    ) -> Comment:
        """Store a validated comment and emit :class:`CommentCreated` (only)."""
        now = created or self.now()
        comment = Comment(
            id=self.ids.next("comment"),
            issue_id=issue.id,
            author_key=actor_key,
            body=body,
            created=now,
            updated=now,
            update_author_key=actor_key,
            visibility=visibility,
            properties=dict(properties or {}),
        )
        self.comments[comment.id] = comment
        self.comments_by_issue.setdefault(issue.id, []).append(comment.id)
        issue.updated = now
        self._emit(CommentCreated(now, actor_key, issue, comment))
        return comment

    def _check_body_type(self, body: Any) -> None:
        if self.flavour is Flavour.SERVER and not isinstance(body, str):
            raise ValidationFailed(errors={"comment": "Operation value must be a string"})
        if self.flavour is Flavour.CLOUD and not (
            isinstance(body, dict) and body.get("type") == "doc"
        ):
            raise ValidationFailed(
                errors={"comment": "Comment body is not valid Atlassian Document Format."}
            )

    def get_comment(self, issue_ref: int | str, comment_id: int | str) -> Comment:
        issue = self.get_issue(issue_ref)
        comment = by_id(self.comments, comment_id)
        if comment is None or comment.issue_id != issue.id:
            raise NotFound(f"Can not find a comment for the id: {comment_id}.")
        return comment

    def issue_comments(self, issue_ref: int | str, viewer_key: str | None = None) -> list[Comment]:
        """Comments of an issue in creation order; with ``viewer_key``, only those visible."""
        issue = self.get_issue(issue_ref)
        out = [self.comments[c] for c in self.comments_by_issue.get(issue.id, ())]
        if viewer_key is not None:
            out = [c for c in out if self.can_see(viewer_key, issue, c.visibility)]
        return out

    def _may_change_comment(self, actor_key: str, issue: Issue, comment: Comment) -> bool:
        return (
            comment.author_key == actor_key
            or self.is_admin(actor_key)
            or self.in_role(actor_key, issue.project_id, "Administrators")
        )

    _KEEP: Any = object()

    def update_comment(
        self,
        actor_key: str,
        issue_ref: int | str,
        comment_id: int | str,
        body: Any,
        *,
        visibility: Visibility | Any | None = _KEEP,
        properties: dict[str, Any] | None = None,
    ) -> Comment:
        """Edit a comment's body (and visibility when given; ``None`` removes it); given
        ``properties`` are set (others stay). Only the author and administrators may edit.
        Emits :class:`CommentUpdated` then :class:`IssueUpdated` (``issue_comment_edited``)."""
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        comment = self.get_comment(issue.id, comment_id)
        if not self._may_change_comment(actor.key, issue, comment):
            raise PermissionDenied("You do not have the permission to edit this comment.")
        if _is_empty_body(body):
            raise ValidationFailed(errors={"comment": "Comment body can not be empty!"})
        self._check_body_type(body)
        checked = {k: _checked_property(k, v) for k, v in (properties or {}).items()}
        if visibility is not self._KEEP:
            self._check_visibility(issue, visibility)
            comment.visibility = visibility
        comment.properties.update(checked)
        now = self.now()
        comment.body = body
        comment.updated = now
        comment.update_author_key = actor.key
        issue.updated = now
        self._emit(CommentUpdated(now, actor.key, issue, comment))
        self._emit(
            IssueUpdated(now, actor.key, issue, IssueEventType.COMMENT_EDITED, None, comment)
        )
        return comment

    def delete_comment(
        self, actor_key: str, issue_ref: int | str, comment_id: int | str
    ) -> Comment:
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        comment = self.get_comment(issue.id, comment_id)
        if not self._may_change_comment(actor.key, issue, comment):
            raise PermissionDenied("You do not have the permission to delete this comment.")
        del self.comments[comment.id]
        self.comments_by_issue[issue.id].remove(comment.id)
        now = self.now()
        issue.updated = now
        self._emit(CommentDeleted(now, actor.key, issue, comment))
        self._emit(
            IssueUpdated(now, actor.key, issue, IssueEventType.COMMENT_DELETED, None, comment)
        )
        return comment

    # -- worklogs ---------------------------------------------------------------------------

    def add_worklog(
        self,
        actor_key: str,
        issue_ref: int | str,
        time_spent: int | str,
        *,
        started: datetime | None = None,
        comment: Any = None,
        visibility: Visibility | None = None,
        adjust_estimate: str = "auto",
    ) -> Worklog:
        """Log work: ``time_spent`` in seconds (int) or Jira duration ("1h 30m"). The remaining
        estimate drops by the time spent (``adjust_estimate="auto"``) or stays ("leave")."""
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        seconds = self._duration(time_spent)
        self._check_visibility(issue, visibility)
        ids = self.worklogs_by_issue.setdefault(issue.id, [])
        if self.flavour is Flavour.CLOUD and len(ids) >= CLOUD_LIMITS["worklogs"]:
            raise ValidationFailed("The issue has reached the limit of 5000 worklogs.", status=413)
        now = self.now()
        worklog = Worklog(
            id=self.ids.next("worklog"),
            issue_id=issue.id,
            author_key=actor.key,
            update_author_key=actor.key,
            time_spent_seconds=seconds,
            started=started or now,
            created=now,
            updated=now,
            comment=comment,
            visibility=visibility,
        )
        self.worklogs[worklog.id] = worklog
        ids.append(worklog.id)
        items = self._time_items(issue, seconds, adjust_estimate)
        items.append(
            ChangeItem("WorklogId", "jira", "worklog", None, None, str(worklog.id), str(worklog.id))
        )
        history = self._record(issue, actor.key, items)
        issue.updated = now
        self._emit(WorklogCreated(now, actor.key, issue, worklog))
        self._emit(IssueUpdated(now, actor.key, issue, IssueEventType.WORKLOGGED, history))
        return worklog

    def _duration(self, value: int | str) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            seconds = value
        else:
            try:
                seconds = parse_duration(value)
            except FieldError as exc:
                raise ValidationFailed(errors={"timeLogged": exc.message}) from exc
        if seconds <= 0:
            raise ValidationFailed(errors={"timeLogged": "Time Spent must be greater than zero."})
        return seconds

    def _time_items(self, issue: Issue, delta: int, adjust: str) -> list[ChangeItem]:
        items: list[ChangeItem] = []
        old_spent = issue.fields.get("timespent")
        new_spent = max(0, (old_spent or 0) + delta)
        if new_spent:
            issue.fields["timespent"] = new_spent
        else:
            issue.fields.pop("timespent", None)
        items.append(
            ChangeItem(
                "timespent",
                "jira",
                "timespent",
                None if old_spent is None else str(old_spent),
                None if old_spent is None else str(old_spent),
                str(new_spent),
                str(new_spent),
            )
        )
        old_remaining = issue.fields.get("timeestimate")
        if adjust == "auto" and old_remaining is not None:
            new_remaining = max(0, old_remaining - delta)
            issue.fields["timeestimate"] = new_remaining
            items.append(
                ChangeItem(
                    "timeestimate",
                    "jira",
                    "timeestimate",
                    str(old_remaining),
                    str(old_remaining),
                    str(new_remaining),
                    str(new_remaining),
                )
            )
        return items

    def get_worklog(self, issue_ref: int | str, worklog_id: int | str) -> Worklog:
        issue = self.get_issue(issue_ref)
        worklog = by_id(self.worklogs, worklog_id)
        if worklog is None or worklog.issue_id != issue.id:
            raise NotFound(f"Cannot find worklog with id: '{worklog_id}'.")
        return worklog

    def issue_worklogs(self, issue_ref: int | str) -> list[Worklog]:
        issue = self.get_issue(issue_ref)
        return [self.worklogs[w] for w in self.worklogs_by_issue.get(issue.id, ())]

    def update_worklog(
        self,
        actor_key: str,
        issue_ref: int | str,
        worklog_id: int | str,
        *,
        time_spent: int | str | None = None,
        started: datetime | None = None,
        comment: Any = None,
    ) -> Worklog:
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        worklog = self.get_worklog(issue.id, worklog_id)
        if worklog.author_key != actor.key and not self.is_admin(actor.key):
            raise PermissionDenied("You do not have the permission to edit this worklog.")
        now = self.now()
        items: list[ChangeItem] = []
        if time_spent is not None:
            seconds = self._duration(time_spent)
            items = self._time_items(issue, seconds - worklog.time_spent_seconds, "auto")
            worklog.time_spent_seconds = seconds
        if started is not None:
            worklog.started = started
        if comment is not None:
            worklog.comment = comment
        worklog.updated = now
        worklog.update_author_key = actor.key
        history = self._record(issue, actor.key, items) if items else None
        issue.updated = now
        self._emit(WorklogUpdated(now, actor.key, issue, worklog))
        self._emit(IssueUpdated(now, actor.key, issue, IssueEventType.WORKLOG_UPDATED, history))
        return worklog

    def delete_worklog(
        self, actor_key: str, issue_ref: int | str, worklog_id: int | str
    ) -> Worklog:
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        worklog = self.get_worklog(issue.id, worklog_id)
        if worklog.author_key != actor.key and not self.is_admin(actor.key):
            raise PermissionDenied("You do not have the permission to delete this worklog.")
        del self.worklogs[worklog.id]
        self.worklogs_by_issue[issue.id].remove(worklog.id)
        items = self._time_items(issue, -worklog.time_spent_seconds, "leave")
        items.append(
            ChangeItem("WorklogId", "jira", "worklog", str(worklog.id), str(worklog.id), None, None)
        )
        history = self._record(issue, actor.key, items)
        now = self.now()
        issue.updated = now
        self._emit(WorklogDeleted(now, actor.key, issue, worklog))
        self._emit(IssueUpdated(now, actor.key, issue, IssueEventType.WORKLOG_DELETED, history))
        return worklog

    # -- attachments ------------------------------------------------------------------------

    def add_attachment(
        self,
        actor_key: str,
        issue_ref: int | str,
        filename: str,
        content: bytes,
        mime_type: str | None = None,
    ) -> Attachment:
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        if not filename or "/" in filename or "\\" in filename or filename in (".", ".."):
            raise ValidationFailed(f"The attachment name '{filename}' is not valid.")
        ids = self.attachments_by_issue.setdefault(issue.id, [])
        if self.flavour is Flavour.CLOUD and len(ids) >= CLOUD_LIMITS["attachments"]:
            raise ValidationFailed(
                "The issue has reached the limit of 2000 attachments.", status=413
            )
        now = self.now()
        att = Attachment(
            id=self.ids.next("attachment"),
            issue_id=issue.id,
            filename=filename,
            mime_type=mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream",
            content=bytes(content),
            author_key=actor.key,
            created=now,
        )
        if self.flavour is Flavour.CLOUD:
            att.media_id = self.ids.derived_uuid("media", att.id)
            self._media_index[att.media_id] = att.id
        self.attachments[att.id] = att
        ids.append(att.id)
        history = self._record(
            issue,
            actor.key,
            [ChangeItem("Attachment", "jira", "attachment", None, None, str(att.id), filename)],
        )
        issue.updated = now
        self._emit(AttachmentCreated(now, actor.key, issue, att))
        self._emit(IssueUpdated(now, actor.key, issue, IssueEventType.UPDATED, history))
        return att

    def get_attachment(self, attachment_id: int | str) -> Attachment:
        att = by_id(self.attachments, attachment_id)
        if att is None:
            raise NotFound(f"Attachment with id '{attachment_id}' does not exist")
        return att

    def media_id_of(self, att: Attachment) -> str | None:
        """The Media Services file id of a Cloud attachment (None on Server). An attachment
        of a state saved before media ids existed gets the one it would have had."""
        if self.flavour is not Flavour.CLOUD:
            return None
        if att.media_id is None:
            att.media_id = self.ids.derived_uuid("media", att.id)
        return att.media_id

    def attachment_by_media_id(self, media_id: str) -> Attachment:
        """The Cloud attachment whose content is the media file ``media_id``."""
        aid = self._media_index.get(media_id)
        if aid is None or aid not in self.attachments:
            # built lazily: a loaded state or a deleted attachment leaves the index behind
            self._media_index = {
                m: a.id for a in self.attachments.values() if (m := self.media_id_of(a))
            }
            aid = self._media_index.get(media_id)
        if aid is None:
            raise NotFound(f"The file '{media_id}' does not exist.")
        return self.attachments[aid]

    def issue_media_ids(self, issue_id: int) -> dict[str, str]:
        """File name -> media id of the attachments of a Cloud issue (the newest of equal
        names wins, as a wiki ``!name!`` shows it); empty on Server."""
        out: dict[str, str] = {}
        for aid in self.attachments_by_issue.get(issue_id, ()):
            att = self.attachments.get(aid)
            media_id = None if att is None else self.media_id_of(att)
            if att is not None and media_id is not None:
                out[att.filename] = media_id
        return out

    def issue_attachments(self, issue_ref: int | str) -> list[Attachment]:
        issue = self.get_issue(issue_ref)
        return [self.attachments[a] for a in self.attachments_by_issue.get(issue.id, ())]

    def delete_attachment(self, actor_key: str, attachment_id: int | str) -> Attachment:
        actor = self._actor(actor_key)
        att = self.get_attachment(attachment_id)
        issue = self.issues[att.issue_id]
        if att.author_key != actor.key and not self.is_admin(actor.key):
            raise PermissionDenied(
                f"You do not have permission to delete attachment with id '{att.id}'."
            )
        del self.attachments[att.id]
        self.attachments_by_issue[issue.id].remove(att.id)
        history = self._record(
            issue,
            actor.key,
            [ChangeItem("Attachment", "jira", "attachment", str(att.id), att.filename, None, None)],
        )
        now = self.now()
        issue.updated = now
        self._emit(AttachmentDeleted(now, actor.key, issue, att))
        self._emit(IssueUpdated(now, actor.key, issue, IssueEventType.UPDATED, history))
        return att

    # -- issue links ------------------------------------------------------------------------

    def get_link_type(self, ref: int | str) -> IssueLinkType:
        """A link type by id, name, or inward/outward description."""
        for lt in self.link_types.values():
            if str(lt.id) == str(ref) or ref in (lt.name, lt.inward, lt.outward):
                return lt
        raise NotFound(f"No issue link type with name '{ref}' found.")

    def create_link_type(self, name: str, inward: str, outward: str) -> IssueLinkType:
        if any(lt.name == name for lt in self.link_types.values()):
            raise ValidationFailed(f"An issue link type with the name '{name}' already exists.")
        lt = IssueLinkType(self.ids.next("linktype"), name, inward, outward)
        self.link_types[lt.id] = lt
        return lt

    def create_link(
        self, actor_key: str, type_ref: int | str, source_ref: int | str, destination_ref: int | str
    ) -> IssueLink:
        """Link ``source`` <type.outward> ``destination`` (e.g. source blocks destination).
        An identical link is returned as is. Records a ``Link`` changelog item on both issues."""
        actor = self._actor(actor_key)
        lt = self.get_link_type(type_ref)
        source = self.get_issue(source_ref)
        destination = self.get_issue(destination_ref)
        if source.id == destination.id:
            raise ValidationFailed("You cannot link an issue to itself.")
        for lid in self.links_by_issue.get(source.id, ()):
            link = self.links[lid]
            if (link.type_id, link.source_issue_id, link.destination_issue_id) == (
                lt.id,
                source.id,
                destination.id,
            ):
                return link
        if (
            self.flavour is Flavour.CLOUD
            and len(self.links_by_issue.get(source.id, ())) >= CLOUD_LIMITS["links"]
        ):
            raise ValidationFailed(
                "The issue has reached the limit of 2000 issue links.", status=413
            )
        now = self.now()
        link = IssueLink(self.ids.next("link"), lt.id, source.id, destination.id, now)
        self.links[link.id] = link
        self.links_by_issue.setdefault(source.id, []).append(link.id)
        self.links_by_issue.setdefault(destination.id, []).append(link.id)
        self._emit(IssueLinkCreated(now, actor.key, link))
        for issue, other, words in (
            (source, destination, lt.outward),
            (destination, source, lt.inward),
        ):
            history = self._record(
                issue,
                actor.key,
                [
                    ChangeItem(
                        "Link",
                        "jira",
                        None,
                        None,
                        None,
                        other.key,
                        f"This issue {words} {other.key}",
                    )
                ],
            )
            issue.updated = now
            self._emit(IssueUpdated(now, actor.key, issue, IssueEventType.UPDATED, history))
        return link

    def get_link(self, link_id: int | str) -> IssueLink:
        link = by_id(self.links, link_id)
        if link is None:
            raise NotFound(f"No issue link with id '{link_id}' exists.")
        return link

    def issue_links(self, issue_ref: int | str) -> list[IssueLink]:
        issue = self.get_issue(issue_ref)
        return [self.links[lid] for lid in self.links_by_issue.get(issue.id, ())]

    def delete_link(self, actor_key: str, link_id: int | str) -> IssueLink:
        actor = self._actor(actor_key)
        link = self.get_link(link_id)
        self._unlink(link)
        lt = self.link_types[link.type_id]
        now = self.now()
        self._emit(IssueLinkDeleted(now, actor.key, link))
        source = self.issues[link.source_issue_id]
        destination = self.issues[link.destination_issue_id]
        for issue, other, words in (
            (source, destination, lt.outward),
            (destination, source, lt.inward),
        ):
            history = self._record(
                issue,
                actor.key,
                [
                    ChangeItem(
                        "Link",
                        "jira",
                        None,
                        other.key,
                        f"This issue {words} {other.key}",
                        None,
                        None,
                    )
                ],
            )
            issue.updated = now
            self._emit(IssueUpdated(now, actor.key, issue, IssueEventType.UPDATED, history))
        return link

    def _unlink(self, link: IssueLink) -> None:
        self.links.pop(link.id, None)
        for iid in (link.source_issue_id, link.destination_issue_id):
            lst = self.links_by_issue.get(iid)
            if lst and link.id in lst:
                lst.remove(link.id)

    # -- remote links -----------------------------------------------------------------------

    def add_remote_link(
        self,
        actor_key: str,
        issue_ref: int | str,
        url: str,
        title: str,
        *,
        global_id: str | None = None,
        relationship: str | None = None,
        summary: str | None = None,
        icon_url: str | None = None,
        application: dict[str, str] | None = None,
    ) -> tuple[RemoteLink, bool]:
        """Add a remote link, or update the one with the same ``global_id``; returns the link
        and whether it was created."""
        self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        errors = {}
        if not url:
            errors["url"] = "'url' is required."
        if not title:
            errors["title"] = "'title' is required."
        if errors:
            raise ValidationFailed(errors=errors)
        ids = self.remote_links_by_issue.setdefault(issue.id, [])
        if global_id:
            for rid in ids:
                existing = self.remote_links[rid]
                if existing.global_id == global_id:
                    existing.url, existing.title = url, title
                    existing.relationship, existing.summary = relationship, summary
                    existing.icon_url = icon_url
                    existing.application = dict(application or {})
                    return existing, False
        if self.flavour is Flavour.CLOUD and len(ids) >= CLOUD_LIMITS["remote_links"]:
            raise ValidationFailed(
                "The issue has reached the limit of 2000 remote links.", status=413
            )
        link = RemoteLink(
            self.ids.next("remotelink"),
            issue.id,
            url,
            title,
            global_id,
            relationship,
            summary,
            icon_url,
            dict(application or {}),
        )
        self.remote_links[link.id] = link
        ids.append(link.id)
        issue.updated = self.now()
        return link, True

    def issue_remote_links(
        self, issue_ref: int | str, global_id: str | None = None
    ) -> list[RemoteLink]:
        issue = self.get_issue(issue_ref)
        out = [self.remote_links[r] for r in self.remote_links_by_issue.get(issue.id, ())]
        if global_id is not None:
            out = [r for r in out if r.global_id == global_id]
        return out

    def get_remote_link(self, issue_ref: int | str, link_id: int | str) -> RemoteLink:
        issue = self.get_issue(issue_ref)
        link = by_id(self.remote_links, link_id)
        if link is None or link.issue_id != issue.id:
            raise NotFound(f"No remote link with id '{link_id}' exists on this issue.")
        return link

    def delete_remote_link(
        self, actor_key: str, issue_ref: int | str, link_id: int | str
    ) -> RemoteLink:
        self._actor(actor_key)
        link = self.get_remote_link(issue_ref, link_id)
        del self.remote_links[link.id]
        self.remote_links_by_issue[link.issue_id].remove(link.id)
        return link

    # -- entity properties ------------------------------------------------------------------

    def _property_bag(self, entity: str, entity_id: int | str) -> dict[str, Any]:
        if entity == "issue":
            return self.get_issue(entity_id).properties
        if entity == "comment":
            comment = by_id(self.comments, entity_id)
            if comment is None:
                raise NotFound(f"Can not find a comment for the id: {entity_id}.")
            return comment.properties
        if entity == "worklog":
            worklog = by_id(self.worklogs, entity_id)
            if worklog is None:
                raise NotFound(f"Cannot find worklog with id: '{entity_id}'.")
            return worklog.properties
        if entity == "project":
            entity_id = self.get_project(entity_id).id
        elif entity == "user":
            entity_id = self.get_user(str(entity_id)).key
        return self.properties.setdefault(f"{entity}:{entity_id}", {})

    def set_property(self, entity: str, entity_id: int | str, key: str, value: Any) -> bool:
        """Set an entity property (entity: issue, comment, worklog, project, user, ...);
        returns True when it was created, False when replaced."""
        checked = _checked_property(key, value)
        bag = self._property_bag(entity, entity_id)
        created = key not in bag
        bag[key] = checked
        return created

    def get_property(self, entity: str, entity_id: int | str, key: str) -> Any:
        bag = self._property_bag(entity, entity_id)
        if key not in bag:
            raise NotFound(f"The property with key '{key}' does not exist.")
        return bag[key]

    def property_keys(self, entity: str, entity_id: int | str) -> list[str]:
        return list(self._property_bag(entity, entity_id))

    def delete_property(self, entity: str, entity_id: int | str, key: str) -> None:
        bag = self._property_bag(entity, entity_id)
        if key not in bag:
            raise NotFound(f"The property with key '{key}' does not exist.")
        del bag[key]

    # -- comment properties: the comment's visibility and edit rights apply ---------------------

    def visible_comment(self, viewer_key: str | None, comment_id: int | str) -> Comment:
        """A comment by id alone (``/comment/{id}/properties``); NotFound when it does not
        exist or ``viewer_key`` may not see it (Jira does not tell the two apart)."""
        comment = by_id(self.comments, comment_id)
        issue = None if comment is None else self.issues.get(comment.issue_id)
        if (
            comment is None
            or issue is None
            or not self.can_see(viewer_key, issue, comment.visibility)
        ):
            raise NotFound(f"Can not find a comment for the id: {comment_id}.")
        return comment

    def _editable_comment(self, actor_key: str, comment_id: int | str) -> Comment:
        actor = self._actor(actor_key)
        comment = self.visible_comment(actor.key, comment_id)
        if not self._may_change_comment(actor.key, self.issues[comment.issue_id], comment):
            raise PermissionDenied("You do not have the permission to edit this comment.")
        return comment

    def set_comment_property(
        self, actor_key: str, comment_id: int | str, key: str, value: Any
    ) -> bool:
        """Set a property of a comment the actor may edit; True when it was created."""
        comment = self._editable_comment(actor_key, comment_id)
        checked = _checked_property(key, value)
        created = key not in comment.properties
        comment.properties[key] = checked
        return created

    def delete_comment_property(self, actor_key: str, comment_id: int | str, key: str) -> None:
        comment = self._editable_comment(actor_key, comment_id)
        if key not in comment.properties:
            raise NotFound(f"The property with key '{key}' does not exist.")
        del comment.properties[key]

    # -- watchers and votes -----------------------------------------------------------------

    def add_watcher(
        self, actor_key: str, issue_ref: int | str, user_key: str | None = None
    ) -> None:
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        user = self.get_user(user_key) if user_key else actor
        if user.key != actor.key and not self.is_admin(actor.key):
            raise PermissionDenied(
                "User does not have permission to manage watchers of this issue."
            )
        issue.watchers.add(user.key)

    def remove_watcher(
        self, actor_key: str, issue_ref: int | str, user_key: str | None = None
    ) -> None:
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        user = self.get_user(user_key) if user_key else actor
        if user.key != actor.key and not self.is_admin(actor.key):
            raise PermissionDenied(
                "User does not have permission to manage watchers of this issue."
            )
        issue.watchers.discard(user.key)

    def vote(self, actor_key: str, issue_ref: int | str) -> None:
        actor = self._actor(actor_key)
        issue = self.get_issue(issue_ref)
        if issue.fields.get("reporter") == actor.key:
            raise PermissionDenied("You cannot vote for an issue you have reported.")
        if issue.resolution_date is not None:
            raise PermissionDenied("You cannot vote for a resolved issue.")
        issue.voters.add(actor.key)

    def unvote(self, actor_key: str, issue_ref: int | str) -> None:
        actor = self._actor(actor_key)
        self.get_issue(issue_ref).voters.discard(actor.key)
