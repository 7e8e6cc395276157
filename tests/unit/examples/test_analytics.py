"""The `analytics_query` example: GROUP BY over JSON rows and CSV, with precise errors."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from joblane.core.errors import JobCancelled, JobError
from joblane.examples import app
from joblane.examples.analytics import AnalyticsQueryOutput
from joblane.testing import make_context, run_handler
from joblane.worker.context import JobContext

SALES_CSV = """region,product,units,amount
EU,widget,3,30.50
US,widget,1,10.25
EU,gadget,2,
US,gadget,5,99.75
EU,widget,1,10.00
"""


def query(inp: dict[str, Any], ctx: JobContext | None = None) -> AnalyticsQueryOutput:
    output = run_handler(app, "analytics_query", inp, ctx)
    assert isinstance(output, AnalyticsQueryOutput)
    return output


def failure(inp: dict[str, Any], code: str) -> JobError:
    with pytest.raises(JobError) as caught:
        query(inp)
    assert caught.value.code == code
    assert caught.value.retryable is False
    assert caught.value.resolution
    return caught.value


def test_groups_csv_by_one_column() -> None:
    output = query(
        {
            "csv": SALES_CSV,
            "group_by": "region",
            "aggregate": {"amount": "sum", "units": "avg", "product": "count"},
        }
    )

    assert output.columns == ["region", "sum_amount", "avg_units", "count_product"]
    assert output.rows == [["EU", 40.5, 2.0, 3], ["US", 110.0, 3.0, 2]]
    assert output.row_count == 2


def test_groups_by_several_columns_in_sorted_order() -> None:
    output = query(
        {
            "csv": SALES_CSV,
            "group_by": ["product", "region"],
            "aggregate": {"units": "max", "amount": "min"},
        }
    )

    assert output.rows == [
        ["gadget", "EU", 2, None],
        ["gadget", "US", 5, 99.75],
        ["widget", "EU", 3, 10.0],
        ["widget", "US", 1, 10.25],
    ]


def test_without_group_by_aggregates_everything_into_one_row() -> None:
    output = query({"csv": SALES_CSV, "aggregate": {"units": "sum", "amount": "count"}})

    assert output.columns == ["sum_units", "count_amount"]
    assert output.rows == [[12, 4]]


def test_json_rows_with_numeric_strings_and_mixed_group_keys() -> None:
    rows = [
        {"team": "b", "score": "0.1"},
        {"team": "b", "score": 0.2},
        {"team": None, "score": 7},
        {"team": 3, "score": 1},
        {"team": "a"},
    ]
    output = query({"rows": rows, "group_by": "team", "aggregate": {"score": "sum"}})

    assert output.rows == [[None, 7], [3, 1], ["a", 0], ["b", 0.3]]


def test_header_only_csv_gives_empty_groups() -> None:
    output = query({"csv": "a,b\n", "group_by": "a", "aggregate": {"b": "sum"}})

    assert (output.rows, output.row_count) == ([], 0)


@pytest.mark.parametrize(
    "sources",
    [{}, {"rows": [{"a": 1}], "csv": "a\n1\n"}],
)
def test_exactly_one_of_rows_or_csv(sources: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="exactly one of `rows` or `csv`"):
        query({**sources, "aggregate": {"a": "sum"}})


def test_aggregate_function_must_be_known() -> None:
    with pytest.raises(ValidationError, match="median"):
        query({"rows": [{"a": 1}], "aggregate": {"a": "median"}})


def test_unknown_column_lists_the_available_ones() -> None:
    error = failure(
        {"csv": SALES_CSV, "group_by": "country", "aggregate": {"price": "sum", "units": "sum"}},
        "UNKNOWN_COLUMN",
    )

    assert error.details == {
        "unknown": ["country", "price"],
        "available": ["region", "product", "units", "amount"],
    }


def test_non_numeric_value_names_its_row() -> None:
    rows = [{"amount": 1}, {"amount": 2.5}, {"amount": "n/a"}]
    error = failure({"rows": rows, "aggregate": {"amount": "avg"}}, "INVALID_VALUE")

    assert error.details == {"row": 3, "column": "amount", "value": "'n/a'"}
    assert error.message.startswith("row 3, column 'amount'")


def test_booleans_are_not_numbers() -> None:
    error = failure({"rows": [{"x": True}], "aggregate": {"x": "sum"}}, "INVALID_VALUE")

    assert error.details["row"] == 1


def test_nested_values_cannot_be_grouped() -> None:
    error = failure(
        {"rows": [{"k": [1], "v": 1}], "group_by": "k", "aggregate": {"v": "sum"}},
        "INVALID_VALUE",
    )

    assert error.details["column"] == "k"


def test_csv_row_longer_than_its_header() -> None:
    error = failure({"csv": "a,b\n1,2\n3,4,5\n", "aggregate": {"a": "sum"}}, "INVALID_CSV")

    assert error.details == {"line": 3}


def test_progress_counts_rows() -> None:
    ctx = make_context("analytics_query", {})
    rows = [{"k": i % 3, "v": i} for i in range(2500)]
    output = query({"rows": rows, "group_by": "k", "aggregate": {"v": "count"}}, ctx)

    assert output.rows == [[0, 834], [1, 833], [2, 833]]
    progress = ctx.take_progress()
    assert progress is not None
    assert (progress.processed, progress.total, progress.message) == (2500, 2500, "3 groups")


def test_cancellation_is_checked() -> None:
    ctx = make_context("analytics_query", {})
    ctx.request_cancel()

    with pytest.raises(JobCancelled):
        query({"rows": [{"v": 1}], "aggregate": {"v": "sum"}}, ctx)
