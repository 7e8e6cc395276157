"""Compare a response with a seed document's example by shape: the same keys, JSON types and
(where asked) status vocabulary, not the same volatile values."""

from __future__ import annotations

import re
from typing import Any

NUMBER = (int, float)
_INDEX = re.compile(r"\[\d+\]")


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, NUMBER):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def assert_shape(
    actual: Any, example: Any, path: str = "$", nullable: frozenset[str] = frozenset()
) -> None:
    """`actual` has every key of `example` and no other, each of the same JSON type, at every
    depth (arrays: each element against one of the example's elements). A path in `nullable`
    (like "$.data.timing.completed_at", without array indexes) may be null where the example
    has a value, or the reverse."""
    if _INDEX.sub("", path) in nullable and (actual is None or example is None):
        return
    assert kind(actual) == kind(example), (
        f"{path}: {kind(actual)} where the example has {kind(example)}"
    )
    if isinstance(example, dict):
        assert set(actual) == set(example), (
            f"{path}: keys {sorted(actual)} where the example has {sorted(example)}"
        )
        for key, value in example.items():
            assert_shape(actual[key], value, f"{path}.{key}", nullable)
    elif isinstance(example, list) and example and actual:
        for index, item in enumerate(actual):
            _one_of(item, example, f"{path}[{index}]", nullable)


def _one_of(item: Any, examples: list[Any], path: str, nullable: frozenset[str]) -> None:
    """An array's element matches the shape of one of the example's elements (a document may
    show a completed item and a failed one with an `error`)."""
    failures = []
    for example in examples:
        try:
            assert_shape(item, example, path, nullable)
        except AssertionError as exc:
            failures.append(str(exc))
        else:
            return
    raise AssertionError(" / ".join(failures))
