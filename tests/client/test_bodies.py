"""Batch bodies are streams: JSONL chunks encoded as the upload goes, files read in chunks."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import orjson
import pytest
from pydantic import BaseModel

from joblane.client import bodies


class Item(BaseModel):
    type: str
    input: dict[str, int]
    metadata: dict[str, str] | None = None


def test_items_are_encoded_lazily_a_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bodies, "CHUNK", 100)
    pulled = 0

    def items() -> Iterator[dict[str, object]]:
        nonlocal pulled
        for i in range(50):
            pulled += 1
            yield {"type": "t", "input": {"i": i}}

    chunks = bodies.encode_items(items())
    first = next(chunks)
    assert pulled < 10 and len(first) >= 100  # not the whole body at once
    lines = (first + b"".join(chunks)).splitlines()
    assert [orjson.loads(line)["input"]["i"] for line in lines] == list(range(50))


def test_models_and_mappings_encode_alike() -> None:
    line = bodies.encode_item(Item(type="t", input={"a": 1}))
    assert orjson.loads(line) == {"type": "t", "input": {"a": 1}} and line.endswith(b"\n")


def test_sources_say_whether_they_can_be_sent_again(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(b'{"type": "t", "input": {}}\n' * 3)
    make, replayable = bodies.sync_source(str(path))
    assert replayable and b"".join(make()) == b"".join(make()) == path.read_bytes()
    make, replayable = bodies.sync_source([{"type": "t", "input": {}}])
    assert replayable and b"".join(make()) == b"".join(make())
    make, replayable = bodies.sync_source(iter([{"type": "t", "input": {}}]))
    assert not replayable and b"".join(make())
    with pytest.raises(RuntimeError, match="only once"):
        make()
    make, replayable = bodies.sync_source(io.BytesIO(b"raw\nbytes\n"))
    assert not replayable and b"".join(make()) == b"raw\nbytes\n"
    with pytest.raises(FileNotFoundError, match="no such JSONL file"):
        bodies.sync_source(tmp_path / "missing.jsonl")


async def test_async_sources(tmp_path: Path) -> None:
    async def items() -> AsyncIterator[dict[str, object]]:
        for i in range(3):
            yield {"type": "t", "input": {"i": i}}

    make, replayable = bodies.async_source(items())
    body = b"".join([chunk async for chunk in make()])
    assert not replayable and len(body.splitlines()) == 3
    path = tmp_path / "items.jsonl"
    path.write_bytes(b"x\n" * 1000)
    make, replayable = bodies.async_source(path)
    assert replayable and b"".join([chunk async for chunk in make()]) == path.read_bytes()
