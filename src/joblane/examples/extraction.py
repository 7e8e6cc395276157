"""`extraction`: pulls invoice number, total, currency, vendor and date out of invoice text."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from joblane.core.errors import JobError
from joblane.worker.context import JobContext

UNREADABLE_DOCUMENT = "UNREADABLE_DOCUMENT"
RESOLUTIONS = {
    UNREADABLE_DOCUMENT: "Send the invoice as text (run OCR on scans first); it needs at least "
    "an invoice number, a total or a date.",
}
# How much each field counts towards the overall confidence.
WEIGHTS = {
    "invoice_number": 0.25,
    "total_amount": 0.3,
    "currency": 0.1,
    "vendor": 0.15,
    "date": 0.2,
}
KEY_FIELDS = ("invoice_number", "total_amount", "date")
STEPS = 6
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

T = TypeVar("T")

SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
CODES = "USD|EUR|GBP|JPY|CHF|CAD|AUD|NZD|SEK|NOK|DKK|PLN|CZK|INR|CNY|SGD|HKD|ZAR|MXN|BRL"
_CURRENCY = rf"[$€£¥]|(?-i:\b(?:{CODES})\b)"
_NUMBER = r"\d{1,3}(?:[,.'\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_MONEY = (
    rf"(?P<pre>{_CURRENCY})?[ \t]?(?P<number>{_NUMBER})(?![\d%])"
    rf"(?:[ \t]?(?P<post>{_CURRENCY}))?"
)
_TOTAL = re.compile(
    r"\b(?P<label>grand\s+total|total\s+(?:amount\s+)?due|amount\s+due|balance\s+due"
    rf"|invoice\s+total|total\s+amount|total)\b(?P<gap>[^\d\n$€£¥]{{0,25}}?){_MONEY}",
    re.IGNORECASE,
)
_ANY_MONEY = re.compile(_MONEY)
_INVOICE_NUMBER = re.compile(
    r"\b(?:invoice|inv|bill)\b\.?[ \t]*(?P<label>no\b\.?|number|num\b\.?|nr\b\.?|id\b|#)?"
    r"[ \t]*(?P<colon>[:#]\s*)?(?P<value>(?=[\w\-/.]*\d)[A-Z0-9](?:[\w\-/.]*[A-Z0-9])?)",
    re.IGNORECASE,
)
_BARE_INVOICE_NUMBER = re.compile(r"\bINV[-/]?\d[\w\-/]*", re.IGNORECASE)
_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DATE = re.compile(
    r"\b(?:(?P<iso_y>\d{4})-(?P<iso_m>\d{1,2})-(?P<iso_d>\d{1,2})"
    r"|(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<num_y>\d{4})"
    rf"|(?P<md_m>{_MONTH})\.?\s+(?P<md_d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<md_y>\d{{4}})"
    rf"|(?P<dm_d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<dm_m>{_MONTH})\.?,?\s+(?P<dm_y>\d{{4}}))\b",
    re.IGNORECASE,
)
_VENDOR_LABEL = re.compile(
    r"^[ \t]*(?:from|vendor|seller|supplier|billed\s+by|issued\s+by)[ \t]*:[ \t]*(?P<value>\S.*)$",
    re.IGNORECASE | re.MULTILINE,
)
_COMPANY = re.compile(
    r"(?P<name>[A-Z0-9&À-Ý][\w&'.-]*(?:[ \t]+[A-Z0-9&À-Ý][\w&'.-]*){0,4}),?[ \t]+"
    r"(?i:ltd|limited|llc|inc|incorporated|gmbh|ag|plc|corp|pty|sas|sarl|bv|s\.a|b\.v)\.?(?!\w)"
)
_RECIPIENT = re.compile(
    r"^\s*(?:bill(?:ed)?\s+to|ship\s+to|sold\s+to|to|customer|client)\b\s*:?", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Found(Generic[T]):
    value: T
    confidence: float


class ExtractionInput(BaseModel):
    text: str = Field(max_length=2_000_000, description="The invoice as plain text.")


class FieldConfidence(BaseModel):
    invoice_number: float
    total_amount: float
    currency: float
    vendor: float
    date: float


class ExtractionOutput(BaseModel):
    invoice_number: str | None
    total_amount: float | None
    currency: str | None = Field(description="ISO 4217 code.")
    vendor: str | None
    date: dt.date | None = Field(description="The invoice (issue) date.")
    confidence: float = Field(ge=0, le=1)
    field_confidence: FieldConfidence


def extraction(inp: ExtractionInput, ctx: JobContext) -> ExtractionOutput:
    """Extract invoice number, total, currency, vendor and date from invoice text."""
    ctx.progress(processed=0, total=STEPS, message="checking the text")
    text = inp.text
    _check_readable(text)
    ctx.progress(processed=1, message="finding the invoice number")
    found: dict[str, Found[Any] | None] = {"invoice_number": invoice_number(text)}
    ctx.progress(processed=2, message="finding the total")
    money = total(text)
    found["total_amount"] = Found(money.value.amount, money.confidence) if money else None
    ctx.progress(processed=3, message="finding the currency")
    found["currency"] = currency(text, money.value.marker if money else None)
    ctx.progress(processed=4, message="finding the vendor")
    found["vendor"] = vendor(text)
    ctx.progress(processed=5, message="finding the date")
    found["date"] = invoice_date(text)
    if all(found[name] is None for name in KEY_FIELDS):
        raise _unreadable("no_key_fields", text, "no invoice number, total or date found")
    ctx.progress(processed=STEPS, message="done")
    return _output(found)


def _check_readable(text: str) -> None:
    if not text.strip():
        raise _unreadable("empty", text, "the document is empty")
    if not any(char.isalpha() for char in text):
        raise _unreadable("no_letters", text, "the document contains no letters")


def _unreadable(reason: str, text: str, problem: str) -> JobError:
    step = "field_extraction" if reason == "no_key_fields" else "text_extraction"
    return JobError(
        UNREADABLE_DOCUMENT,
        f"cannot read the invoice: {problem}",
        details={
            "reason": reason,
            "step": step,  # where it stopped: reading the text, or finding the fields in it
            "characters": len(text),
            "looked_for": list(KEY_FIELDS),
        },
        resolution=RESOLUTIONS[UNREADABLE_DOCUMENT],
    )


def _output(found: dict[str, Found[Any] | None]) -> ExtractionOutput:
    confidences = {name: item.confidence if item else 0.0 for name, item in found.items()}
    overall = sum(WEIGHTS[name] * confidence for name, confidence in confidences.items())
    return ExtractionOutput.model_validate(
        {name: item.value if item else None for name, item in found.items()}
        | {"confidence": round(overall, 2), "field_confidence": confidences}
    )


def invoice_number(text: str) -> Found[str] | None:
    for match in _INVOICE_NUMBER.finditer(text):
        if not _DATE.fullmatch(match["value"]):
            labelled = match["label"] or match["colon"]
            return Found(match["value"], 0.95 if labelled else 0.8)
    bare = _BARE_INVOICE_NUMBER.search(text)
    return Found(bare.group(), 0.7) if bare else None


@dataclass(frozen=True, slots=True)
class Money:
    amount: float
    marker: str | None  # the currency symbol or code written next to the amount


def total(text: str) -> Found[Money] | None:
    best: tuple[int, Found[Money]] | None = None
    for match in _TOTAL.finditer(text):
        if _is_subtotal_or_tax(text, match):
            continue
        priority = 1 if match["label"].lower() == "total" else 2
        if best is None or priority >= best[0]:  # the last of the most specific labels wins
            best = (priority, Found(_money(match), 0.9 if priority == 1 else 0.95))
    if best:
        return best[1]
    marked = [_money(m) for m in _ANY_MONEY.finditer(text) if m["pre"] or m["post"]]
    return Found(max(marked, key=lambda money: money.amount), 0.5) if marked else None


def _is_subtotal_or_tax(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 4) : match.start()].lower().rstrip(" -")
    return before.endswith("sub") or re.search(r"vat|tax", match["gap"], re.I) is not None


def _money(match: re.Match[str]) -> Money:
    return Money(parse_amount(match["number"]), match["pre"] or match["post"])


def parse_amount(number: str) -> float:
    """`1,234.56`, `1.234,56`, `1'234.56` and `99,00` all read the way their writer meant."""
    digits = re.sub(r"['\u00a0\u202f]", "", number)
    decimal_mark = re.search(r"[.,](\d{1,2})$", digits)
    whole = digits[: decimal_mark.start()] if decimal_mark else digits
    cents = f".{decimal_mark[1]}" if decimal_mark else ""
    return float(re.sub(r"[.,]", "", whole) + cents)


def currency(text: str, marker: str | None) -> Found[str] | None:
    """From the marker next to the total, else the first currency mentioned anywhere."""
    if marker:
        return Found(SYMBOLS.get(marker, marker), 0.8 if marker == "$" else 0.95)
    anywhere = re.search(_CURRENCY, text)
    return Found(SYMBOLS.get(anywhere.group(), anywhere.group()), 0.6) if anywhere else None


def invoice_date(text: str) -> Found[dt.date] | None:
    candidates = sorted(_dates(text), key=lambda item: item[0])
    return candidates[0][1] if candidates else None


def _dates(text: str) -> Iterator[tuple[int, Found[dt.date]]]:
    """(rank, date) for every date: labelled issue dates rank first, due dates last."""
    for match in _DATE.finditer(text):
        parsed = _parse_date(match)
        if parsed is None:
            continue
        value, ambiguous = parsed
        line_start = text.rfind("\n", 0, match.start()) + 1
        label = text[max(line_start, match.start() - 40) : match.start()].lower()
        rank, confidence = _rank(label)
        yield rank, Found(value, round(confidence * (0.8 if ambiguous else 1.0), 2))


def _rank(label: str) -> tuple[int, float]:
    if "due" in label:
        return 2, 0.4
    return (0, 0.95) if "date" in label or "issued" in label else (1, 0.7)


def _parse_date(match: re.Match[str]) -> tuple[dt.date, bool] | None:
    """The date and whether day and month could have been swapped (03/04/2024)."""
    ambiguous = False
    if match["iso_y"]:
        year, month, day = int(match["iso_y"]), int(match["iso_m"]), int(match["iso_d"])
    elif match["num_y"]:
        first, second, year = int(match["a"]), int(match["b"]), int(match["num_y"])
        # Day first unless that is impossible: the form most of the world writes.
        day, month = (second, first) if second > 12 >= first else (first, second)
        ambiguous = first <= 12 and second <= 12 and first != second
    elif match["md_y"]:
        year, month, day = int(match["md_y"]), _month(match["md_m"]), int(match["md_d"])
    else:
        year, month, day = int(match["dm_y"]), _month(match["dm_m"]), int(match["dm_d"])
    try:
        return dt.date(year, month, day), ambiguous
    except ValueError:
        return None


def _month(name: str) -> int:
    return MONTHS.index(name[:3].lower()) + 1


def vendor(text: str) -> Found[str] | None:
    labelled = _VENDOR_LABEL.search(text)
    if labelled:
        value = labelled["value"]
        company = _COMPANY.search(value)
        return Found(_tidy(company.group() if company else value.split(",")[0]), 0.9)
    for line in _sender_lines(text):
        company = _COMPANY.search(line)
        if company:
            return Found(_tidy(company.group()), 0.8)
    first = next((line for line in _sender_lines(text) if _could_be_name(line)), None)
    return Found(_tidy(first), 0.4) if first else None


def _sender_lines(text: str) -> Iterator[str]:
    """Lines that are not part of a "Bill to:" block (the customer, not the vendor)."""
    in_recipient_block = False
    for line in text.splitlines():
        label = _RECIPIENT.match(line)
        if label:
            in_recipient_block = not line[label.end() :].strip()
        elif not line.strip():
            in_recipient_block = False
        elif not in_recipient_block:
            yield line


def _could_be_name(line: str) -> bool:
    stripped = line.strip()
    return (
        bool(re.search(r"[^\W\d_]{2}", stripped))
        and ":" not in stripped
        and not re.match(r"(?:tax\s+)?invoice\b", stripped, re.IGNORECASE)
        and len(stripped) <= 60
    )


def _tidy(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip(" \t,;-")[:120]
