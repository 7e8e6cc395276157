"""`apidatatools`: the JSON/file converter's Status API (seed 003_*.txt).

    GET  /status-api/{job_id}   the job (the path every example uses)
    GET  /jobs/{job_id}         the same (the path of the "Endpoint (GET)" section)
    POST /json-formatter        submit {"json": "<text>", "indent": 2, "sort_keys": false}:
                                202 and the queued job
    GET  /downloads/apidatatools_convert_{file_id}.json
                                the formatted document of a successful job (the `file` link)

Auth: `x-api-key: <key>` (a Joblane API key). Ids: a job's ULID shown as a UUID (the same 128
bits, read back losslessly); `request_id` is a name-based UUID (v5) of the job id. Times: epoch
seconds. Statuses: queued, running -> processing, completed -> success, failed (cancelled ->
failed, error `CANCELLED`); unfinished jobs carry `message` and `retry_after` (seconds). Errors
are `{"status": "error", "error": CODE, "details": {"message": ...}}` with the document's codes
(an invalid key is UNAUTHORIZED; another tenant's job FORBIDDEN). Job type: `json_format`; its
line/column errors show as `error.details`. `file` is an absolute URL on this server; the
download needs the key too (the document does not say its download host is public); a result
too large to keep inline (a stored file) links to that file's signed URL instead.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from joblane.api.present_artifact import result_body
from joblane.compat.access import find_job
from joblane.compat.profile import JSON, Call, Endpoint, ErrorInfo, Profile
from joblane.compat.profiles.bodies import read_model
from joblane.compat.submit import submit_job
from joblane.compat.wire import IdFormat, Vocabulary, epoch, json_response
from joblane.core import ids
from joblane.core.artifact import reference_of
from joblane.core.errors import Conflict, InvalidId
from joblane.core.estimates import retry_after
from joblane.core.job import Job
from joblane.core.states import JobState
from joblane.service.artifacts import LinkSigner

STATUS = Vocabulary(
    JobState,
    {
        JobState.QUEUED: "queued",
        JobState.RUNNING: "processing",
        JobState.COMPLETED: "success",
        JobState.FAILED: "failed",
        JobState.CANCELLED: "failed",
    },
)
JOB_ID = IdFormat(ids.JOB, style="uuid", what="job")
JOB_TYPE = "json_format"
PREVIEW_CHARS = 1000
PENDING_MESSAGE = "Your job is being processed."
FILE_PREFIX = "apidatatools_convert_"
_REQUEST_IDS = uuid.UUID("6f1c1d0e-6a2b-4f43-9a43-0d2f5b7f4a10")  # namespace of request_id


class FormatBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    json_: str = Field(alias="json", description="The JSON text to validate and format.")
    indent: int = Field(2, ge=0, le=8)
    sort_keys: bool = False


# -- rendering --------------------------------------------------------------------------------
def job_body(job: Job, now: float, base: str, links: LinkSigner | None = None) -> JSON:
    """The job as the Status API shows it; `base` is the profile's root URL (for `file`)."""
    body: JSON = {
        "job_id": JOB_ID.show(job.id),
        "status": STATUS(job.state),
        "created_at": epoch(job.created_at),
        "updated_at": epoch(job.updated_at),
    }
    if job.state is JobState.COMPLETED:
        body["result"] = _result(job, now, base, links)
    elif job.terminal:
        body["error"] = _error(job)
    else:
        body["message"] = PENDING_MESSAGE
        body["retry_after"] = retry_after(job, now)
    return body


def _result(job: Job, now: float, base: str, links: LinkSigner | None) -> JSON:
    """What the formatter would have answered synchronously: where the file is, a preview."""
    request_id = str(uuid.uuid5(_REQUEST_IDS, job.id))
    if reference_of(job.result) is not None:  # over the inline limit: a stored result file
        stored = result_body(job.id, job.result, links, now)
        url, preview = _origin(base) + stored["artifact"]["url"], stored["preview"]
    else:
        url, preview = f"{base}/downloads/{file_name(job.id)}", _preview(job.result)
    return {"request_id": request_id, "status": "success", "file": url, "preview": preview}


