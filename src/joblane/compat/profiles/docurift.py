"""`docurift`: invoice extraction (seed 002_*.txt).

    GET  /v1/jobs/{job_id}            the job: {"success": true, "data": {...}}
    POST /v1/documents                submit {"documentType": "invoice", "text": "..."}: 202 and
                                      the pending job (Location: /v1/jobs/{id})
    GET  /v1/documents/{document_id}  the document a completed job created (its result)

Auth: `X-API-Key: <key>` or `Authorization: Bearer <key>` (Joblane API keys). Ids: Joblane's
own job ids (`job_<ULID>` fits the document's `job_abc123def456`); `documentId` is the job's
ULID behind `doc_`, so a document id reads back to its job losslessly. Statuses: queued ->
pending, running -> processing, completed, failed (and cancelled -> failed, error `CANCELLED`).
A job of another tenant answers FORBIDDEN (403), as the error table says; a malformed id is
simply not found (the document has no 400). Job types: `extraction` (documentType "invoice");
any other job type shows its result as `extractedFields`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from joblane.compat.access import find_job
from joblane.compat.profile import JSON, Call, Endpoint, ErrorInfo, Profile
from joblane.compat.profiles.bodies import read_model
from joblane.compat.submit import submit_job
from joblane.compat.wire import IdFormat, Vocabulary, iso, json_response
from joblane.core import ids
from joblane.core.errors import InvalidId, NotFound, ValidationFailed
from joblane.core.job import Job
from joblane.core.states import JobState

STATUS = Vocabulary(
    JobState,
    {
        JobState.QUEUED: "pending",
        JobState.RUNNING: "processing",
        JobState.COMPLETED: "completed",
        JobState.FAILED: "failed",
        JobState.CANCELLED: "failed",
    },
)
DOCUMENT_ID = IdFormat(ids.JOB, prefix="doc_", what="document")
JOB_TYPES = {"invoice": "extraction"}  # documentType -> the job type that processes it
DOCUMENT_TYPES = {job_type: document for document, job_type in JOB_TYPES.items()}
# extraction's output fields -> the document's `extractedFields`
FIELDS = {
    "invoice_number": "invoiceNumber",
    "total_amount": "amount",
    "currency": "currency",
    "vendor": "vendor",
    "date": "date",
}


class SubmitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documentType: str = Field("invoice", description="What the document is: invoice.")
    text: str = Field(description="The document as plain text.")
    metadata: dict[str, str] = Field(default_factory=dict)


# -- rendering --------------------------------------------------------------------------------
def job_data(job: Job) -> JSON:
    """The job as the document's `data` shows it, with each field only in its state."""
    data: JSON = {
        "id": job.id,
        "status": STATUS(job.state),
        "progress": _progress(job),
        "documentType": document_type(job),
    }
    if job.state is JobState.COMPLETED:
        data["documentId"] = DOCUMENT_ID.show(job.id)
        data["result"] = _result(job.result)
    elif job.state in (JobState.FAILED, JobState.CANCELLED):
        data["error"] = _error(job)
    data["createdAt"] = iso(job.created_at)
    data["updatedAt"] = iso(job.updated_at)
    if job.state is JobState.COMPLETED:
        data["completedAt"] = iso(job.completed_at)
    elif job.state in (JobState.FAILED, JobState.CANCELLED):
        data["failedAt"] = iso(job.failed_at or job.cancelled_at or job.updated_at)
    return data


def document_type(job: Job) -> str:
    return job.metadata.get("documentType") or DOCUMENT_TYPES.get(job.type, job.type)


def _progress(job: Job) -> int:
    if job.state is JobState.COMPLETED:
        return 100
    return int(job.progress.percentage or 0)


def _result(result: Any) -> JSON:
    if not isinstance(result, dict):
        return {"extractedFields": {"value": result}, "confidence": None}
    if not FIELDS.keys() <= result.keys():  # another job type: its output as it is
        fields = {key: value for key, value in result.items() if key != "confidence"}
        return {"extractedFields": fields, "confidence": result.get("confidence")}
    return {
        "extractedFields": {shown: result[name] for name, shown in FIELDS.items()},
        "confidence": result.get("confidence"),
    }


