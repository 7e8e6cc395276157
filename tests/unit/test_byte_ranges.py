"""`Range` header parsing for artifact downloads (RFC 9110 §14): one range, suffixes, open
ranges; several ranges or a malformed header get the whole file; past the end is 416."""

from __future__ import annotations

import pytest

from joblane.api.downloads import ByteRange, Unsatisfiable, requested_range


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-99", 1000, ByteRange(0, 99)),
        ("bytes=0-0", 1000, ByteRange(0, 0)),
        ("bytes=500-", 1000, ByteRange(500, 999)),
        ("bytes=-100", 1000, ByteRange(900, 999)),
        ("bytes=-5000", 1000, ByteRange(0, 999)),  # a suffix longer than the file: all of it
        ("bytes=900-5000", 1000, ByteRange(900, 999)),  # the end clipped
        ("BYTES = 1-2", 1000, ByteRange(1, 2)),
    ],
)
def test_one_range(header: str, size: int, expected: ByteRange) -> None:
    assert requested_range(header, size) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "bytes=0-1,5-6",
        "items=0-1",
        "bytes=5-1",
        "bytes=a-b",
        "bytes=-",
        "bytes=1",
        "bytes=²-3",
        "bytes=0-99999999999999999999999",
    ],
)
def test_the_whole_file(header: str | None) -> None:
    assert requested_range(header, 1000) is None


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=1000-", 1000),
        ("bytes=1000-1001", 1000),
        ("bytes=-0", 1000),
        ("bytes=0-", 0),
        ("bytes=-1", 0),
    ],
)
def test_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        requested_range(header, size)


def test_length() -> None:
    assert ByteRange(10, 19).length == 10
