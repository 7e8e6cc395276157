"""`document`: one file of a batch: its text read out (PDF, DOCX, plain text) and measured.

Error codes are this API's own (`format_error`, `corrupted_file`, as its customers know them);
each comes with a resolution, which a batch's `error_summary` shows per code."""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
import time
from typing import Literal

from pydantic import BaseModel, Field

from examples.documents.formats import READERS, Extracted, Unreadable
from joblane import JobContext, JobError

FORMAT_ERROR = "format_error"
CORRUPTED_FILE = "corrupted_file"
RESOLUTIONS = {
    FORMAT_ERROR: "Ensure file is in a supported format",
    CORRUPTED_FILE: "Verify file integrity and try uploading again",
}
SUPPORTED_FORMATS = sorted(READERS)
SUMMARY_CHARACTERS = 200
STEPS = 3


class DocumentInput(BaseModel):
    file_path: str | None = Field(
        None,
        min_length=1,
        max_length=1000,
        description="The file's name; default: the job's `file_path` metadata.",
        examples=["reports/q4_summary.pdf"],
    )
    content: str = Field(max_length=10_000_000, description="The file: base64, or plain text.")
    encoding: Literal["base64", "text"] = "base64"
    pace_ms: int = Field(0, ge=0, le=10_000, description="milliseconds to wait per step (demos)")


class DocumentOutput(BaseModel):
    file_path: str
    media_type: Literal["document"] = "document"
    format: str
    pages: int | None
    characters: int
    words: int
    title: str | None = Field(description="The first non-empty line.")
    summary: str = Field(description=f"The first {SUMMARY_CHARACTERS} characters of the text.")


def process_document(inp: DocumentInput, ctx: JobContext) -> DocumentOutput:
    """Read the text out of one document (PDF, DOCX or plain text) and measure it."""
    path = inp.file_path or ctx.job.metadata.get("file_path") or ""
    extension = posixpath.splitext(path)[1].lower()
    ctx.progress(processed=0, total=STEPS, message=f"reading {path}")
    reader = READERS.get(extension)
    if reader is None:
        raise JobError(
            FORMAT_ERROR,
            "Unsupported file format",
            details={"format": extension or None, "supported_formats": SUPPORTED_FORMATS},
            resolution=RESOLUTIONS[FORMAT_ERROR],
        )
    data = _decode(inp, extension)
    _step(ctx, inp, 1, "extracting text")
    try:
        extracted = reader(data)
    except Unreadable as exc:
        raise _corrupted(extension, str(exc)) from exc
    _step(ctx, inp, 2, "measuring")
    output = _measure(path, extension, extracted)
    _step(ctx, inp, STEPS, "done")
    return output


def _step(ctx: JobContext, inp: DocumentInput, done: int, message: str) -> None:
    if inp.pace_ms:
        time.sleep(inp.pace_ms / 1000)
    ctx.check_cancelled()
    ctx.progress(processed=done, message=message)


def _decode(inp: DocumentInput, extension: str) -> bytes:
    if inp.encoding == "text":
        return inp.content.encode()
    try:
        return base64.b64decode(inp.content, validate=True)
    except binascii.Error as exc:
        raise _corrupted(extension, "the content is not valid base64") from exc


def _corrupted(extension: str, problem: str) -> JobError:
    return JobError(
        CORRUPTED_FILE,
        f"The file is damaged: {problem}",
        details={"format": extension, "problem": problem},
        resolution=RESOLUTIONS[CORRUPTED_FILE],
    )


def _measure(file_path: str, extension: str, extracted: Extracted) -> DocumentOutput:
    text = extracted.text
    title = next((line.strip() for line in text.splitlines() if line.strip()), None)
    return DocumentOutput(
        file_path=file_path,
        format=extension,
        pages=extracted.pages,
        characters=len(text),
        words=len(re.findall(r"\w+", text)),
        title=title[:120] if title else None,
        summary=" ".join(text.split())[:SUMMARY_CHARACTERS],
    )
