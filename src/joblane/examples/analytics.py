"""`analytics_query`: GROUP BY with sum/avg/min/max/count over JSON rows or a CSV document."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from joblane.core.errors import JobError
from joblane.worker.context import JobContext

UNKNOWN_COLUMN = "UNKNOWN_COLUMN"
INVALID_VALUE = "INVALID_VALUE"
INVALID_CSV = "INVALID_CSV"
RESOLUTIONS = {
    UNKNOWN_COLUMN: "Use one of the columns listed in `details.available`.",
    INVALID_VALUE: "Fix or remove the reported row, or aggregate that column with `count`.",
    INVALID_CSV: "Check the reported line: every row needs the same fields as the header.",
}
PROGRESS_EVERY = 1000
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")

Function = Literal["sum", "avg", "min", "max", "count"]


class AnalyticsQueryInput(BaseModel):
    rows: list[dict[str, Any]] | None = Field(None, max_length=1_000_000)
    csv: str | None = Field(None, max_length=50_000_000, description="CSV text with a header.")
    group_by: list[str] = Field(default_factory=list, max_length=20)
    aggregate: dict[str, Function] = Field(min_length=1, max_length=50)
    export_csv: bool = Field(
        False, description="also store the table as the file `result.csv` (an artifact)"
    )

    @field_validator("group_by", mode="before")
    @classmethod
    def _single_column(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _exactly_one_source(self) -> AnalyticsQueryInput:
        if (self.rows is None) == (self.csv is None):
            raise ValueError("give exactly one of `rows` or `csv`")
        return self


class AnalyticsQueryOutput(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    row_count: int


@dataclass(slots=True)
class _Accumulator:
    count: int = 0
    total: float = 0
    minimum: float | None = None
    maximum: float | None = None

    def add(self, number: float) -> None:
        self.count += 1
        self.total += number
        self.minimum = number if self.minimum is None else min(self.minimum, number)
        self.maximum = number if self.maximum is None else max(self.maximum, number)

    def result(self, function: Function) -> float | None:
        if function == "count":
            return self.count
        if function == "sum":
            return _tidy(self.total)
        if function == "avg":
            return _tidy(self.total / self.count) if self.count else None
        return self.minimum if function == "min" else self.maximum


def _tidy(number: float) -> float:
    """Drops binary noise from float sums (0.1 + 0.2 -> 0.3); ints stay exact."""
    return round(number, 9) if isinstance(number, float) else number


def analytics_query(inp: AnalyticsQueryInput, ctx: JobContext) -> AnalyticsQueryOutput:
    """Group rows (JSON or CSV) by columns and aggregate others, like SQL GROUP BY."""
    rows, available = _load(inp)
    _check_columns([*inp.group_by, *inp.aggregate], available)
    groups: dict[tuple[Any, ...], dict[str, _Accumulator]] = {}
    if not inp.group_by:
        groups[()] = {column: _Accumulator() for column in inp.aggregate}
    ctx.progress(processed=0, total=len(rows), message="aggregating")
    for number, row in enumerate(rows, start=1):
        if (number - 1) % PROGRESS_EVERY == 0:
            ctx.check_cancelled()
            ctx.progress(processed=number - 1)
        key = tuple(_group_value(row, column, number) for column in inp.group_by)
        accumulators = groups.setdefault(key, {c: _Accumulator() for c in inp.aggregate})
        for column, function in inp.aggregate.items():
            _accumulate(accumulators[column], row.get(column), function, column, number)
    ctx.progress(processed=len(rows), message=f"{len(groups)} groups")
    output = _result(inp, groups)
    if inp.export_csv:  # streamed a line at a time: a large table never sits in memory twice
        ctx.write_artifact("result.csv", _csv_lines(output), content_type="text/csv")
    return output


def _csv_lines(output: AnalyticsQueryOutput) -> Iterator[bytes]:
    for row in (output.columns, *output.rows):
        line = io.StringIO()
        csv.writer(line).writerow(["" if value is None else value for value in row])
        yield line.getvalue().encode()


def _load(inp: AnalyticsQueryInput) -> tuple[list[dict[str, Any]], list[str]]:
    if inp.csv is not None:
        return _parse_csv(inp.csv)
    rows = inp.rows or []
    available = dict.fromkeys(column for row in rows for column in row)
    return rows, list(available)


def _parse_csv(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict[str, Any]] = []
    try:
        for record in reader:
            if None in record:
                raise _invalid_csv(reader.line_num, "the row has more fields than the header")
            rows.append({column: _convert(value) for column, value in record.items()})
    except csv.Error as exc:
        raise _invalid_csv(reader.line_num, str(exc)) from exc
    return rows, list(reader.fieldnames or [])


def _convert(value: str | None) -> Any:
    """CSV cells are text: numbers become int/float, empty cells become None."""
    text = (value or "").strip()
    if not text:
        return None
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return float(text)
    return value


def _check_columns(referenced: Iterable[str], available: list[str]) -> None:
    unknown = sorted(set(referenced) - set(available))
    if unknown:
        raise JobError(
            UNKNOWN_COLUMN,
            f"unknown column(s) {', '.join(map(repr, unknown))}",
            details={"unknown": unknown, "available": available},
            resolution=RESOLUTIONS[UNKNOWN_COLUMN],
        )


def _group_value(row: dict[str, Any], column: str, number: int) -> Any:
    value = row.get(column)
    if isinstance(value, dict | list):
        raise _invalid_value(number, column, value, "group_by values must be scalars")
    return value


def _accumulate(
    accumulator: _Accumulator, value: Any, function: Function, column: str, number: int
) -> None:
    if value is None or value == "":
        return
    if function == "count":
        accumulator.count += 1
        return
    numeric = _as_number(value)
    if numeric is None:
        raise _invalid_value(number, column, value, f"{function} needs numbers")
    accumulator.add(numeric)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        converted = _convert(value)
        return _as_number(converted) if not isinstance(converted, str) else None
    return None


def _result(
    inp: AnalyticsQueryInput, groups: dict[tuple[Any, ...], dict[str, _Accumulator]]
) -> AnalyticsQueryOutput:
    columns = [*inp.group_by, *(f"{function}_{c}" for c, function in inp.aggregate.items())]
    rows = [
        [*key, *(accumulators[c].result(f) for c, f in inp.aggregate.items())]
        for key, accumulators in sorted(groups.items(), key=lambda item: _sort_key(item[0]))
    ]
    return AnalyticsQueryOutput(columns=columns, rows=rows, row_count=len(rows))


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    """Orders mixed keys without comparing across types: None, then numbers, then the rest."""
    return tuple(
        (0, 0)
        if value is None
        else (1, value)
        if isinstance(value, int | float) and not isinstance(value, bool)
        else (2, str(value))
        for value in key
    )


def _invalid_value(number: int, column: str, value: Any, problem: str) -> JobError:
    return JobError(
        INVALID_VALUE,
        f"row {number}, column {column!r}: {value!r} is not valid ({problem})",
        details={"row": number, "column": column, "value": repr(value)[:200]},
        resolution=RESOLUTIONS[INVALID_VALUE],
    )


def _invalid_csv(line: int, problem: str) -> JobError:
    return JobError(
        INVALID_CSV,
        f"invalid CSV at line {line}: {problem}",
        details={"line": line},
        resolution=RESOLUTIONS[INVALID_CSV],
    )
