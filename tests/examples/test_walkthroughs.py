"""Each example's README, run as written: its one command starts a real `joblane serve` (the
console script, from the repository root), then its walk-through (curl in the profile's
dialect) runs against it; only the port and the database change."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from acceptance.procs import UNLIMITED_RATES, free_port, wait_ready

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(300)]  # start, walk, stop

REPO = Path(__file__).resolve().parents[2]
JOBLANE = str(Path(sys.executable).parent / "joblane")  # the console script the READMEs use
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def block(readme: str, tag: str) -> str:
    found = re.search(rf"```sh {tag}\n(.*?)```", readme, re.DOTALL)
    assert found, f"README has no ```sh {tag} block"
    return found[1]


def localised(script: str, port: int) -> str:
    script = script.replace("localhost:8000", f"127.0.0.1:{port}")
    return script.replace(".venv/bin/joblane", JOBLANE)


def environment(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBLANE_")}
    return env | UNLIMITED_RATES | {"JOBLANE_DATABASE_URL": f"sqlite:///{database}"}


@pytest.fixture
def walk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """Serve the example named by the test's parameter, run its walk-through once: its
    output lines."""
    readme = (REPO / "examples" / request.param / "README.md").read_text()
    env, port = environment(tmp_path / "joblane.db"), free_port()
    command = [*localised(block(readme, "run"), port).split(), "--port", str(port)]
    assert command[:2] == [JOBLANE, "serve"] and len(block(readme, "run").splitlines()) == 1
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=out)
    try:
        wait_ready(f"http://127.0.0.1:{port}", server, timeout=90)  # a busy machine is slow
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", localised(block(readme, "walkthrough"), port)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=150,
        )
        assert done.returncode == 0, done.stderr + done.stdout + log.read_text()
        assert server.poll() is None, log.read_text()
        yield done.stdout.splitlines()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


@pytest.mark.parametrize("walk", ["enrichment"], indirect=True)
def test_enrichment_walkthrough_speaks_walkerst(walk: list[str]) -> None:
    processing, completed, summary, invalid, missing, unauthorised = walk
    assert re.fullmatch(
        rf'\{{"data":\{{"jobId":"{UUID}",'
        r'"status":"Processing","message":"","type":"Enrichment",'
        r'"totalReceivedTransactions":100,"totalProcessedTransactions":\d\d?\},'
        r'"message":null\}',
        processing,
    ), processing
    assert '"status":"Completed"' in completed
    assert '"totalReceivedTransactions":100,"totalProcessedTransactions":100}' in completed
    assert summary.startswith('{"total": 100, "categorised": ') and '"failed": 2' in summary
    assert invalid.startswith('{"data":null,"message":"input is not valid')
    assert missing == (
        '{"data":null,"message":"Job \'550e8400-e29b-41d4-a716-446655440000\' not found"}'
    )
    assert unauthorised.startswith('{"data":null,"message":"API key')


@pytest.mark.parametrize("walk", ["invoices"], indirect=True)
def test_invoices_walkthrough_speaks_docurift(walk: list[str]) -> None:
    completed, document, failed, missing, forbidden, unauthorised, canonical = walk
    assert re.match(
        r'\{"success":true,"data":\{"id":"job_\w{26}","status":"completed","progress":100,'
        r'"documentType":"invoice","documentId":"doc_\w{26}","result":\{"extractedFields":'
        r'\{"invoiceNumber":"INV-2024-001","amount":1250\.0,"currency":"USD",'
        r'"vendor":"Acme Corp","date":"2024-01-15"\},"confidence":0\.\d+\},"createdAt":"',
        completed,
    ), completed
    assert '"completedAt":"' in completed and '"error"' not in completed
    assert document.startswith('{"success":true,"data":{"id":"doc_')
    assert '"extractedFields":{"invoiceNumber":"INV-2024-001"' in document
    assert '"status":"failed"' in failed and '"code":"UNREADABLE_DOCUMENT"' in failed
    assert '"failedAt":"' in failed and '"retryable":false' in failed
    assert missing.startswith('{"success":false,"error":{"code":"JOB_NOT_FOUND"')
    assert forbidden.startswith('{"success":false,"error":{"code":"FORBIDDEN"')
    assert unauthorised.startswith('{"success":false,"error":{"code":"UNAUTHORIZED"')
    assert canonical.startswith('{"invoice_number":"INV-2024-001","total_amount":1250.0,')
    assert '"field_confidence":{"invoice_number":0.95,' in canonical


@pytest.mark.parametrize("walk", ["converter"], indirect=True)
def test_converter_walkthrough_speaks_apidatatools(walk: list[str]) -> None:
    queued, success, *rest = walk
    assert re.fullmatch(
        rf'\{{"job_id":"{UUID}","status":"queued","created_at":\d+,"updated_at":\d+,'
        r'"message":"Your job is being processed\.","retry_after":\d+\}',
        queued,
    ), queued
    assert re.match(
        rf'\{{"job_id":"{UUID}","status":"success","created_at":\d+,"updated_at":\d+,'
        rf'"result":\{{"request_id":"{UUID}","status":"success",'
        r'"file":"http://127\.0\.0\.1:\d+/downloads/apidatatools_convert_[0-9a-f]{32}\.json",'
        r'"preview":"\{\\n  \\"name\\": \\"John\\",',
        success,
    ), success
    downloaded = "\n".join(rest[: rest.index("}") + 1])
    assert json.loads(downloaded)["address"] == {"city": "Lyon", "zip": "69001"}
    failed, invalid, missing, forbidden, unauthorised = rest[rest.index("}") + 1 :]
    assert '"status":"failed"' in failed and '"code":"INVALID_JSON"' in failed
    assert failed.endswith('"details":{"line":2,"column":18}}}')
    assert invalid.startswith('{"status":"error","error":"INVALID_JOB_ID"')
    assert missing.startswith('{"status":"error","error":"JOB_NOT_FOUND"')
    assert forbidden.startswith('{"status":"error","error":"FORBIDDEN"')
    assert unauthorised.startswith('{"status":"error","error":"UNAUTHORIZED"')


@pytest.mark.parametrize("walk", ["documents"], indirect=True)
def test_documents_walkthrough_speaks_wickson(walk: list[str]) -> None:
    running, *out = walk
    snapshot = json.loads(running)
    assert (snapshot["status"], snapshot["progress"]["total"]) == ("running", 6)
    assert snapshot["timing"]["completed_at"] is None
    assert re.fullmatch(r"Batch: Monthly Reports Processing \(batch-[0-9A-Z]{26}\)", out[0])
    assert out[1:3] == ["Status: COMPLETED", "Progress: 100.0% (3 of 6 complete)"]
    assert out[3:12] == [
        "  reports/q4_summary.pdf: completed",
        "  reports/board_minutes.docx: completed",
        "  reports/readme.txt: completed",
        "  reports/financial_data.xlsx: failed format_error",
        "  reports/spreadsheet.xlsx: failed format_error",
        "  reports/damaged_report.pdf: failed corrupted_file",
        "Errors: 3 files failed",
        " - format_error (2 files): Ensure file is in a supported format",
        " - corrupted_file (1 files): Verify file integrity and try uploading again",
    ]
    metrics, chosen = json.loads(out[12]), json.loads(out[13])
    assert set(metrics) == {"batch_id", "batch_name", "status", "progress", "timing"}
    assert set(chosen) == {"batch_id", "status", "progress"}
    assert chosen["progress"] == {
        "percentage": 100.0,
        "completed": 3,
        "failed": 3,
        "pending": 0,
        "processing": 0,
        "total": 6,
    }
    invalid, missing = json.loads(out[14]), json.loads(out[15])
    assert (invalid["code"], invalid["status_code"]) == ("validation_error", 400)
    assert invalid["message"] == "Invalid batch ID: batch@123"
    assert (missing["code"], missing["status_code"]) == ("not_found", 404)
    assert missing["details"] == {"resource_type": "batch", "resource_id": "batch-xyz789"}
    assert out[16].startswith('6 results; the first: {"id":"job_')
    assert len(out) == 17


@pytest.mark.parametrize("walk", ["analytics"], indirect=True)
def test_analytics_walkthrough_speaks_toolkitapi(walk: list[str]) -> None:
    asynchronous, synchronous, own, failed, missing, unauthorised = map(json.loads, walk)
    assert list(asynchronous) == [
        "job_id",
        "query_id",
        "dataset_id",
        "status",
        "progress",
        "results",
        "error",
        "created_at",
        "completed_at",
    ]
    assert re.fullmatch(r"job_[0-9A-Z]{26}", asynchronous["job_id"])
    assert (asynchronous["query_id"], asynchronous["dataset_id"]) == ("qry_xyz789", "dset_abc123")
    assert (asynchronous["status"], asynchronous["progress"], asynchronous["error"]) == (
        "succeeded",
        100,
        None,
    )
    assert asynchronous["results"] == {
        "columns": ["region", "total_revenue"],
        "rows": [["North", 48320.5], ["South", 31205.0]],
        "row_count": 2,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", asynchronous["completed_at"])
    assert synchronous["status"] == "succeeded"
    assert synchronous["results"]["columns"] == ["product", "units", "average_revenue"]
    assert own["results"]["rows"] == [["Gadget", 11250.5], ["Gizmo", 8800.0], ["Widget", 9600.0]]
    assert (failed["status"], failed["error"]) == ("failed", "unknown query 'qry_nope'")
    assert missing["error"]["code"] == "INVALID_JOB_ID"
    assert unauthorised["error"]["code"] == "UNAUTHORIZED"
