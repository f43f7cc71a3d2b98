"""The issue renderer's field selection and its null/absent rules, on a model site."""

from __future__ import annotations

import pytest

from jirabridge.emulator.faces._issues import IssueRenderer
from jirabridge.emulator.faces._render import View
from jirabridge.emulator.model import Flavour, Site


@pytest.mark.parametrize("flavour", ["server", "cloud"])
def test_unset_fields_null_parent_and_unknown_absent(flavour: str) -> None:
    site = Site(Flavour(flavour))
    site.create_project("R", "Render", site.admin_key)
    issue = site.create_issue(
        site.admin_key,
        {"project": {"key": "R"}, "issuetype": {"name": "Task"}, "summary": "s"},
    )
    view = View("http://x", flavour == "cloud", "2")
    renderer = IssueRenderer(site, view, site.admin_key, adf=False)
    fields = renderer.issue(issue)["fields"]
    assert fields["summary"] == "s"
    assert "description" in fields and fields["description"] is None
    assert "parent" not in fields
    assert fields["labels"] == []
    # every site field but the unset parent, in the site's order, then the computed ones
    assert [f for f in fields if f in site.fields] == [f for f in site.fields if f != "parent"]

    listed = renderer.issue(issue, mode="list", include={"summary", "nosuchfield", "parent"})
    assert listed["fields"] == {"summary": "s"}

    trimmed = renderer.issue(issue, mode="*all", exclude={"summary", "description"})["fields"]
    assert "summary" not in trimmed and "description" not in trimmed
    # the unfiltered selection is reused, not spoiled by the filtered one
    again = renderer.issue(issue)["fields"]
    assert again == fields
