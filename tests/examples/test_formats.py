"""The documents example's readers: text out of PDF content streams and DOCX paragraphs, and
damaged or oversized files refused as `Unreadable`."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest
from examples.documents import formats
from examples.documents.formats import Unreadable, read_docx, read_pdf, read_text

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def pdf(content: bytes, *, compress: bool = False) -> bytes:
    data = zlib.compress(content) if compress else content
    flate = b" /Filter /FlateDecode" if compress else b""
    stream = b"4 0 obj\n<< /Length %d%s >>\nstream\n%s\nendstream\nendobj\n" % (
        len(data),
        flate,
        data,
    )
    return b"%PDF-1.4\n1 0 obj\n<< /Type /Page >>\nendobj\n" + stream + b"%%EOF\n"


def docx(xml: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", xml)
    return out.getvalue()


@pytest.mark.parametrize("compress", [False, True])
def test_pdf_text_objects_become_lines(compress: bool) -> None:
    content = b"BT (Hello) Tj ( world) Tj ET\nBT [(A) -120 (\\(b\\))] TJ ET\n"

    extracted = read_pdf(pdf(content, compress=compress))

    assert extracted.text == "Hello world\nA(b)"
    assert extracted.pages == 1


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"GIF89a", "header is missing"),
        (pdf(b"BT (x) Tj ET")[:-7], "truncated"),
        (pdf(b"BT (x) Tj ET").replace(b"/Length", b"/Filter /FlateDecode /Length"), "damaged"),
    ],
)
def test_damaged_pdfs_are_unreadable(data: bytes, problem: str) -> None:
    with pytest.raises(Unreadable, match=problem):
        read_pdf(data)


def test_a_pdf_stream_that_inflates_too_far_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "MAX_INFLATED", 1000)

    with pytest.raises(Unreadable, match="inflates to more than 1000 bytes"):
        read_pdf(pdf(b"BT (x) Tj ET" + b" " * 5000, compress=True))


def test_docx_paragraphs_become_lines() -> None:
    xml = f"<w:document {W}><w:body><w:p><w:r><w:t>One</w:t></w:r><w:r><w:t> two</w:t></w:r>"
    xml += "</w:p><w:p><w:r><w:t>Three</w:t></w:r></w:p></w:body></w:document>"

    assert read_docx(docx(xml)).text == "One two\nThree"


def test_an_oversized_docx_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "MAX_INFLATED", 1000)

    with pytest.raises(Unreadable, match="larger than 1000 bytes"):
        read_docx(docx(f"<w:document {W}>{' ' * 5000}</w:document>"))


@pytest.mark.parametrize(
    ("data", "problem"),
    [(b"PK\x03\x04 not really", "not a DOCX"), (docx("<w:document"), "damaged")],
)
def test_damaged_docx_is_unreadable(data: bytes, problem: str) -> None:
    with pytest.raises(Unreadable, match=problem):
        read_docx(data)


def test_text_must_be_utf8() -> None:
    assert read_text("café".encode()).text == "café"
    with pytest.raises(Unreadable, match="not UTF-8"):
        read_text(b"caf\xe9")
