"""The example apps (examples/*): their job types run to completion through a real worker,
on every storage backend, with the sample inputs their READMEs use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from examples.analytics.app import app as analytics
from examples.converter.app import app as converter
from examples.documents.app import app as documents
from examples.enrichment.app import app as enrichment
from examples.invoices.app import app as invoices
from pydantic import ValidationError

from joblane.app import Joblane
from joblane.core.job import Job
from joblane.core.states import JobState
from joblane.storage.base import Storage
from joblane.worker.runtime import Worker
from worker import FAST, get, submit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def run(
    storage: Storage, app: Joblane, type_: str, input: dict[str, Any], **metadata: str
) -> Job:
    job = await submit(storage, type_, input, max_attempts=1, metadata=metadata)
    assert await Worker(storage, app, FAST).run_until_empty() == 1
    return await get(storage, job.id)


async def test_enrichment_counts_received_and_processed_transactions(storage: Storage) -> None:
    sample = json.loads((EXAMPLES / "enrichment" / "transactions.json").read_text())
    sample["pace_ms"] = 0

    job = await run(storage, enrichment, "enrichment", sample)

    assert job.state is JobState.COMPLETED, job.error
    assert (job.progress.total, job.progress.processed, job.progress.failed) == (100, 100, 2)
    summary = job.result["summary"]
    assert (summary["total"], summary["failed"]) == (100, 2)
    assert summary["categorised"] + summary["uncategorised"] == 98
    assert {t["id"] for t in job.result["failed"]} == {"tx-0017", "tx-0064"}
    assert summary["by_category"]["groceries"]["count"] > 0


async def test_enrichment_paces_itself_when_asked(storage: Storage) -> None:
    transactions = [{"id": str(i), "description": "TESCO", "amount": -1} for i in range(5)]

    job = await run(
        storage, enrichment, "enrichment", {"transactions": transactions, "pace_ms": 40}
    )

    assert job.state is JobState.COMPLETED
    assert job.started_at is not None and job.completed_at is not None
    assert job.completed_at - job.started_at >= 0.2


async def test_documents_read_each_file_or_fail_with_a_resolution(storage: Storage) -> None:
    batch = json.loads((EXAMPLES / "documents" / "batch.json").read_text())
    jobs: dict[str, Job] = {}
    for file in batch["files"]:  # as the wickson profile submits them: the path as metadata
        meta, input = {"file_path": file["file_path"]}, file["input"] | {"pace_ms": 0}
        jobs[file["file_path"]] = await submit(storage, "document", input, metadata=meta)
    assert await Worker(storage, documents, FAST).run_until_empty() == len(jobs)
    jobs = {path: await get(storage, job.id) for path, job in jobs.items()}

    pdf = jobs["reports/q4_summary.pdf"]
    assert pdf.state is JobState.COMPLETED, pdf.error
    assert pdf.result["title"] == "Q4 Summary" and pdf.result["pages"] == 1
    assert "Revenue grew 12% quarter on quarter (to 4.2m)." in pdf.result["summary"]
    docx = jobs["reports/board_minutes.docx"].result
    assert docx["title"] == "Board minutes, 12 December" and docx["words"] == 13
    assert jobs["reports/readme.txt"].result["format"] == ".txt"
    codes = {path: job.error.code for path, job in jobs.items() if job.error}
    assert codes == {
        "reports/financial_data.xlsx": "format_error",
        "reports/spreadsheet.xlsx": "format_error",
        "reports/damaged_report.pdf": "corrupted_file",
    }
    xlsx = jobs["reports/financial_data.xlsx"].error
    assert xlsx is not None and xlsx.message == "Unsupported file format"
    assert xlsx.details == {"format": ".xlsx", "supported_formats": [".docx", ".pdf", ".txt"]}
    assert xlsx.resolution == "Ensure file is in a supported format"
    damaged = jobs["reports/damaged_report.pdf"].error
    assert damaged is not None and damaged.resolution and "integrity" in damaged.resolution


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not base64!", "not valid base64"),
        ("UEsDBGFyY2hpdmU=", "not a DOCX archive"),  # "PK\x03\x04archive"
    ],
)
async def test_documents_report_damaged_content(
    storage: Storage, content: str, problem: str
) -> None:
    job = await run(storage, documents, "document", {"file_path": "a.docx", "content": content})

    assert job.state is JobState.FAILED
    assert job.error is not None and job.error.code == "corrupted_file"
    assert problem in job.error.details["problem"]


async def test_invoices_extract_fields_with_confidence(storage: Storage) -> None:
    text = (EXAMPLES / "invoices" / "invoice.txt").read_text()

    job = await run(storage, invoices, "extraction", {"text": text})

    assert job.state is JobState.COMPLETED, job.error
    result = job.result
    assert result["invoice_number"] == "INV-2024-001"
    assert (result["total_amount"], result["currency"]) == (1250.0, "USD")
    assert (result["vendor"], result["date"]) == ("Acme Corp", "2024-01-15")
    assert 0.8 <= result["confidence"] <= 1
    assert set(result["field_confidence"]) == {
        "invoice_number",
        "total_amount",
        "currency",
        "vendor",
        "date",
    }


async def test_invoices_fail_on_unreadable_text(storage: Storage) -> None:
    job = await run(storage, invoices, "extraction", {"text": "   "})

    assert job.state is JobState.FAILED
    assert job.error is not None and job.error.code == "UNREADABLE_DOCUMENT"
    assert job.error.resolution


async def test_converter_formats_a_document(storage: Storage) -> None:
    document = (EXAMPLES / "converter" / "person.json").read_text()

    job = await run(storage, converter, "json_format", {"document": document, "indent": 2})

    assert job.state is JobState.COMPLETED, job.error
    assert job.result["formatted"].startswith('{\n  "name": "John",\n  "age": 30,')
    assert (job.result["top_level_type"], job.result["key_count"]) == ("object", 4)


async def test_converter_names_the_line_and_column_of_invalid_json(storage: Storage) -> None:
    document = (EXAMPLES / "converter" / "broken.json").read_text()

    job = await run(storage, converter, "json_format", {"document": document})

    assert job.state is JobState.FAILED
    assert job.error is not None and job.error.code == "INVALID_JSON"
    assert (job.error.details["line"], job.error.details["column"]) == (2, 18)


async def test_analytics_runs_a_saved_query_over_its_dataset(storage: Storage) -> None:
    job = await run(storage, analytics, "analytics_query", {}, query_id="qry_xyz789")

    assert job.state is JobState.COMPLETED, job.error
    assert job.result == {
        "columns": ["region", "total_revenue"],
        "rows": [["North", 48320.5], ["South", 31205.0]],
        "row_count": 2,
    }
    assert job.progress.total == 10  # the dataset's rows


async def test_analytics_runs_a_query_of_the_request_over_a_named_dataset(
    storage: Storage,
) -> None:
    query = {"group_by": "region", "aggregate": {"units": "count", "revenue": "min"}}

    job = await run(storage, analytics, "analytics_query", query, dataset_id="dset_abc123")

    assert job.state is JobState.COMPLETED, job.error
    assert job.result["columns"] == ["region", "count_units", "min_revenue"]
    assert job.result["rows"] == [["North", 5, 7600.0], ["South", 5, 4160.0]]


async def test_analytics_runs_rows_of_the_request(storage: Storage) -> None:
    rows = [{"k": "a", "v": 1}, {"k": "a", "v": 2}, {"k": "b", "v": 5}]
    query = {"rows": rows, "group_by": ["k"], "aggregate": {"v": "sum"}}

    job = await run(storage, analytics, "analytics_query", query, query_id="qry_xyz789")

    assert job.result == {"columns": ["k", "sum_v"], "rows": [["a", 3], ["b", 5]], "row_count": 2}


@pytest.mark.parametrize(
    ("input", "metadata", "code"),
    [
        ({}, {"query_id": "qry_nope"}, "UNKNOWN_QUERY"),
        ({}, {}, "UNKNOWN_QUERY"),
        ({}, {"query_id": "qry_xyz789", "dataset_id": "../../etc/passwd"}, "UNKNOWN_DATASET"),
        ({"aggregate": {"revenue": "sum"}}, {}, "UNKNOWN_DATASET"),
        ({"aggregate": {"nope": "sum"}}, {"dataset_id": "dset_abc123"}, "UNKNOWN_COLUMN"),
    ],
)
async def test_analytics_failures_say_what_is_available(
    storage: Storage, input: dict[str, Any], metadata: dict[str, str], code: str
) -> None:
    job = await run(storage, analytics, "analytics_query", input, **metadata)

    assert job.state is JobState.FAILED
    assert job.error is not None and job.error.code == code
    assert job.error.details["available"] and job.error.resolution


async def test_documents_pace_themselves_when_asked(storage: Storage) -> None:
    input = {"file_path": "a.txt", "content": "hello", "encoding": "text", "pace_ms": 100}

    job = await run(storage, documents, "document", input)

    assert job.state is JobState.COMPLETED, job.error
    assert job.started_at is not None and job.completed_at is not None
    assert job.completed_at - job.started_at >= 0.3


@pytest.mark.parametrize(
    "query",
    [
        {"rows": [], "csv": "a\n1\n", "aggregate": {"a": "sum"}},
        {"aggregate": {}},
        {"aggregate": {"a": "median"}},
        {"dataset": "dset_abc123"},
    ],
)
def test_analytics_refuses_a_malformed_query_before_it_runs(query: dict[str, Any]) -> None:
    job_type = analytics.get("analytics_query")
    assert job_type is not None

    with pytest.raises(ValidationError):
        job_type.input_model.model_validate(query)
