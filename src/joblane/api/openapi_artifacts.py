"""The artifacts section of the OpenAPI document: a job's files, downloads with ranges, and
signed links (see `openapi.py` for the table's shape)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from joblane.api.openapi_types import Operation, Param, id_schema

NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
LINK_NAME_PATTERN = "^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$"  # `_result`: a job's result file
OCTETS = "application/octet-stream"


class ArtifactOut(BaseModel):
    object: Literal["artifact"]
    name: str
    size: int = Field(description="bytes")
    sha256: str = Field(description="hex SHA-256 of the bytes")
    content_type: str
    attempt: int = Field(description="the attempt that wrote it")
    created_at: str
    url: str = Field(description="a signed link that works without an API key until expires_at")
    expires_at: str | None


class ArtifactList(BaseModel):
    object: Literal["list"]
    data: list[ArtifactOut]


JOB_ID = Param("job_id", "path", "a job id", id_schema("job"), True)
NAME = Param("name", "path", "the file's name", {"type": "string", "pattern": NAME_PATTERN}, True)
RANGE = Param("Range", "header", "bytes=first-last, first- or -suffix (one range)")
IF_RANGE = Param("If-Range", "header", "the ETag the range's bytes must belong to")
IF_NONE_MATCH = Param("If-None-Match", "header", "an ETag (the file's sha256)")
DOWNLOAD_PARAMS = (RANGE, IF_RANGE, IF_NONE_MATCH)
DOWNLOAD: dict[int, type[BaseModel] | None] = {200: None, 206: None, 304: None}
INTEGER = {"type": "integer", "minimum": 0}
LINK_PARAMS = (
    Param("job_id", "path", "a job id", id_schema("job"), True),
    Param(
        "name", "path", "the file's name", {"type": "string", "pattern": LINK_NAME_PATTERN}, True
    ),
    Param("attempt", "query", "the attempt that wrote the file", INTEGER, True),
    Param("expires", "query", "epoch seconds", INTEGER, True),
    Param("signature", "query", "HMAC-SHA256, base64url", {"type": "string"}, True),
)

ARTIFACT_MODELS: tuple[type[BaseModel], ...] = (ArtifactList,)
ARTIFACT_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        "/v1/jobs/{job_id}/artifacts",
        "listJobArtifacts",
        "The files a job's handler wrote, each with a signed link",
        {200: ArtifactList},
        params=(JOB_ID,),
        errors=(400, 401, 403, 404, 410, 500, 501, 503),
    ),
    Operation(
        "get",
        "/v1/jobs/{job_id}/artifacts/{name}",
        "getJobArtifact",
        "Download a job's file (Range: one range gets 206, several the whole file)",
        DOWNLOAD,
        params=(JOB_ID, NAME, *DOWNLOAD_PARAMS),
        errors=(400, 401, 403, 404, 410, 416, 500, 501, 503),
        media_type=OCTETS,
    ),
    Operation(
        "get",
        "/v1/artifacts/{job_id}/{name}",
        "getSignedArtifact",
        "Download through a signed link (no API key; 403 once expired or if altered)",
        DOWNLOAD,
        params=(*LINK_PARAMS, *DOWNLOAD_PARAMS),
        errors=(400, 403, 404, 410, 416, 500, 501, 503),
        auth=False,
        media_type=OCTETS,
    ),
)
