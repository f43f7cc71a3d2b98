"""What a fresh site holds before anything is created: Jira's shipped configuration.

Ids follow Jira: priorities 1..5, status categories 2/4/3, classic statuses 1/3/4/5/6, software
statuses 10000/10001, resolutions from 10000, issue types as each flavour numbers them, and the
agile custom fields with ids consistent with ``shared/fixtures/createmeta`` (Server: Sprint
10200, Epic Link 10201; Cloud: Sprint 10021).
"""

from __future__ import annotations

from jirabridge.emulator.model._records import (
    FieldDef,
    FieldOption,
    Flavour,
    IssueLinkType,
    IssueType,
    Priority,
    Resolution,
    ResolutionRule,
    Status,
    StatusCategory,
    Transition,
    Workflow,
)

__all__ = [
    "CLASSIC_WORKFLOW",
    "SIMPLIFIED_WORKFLOW",
    "AgileFieldIds",
    "agile_field_ids",
    "default_fields",
    "default_issue_types",
    "default_link_types",
    "default_priorities",
    "default_resolutions",
    "default_statuses",
    "default_workflows",
]

CLASSIC_WORKFLOW = "classic"
SIMPLIFIED_WORKFLOW = "simplified"

OPEN, IN_PROGRESS, REOPENED, RESOLVED, CLOSED, TO_DO, DONE = 1, 3, 4, 5, 6, 10000, 10001

_CT = "com.atlassian.jira.plugin.system.customfieldtypes:"
_GH = "com.pyxis.greenhopper.jira:"


class AgileFieldIds:
    """Field ids of the agile custom fields on one flavour (None where the flavour lacks it)."""

    def __init__(
        self,
        sprint: str,
        rank: str,
        story_points: str,
        epic_link: str | None,
        epic_name: str | None,
        epic_status: str | None,
    ) -> None:
        self.sprint = sprint
        self.rank = rank
        self.story_points = story_points
        self.epic_link = epic_link
        self.epic_name = epic_name
        self.epic_status = epic_status


def agile_field_ids(flavour: Flavour) -> AgileFieldIds:
    if flavour is Flavour.SERVER:
        return AgileFieldIds(
            sprint="customfield_10200",
            rank="customfield_10204",
            story_points="customfield_10206",
            epic_link="customfield_10201",
            epic_name="customfield_10203",
            epic_status="customfield_10202",
        )
    return AgileFieldIds(
        sprint="customfield_10021",
        rank="customfield_10019",
        story_points="customfield_10016",
        epic_link=None,
        epic_name=None,
        epic_status=None,
    )


def default_priorities() -> list[Priority]:
    return [
        Priority(1, "Highest", "#d04437"),
        Priority(2, "High", "#f15C75"),
        Priority(3, "Medium", "#f79232", is_default=True),
        Priority(4, "Low", "#707070"),
        Priority(5, "Lowest", "#999999"),
    ]


def default_statuses() -> list[Status]:
    return [
        Status(OPEN, "Open", StatusCategory.NEW, "The issue is open and ready for the assignee."),
        Status(IN_PROGRESS, "In Progress", StatusCategory.INDETERMINATE, "Work has started."),
        Status(REOPENED, "Reopened", StatusCategory.NEW, "The issue was once resolved."),
        Status(RESOLVED, "Resolved", StatusCategory.DONE, "A resolution has been taken."),
        Status(CLOSED, "Closed", StatusCategory.DONE, "The issue is considered finished."),
        Status(TO_DO, "To Do", StatusCategory.NEW),
        Status(DONE, "Done", StatusCategory.DONE),
    ]


def default_resolutions() -> list[Resolution]:
    return [
        Resolution(10000, "Done", "Work has been completed on this issue.", is_default=True),
        Resolution(10001, "Won't Do", "This issue won't be actioned."),
        Resolution(10002, "Duplicate", "The problem is a duplicate of an existing issue."),
        Resolution(10003, "Cannot Reproduce", "This issue could not be reproduced."),
    ]