def file_name(job_id: str) -> str:
    return f"{FILE_PREFIX}{JOB_ID.show(job_id).replace('-', '')}.json"


def _formatted(result: Any) -> str:
    formatted = result.get("formatted") if isinstance(result, dict) else None
    if isinstance(formatted, str):
        return formatted
    return orjson.dumps(result, option=orjson.OPT_INDENT_2).decode()


def _preview(result: Any) -> str:
    return _formatted(result)[:PREVIEW_CHARS]


def _error(job: Job) -> JSON:
    if job.state is JobState.CANCELLED or job.error is None:
        message = job.cancel_reason or "The job was cancelled."
        return {"code": "CANCELLED", "message": message, "details": {}}
    details = job.error.details
    if "line" in details and "column" in details:  # the document's shape: line and column
        details = {"line": details["line"], "column": details["column"]}
    return {"code": job.error.code, "message": job.error.message, "details": details}


def error(info: ErrorInfo) -> JSON:
    return {"status": "error", "error": info.code, "details": {"message": info.message}}


def _root(call: Call) -> str:
    """The profile's root path as this request reached it: `` or `/compat/apidatatools`."""
    root: str = call.request.scope.get("root_path", "")
    return root


def _base(call: Call) -> str:
    """The profile's root URL (`file` is a URL to fetch, as in the document)."""
    url = call.request.url
    return f"{url.scheme}://{url.netloc}{_root(call)}"


def _origin(base: str) -> str:
    scheme, _, rest = base.partition("://")
    return f"{scheme}://{rest.partition('/')[0]}"


def _job_id(shown: str) -> str:
    """The document's UUID; a Joblane id (`job_…`) is taken as it is."""
    return shown if shown.startswith(f"{ids.JOB}_") else JOB_ID.read(shown)


# -- endpoints --------------------------------------------------------------------------------
async def get_job(call: Call) -> Response:
    shown = call.path("job_id")
    job = await find_job(call, _job_id(shown), shown)
    headers = {} if job.terminal else {"Retry-After": str(retry_after(job, call.now))}
    body = job_body(job, call.now, _base(call), call.ctx.links)
    return json_response(body, headers=headers)


async def missing_id(call: Call) -> Response:
    raise InvalidId("job_id is required")


async def submit(call: Call) -> Response:
    body = await read_model(call, FormatBody)
    input_ = {"document": body.json_, "indent": body.indent, "sort_keys": body.sort_keys}
    job = await submit_job(call, JOB_TYPE, input_)
    headers = {"Location": f"{_root(call)}/status-api/{JOB_ID.show(job.id)}"}
    return json_response(job_body(job, call.now, _base(call), call.ctx.links), 202, headers)


async def download(call: Call) -> Response:
    file_id = call.path("file_id")
    try:
        job_id = JOB_ID.read(str(uuid.UUID(hex=file_id)))
    except ValueError:
        raise InvalidId(f"Invalid file name: {FILE_PREFIX}{file_id}.json") from None
    job = await find_job(call, job_id, file_id)
    if job.state is not JobState.COMPLETED or reference_of(job.result) is not None:
        raise Conflict("This job has no downloadable file", details={"status": job.state.value})
    name = file_name(job.id)
    return Response(
        _formatted(job.result).encode(),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


PROFILE = Profile(
    name="apidatatools",
    title="apidatatools: JSON/file converter Status API (UUID job_id, epoch seconds)",
    endpoints=(
        Endpoint("GET", "/status-api/{job_id}", get_job),
        Endpoint("GET", "/jobs/{job_id}", get_job),
        Endpoint("GET", "/status-api/", missing_id),
        Endpoint("GET", "/jobs/", missing_id),
        Endpoint("POST", "/json-formatter", submit),
        Endpoint("GET", "/downloads/" + FILE_PREFIX + "{file_id}.json", download),
    ),
    error=error,
    codes={
        "INVALID_API_KEY": "UNAUTHORIZED",
        "JOB_EXPIRED": "JOB_NOT_FOUND",  # "Job not found or deleted"
        "INVALID_ARTIFACT_NAME": "INVALID_JOB_ID",
    },
    statuses={"JOB_EXPIRED": 404},
    cross_tenant_forbidden=True,
)
