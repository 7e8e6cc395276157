"""Batch bodies as streams of JSONL chunks: never the whole body in memory.

Items may be a path to a JSONL file or an open binary file (sent as they are, read in chunks:
the server validates every line and names the first bad one), or any iterable of
`{type, input, metadata?}` mappings (or pydantic models), encoded a chunk at a time as the
upload goes. A file or a sequence can be sent again (after a `429`); a one-shot iterator or
generator cannot, so a request made from one is never retried.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from pydantic import BaseModel

CHUNK = 256 * 1024
Item = Mapping[str, Any] | BaseModel
Items = Iterable[Item] | str | os.PathLike[str] | BinaryIO
AsyncItems = Items | AsyncIterable[Item]


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_item(item: Item) -> bytes:
    plain = item.model_dump(mode="json", exclude_none=True) if isinstance(item, BaseModel) else item
    return orjson.dumps(plain, default=_default) + b"\n"


def encode_items(items: Iterable[Item]) -> Iterator[bytes]:
    chunk: list[bytes] = []
    size = 0
    for item in items:
        line = encode_item(item)
        chunk.append(line)
        size += len(line)
        if size >= CHUNK:
            yield b"".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield b"".join(chunk)


def file_chunks(path: str | os.PathLike[str]) -> Iterator[bytes]:
    with open(path, "rb") as stream:
        yield from stream_chunks(stream)


def stream_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


def is_path(items: object) -> bool:
    return isinstance(items, str | os.PathLike)


def sync_source(items: Items) -> tuple[Callable[[], Iterator[bytes]], bool]:
    """A factory of fresh bodies, and whether it can make more than one."""
    if hasattr(items, "read"):  # an open binary file: its bytes as they are, once
        stream: BinaryIO = items  # type: ignore[assignment]
        return _once(lambda: stream_chunks(stream)), False
    if isinstance(items, str | os.PathLike):
        path = Path(items)
        if not path.is_file():
            raise FileNotFoundError(f"no such JSONL file: {path}")
        return (lambda: file_chunks(path)), True
    if isinstance(items, list | tuple):
        sequence = items
        return (lambda: encode_items(sequence)), True
    iterable: Iterable[Item] = items
    return _once(lambda: encode_items(iterable)), False


def _once(make: Callable[[], Iterator[bytes]]) -> Callable[[], Iterator[bytes]]:
    used = False

    def body() -> Iterator[bytes]:
        nonlocal used
        if used:
            raise RuntimeError("a batch body from an iterator can be sent only once")
        used = True
        return make()

    return body


async def aencode_items(items: AsyncIterable[Item]) -> AsyncIterator[bytes]:
    chunk: list[bytes] = []
    size = 0
    async for item in items:
        line = encode_item(item)
        chunk.append(line)
        size += len(line)
        if size >= CHUNK:
            yield b"".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield b"".join(chunk)


async def aiter_sync(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """A sync chunk iterator, each step run off the event loop (file reads, encoding)."""
    done = object()
    while (chunk := await asyncio.to_thread(next, chunks, done)) is not done:
        assert isinstance(chunk, bytes)
        yield chunk


def async_source(items: AsyncItems) -> tuple[Callable[[], AsyncIterator[bytes]], bool]:
    if isinstance(items, AsyncIterable):
        made = False

        def body() -> AsyncIterator[bytes]:
            nonlocal made
            if made:
                raise RuntimeError("a batch body from an async iterator can be sent only once")
            made = True
            return aencode_items(items)

        return body, False
    make, replayable = sync_source(items)
    return (lambda: aiter_sync(make())), replayable