def _error(job: Job) -> JSON:
    if job.state is JobState.CANCELLED or job.error is None:
        reason = job.cancel_reason or "The job was cancelled."
        details: JSON = {"step": "cancelled", "retryable": True}
        return {"code": "CANCELLED", "message": reason, "details": details}
    step = job.error.details.get("step", "processing")
    details = {"step": step, "retryable": job.error.retryable}
    return {"code": job.error.code, "message": job.error.message, "details": details}


def envelope(data: JSON) -> JSON:
    return {"success": True, "data": data}


def error(info: ErrorInfo) -> JSON:
    code, message = info.code, info.message
    document_id = info.path_params.get("document_id")
    if code == "JOB_NOT_FOUND" and document_id is not None:
        code, message = "DOCUMENT_NOT_FOUND", f"Document with ID '{document_id}' not found"
    elif code == "JOB_NOT_FOUND" and "job_id" in info.path_params:
        message = f"Job with ID '{info.path_params['job_id']}' not found"
    body: JSON = {"code": code, "message": message}
    if info.joblane_code == "VALIDATION_ERROR" and "errors" in info.details:
        body["details"] = {"errors": info.details["errors"]}
    return {"success": False, "error": body}


# -- endpoints --------------------------------------------------------------------------------
async def get_job(call: Call) -> Response:
    job = await find_job(call, call.path("job_id"))
    return json_response(envelope(job_data(job)), headers=_cache_headers(job))


async def submit(call: Call) -> Response:
    body = await read_model(call, SubmitBody)
    job_type = JOB_TYPES.get(body.documentType)
    if job_type is None:
        raise _unsupported(body.documentType)
    metadata = {**body.metadata, "documentType": body.documentType}
    job = await submit_job(call, job_type, {"text": body.text}, metadata)
    root = call.request.scope.get("root_path", "")
    headers = {"Location": f"{root}/v1/jobs/{job.id}"}
    return json_response(envelope(job_data(job)), 202, headers)


async def get_document(call: Call) -> Response:
    document_id = call.path("document_id")
    try:
        job_id = DOCUMENT_ID.read(document_id)
    except InvalidId:
        raise NotFound(f"Document '{document_id}' not found") from None
    job = await find_job(call, job_id, document_id)
    if job.state is not JobState.COMPLETED:
        raise NotFound(f"Document '{document_id}' not found")
    data = {
        "id": document_id,
        "jobId": job.id,
        "documentType": document_type(job),
        **_result(job.result),
        "createdAt": iso(job.completed_at),
    }
    return json_response(envelope(data))


def _unsupported(document_type_: str) -> ValidationFailed:
    supported = ", ".join(JOB_TYPES)
    return ValidationFailed(
        f"documentType '{document_type_}' is not supported (supported: {supported})",
        [{"loc": ["body", "documentType"], "msg": f"one of: {supported}", "type": "enum"}],
    )


def _cache_headers(job: Job) -> dict[str, str]:
    return {"Cache-Control": "private, max-age=60" if job.terminal else "no-cache"}


PROFILE = Profile(
    name="docurift",
    title="docurift: invoice extraction jobs ({success, data} envelope, ISO 8601 camelCase)",
    endpoints=(
        Endpoint("GET", "/v1/jobs/{job_id}", get_job),
        Endpoint("POST", "/v1/documents", submit),
        Endpoint("GET", "/v1/documents/{document_id}", get_document),
    ),
    error=error,
    codes={
        "INVALID_JOB_ID": "JOB_NOT_FOUND",
        "JOB_EXPIRED": "JOB_NOT_FOUND",  # "after this period ... will return a 404 error"
        "RATE_LIMITED": "RATE_LIMIT_EXCEEDED",
    },
    statuses={"INVALID_JOB_ID": 404, "JOB_EXPIRED": 404},
    cross_tenant_forbidden=True,
)
