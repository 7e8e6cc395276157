"""`json_format`: validates a JSON document (strict RFC 8259) and pretty-prints it."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from joblane.core.errors import JobError
from joblane.worker.context import JobContext

INVALID_JSON = "INVALID_JSON"
NESTING_TOO_DEEP = "NESTING_TOO_DEEP"
RESOLUTIONS = {
    INVALID_JSON: "Fix the document at the reported line and column, then submit it again.",
    NESTING_TOO_DEEP: "Flatten the document; nesting this deep cannot be formatted.",
}

TopLevelType = Literal["object", "array", "string", "number", "boolean", "null"]
# A string token, or a bare NaN/Infinity outside any string (which Python accepts, JSON does not).
_STRING_OR_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|(?P<constant>NaN|-?Infinity)')


class JsonFormatInput(BaseModel):
    document: str = Field(max_length=20_000_000, description="The JSON text to validate.")
    indent: int = Field(2, ge=0, le=8, description="Spaces per level; 0 gives compact output.")
    sort_keys: bool = Field(False, description="Sort the keys of every object.")


class JsonFormatOutput(BaseModel):
    formatted: str
    size_bytes: int = Field(description="UTF-8 size of `formatted`.")
    input_size_bytes: int
    top_level_type: TopLevelType
    key_count: int | None = Field(None, description="Keys of a top-level object.")
    item_count: int | None = Field(None, description="Items of a top-level array.")
    max_depth: int = Field(description="Nesting depth; 0 for a scalar document.")


def json_format(inp: JsonFormatInput, ctx: JobContext) -> JsonFormatOutput:
    """Validate a JSON document and pretty-print it with the given indent."""
    ctx.progress(processed=0, total=3, message="parsing")
    value = _parse(inp.document)
    ctx.progress(processed=1, message="formatting")
    formatted = _format(value, inp.indent, inp.sort_keys)
    ctx.progress(processed=2, message="measuring")
    output = JsonFormatOutput(
        formatted=formatted,
        size_bytes=len(formatted.encode()),
        input_size_bytes=len(inp.document.encode()),
        top_level_type=_type_name(value),
        key_count=len(value) if isinstance(value, dict) else None,
        item_count=len(value) if isinstance(value, list) else None,
        max_depth=_depth(value),
    )
    ctx.progress(processed=3, message="done")
    return output


def _parse(document: str) -> Any:
    try:
        value = json.loads(document)
    except json.JSONDecodeError as exc:
        raise _invalid(exc.msg, document, exc.pos) from exc
    except RecursionError as exc:
        raise _too_deep() from exc
    for match in _STRING_OR_CONSTANT.finditer(document):
        if match["constant"]:
            raise _invalid(f"{match['constant']} is not a JSON value", document, match.start())
    return value


def _format(value: Any, indent: int, sort_keys: bool) -> str:
    layout: dict[str, Any] = {"indent": indent} if indent else {"separators": (",", ":")}
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=sort_keys, **layout)
    except RecursionError as exc:
        raise _too_deep() from exc


def _invalid(problem: str, document: str, position: int) -> JobError:
    line = document.count("\n", 0, position) + 1
    column = position - document.rfind("\n", 0, position)
    return JobError(
        INVALID_JSON,
        f"invalid JSON at line {line}, column {column}: {problem}",
        details={"line": line, "column": column, "position": position},
        resolution=RESOLUTIONS[INVALID_JSON],
    )


def _too_deep() -> JobError:
    return JobError(
        NESTING_TOO_DEEP,
        "the document is nested too deeply to process",
        resolution=RESOLUTIONS[NESTING_TOO_DEEP],
    )


def _type_name(value: Any) -> TopLevelType:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _depth(value: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in node)
    return deepest
