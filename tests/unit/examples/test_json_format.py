"""The `json_format` example: pretty-printing, statistics and precise INVALID_JSON errors."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from joblane.core.errors import JobError
from joblane.examples import app
from joblane.examples.json_format import JsonFormatOutput
from joblane.testing import make_context, run_handler
from joblane.worker.context import JobContext

DOCUMENT = '{"name": "Zoë", "tags": ["a", {"deep": [1, 2]}], "active": true}'


def format_json(inp: dict[str, Any], ctx: JobContext | None = None) -> JsonFormatOutput:
    output = run_handler(app, "json_format", inp, ctx)
    assert isinstance(output, JsonFormatOutput)
    return output


def invalid(document: str) -> JobError:
    with pytest.raises(JobError) as caught:
        format_json({"document": document})
    assert caught.value.code == "INVALID_JSON"
    assert caught.value.retryable is False
    assert caught.value.resolution
    return caught.value


def test_pretty_prints_with_two_spaces_by_default() -> None:
    output = format_json({"document": '{"a": [1, 2], "b": null}'})

    assert output.formatted == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": null\n}'
    assert output.size_bytes == len(output.formatted)
    assert output.input_size_bytes == 24


def test_statistics_of_an_object() -> None:
    output = format_json({"document": DOCUMENT, "indent": 4})

    assert output.top_level_type == "object"
    assert output.key_count == 3
    assert output.item_count is None
    assert output.max_depth == 4
    assert '\n    "name": "Zoë",' in output.formatted
    assert output.size_bytes == len(output.formatted.encode())
    assert output.size_bytes == len(output.formatted) + 1  # ë is two bytes in UTF-8


def test_indent_zero_is_compact_and_keys_can_be_sorted() -> None:
    output = format_json({"document": '{"b": 1, "a": [true, "x"]}', "indent": 0, "sort_keys": True})

    assert output.formatted == '{"a":[true,"x"],"b":1}'


@pytest.mark.parametrize(
    ("document", "top_level_type", "item_count", "max_depth"),
    [
        ("[1, [2, [3]]]", "array", 2, 3),
        ('"text"', "string", None, 0),
        ("-1.5e3", "number", None, 0),
        ("false", "boolean", None, 0),
        ("null", "null", None, 0),
        ("{}", "object", None, 1),
    ],
)
def test_top_level_types(
    document: str, top_level_type: str, item_count: int | None, max_depth: int
) -> None:
    output = format_json({"document": document})

    assert (output.top_level_type, output.item_count, output.max_depth) == (
        top_level_type,
        item_count,
        max_depth,
    )


def test_trailing_comma_reports_line_column_and_position() -> None:
    error = invalid('{\n  "a": 1,\n}')

    assert error.details == {"line": 3, "column": 1, "position": 12}
    assert error.message == (
        "invalid JSON at line 3, column 1: Expecting property name enclosed in double quotes"
    )


def test_empty_document_is_invalid() -> None:
    error = invalid("")

    assert error.details == {"line": 1, "column": 1, "position": 0}
    assert "Expecting value" in error.message


def test_trailing_garbage_is_invalid() -> None:
    assert invalid('{"a": 1} x').details == {"line": 1, "column": 10, "position": 9}


def test_nan_and_infinity_are_not_json() -> None:
    error = invalid('{"label": "NaN",\n "value": -Infinity}')

    assert error.details == {"line": 2, "column": 11, "position": 27}
    assert error.message == "invalid JSON at line 2, column 11: -Infinity is not a JSON value"


def test_nan_inside_a_string_is_fine() -> None:
    assert format_json({"document": '["NaN", "\\"Infinity"]'}).item_count == 2


def test_absurd_nesting_fails_cleanly() -> None:
    with pytest.raises(JobError) as caught:
        format_json({"document": "[" * 100_000 + "]" * 100_000})

    assert caught.value.code == "NESTING_TOO_DEEP"


def test_progress_covers_every_step() -> None:
    ctx = make_context("json_format", {})
    format_json({"document": "[]"}, ctx)

    progress = ctx.take_progress()
    assert progress is not None
    assert (progress.processed, progress.total, progress.message) == (3, 3, "done")


@pytest.mark.parametrize("indent", [-1, 9])
def test_indent_must_be_between_0_and_8(indent: int) -> None:
    with pytest.raises(ValidationError, match="indent"):
        format_json({"document": "[]", "indent": indent})
