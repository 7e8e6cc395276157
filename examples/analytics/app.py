"""The analytics app: `joblane serve examples.analytics.app:app --profile toolkitapi`.

`analytics_query` runs a saved query (the `query_id` of `POST /v1/query/{query_id}`, which the
toolkitapi profile keeps in the job's metadata with `dataset_id`) over a dataset of this app,
with the bundled GROUP BY engine; a request that brings its own query (`aggregate`, and `rows`
or `csv`) runs that instead, as the bundled type does. The answer: columns and rows."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from examples.analytics.queries import DATASETS, QUERIES, SavedQuery, dataset_text
from joblane import JobContext, JobError, Joblane
from joblane.examples.analytics import (
    RESOLUTIONS,
    AnalyticsQueryInput,
    AnalyticsQueryOutput,
    Function,
    analytics_query,
)

UNKNOWN_QUERY = "UNKNOWN_QUERY"
UNKNOWN_DATASET = "UNKNOWN_DATASET"

OWN_RESOLUTIONS = {
    UNKNOWN_QUERY: f"Use one of the saved queries: {', '.join(QUERIES)}.",
    UNKNOWN_DATASET: f"Use one of the datasets: {', '.join(DATASETS)}.",
}

app = Joblane("analytics")


class QueryInput(BaseModel):
    """Empty for a saved query; else the bundled type's query (the dataset may be one of ours)."""

    model_config = ConfigDict(extra="forbid")

    rows: list[dict[str, Any]] | None = Field(None, max_length=1_000_000)
    csv: str | None = Field(None, max_length=50_000_000)
    group_by: list[str] | str = Field(default_factory=list, max_length=20)
    aggregate: dict[str, Function] | None = Field(None, min_length=1, max_length=50)
    export_csv: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> QueryInput:
        if self.rows is not None and self.csv is not None:
            raise ValueError("give at most one of `rows` or `csv`")
        return self


@app.job_type(
    "analytics_query",
    input=QueryInput,
    output=AnalyticsQueryOutput,
    max_attempts=2,
    timeout=300.0,
    resolutions=RESOLUTIONS | OWN_RESOLUTIONS,
)
def run_query(inp: QueryInput, ctx: JobContext) -> AnalyticsQueryOutput:
    """Run a saved query over its dataset, or the query the request brings; columns and rows."""
    metadata = ctx.job.metadata
    saved = None if inp.aggregate else _saved(metadata.get("query_id"))
    query = AnalyticsQueryInput.model_validate(
        {
            "group_by": saved.group_by if saved else inp.group_by,
            "aggregate": saved.aggregate if saved else inp.aggregate,
            "export_csv": inp.export_csv,
            **_source(inp, metadata.get("dataset_id") or (saved.dataset_id if saved else None)),
        }
    )
    output = analytics_query(query, ctx)
    names = saved.names if saved else {}
    return output.model_copy(update={"columns": [names.get(c, c) for c in output.columns]})


def _saved(query_id: str | None) -> SavedQuery:
    saved = QUERIES.get(query_id or "")
    if saved is None:
        raise JobError(
            UNKNOWN_QUERY,
            f"unknown query {query_id!r}",
            details={"query_id": query_id, "available": list(QUERIES)},
            resolution=OWN_RESOLUTIONS[UNKNOWN_QUERY],
        )
    return saved


def _source(inp: QueryInput, dataset_id: str | None) -> dict[str, Any]:
    if inp.rows is not None or inp.csv is not None:
        return {"rows": inp.rows, "csv": inp.csv}
    text = dataset_text(dataset_id or "")
    if text is None:
        raise JobError(
            UNKNOWN_DATASET,
            f"unknown dataset {dataset_id!r}",
            details={"dataset_id": dataset_id, "available": list(DATASETS)},
            resolution=OWN_RESOLUTIONS[UNKNOWN_DATASET],
        )
    return {"csv": text}


__all__ = ["app"]
