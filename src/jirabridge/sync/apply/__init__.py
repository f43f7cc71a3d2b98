"""The apply step: bring one leased job's issue and its mirror up to date.

:class:`Applier` is the handler :func:`jirabridge.sync.queue.run_workers` calls. For a job it
reads the changed issue and finds the pair it belongs to (site, project, issue types, JQL),
then its mirror through the state store. What it syncs, and where that lives:

- **Mirrors** (``_mirror``): an issue with no mirror gets one when the pair's ``create`` rule
  allows it (a ``CreateMirror`` rule may set its issue type and write the mirror's key back);
  both issues get the :data:`PROPERTY` marker (on the mirror, in its create) and, per the
  pair's ``cross_reference``, remote links or a URL field. Every create is written ahead (a
  ``CreateIntent`` row, dropped with the pair's record): a job finding one (whatever its
  attempts) adopts the mirror a create that died had already made (found by the marker naming
  its source, never by summary) instead of creating it twice. A backfill creates mirrors in
  bulk and hands them to their jobs (``_mirror.FreshMirrors``). A Server epic gets an Epic Name
  (the summary); a sub-task waits (retry later) until its parent has a mirror; when a parent
  gets its mirror, its sub-tasks and epic children are queued again (woken from any backoff).
- **Fields** (``_fields``, values shaped in ``_values``): both sides are diffed against the last
  synced snapshots (:mod:`jirabridge.sync.diff`) and one edit is written per side. Custom field
  values are shaped by the target site's field schema (``GET /field``) into typed
  :class:`~jirabridge.jira.CustomFieldValue` (options, users, versions, dates, numbers,
  cascading selects, textareas). ``parent`` (sub-task parent, epic) is an issue key mapped
  through the pairs; a parent with no mirror yet stays pending for a later job.
- **Status** (``_fields``): reached by a shortest path over the workflow as it is learnt while
  walking (at most :data:`MAX_WORKFLOW_STEPS` moves), with the resolution when the last screen
  has one; a failed walk walks the issue back to where it was and dead-letters the item with
  the statuses it explored.
- **Rules** (``_fields``): the pair's declarative rules on a transition (transition the mirror,
  add a comment).
- **Users and rich text** (``_users``): users of every user-typed field go through the pair's
  user mapping (table, e-mail, fallback user). Every rich-text document (description,
  textarea custom fields, comment bodies) goes through one seam,
  :meth:`Applier.translate_doc` (prepared by :meth:`Applier.prepare_docs`, logic in
  :mod:`jirabridge.sync.richtext`): mentions point at the other site's users (an unknown one
  becomes "@Display Name" and a ``mention_unresolved`` audit entry; a lookup miss is believed
  for a few minutes only), keys and links of paired issues at their mirrors, links to the
  source site at the target site, and attachment references at the mirrored attachment
  (anything that cannot be mapped is kept as written and audited as ``reference_unmapped``).
- **Comments** (``_comments``): mirrored by id with an attribution line, restricted ones kept,
  dropped or made public per the pair; edits and deletes follow when configured; each mirror
  carries the ``jirabridge.origin`` marker (``jirabridge.sync.markers``), by which a mirror
  whose pair row was lost, or whose POST answer was lost, is adopted.
- **Attachments** (``_attachments``): copied once each (``AttachmentPair``, with its sha256
  and the Cloud attachment's media file id, by which Cloud documents embed it),
  up to the pair's size limit (over it: an ``attachment_too_large`` audit entry); an upload
  whose answer or pair row was lost is adopted, never made twice.
- **Links** (``_links``): issue links between paired issues are added on the other side and
  never removed (merge, ``LinkPair``).
- **Sprints** (``_sprints``): when the pair syncs them, the mirror follows its source into the
  open sprint of the same name, or into the backlog (one move per job).
- **Deletes** (``_deletes``): a deleted issue follows the pair's ``deletes`` rule (``mirror``
  deletes the mirror and forgets the pair, ``log`` records it, ``none`` ignores it).

- **Overwrites** (``_overwrites``): Jira has no conditional edit, so a person's edit that lands
  while the job writes is found afterwards in the changelog of the written side (read with its
  re-read). One made just after our write stays a change for the next job; one our write
  replaced is decided by the conflict rule, and a winning person's value is written back from
  the changelog item, or, when it cannot be rebuilt exactly (rich text, Server users), recorded
  as a conflict plus an ``edit_overwritten`` audit entry.

Finally the sides this job wrote to are re-read (a side it did not touch keeps its first
read), and the new snapshots, conflicts, comment / attachment / link pairs, skipped fields
and the job's completion are stored in one transaction.
"""

from __future__ import annotations

from jirabridge.sync.apply._applier import Applier
from jirabridge.sync.apply._base import PROPERTY, ApplyResult
from jirabridge.sync.apply._fields import MAX_WORKFLOW_STEPS as MAX_WORKFLOW_STEPS
from jirabridge.sync.apply._values import canonical_values

__all__ = ["PROPERTY", "Applier", "ApplyResult", "canonical_values"]