def default_issue_types(flavour: Flavour) -> list[IssueType]:
    if flavour is Flavour.SERVER:
        return [
            IssueType(1, "Bug", "A problem which impairs or prevents the functions.", icon="bug"),
            IssueType(3, "Task", "A task that needs to be done.", icon="task"),
            IssueType(5, "Sub-task", "The sub-task of the issue", True, -1, "subtask"),
            IssueType(10000, "Epic", "Created by Jira Software.", False, 1, "epic"),
            IssueType(10001, "Story", "Created by Jira Software.", icon="story"),
        ]
    return [
        IssueType(
            10000, "Epic", "A big user story that needs to be broken down.", False, 1, "epic"
        ),
        IssueType(
            10001, "Story", "Functionality or a feature expressed as a user goal.", icon="story"
        ),
        IssueType(10002, "Task", "A small, distinct piece of work.", icon="task"),
        IssueType(
            10003,
            "Sub-task",
            "A small piece of work that's part of a larger task.",
            True,
            -1,
            "subtask",
        ),
        IssueType(10004, "Bug", "A problem or error.", icon="bug"),
    ]


def default_link_types() -> list[IssueLinkType]:
    return [
        IssueLinkType(10000, "Blocks", "is blocked by", "blocks"),
        IssueLinkType(10001, "Cloners", "is cloned by", "clones"),
        IssueLinkType(10002, "Duplicate", "is duplicated by", "duplicates"),
        IssueLinkType(10003, "Relates", "relates to", "relates to"),
    ]


def default_workflows() -> list[Workflow]:
    classic = Workflow(
        name=CLASSIC_WORKFLOW,
        description="The default Jira workflow.",
        initial_status_id=OPEN,
        status_ids=[OPEN, IN_PROGRESS, RESOLVED, REOPENED, CLOSED],
        transitions=[
            Transition(
                4, "Start Progress", IN_PROGRESS, (OPEN, REOPENED), event_type="issue_work_started"
            ),
            Transition(
                5,
                "Resolve Issue",
                RESOLVED,
                (OPEN, IN_PROGRESS, REOPENED),
                ResolutionRule.SCREEN,
                True,
                "issue_resolved",
            ),
            Transition(
                2,
                "Close Issue",
                CLOSED,
                (OPEN, IN_PROGRESS, REOPENED),
                ResolutionRule.SCREEN,
                True,
                "issue_closed",
            ),
            Transition(301, "Stop Progress", OPEN, (IN_PROGRESS,), event_type="issue_work_stopped"),
            Transition(701, "Close Issue", CLOSED, (RESOLVED,), event_type="issue_closed"),
            Transition(
                3,
                "Reopen Issue",
                REOPENED,
                (RESOLVED, CLOSED),
                ResolutionRule.CLEAR,
                True,
                "issue_reopened",
            ),
        ],
    )
    simplified = Workflow(
        name=SIMPLIFIED_WORKFLOW,
        description="Software Simplified Workflow: any status can move to any other.",
        initial_status_id=TO_DO,
        status_ids=[TO_DO, IN_PROGRESS, DONE],
        transitions=[
            Transition(11, "To Do", TO_DO, (), ResolutionRule.CLEAR),
            Transition(21, "In Progress", IN_PROGRESS, (), ResolutionRule.CLEAR),
            Transition(31, "Done", DONE, (), ResolutionRule.SET_DONE),
        ],
    )
    return [classic, simplified]


