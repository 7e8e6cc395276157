"""Reading a batch submission: options plus a stream of items, from any of the three forms.

- `application/json`: `{name?, …options, jobs: [{type, input, metadata?}, …]}`;
- `application/x-ndjson` (or `application/jsonl`): one item per line, options in the query;
- `multipart/form-data`: options as form fields, the items as a JSONL file part (`file`).

JSONL is read line by line as it arrives, so memory does not grow with the batch. Every item
is checked here for shape; its input is checked against its job type by the service.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, NoReturn

import orjson
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from joblane.api.http import (
    PayloadTooLarge,
    UnsupportedMediaType,
    check_declared_size,
    limited,
    limited_request,
    read_body,
    validation_errors,
)
from joblane.api.limits import (
    DEFAULT_MAX_DEPTH,
    ENVELOPE,
    check_depth,
    is_depth_error,
    too_deep,
)
from joblane.api.schemas import (
    MAX_METADATA_KEYS,
    MAX_METADATA_VALUE,
    METADATA_KEY_PATTERN,
    METADATA_KEYS_ALWAYS_SMALL,
    BatchOptionsBody,
    metadata_size_problem,
)
from joblane.core.errors import ValidationFailed
from joblane.service.batch_submit import BatchItem, BatchOptions, Loc, describe

ITEM_KEYS = frozenset({"type", "input", "metadata"})
_METADATA_KEY = re.compile(METADATA_KEY_PATTERN)
NDJSON_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines")
READ_SIZE = 64 * 1024

Items = AsyncIterator[BatchItem]


@contextlib.asynccontextmanager
async def batch_submission(
    request: Request, max_bytes: int, max_line_bytes: int, max_depth: int = DEFAULT_MAX_DEPTH
) -> AsyncIterator[tuple[BatchOptions, Items]]:
    check_declared_size(request, max_bytes)
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type.lower() in NDJSON_TYPES:
        options = parse_options(dict(request.query_params), "query")
        chunks = limited(request.stream(), max_bytes)
        yield options, jsonl_items(chunks, max_line_bytes, max_depth)
    elif content_type.lower() == "multipart/form-data":
        _no_query_options(request, "form fields")
        form = await _form(limited_request(request, max_bytes))
        try:
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
            upload = next((v for v in form.values() if isinstance(v, UploadFile)), None)
            if upload is None:
                raise ValidationFailed(
                    "attach the items as a JSONL file part named 'file'",
                    [{"loc": ["body", "file"], "msg": "missing file part", "type": "missing"}],
                )
            chunks = _file_chunks(upload.read)
            yield parse_options(fields, "body"), jsonl_items(chunks, max_line_bytes, max_depth)
        finally:
            await form.close()
    elif "json" in content_type.lower():
        _no_query_options(request, "JSON body")
        body = orjson_body(await read_body(request, max_bytes), max_depth)
        jobs = body.pop("jobs", None)
        if not isinstance(jobs, list):
            raise ValidationFailed(
                "'jobs' must be a list of items (or send JSONL)",
                [{"loc": ["body", "jobs"], "msg": "a list is required", "type": "list_type"}],
            )
        yield parse_options(body, "body"), _json_items(jobs, max_depth)
    else:
        raise UnsupportedMediaType(
            "send application/json, application/x-ndjson or multipart/form-data, "
            f"not {content_type}"
        )


async def _form(request: Request) -> FormData:
    """The multipart form; a malformed one (no boundary, broken parts, more than one file) is
    the client's error, not a 500."""
    try:
        return await request.form(max_files=1, max_fields=20)
    except HTTPException as exc:
        raise ValidationFailed(
            f"multipart body is not valid: {exc.detail}",
            [{"loc": ["body"], "msg": str(exc.detail), "type": "multipart_invalid"}],
        ) from None


def _no_query_options(request: Request, where: str) -> None:
    """Options go in the query string only with a JSONL body; with a JSON or multipart body a
    query parameter would be silently ignored (a `max_concurrent` lost), so it is refused."""
    names = list(request.query_params)
    if names:
        raise ValidationFailed(
            f"query parameter '{names[0]}': with a {where}, options go in the {where}",
            [
                {
                    "loc": ["query", name],
                    "msg": f"options go in the {where}",
                    "type": "extra_forbidden",
                }
                for name in names
            ],
        )


def parse_options(data: Mapping[str, Any], where: str) -> BatchOptions:
    try:
        body = BatchOptionsBody.model_validate(data)
    except ValidationError as exc:
        errors = validation_errors(exc, where)
        raise ValidationFailed("batch options are not valid", errors) from None
    return BatchOptions(
        name=body.name,
        max_concurrent=body.max_concurrent,
        priority=body.priority,
        timeout=body.timeout,
        callback_url=str(body.callback_url) if body.callback_url else None,
        notification_enabled=body.notification_enabled,
    )


