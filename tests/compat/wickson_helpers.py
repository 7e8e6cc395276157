"""What the wickson tests share: the files of a batch, the document's example per state, and
the document's requests."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from compat.conftest import Compat, fixture
from joblane.compat.profiles.wickson_view import BATCH_ID

BASE = "/compat/wickson"
FILES = [
    "reports/q4_summary.pdf",
    "reports/financial_data.xlsx",
    "reports/spreadsheet.xlsx",
    "reports/damaged_report.pdf",
    "reports/annual.pdf",
    "reports/notes.txt",
]
FORMAT_DETAILS = {"format": ".xlsx", "supported_formats": [".pdf", ".txt", ".docx"]}
# null in a state where the example shows a value (or the reverse), as the document allows
NULLABLE = frozenset(
    {
        "$.data.timing.started_at",
        "$.data.timing.completed_at",
        "$.data.timing.average_item_time",
        "$.data.job_details.started_at",
        "$.data.job_details.completed_at",
    }
)


def example(state: str, *, eta: bool) -> dict[str, Any]:
    """The document's response as it looks in `state` (its estimate only while one exists)."""
    body: dict[str, Any] = copy.deepcopy(fixture("wickson", "running"))
    body["data"]["status"] = state
    if not eta:
        del body["data"]["timing"]["estimated_completion"]
    return body


async def create(compat: Compat, files: list[str] = FILES, **config: Any) -> dict[str, Any]:
    configuration = {"max_concurrent": 10, "priority": "normal", "timeout": 3600, **config}
    body = {
        "batch_name": "Monthly Reports Processing",
        "job_type": "batch_item",
        "files": [{"file_path": path, "input": {"index": i}} for i, path in enumerate(files)],
        "batch_configuration": configuration,
    }
    response = await compat.client.post(
        f"{BASE}/v1/batches", json=body, headers={"X-Api-Key": compat.key_a}
    )
    assert response.status_code == 202, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def items(compat: Compat, shown_batch: str) -> dict[str, str]:
    """file path -> Joblane job id, read through the canonical API."""
    url = f"/v1/batches/{BATCH_ID.read(shown_batch)}/jobs?limit=100"
    response = await compat.client.get(url, headers=compat.headers_a)
    assert response.status_code == 200, response.text
    return {job["metadata"]["file_path"]: job["id"] for job in response.json()["data"]}


async def curl(
    compat: Compat, shown: str, query: str = "?include_job_details=true"
) -> httpx.Response:
    """curl -H "X-Api-Key: KEY" ".../v1/batches/{id}?include_job_details=true" """
    return await compat.client.get(
        f"{BASE}/v1/batches/{shown}{query}", headers={"X-Api-Key": compat.key_a}
    )
