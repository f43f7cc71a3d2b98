"""Jira Software: boards, sprints (future -> active -> closed), sprint membership through the
Sprint field, backlog, rank order and epics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from jirabridge.emulator.model._errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
    enum_value,
)
from jirabridge.emulator.model._events import (
    IssueDeleted,
    IssueEventType,
    IssueUpdated,
    SprintClosed,
    SprintCreated,
    SprintDeleted,
    SprintStarted,
    SprintUpdated,
)
from jirabridge.emulator.model._ids import by_id
from jirabridge.emulator.model._issues import IssuesMixin
from jirabridge.emulator.model._records import (
    Board,
    BoardType,
    ChangeItem,
    Flavour,
    Issue,
    Project,
    Sprint,
    SprintState,
    StatusCategory,
)

__all__ = ["MAX_AGILE_MOVE", "AgileMixin"]

MAX_AGILE_MOVE = 50


class AgileMixin(IssuesMixin):
    # -- boards -----------------------------------------------------------------------------

    def create_board(
        self,
        name: str,
        board_type: BoardType | str = BoardType.SCRUM,
        *,
        project_ref: int | str | None = None,
        filter_jql: str | None = None,
    ) -> Board:
        """A board over one project (``project = KEY ORDER BY Rank ASC``) or a saved filter."""
        btype = enum_value(BoardType, board_type, "board type")
        project_id = self.get_project(project_ref).id if project_ref is not None else None
        if filter_jql is None:
            if project_id is None:
                raise ValidationFailed(errors={"filterId": "A board needs a project or a filter."})
            filter_jql = f"project = {self.projects[project_id].key} ORDER BY Rank ASC"
        board = Board(
            id=self.ids.next("board"),
            name=name,
            type=btype,
            project_id=project_id,
            filter_jql=filter_jql,
            filter_id=self.ids.next("filter"),
        )
        self.boards[board.id] = board
        return board

    def get_board(self, board_id: int | str) -> Board:
        board = by_id(self.boards, board_id)
        if board is None:
            raise NotFound("Board does not exist or you do not have permission to see it.")
        return board

    def delete_board(self, board_id: int | str) -> None:
        board = self.get_board(board_id)
        del self.boards[board.id]

    def board_sprints(
        self, board_id: int | str, states: Sequence[str] | None = None
    ) -> list[Sprint]:
        board = self.get_board(board_id)
        wanted = {enum_value(SprintState, s, "sprint state") for s in states} if states else None
        return [
            s
            for s in self.sprints.values()
            if s.board_id == board.id and (wanted is None or s.state in wanted)
        ]

    # -- sprints ----------------------------------------------------------------------------

    def get_sprint(self, sprint_id: int | str) -> Sprint:
        sprint = by_id(self.sprints, sprint_id)
        if sprint is None:
            raise NotFound("Sprint does not exist or you do not have permission to see it.")
        return sprint

    def create_sprint(
        self,
        actor_key: str,
        board_id: int | str,
        name: str,
        *,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        goal: str = "",
    ) -> Sprint:
        actor = self._actor(actor_key)
        board = self.get_board(board_id)
        if board.type is not BoardType.SCRUM:
            raise ValidationFailed("Sprints can only be created on scrum boards.")
        if not name or not name.strip():
            raise ValidationFailed(errors={"name": "Sprint name cannot be empty."})
        if len(name) > 30 and self.flavour is Flavour.SERVER:
            raise ValidationFailed(errors={"name": "The sprint name is too long."})
        self._check_dates(start_date, end_date)
        now = self.now()
        sprint = Sprint(
            id=self.ids.next("sprint"),
            board_id=board.id,
            name=name,
            goal=goal,
            start_date=start_date,
            end_date=end_date,
            created=now,
        )
        self.sprints[sprint.id] = sprint
        self._emit(SprintCreated(now, actor.key, sprint))
        return sprint

    @staticmethod
    def _check_dates(start: datetime | None, end: datetime | None) -> None:
        for d in (start, end):
            if d is not None and d.tzinfo is None:
                raise ValidationFailed("Sprint dates must carry a time zone.")
        if start is not None and end is not None and end < start:
            raise ValidationFailed(errors={"endDate": "The end date must be after the start date."})

    def update_sprint(
        self,
        actor_key: str,
        sprint_id: int | str,
        *,
        name: str | None = None,
        goal: str | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        state: SprintState | str | None = None,
    ) -> Sprint:
        """Change a sprint; ``state`` active starts it, closed completes it (Jira's rules:
        future -> active -> closed only, one way; a closed sprint cannot change)."""
        actor = self._actor(actor_key)
        sprint = self.get_sprint(sprint_id)
        if sprint.state is SprintState.CLOSED:
            raise ValidationFailed("A closed sprint cannot be updated.")
        target = (
            enum_value(SprintState, state, "sprint state") if state is not None else sprint.state
        )
        if target is SprintState.ACTIVE and sprint.state is SprintState.FUTURE:
            return self.start_sprint(
                actor.key, sprint.id, start_date=start_date, end_date=end_date, name=name, goal=goal
            )
        if target is SprintState.CLOSED and sprint.state is SprintState.ACTIVE:
            return self.close_sprint(actor.key, sprint.id)
        if target is not sprint.state:
            raise ValidationFailed(
                f"Sprint cannot move from {sprint.state.value} to {target.value}."
            )
        self._check_dates(start_date or sprint.start_date, end_date or sprint.end_date)
        if name is not None:
            if not name.strip():
                raise ValidationFailed(errors={"name": "Sprint name cannot be empty."})
            sprint.name = name
        if goal is not None:
            sprint.goal = goal
        if start_date is not None:
            sprint.start_date = start_date
        if end_date is not None:
            sprint.end_date = end_date
        self._emit(SprintUpdated(self.now(), actor.key, sprint))
        return sprint

    def start_sprint(
        self,
        actor_key: str,
        sprint_id: int | str,
        *,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        name: str | None = None,
        goal: str | None = None,
    ) -> Sprint:
        actor = self._actor(actor_key)
        sprint = self.get_sprint(sprint_id)
        if sprint.state is not SprintState.FUTURE:
            raise ValidationFailed("Only a future sprint can be started.")
        start = start_date or sprint.start_date
        end = end_date or sprint.end_date
        if start is None or end is None:
            raise ValidationFailed(
                errors={"startDate": "A sprint needs a start and an end date to start."}
            )
        self._check_dates(start, end)
        if name:
            sprint.name = name
        if goal is not None:
            sprint.goal = goal
        sprint.start_date, sprint.end_date = start, end
        sprint.state = SprintState.ACTIVE
        self._emit(SprintStarted(self.now(), actor.key, sprint))
        return sprint

    def close_sprint(
        self, actor_key: str, sprint_id: int | str, *, move_incomplete_to: int | None = None
    ) -> Sprint:
        """Complete an active sprint. Unfinished issues keep the closed sprint in their Sprint
        field and go to ``move_incomplete_to`` (a future/active sprint) or the backlog."""
        actor = self._actor(actor_key)
        sprint = self.get_sprint(sprint_id)
        if sprint.state is not SprintState.ACTIVE:
            raise ValidationFailed("Only an active sprint can be completed.")
        target = self._open_sprint(move_incomplete_to) if move_incomplete_to is not None else None
        now = self.now()
        sprint.state = SprintState.CLOSED
        sprint.complete_date = now
        if target is not None:
            fid = self.agile.sprint
            for issue in self.sprint_issues(sprint.id):
                if self.statuses[issue.status_id].category is not StatusCategory.DONE:
                    self._set_sprints(actor.key, issue, [*issue.fields.get(fid, []), target.id])
        self._emit(SprintClosed(now, actor.key, sprint))
        return sprint

    def delete_sprint(self, actor_key: str, sprint_id: int | str) -> Sprint:
        """Delete a future or active sprint; its issues go back to the backlog."""
        actor = self._actor(actor_key)
        sprint = self.get_sprint(sprint_id)
        if sprint.state is SprintState.CLOSED:
            raise ValidationFailed("A closed sprint cannot be deleted.")
        fid = self.agile.sprint
        for issue in self.sprint_issues(sprint.id):
            self._set_sprints(actor.key, issue, [s for s in issue.fields[fid] if s != sprint.id])
        del self.sprints[sprint.id]
        self._emit(SprintDeleted(self.now(), actor.key, sprint))
        return sprint

    def _open_sprint(self, sprint_id: int | str) -> Sprint:
        sprint = self.get_sprint(sprint_id)
        if sprint.state is SprintState.CLOSED:
            raise ValidationFailed("You must specify a sprint which has not been completed.")
        return sprint

    def current_sprint(self, issue: Issue) -> Sprint | None:
        """The open (future or active) sprint the issue is in, if any."""
        for sid in reversed(issue.fields.get(self.agile.sprint, ())):
            sprint = self.sprints.get(sid)
            if sprint is not None and sprint.state is not SprintState.CLOSED:
                return sprint
        return None

    def sprint_issues(self, sprint_id: int | str) -> list[Issue]:
        """Issues whose Sprint field holds the sprint, in rank order."""
        sprint = self.get_sprint(sprint_id)
        fid = self.agile.sprint
        found = [i for i in self.issues.values() if sprint.id in i.fields.get(fid, ())]
        return sorted(found, key=lambda i: i.rank)

    def backlog_issues(self, board_id: int | str) -> list[Issue]:
        """Board issues in no open sprint and not done, in rank order."""
        board = self.get_board(board_id)
        if board.project_id is None:
            return []
        out = [
            self.issues[i]
            for i in self.issues_by_project.get(board.project_id, ())
            if self.current_sprint(self.issues[i]) is None
            and self.statuses[self.issues[i].status_id].category is not StatusCategory.DONE
            and not self.issue_types[self.issues[i].issue_type_id].subtask
        ]
        return sorted(out, key=lambda i: i.rank)

    def _issues_for_move(self, refs: Sequence[int | str]) -> list[Issue]:
        if not refs:
            raise ValidationFailed("At least one issue must be given.")
        if len(refs) > MAX_AGILE_MOVE:
            raise ValidationFailed(
                "The maximum number of issues that can be moved in one operation is "
                f"{MAX_AGILE_MOVE}."
            )
        issues = [self.get_issue(r) for r in refs]
        return issues

    def _set_sprints(self, actor_key: str, issue: Issue, sprint_ids: list[int]) -> None:
        fid = self.agile.sprint
        old = issue.fields.get(fid)
        new = list(dict.fromkeys(sprint_ids)) or None
        if old == new:
            return
        if new is None:
            issue.fields.pop(fid, None)
        else:
            issue.fields[fid] = new
        items = self.change_items(self.fields[fid], old, new)
        history = self._record(issue, actor_key, items)
        issue.updated = history.created
        self._emit(IssueUpdated(history.created, actor_key, issue, IssueEventType.UPDATED, history))

    def move_to_sprint(
        self, actor_key: str, sprint_id: int | str, issue_refs: Sequence[int | str]
    ) -> None:
        """Put up to 50 issues (with their sub-tasks) into a future or active sprint."""
        actor = self._actor(actor_key)
        sprint = self._open_sprint(sprint_id)
        issues = self._issues_for_move(issue_refs)
        for issue in issues:
            if self.issue_types[issue.issue_type_id].subtask:
                raise ValidationFailed(
                    f"Issue {issue.key} is a sub-task; sub-tasks move with their parent."
                )
        fid = self.agile.sprint
        for issue in issues:
            for target in [issue, *self.issue_subtasks(issue.id)]:
                kept = [
                    s
                    for s in target.fields.get(fid, ())
                    if self.sprints[s].state is SprintState.CLOSED
                ]
                self._set_sprints(actor.key, target, [*kept, sprint.id])

    def move_to_backlog(self, actor_key: str, issue_refs: Sequence[int | str]) -> None:
        """Take up to 50 issues out of their open sprint (closed sprints stay in history)."""
        actor = self._actor(actor_key)
        issues = self._issues_for_move(issue_refs)
        fid = self.agile.sprint
        for issue in issues:
            for target in [issue, *self.issue_subtasks(issue.id)]:
                kept = [
                    s
                    for s in target.fields.get(fid, ())
                    if self.sprints[s].state is SprintState.CLOSED
                ]
                self._set_sprints(actor.key, target, kept)

    # -- projects ---------------------------------------------------------------------------

    def update_project(
        self,
        project_ref: int | str,
        *,
        key: str | None = None,
        name: str | None = None,
        lead_key: str | None = None,
        description: str | None = None,
    ) -> Project:
        """Change a project. A new ``key`` re-keys every issue (``OLD-7`` becomes ``NEW-7``);
        the old keys keep resolving, as in Jira."""
        project = self.get_project(project_ref)
        if key is not None and key != project.key:
            if not key.isalnum() or not key[0].isalpha() or not key.isupper():
                raise ValidationFailed(
                    errors={
                        "projectKey": (
                            "Project keys must start with an uppercase letter, followed by one or "
                            "more uppercase alphanumeric characters."
                        )
                    }
                )
            if key in self.projects_by_key:
                raise ValidationFailed(errors={"projectKey": f"Project key '{key}' is in use."})
            for iid in self.issues_by_project.get(project.id, ()):
                issue = self.issues[iid]
                old_key = issue.key
                issue.key = f"{key}-{issue.number}"
                del self.issues_by_key[old_key]
                self.issues_by_key[issue.key] = iid
                self.moved_keys[old_key] = iid
            del self.projects_by_key[project.key]
            self.projects_by_key[key] = project.id
            project.key = key
        if name is not None:
            if not name or any(p.name == name and p is not project for p in self.projects.values()):
                raise ValidationFailed(
                    errors={"projectName": "A project with that name already exists."}
                )
            project.name = name
        if lead_key is not None:
            project.lead_key = self.get_user(lead_key).key
        if description is not None:
            project.description = description
        return project

    def delete_project(self, actor_key: str, project_ref: int | str) -> Project:
        """Delete a project with everything in it (issues and what hangs off them,
        components, versions, boards and their sprints, field configurations). Emits
        :class:`IssueDeleted` for each issue, sub-tasks first."""
        actor = self._actor(actor_key)
        project = self.get_project(project_ref)
        if not self.is_admin(actor.key):
            raise PermissionDenied("You must be a Jira administrator to delete a project.")
        issues = [self.issues[i] for i in self.issues_by_project.get(project.id, ())]
        issues.sort(key=lambda i: not self.issue_types[i.issue_type_id].subtask)
        for issue in issues:
            self._forget(issue)
            self._emit(IssueDeleted(self.now(), actor.key, issue))
        for board in [b for b in self.boards.values() if b.project_id == project.id]:
            for sprint in [s for s in self.sprints.values() if s.board_id == board.id]:
                del self.sprints[sprint.id]
            del self.boards[board.id]
        for store in (self.components, self.versions):
            for rid in [r.id for r in store.values() if r.project_id == project.id]:
                del store[rid]
        for key in [k for k in self.field_configs if k[0] == project.id]:
            del self.field_configs[key]
        self.issues_by_project.pop(project.id, None)
        self.properties.pop(f"project:{project.id}", None)
        del self.projects[project.id]
        del self.projects_by_key[project.key]
        return project

    # -- rank -------------------------------------------------------------------------------

    def rank_issues(
        self,
        actor_key: str,
        issue_refs: Sequence[int | str],
        *,
        before: int | str | None = None,
        after: int | str | None = None,
    ) -> None:
        """Place up to 50 issues, in the given order, right before ``before`` or right after
        ``after``. Records a ``Rank`` item ("Ranked higher"/"Ranked lower")."""
        actor = self._actor(actor_key)
        if (before is None) == (after is None):
            raise ValidationFailed("Specify exactly one of rankBeforeIssue and rankAfterIssue.")
        issues = self._issues_for_move(issue_refs)
        anchor = self.get_issue(before if before is not None else after)  # type: ignore[arg-type]
        if any(i.id == anchor.id for i in issues):
            raise ValidationFailed("An issue cannot be ranked relative to itself.")
        moving = {i.id for i in issues}
        order = sorted(
            (i for i in self.issues.values() if i.id not in moving), key=lambda i: i.rank
        )
        pos = next(n for n, i in enumerate(order) if i.id == anchor.id)
        if after is not None:
            pos += 1
        old_ranks = {i.id: i.rank for i in issues}
        lo = order[pos - 1].rank if pos > 0 else 0
        hi = order[pos].rank if pos < len(order) else self.next_rank
        step = (hi - lo) // (len(issues) + 1)
        if step >= 1:
            for n, issue in enumerate(issues, start=1):
                issue.rank = lo + n * step
        else:
            full = order[:pos] + issues + order[pos:]
            for n, issue in enumerate(full, start=1):
                issue.rank = n << 10
            self.next_rank = (len(full) + 1) << 10
        rank_field = self.fields[self.agile.rank]
        for issue in issues:
            if issue.rank == old_ranks[issue.id]:
                continue
            words = "Ranked higher" if issue.rank < old_ranks[issue.id] else "Ranked lower"
            history = self._record(
                issue,
                actor.key,
                [ChangeItem(rank_field.name, "custom", rank_field.id, None, None, None, words)],
            )
            issue.updated = history.created
            self._emit(
                IssueUpdated(history.created, actor.key, issue, IssueEventType.UPDATED, history)
            )

    def lexo_rank(self, issue: Issue) -> str:
        """The issue's rank as a LexoRank-looking string that sorts like the rank."""
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"
        value, out = issue.rank, ""
        while value:
            value, rem = divmod(value, 36)
            out = digits[rem] + out
        return f"0|{out.rjust(10, '0')}:"

    # -- epics ------------------------------------------------------------------------------

    def epic_of(self, issue: Issue) -> Issue | None:
        """The epic of a standard issue (Server: Epic Link; Cloud: parent)."""
        if self.agile.epic_link is not None:
            eid = issue.fields.get(self.agile.epic_link)
        else:
            eid = issue.fields.get("parent")
            if eid is not None and self.issue_types[issue.issue_type_id].subtask:
                return None
        return self.issues.get(eid) if eid is not None else None

    def epic_issues(self, epic_ref: int | str) -> list[Issue]:
        epic = self.get_issue(epic_ref)
        if self.issue_types[epic.issue_type_id].hierarchy_level != 1:
            raise ValidationFailed(f"Issue {epic.key} is not an epic.")
        found = [i for i in self.issues.values() if self.epic_of(i) is epic]
        return sorted(found, key=lambda i: i.rank)

    def set_epic_done(self, actor_key: str, epic_ref: int | str, done: bool) -> None:
        """Server: mark an epic done or not done (its Epic Status option). Cloud epics are
        done by their status category, so this is refused there."""
        actor = self._actor(actor_key)
        epic = self.get_issue(epic_ref)
        fid = self.agile.epic_status
        if fid is None:
            raise ValidationFailed("Epics are done by their status on this site.")
        if self.issue_types[epic.issue_type_id].hierarchy_level != 1:
            raise ValidationFailed(f"Issue {epic.key} is not an epic.")
        options = self.fields[fid].options
        wanted = "Done" if done else "To Do"
        option = next(o.id for o in options.values() if o.value == wanted)
        current = epic.fields.get(fid)
        if current == option or (not done and current is None):
            return
        items = self._apply(epic, {fid: option})
        history = self._record(epic, actor.key, items)
        epic.updated = history.created
        self._emit(IssueUpdated(history.created, actor.key, epic, IssueEventType.UPDATED, history))

    def set_epic(
        self, actor_key: str, epic_ref: int | str | None, issue_refs: Sequence[int | str]
    ) -> None:
        """Move up to 50 issues into an epic (``None``: out of their epic)."""
        actor = self._actor(actor_key)
        epic = self.get_issue(epic_ref) if epic_ref is not None else None
        if epic is not None and self.issue_types[epic.issue_type_id].hierarchy_level != 1:
            raise ValidationFailed(f"Issue {epic.key} is not an epic.")
        issues = self._issues_for_move(issue_refs)
        for issue in issues:
            if self.issue_types[issue.issue_type_id].hierarchy_level != 0:
                raise ValidationFailed(f"Issue {issue.key} cannot be added to an epic.")
        fid = self.agile.epic_link or "parent"
        for issue in issues:
            items = self._apply(issue, {fid: epic.id if epic is not None else None})
            if items:
                history = self._record(issue, actor.key, items)
                issue.updated = history.created
                self._emit(
                    IssueUpdated(history.created, actor.key, issue, IssueEventType.UPDATED, history)
                )
