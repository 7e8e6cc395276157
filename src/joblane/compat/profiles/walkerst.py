"""`walkerst`: transaction enrichment job status (seed 000).

    GET  /v1/jobs/{jobId}/status     the document's endpoint: {"data": {...}, "message": null}
    POST /v1/jobs/enrichment         submit (implied): {"transactions": [...]} -> 202, the status
    POST /v1/jobs/extraction         submit an extraction: {"text": "..."} -> 202, the status
    GET  /v1/jobs/{jobId}/results    the result of a Completed job (implied: "Retrieve results")

Auth: `x-api-key` (or `Authorization: Bearer`), Joblane API keys. Ids: a Joblane job id
`job_<ULID>` is shown as the UUID of the same 128 bits (`jobId`), and read back losslessly, so
`/v1/jobs/job_<ULID>` in the canonical API and this profile's UUID name the same job.
Status: queued -> New (Processing once an attempt has started, e.g. waiting for a retry),
running -> Processing, completed -> Completed, failed and cancelled -> Failed (with the reason in
`message`). `totalReceivedTransactions` is the job's progress total (else the number of
transactions in its input); `totalProcessedTransactions` its processed count.
Errors: `{"data": null, "message": "<what went wrong>"}` with the canonical HTTP status.
Polling hints as in the canonical API: `Retry-After` (seconds) while the job is unfinished.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from joblane.compat.access import find_job
from joblane.compat.profile import JSON, Call, Endpoint, ErrorInfo, Profile
from joblane.compat.submit import submit_body, submit_job
from joblane.compat.wire import IdFormat, Vocabulary, json_response
from joblane.core import ids
from joblane.core.errors import Conflict
from joblane.core.estimates import retry_after
from joblane.core.job import Job
from joblane.core.states import JobState

JOB_ID = IdFormat(ids.JOB, style="uuid", what="job")
STATUS = Vocabulary(
    JobState,
    {
        JobState.QUEUED: "New",
        JobState.RUNNING: "Processing",
        JobState.COMPLETED: "Completed",
        JobState.FAILED: "Failed",
        JobState.CANCELLED: "Failed",
    },
)
TYPES = {"enrichment": "Enrichment", "extraction": "Extraction"}


def status_of(job: Job) -> str:
    if job.state is JobState.QUEUED and job.started_at is not None:
        return "Processing"  # started before, now waiting for its next attempt
    return STATUS(job.state)


def message_of(job: Job) -> str:
    if job.state is JobState.CANCELLED:
        return f"Cancelled: {job.cancel_reason}" if job.cancel_reason else "Cancelled"
    if job.state is JobState.FAILED and job.error is not None:
        return job.error.message
    return ""


def received(job: Job) -> int:
    if job.progress.total is not None:
        return job.progress.total
    transactions = job.input.get("transactions")
    return len(transactions) if isinstance(transactions, list) else 0


def processed(job: Job) -> int:
    if job.state is JobState.COMPLETED and job.progress.total is not None:
        return max(job.progress.processed, job.progress.total)
    return job.progress.processed


def job_data(job: Job) -> JSON:
    return {
        "jobId": JOB_ID.show(job.id),
        "status": status_of(job),
        "message": message_of(job),
        "type": TYPES.get(job.type, job.type.replace("_", " ").title()),
        "totalReceivedTransactions": received(job),
        "totalProcessedTransactions": processed(job),
    }


def envelope(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_response({"data": data, "message": None}, status, headers)


async def _job(call: Call) -> Job:
    shown = call.path("jobId")
    return await find_job(call, JOB_ID.read(shown), shown)


async def status(call: Call) -> Response:
    job = await _job(call)
    return envelope(job_data(job), headers=polling_headers(job, call.now))


def polling_headers(job: Job, now: float) -> dict[str, str]:
    """The canonical API's polling hints: when to ask again, and what may be cached."""
    if job.terminal:
        return {"Cache-Control": "private, max-age=60"}
    return {"Cache-Control": "no-cache", "Retry-After": str(retry_after(job, now))}


async def results(call: Call) -> Response:
    job = await _job(call)
    if job.state is not JobState.COMPLETED:
        raise Conflict(
            f"Job {JOB_ID.show(job.id)} is {status_of(job)}; results exist once Completed"
        )
    return envelope({"jobId": JOB_ID.show(job.id), "result": job.result})


def _submitter(job_type: str) -> Any:
    async def submit(call: Call) -> Response:
        body = await submit_body(call)
        job = await submit_job(call, job_type, body)
        return envelope(job_data(job), 202)

    return submit


def error(info: ErrorInfo) -> JSON:
    return {"data": None, "message": info.message}


PROFILE = Profile(
    name="walkerst",
    title="Transaction enrichment job status (x-api-key; {data, message})",
    endpoints=(
        Endpoint("GET", "/v1/jobs/{jobId}/status", status),
        Endpoint("GET", "/v1/jobs/{jobId}/results", results),
        Endpoint("POST", "/v1/jobs/enrichment", _submitter("enrichment")),
        Endpoint("POST", "/v1/jobs/extraction", _submitter("extraction")),
    ),
    error=error,
)
