"""Answers of the API turned into models or typed errors (pure: the body is already read)."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel
from pydantic import ValidationError as ModelError

from joblane.client.calls import Call
from joblane.client.errors import (
    ApiError,
    ClientError,
    JobCancelledError,
    JobFailed,
    TransportError,
    error_class,
)
from joblane.client.models import Batch, Job, Page, Problem
from joblane.client.retry import retry_after_of

M = TypeVar("M", bound=BaseModel)


def api_error(response: httpx.Response) -> ApiError:
    """The typed error for an answer of status >= 400 (its body read)."""
    status = response.status_code
    problem = _problem(response)
    if problem is None:
        text = response.text.strip().replace("\n", " ")[:300]
        problem = Problem(
            status=status, code=f"HTTP_{status}", detail=text or response.reason_phrase
        )
    code = problem.code or f"HTTP_{status}"
    cls = error_class(status, code)
    return cls(
        status,
        code,
        problem.detail,
        request_id=problem.request_id or response.headers.get("x-request-id"),
        title=problem.title or None,
        details=problem.details,
        errors=problem.errors,
        retry_after=retry_after_of(response.headers),
        body=problem.model_dump(mode="json"),
    )


def _problem(response: httpx.Response) -> Problem | None:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or "code" not in data:
        return None
    try:
        return Problem.model_validate(data)
    except ModelError:
        return None


def checked(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        raise api_error(response)
    return response


def parse(response: httpx.Response, model: type[M]) -> M:
    checked(response)
    try:
        return model.model_validate_json(response.content)
    except ModelError as exc:
        raise ClientError(
            f"unexpected answer from {response.request.method} {response.request.url.path} "
            f"({response.status_code}): {exc.errors()[0]['msg']}"
        ) from None


def job(response: httpx.Response) -> Job:
    return parse(response, Job)


def batch(response: httpx.Response) -> Batch:
    return parse(response, Batch)


def job_page(response: httpx.Response) -> Page[Job]:
    return parse(response, Page[Job])


def batch_page(response: httpx.Response) -> Page[Batch]:
    return parse(response, Page[Batch])


def result(response: httpx.Response) -> Any:
    """A completed job's result: JSON decoded; any other content type as bytes."""
    checked(response)
    content_type = response.headers.get("content-type", "")
    if "json" in content_type:
        return response.json()
    return response.content


def finished(job: Job) -> Job:
    """`job` if it completed; its failure or cancellation as an exception otherwise."""
    if job.status == "failed":
        error = job.error
        what = f"{error.code}: {error.message}" if error else "no error recorded"
        raise JobFailed(f"job {job.id} failed ({what})", job)
    if job.status == "cancelled":
        reason = f": {job.cancel_reason}" if job.cancel_reason else ""
        raise JobCancelledError(f"job {job.id} was cancelled{reason}", job)
    return job


def transport_error(url: str, call: Call, exc: Exception) -> TransportError:
    detail = str(exc) or "connection closed"
    return TransportError(f"{call.method} {url}{call.path}: {type(exc).__name__}: {detail}")
