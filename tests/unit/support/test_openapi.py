"""The OpenAPI response checker: real examples pass, broken copies fail with a JSON path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.openapi import assert_matches_spec, response_schema_pointer, spec_index


def _example(spec: str, template: str, method: str, status: str) -> Any:
    doc = spec_index(spec).document
    raw = doc["paths"][template][method]["responses"][status]["content"]["application/json"][
        "example"
    ]
    return json.loads(raw) if isinstance(raw, str) else copy.deepcopy(raw)


@pytest.fixture(scope="module", autouse=True)
def _spec_is_where_conftest_says(shared_dir: Path) -> None:
    assert (shared_dir / "specs" / "jira-cloud-platform.v3.openapi.json").is_file()


def test_real_issue_example_passes() -> None:
    body = _example("platform", "/rest/api/3/issue/{issueIdOrKey}", "get", "200")
    assert_matches_spec("GET", "/rest/api/3/issue/OPS-1", 200, body)


def test_wrong_type_fails_and_points_at_the_json_path() -> None:
    body = _example("platform", "/rest/api/3/issue", "post", "201")
    assert_matches_spec("POST", "/rest/api/3/issue", 201, body)
    body["id"] = 10000  # CreatedIssue.id is a string
    with pytest.raises(AssertionError) as err:
        assert_matches_spec("POST", "/rest/api/3/issue", 201, body)
    text = str(err.value)
    assert "POST /rest/api/3/issue (createIssue) -> 201" in text
    assert "schema CreatedIssue" in text
    assert "at $.id: 10000 is not of type 'string'" in text


def test_nested_path_and_unexpected_property() -> None:
    body = _example("platform", "/rest/api/3/search/jql", "get", "200")
    assert_matches_spec("GET", "/rest/api/3/search/jql?jql=project%3DOPS", 200, body)
    body["issues"][0]["fields"] = "not an object"
    body["total"] = 3  # the new search has no total
    with pytest.raises(AssertionError) as err:
        assert_matches_spec("GET", "/rest/api/3/search/jql", 200, body)
    text = str(err.value)
    assert "at $.issues[0].fields: 'not an object' is not of type 'object'" in text
    assert "'total' was unexpected" in text


def test_literal_paths_beat_templated_ones() -> None:
    pointer, label = response_schema_pointer("GET", "/rest/api/3/issue/createmeta", 200)
    assert "createmeta" in label and pointer is not None
    pointer, label = response_schema_pointer("GET", "/rest/api/3/issue/OPS-7", 200)
    assert "{issueIdOrKey}" in label


def test_no_body_documented_for_204() -> None:
    assert_matches_spec("DELETE", "/rest/api/3/issue/OPS-1", 204, None)
    with pytest.raises(AssertionError, match="documents no body"):
        assert_matches_spec("DELETE", "/rest/api/3/issue/OPS-1", 204, {"unexpected": True})


def test_error_answers_use_error_collection() -> None:
    good = {
        "errorMessages": ["Issue does not exist or you do not have permission to see it."],
        "errors": {},
    }
    assert_matches_spec("GET", "/rest/api/3/issue/NOPE-1", 404, good)
    assert_matches_spec(
        "GET", "/rest/api/3/search/jql", 400, {"errorMessages": ["x"], "errors": {}}
    )
    with pytest.raises(AssertionError, match=r"at \$\.errorMessages: 'x' is not of type 'array'"):
        assert_matches_spec("GET", "/rest/api/3/search/jql", 400, {"errorMessages": "x"})
    with pytest.raises(AssertionError, match="'message' was unexpected"):
        assert_matches_spec("GET", "/rest/api/3/issue/NOPE-1", 404, {"message": "gone"})


def test_nullable_is_honoured() -> None:
    # ApprovalConfiguration.exclude is `nullable: true`
    doc = spec_index("platform").document
    assert doc["components"]["schemas"]["ApprovalConfiguration"]["properties"]["exclude"][
        "nullable"
    ]
    from tests.support.openapi import _validator

    validator = _validator("platform", "/components/schemas/ApprovalConfiguration")
    base = {
        "active": "true",
        "conditionType": "number",
        "conditionValue": "1",
        "fieldId": "f",
        "transitionApproved": "1",
        "transitionRejected": "2",
    }
    assert list(validator.iter_errors({**base, "exclude": None})) == []
    assert list(validator.iter_errors({**base, "exclude": 5})) != []
    assert list(validator.iter_errors(None)) == []  # the schema itself is nullable


def test_unknown_operation_and_undocumented_status() -> None:
    with pytest.raises(AssertionError, match="no such operation"):
        assert_matches_spec("GET", "/rest/api/3/nonsense/thing", 200, {})
    with pytest.raises(AssertionError, match="other methods"):
        assert_matches_spec("PATCH", "/rest/api/3/issue/OPS-1", 200, {})
    with pytest.raises(AssertionError, match="status 299 is not documented"):
        assert_matches_spec("GET", "/rest/api/3/issue/OPS-1", 299, {})


def test_empty_body_where_one_is_documented_fails() -> None:
    with pytest.raises(AssertionError, match="got an empty one"):
        assert_matches_spec("GET", "/rest/api/3/myself", 200, None)


def test_v2_path_and_gateway_prefix_and_full_url() -> None:
    body = _example("platform", "/rest/api/3/myself", "get", "200")
    assert_matches_spec("GET", "/rest/api/2/myself", 200, body)
    assert_matches_spec(
        "GET", "https://api.atlassian.com/ex/jira/abc-123/rest/api/3/myself", 200, body
    )


def test_software_spec() -> None:
    body = _example("software", "/rest/agile/1.0/board/{boardId}", "get", "200")
    assert_matches_spec("GET", "/rest/agile/1.0/board/84", 200, body, spec="software")
    body["id"] = "84"
    with pytest.raises(AssertionError, match=r"at \$\.id: '84' is not of type 'integer'"):
        assert_matches_spec("GET", "/rest/agile/1.0/board/84", 200, body, spec="software")
    body["id"] = 84
    assert_matches_spec("GET", "/rest/agile/1.0/board/84", 200, body)  # platform -> software
    with pytest.raises(ValueError, match="unknown spec"):
        spec_index("nope")


def test_spec_loaded_once() -> None:
    assert spec_index("platform") is spec_index("platform")


def test_an_undocumented_error_of_an_agile_route_has_no_schema_to_check() -> None:
    # the Jira Software spec has no ErrorCollection: nothing to validate, never a crash
    pointer, label = response_schema_pointer("GET", "/rest/agile/1.0/board/1/epic", 418)
    assert pointer is None
    assert "418" in label
