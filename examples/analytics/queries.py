"""The datasets (CSV files in `datasets/`) and saved queries this example API knows, by id:
`POST /v1/query/{query_id}` runs a saved query over its dataset (or the request's
`dataset_id`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from joblane.examples.analytics import Function

DATASETS_DIR = Path(__file__).resolve().parent / "datasets"
DATASETS = {"dset_abc123": "sales by day, region and product (May 2024)"}


@dataclass(frozen=True, slots=True)
class SavedQuery:
    dataset_id: str
    group_by: list[str]
    aggregate: dict[str, Function]
    names: dict[str, str] = field(default_factory=dict)  # output column -> the name shown


QUERIES = {
    "qry_xyz789": SavedQuery(
        "dset_abc123", ["region"], {"revenue": "sum"}, {"sum_revenue": "total_revenue"}
    ),
    "qry_units_by_product": SavedQuery(
        "dset_abc123",
        ["product"],
        {"units": "sum", "revenue": "avg"},
        {"sum_units": "units", "avg_revenue": "average_revenue"},
    ),
}


def dataset_text(dataset_id: str) -> str | None:
    """The CSV text of a known dataset; None for any other id (never a path from outside)."""
    if dataset_id not in DATASETS:
        return None
    return (DATASETS_DIR / f"{dataset_id}.csv").read_text()