def orjson_body(raw: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> dict[str, Any]:
    try:
        data = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        if is_depth_error(exc):
            too_deep(["body"], max_depth)
        raise ValidationFailed(
            f"request body is not valid JSON: {exc}",
            [{"loc": ["body"], "msg": str(exc), "type": "json_invalid"}],
        ) from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            "request body must be a JSON object",
            [{"loc": ["body"], "msg": "an object is required", "type": "dict_type"}],
        )
    return data


async def _json_items(jobs: list[Any], max_depth: int) -> Items:
    for index, raw in enumerate(jobs):
        item = item_from(raw, ("body", "jobs", index))
        check_depth(item.input, max_depth, (*item.loc, "input"), max_depth)
        yield item


async def jsonl_items(
    chunks: AsyncIterator[bytes], max_line_bytes: int, max_depth: int = DEFAULT_MAX_DEPTH
) -> Items:
    line_no = 0
    pending = b""
    async for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        if len(pending) > max_line_bytes:
            raise PayloadTooLarge(f"line {line_no + len(lines) + 1} exceeds {max_line_bytes} bytes")
        for line in lines:
            line_no += 1
            if line.strip():
                yield _line_item(line, line_no, max_line_bytes, max_depth)
    if pending.strip():
        yield _line_item(pending, line_no + 1, max_line_bytes, max_depth)


def _line_item(line: bytes, line_no: int, max_line_bytes: int, max_depth: int) -> BatchItem:
    if len(line) > max_line_bytes:
        raise PayloadTooLarge(f"line {line_no} exceeds {max_line_bytes} bytes")
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        if is_depth_error(exc):
            too_deep(["line", line_no], max_depth)
        raise ValidationFailed(
            f"line {line_no}: not valid JSON: {exc}",
            [{"loc": ["line", line_no], "msg": str(exc), "type": "json_invalid"}],
        ) from None
    levels = max_depth + ENVELOPE
    # cheap bounds first, so that most lines are never walked: a level takes two bytes (`[]`)
    # and one opening bracket
    if len(line) > 2 * levels and line.count(b"{") + line.count(b"[") > levels:
        check_depth(raw, levels, ["line", line_no], max_depth)
    return item_from(raw, ("line", line_no))


def item_from(raw: Any, loc: Loc) -> BatchItem:
    """Check an item's shape by hand: it runs once per item of batches of millions."""
    if not isinstance(raw, dict):
        _bad(loc, (), "an item must be an object {type, input, metadata?}", "dict_type")
    unknown = raw.keys() - ITEM_KEYS
    if unknown:
        _bad(loc, (sorted(unknown)[0],), "unknown field", "extra_forbidden")
    type_ = raw.get("type")
    if not isinstance(type_, str) or not 1 <= len(type_) <= 100:
        _bad(loc, ("type",), "a job type name (1-100 characters) is required", "string_type")
    input_ = raw.get("input")
    if not isinstance(input_, dict):
        _bad(loc, ("input",), "an object is required", "dict_type")
    return BatchItem(loc, type_, input_, _metadata(raw.get("metadata"), loc))


def _metadata(value: Any, loc: Loc) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        _bad(loc, ("metadata",), "an object of strings is required", "dict_type")
    if len(value) > MAX_METADATA_KEYS:
        _bad(loc, ("metadata",), f"at most {MAX_METADATA_KEYS} keys", "too_long")
    for key, item in value.items():
        if not _METADATA_KEY.fullmatch(key):  # `$` alone would let a final newline in
            _bad(loc, ("metadata", key), "keys are 1-64 of A-Z a-z 0-9 _ . : -", "string_pattern")
        if not isinstance(item, str) or len(item) > MAX_METADATA_VALUE or "\x00" in item:
            _bad(
                loc,
                ("metadata", key),
                f"a string of at most {MAX_METADATA_VALUE} characters, no NUL",
                "string_type",
            )
    if len(value) > METADATA_KEYS_ALWAYS_SMALL and (problem := metadata_size_problem(value)):
        _bad(loc, ("metadata",), problem, "too_long")
    return value


def _bad(loc: Loc, field: tuple[str, ...], msg: str, kind: str) -> NoReturn:
    raise ValidationFailed(
        f"{describe(loc)}: {'.'.join(field) or 'item'}: {msg}",
        [{"loc": [*loc, *field], "msg": msg, "type": kind}],
    )


async def _file_chunks(read: Callable[[int], Awaitable[bytes]]) -> AsyncIterator[bytes]:
    while chunk := await read(READ_SIZE):
        yield chunk
