"""Reading the text out of a file: plain text, PDF (text operators of its content streams) and
DOCX (the paragraphs of word/document.xml). Each reader raises `Unreadable` on a damaged file."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from xml.etree import ElementTree


class Unreadable(Exception):
    """The file claims a format its bytes do not have (truncated, damaged, mislabelled)."""


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    pages: int | None  # None: the format has no pages (plain text, DOCX)


_STREAM = re.compile(rb"<<(?P<dict>.*?)>>\s*stream\r?\n(?P<data>.*?)\r?\nendstream", re.DOTALL)
_SHOW = re.compile(rb"\((?P<text>(?:[^()\\]|\\.)*)\)\s*Tj|\[(?P<array>[^\]]*)\]\s*TJ|\bET\b")
_ARRAY_STRING = re.compile(rb"\(((?:[^()\\]|\\.)*)\)")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"(": b"(", b")": b")", b"\\": b"\\"}
_PAGE = re.compile(rb"/Type\s*/Page\b")
_WORD_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_INFLATED = 50 * 1024 * 1024  # a few compressed bytes must not become gigabytes


def read_text(data: bytes) -> Extracted:
    try:
        return Extracted(data.decode("utf-8"), None)
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 text (byte {exc.start})") from exc


def read_pdf(data: bytes) -> Extracted:
    if not data.startswith(b"%PDF-"):
        raise Unreadable("the %PDF- header is missing")
    if b"%%EOF" not in data[-1024:]:
        raise Unreadable("the file is truncated (no %%EOF trailer)")
    lines = [line for stream in _content_streams(data) for line in _shown_text(stream)]
    return Extracted("\n".join(lines), len(_PAGE.findall(data)))


def _content_streams(data: bytes) -> Iterator[bytes]:
    for match in _STREAM.finditer(data):
        stream = match["data"]
        if b"/FlateDecode" in match["dict"]:
            stream = _inflate(stream)
        yield stream


def _inflate(stream: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(stream, MAX_INFLATED)
    except zlib.error as exc:
        raise Unreadable("a compressed content stream is damaged") from exc
    if inflater.unconsumed_tail:
        raise Unreadable(f"a content stream inflates to more than {MAX_INFLATED} bytes")
    return data


def _shown_text(stream: bytes) -> Iterator[str]:
    """The strings of `Tj` and `TJ` operators; each text object (`BT … ET`) is one line."""
    line: list[bytes] = []
    for match in _SHOW.finditer(stream):
        if match["text"] is not None:
            line.append(_unescape(match["text"]))
        elif match["array"] is not None:
            line.extend(_unescape(part) for part in _ARRAY_STRING.findall(match["array"]))
        elif line:
            yield b"".join(line).decode("latin-1").strip()
            line = []


def _unescape(text: bytes) -> bytes:
    return re.sub(rb"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), text)


def read_docx(data: bytes) -> Extracted:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if archive.getinfo("word/document.xml").file_size > MAX_INFLATED:
                raise Unreadable(f"word/document.xml is larger than {MAX_INFLATED} bytes")
            document = archive.read("word/document.xml")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise Unreadable("not a DOCX archive (word/document.xml is missing)") from exc
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError as exc:
        raise Unreadable(f"word/document.xml is damaged ({exc})") from exc
    paragraphs = (
        "".join(node.text or "" for node in paragraph.iter(f"{_WORD_NS}t"))
        for paragraph in root.iter(f"{_WORD_NS}p")
    )
    return Extracted("\n".join(paragraphs), None)


READERS: dict[str, Callable[[bytes], Extracted]] = {
    ".pdf": read_pdf,
    ".txt": read_text,
    ".docx": read_docx,
}
