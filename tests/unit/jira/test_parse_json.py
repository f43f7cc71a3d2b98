"""JiraHttp's JSON parsing: orjson first, httpx's reading for what orjson refuses."""

from __future__ import annotations

import math

import httpx
import pytest

from jirabridge.jira._http import parse_json


def _answer(content: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(200, content=content, headers={"content-type": content_type})


def test_utf8_answer_is_parsed_with_every_value_kind() -> None:
    body = '{"s":"Ünïcødé ✓","i":12345678901,"f":1.5,"b":true,"n":null,"l":[1,{"k":"v"}]}'
    assert parse_json(_answer(body.encode())) == {
        "s": "Ünïcødé ✓",
        "i": 12345678901,
        "f": 1.5,
        "b": True,
        "n": None,
        "l": [1, {"k": "v"}],
    }


def test_utf16_is_read_as_httpx_reads_it() -> None:
    body = '{"name":"Café"}'.encode("utf-16")  # orjson reads UTF-8 only
    assert parse_json(_answer(body)) == {"name": "Café"}


def test_latin1_bytes_are_a_value_error_as_before() -> None:
    # httpx's Response.json() never honoured the charset either: the caller's error stays
    with pytest.raises(ValueError):
        parse_json(
            _answer('{"name":"Café"}'.encode("latin-1"), "application/json; charset=latin-1")
        )


def test_a_nan_literal_is_read_as_json_reads_it() -> None:
    got = parse_json(_answer(b'{"x": NaN}'))
    assert math.isnan(got["x"])


def test_no_json_at_all_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_json(_answer(b"<html>login page</html>", "text/html"))