def default_fields(flavour: Flavour) -> list[FieldDef]:
    server = flavour is Flavour.SERVER
    s = Flavour.SERVER
    c = Flavour.CLOUD
    fields = [
        FieldDef("summary", "Summary", "string", system="summary"),
        FieldDef("description", "Description", "string", system="description"),
        FieldDef("environment", "Environment", "string", system="environment"),
        FieldDef("project", "Project", "project", system="project"),
        FieldDef("issuetype", "Issue Type", "issuetype", system="issuetype"),
        FieldDef("status", "Status", "status", system="status", orderable=False),
        FieldDef("priority", "Priority", "priority", system="priority"),
        FieldDef("resolution", "Resolution", "resolution", system="resolution"),
        FieldDef("assignee", "Assignee", "user", system="assignee"),
        FieldDef("reporter", "Reporter", "user", system="reporter"),
        FieldDef("creator", "Creator", "user", system="creator", orderable=False),
        FieldDef("labels", "Labels", "array", "string", system="labels"),
        FieldDef(
            "components",
            "Component/s" if server else "Components",
            "array",
            "component",
            system="components",
        ),
        FieldDef(
            "fixVersions",
            "Fix Version/s" if server else "Fix versions",
            "array",
            "version",
            system="fixVersions",
        ),
        FieldDef(
            "versions",
            "Affects Version/s" if server else "Affects versions",
            "array",
            "version",
            system="versions",
        ),
        FieldDef("duedate", "Due Date" if server else "Due date", "date", system="duedate"),
        FieldDef("parent", "Parent", "issuelink", system="parent", orderable=server is False),
        FieldDef("issuelinks", "Linked Issues", "array", "issuelinks", system="issuelinks"),
        FieldDef(
            "subtasks",
            "Sub-Tasks" if server else "Sub-tasks",
            "array",
            "issuelinks",
            system="subtasks",
            orderable=False,
        ),
        FieldDef("attachment", "Attachment", "array", "attachment", system="attachment"),
        FieldDef("comment", "Comment", "comments-page", system="comment"),
        FieldDef("worklog", "Log Work", "array", "worklog", system="worklog"),
        FieldDef(
            "timetracking", "Time Tracking", "timetracking", system="timetracking", navigable=False
        ),
        FieldDef(
            "timeoriginalestimate",
            "Original Estimate",
            "number",
            system="timeoriginalestimate",
            orderable=False,
        ),
        FieldDef(
            "timeestimate", "Remaining Estimate", "number", system="timeestimate", orderable=False
        ),
        FieldDef("timespent", "Time Spent", "number", system="timespent", orderable=False),
        FieldDef("created", "Created", "datetime", system="created", orderable=False),
        FieldDef("updated", "Updated", "datetime", system="updated", orderable=False),
        FieldDef(
            "resolutiondate", "Resolved", "datetime", system="resolutiondate", orderable=False
        ),
        FieldDef("watches", "Watchers", "watches", system="watches", orderable=False),
        FieldDef("votes", "Votes", "votes", system="votes", orderable=False),
    ]
    ids = agile_field_ids(flavour)
    fields.append(_custom(ids.sprint, "Sprint", "array", _GH + "gh-sprint", "string"))
    fields.append(_custom(ids.rank, "Rank", "any", _GH + "gh-lexo-rank"))
    if server:
        fields.append(_custom(ids.story_points, "Story Points", "number", _CT + "float"))
        assert ids.epic_link and ids.epic_name and ids.epic_status
        fields.append(_custom(ids.epic_link, "Epic Link", "any", _GH + "gh-epic-link"))
        fields.append(_custom(ids.epic_name, "Epic Name", "string", _GH + "gh-epic-label"))
        status = _custom(ids.epic_status, "Epic Status", "option", _GH + "gh-epic-status")
        for oid, value in ((10100, "To Do"), (10101, "In Progress"), (10102, "Done")):
            status.options[oid] = FieldOption(oid, value)
        fields.append(status)
    else:
        fields.append(
            _custom(
                ids.story_points,
                "Story point estimate",
                "number",
                "com.pyxis.greenhopper.jira:jsw-story-points",
            )
        )
    for f in fields:
        f.flavours = (s,) if server else (c,)
    return fields


def _custom(
    fid: str, name: str, schema_type: str, custom: str, items: str | None = None
) -> FieldDef:
    return FieldDef(
        fid, name, schema_type, items=items, custom=custom, custom_id=int(fid.rsplit("_", 1)[1])
    )
