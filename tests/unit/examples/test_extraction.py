"""The `extraction` example: invoice fields, their confidences and UNREADABLE_DOCUMENT."""

from __future__ import annotations

import datetime as dt

import pytest

from joblane.core.errors import JobError
from joblane.examples import app
from joblane.examples.extraction import ExtractionOutput, parse_amount
from joblane.testing import make_context, run_handler
from joblane.worker.context import JobContext

UK_INVOICE = """Bill To:
Globex Corporation Inc
1 Main Street

ACME Widgets Ltd
12 High Street, London

INVOICE
Invoice No: INV-2024-001
Date: 15/03/2024
Due date: 14/04/2024

Subtotal: £1,000.00
Total VAT: £200.00
Total: £1,200.00
"""

GERMAN_INVOICE = """From: Müller Technik GmbH, Hauptstraße 5, Berlin
Rechnung / Invoice #12345
Invoice Date: March 15, 2024
Total amount due: 1.234,56 €
"""


def extract(text: str, ctx: JobContext | None = None) -> ExtractionOutput:
    output = run_handler(app, "extraction", {"text": text}, ctx)
    assert isinstance(output, ExtractionOutput)
    return output


def unreadable(text: str) -> JobError:
    with pytest.raises(JobError) as caught:
        extract(text)
    assert caught.value.code == "UNREADABLE_DOCUMENT"
    assert caught.value.retryable is False
    assert caught.value.resolution
    return caught.value


def test_uk_invoice() -> None:
    output = extract(UK_INVOICE)

    assert output.invoice_number == "INV-2024-001"
    assert output.total_amount == 1200.0
    assert output.currency == "GBP"
    assert output.vendor == "ACME Widgets Ltd"
    assert output.date == dt.date(2024, 3, 15)
    assert output.field_confidence.model_dump() == {
        "invoice_number": 0.95,
        "total_amount": 0.9,
        "currency": 0.95,
        "vendor": 0.8,
        "date": 0.95,
    }
    assert output.confidence == 0.91


def test_labelled_vendor_and_european_amount() -> None:
    output = extract(GERMAN_INVOICE)

    assert output.invoice_number == "12345"
    assert output.vendor == "Müller Technik GmbH"
    assert output.field_confidence.vendor == 0.9
    assert (output.total_amount, output.currency) == (1234.56, "EUR")
    assert output.date == dt.date(2024, 3, 15)


@pytest.mark.parametrize(
    "line",
    [
        "Date: 2024-03-15",
        "Date: 15/03/2024",
        "Date: 15.03.2024",
        "Date: March 15, 2024",
        "Dated 15th March 2024",
        "Issued: Mar 15 2024",
    ],
)
def test_date_formats(line: str) -> None:
    output = extract(f"Invoice No: 7\n{line}\n")

    assert output.date == dt.date(2024, 3, 15)
    assert output.field_confidence.date == 0.95


def test_ambiguous_day_month_reads_day_first_with_less_confidence() -> None:
    output = extract("Invoice No: 7\nDate: 03/04/2024\n")

    assert output.date == dt.date(2024, 4, 3)
    assert output.field_confidence.date == 0.76


def test_impossible_dates_are_skipped() -> None:
    assert extract("Invoice No: 7\nDate: 31/02/2024\n").date is None


@pytest.mark.parametrize(
    ("line", "amount", "currency"),
    [
        ("Total: $1,234.56", 1234.56, "USD"),
        ("Amount due: EUR 99.00", 99.0, "EUR"),
        ("Grand total 1'250.00 CHF", 1250.0, "CHF"),
        ("TOTAL: ¥12,000", 12000.0, "JPY"),
        ("Balance due: 99,5 €", 99.5, "EUR"),
    ],
)
def test_total_formats(line: str, amount: float, currency: str) -> None:
    output = extract(f"Invoice No: 7\nSubtotal: 1.00\n{line}\n")

    assert (output.total_amount, output.currency) == (amount, currency)


def test_specific_total_label_beats_plain_total() -> None:
    output = extract("Invoice No: 7\nTotal due: 80.00 USD\nTotal: 5.00 USD\n")

    assert output.total_amount == 80.0
    assert output.field_confidence.total_amount == 0.95


def test_unlabelled_amount_is_a_low_confidence_total() -> None:
    output = extract("Invoice No: 7\nConsulting, 3 days ...... EUR 1,500.00\n")

    assert (output.total_amount, output.currency) == (1500.0, "EUR")
    assert output.field_confidence.total_amount == 0.5


def test_absent_fields_are_null_with_zero_confidence() -> None:
    output = extract("Thank you for your order\nInvoice number 2024/77\n")

    assert output.invoice_number == "2024/77"
    assert (output.total_amount, output.currency, output.date) == (None, None, None)
    assert output.vendor == "Thank you for your order"
    assert output.field_confidence.total_amount == 0.0
    assert output.confidence == round(0.25 * 0.95 + 0.15 * 0.4, 2)


def test_bare_invoice_reference() -> None:
    output = extract("Order reference INV-88812 paid 2024-03-15")

    assert output.invoice_number == "INV-88812"
    assert output.field_confidence.invoice_number == 0.7


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("  \n\t ", "empty"),
        ("1234 5678 !!! 99.00", "no_letters"),
        ("Dear Sam, thanks for lunch. See you soon!", "no_key_fields"),
    ],
)
def test_unreadable_documents(text: str, reason: str) -> None:
    error = unreadable(text)

    assert error.details == {
        "reason": reason,
        "step": "field_extraction" if reason == "no_key_fields" else "text_extraction",
        "characters": len(text),
        "looked_for": ["invoice_number", "total_amount", "date"],
    }


def test_progress_reaches_the_last_step() -> None:
    ctx = make_context("extraction", {})
    extract(UK_INVOICE, ctx)

    progress = ctx.take_progress()
    assert progress is not None
    assert (progress.processed, progress.total, progress.message) == (6, 6, "done")


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,234.56", 1234.56), ("1.234,56", 1234.56), ("99", 99.0), ("12,000", 12000.0)],
)
def test_parse_amount(text: str, value: float) -> None:
    assert parse_amount(text) == value


def test_subtotals_and_tax_totals_are_not_the_total() -> None:
    output = extract("Invoice No: 7\nTotal: 120.00 USD\nSub-total: 100.00 USD\nTotal VAT: 20.00\n")

    assert output.total_amount == 120.0


@pytest.mark.parametrize(
    ("line", "vendor"),
    [
        ("Servicios Ibéricos S.A.", "Servicios Ibéricos S.A."),
        ("Thanks from Northwind Traders, Inc. of Seattle", "Northwind Traders, Inc."),
        ("Supplier: Blue Sky Consulting, 4 Elm Road", "Blue Sky Consulting"),
    ],
)
def test_vendor_from_company_suffix_or_label(line: str, vendor: str) -> None:
    assert extract(f"{line}\nInvoice No: 7\n").vendor == vendor
