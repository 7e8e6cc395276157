"""The `enrichment` example: categories, merchants, per-item failures, progress, cancellation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from joblane.core.errors import JobCancelled
from joblane.examples import app
from joblane.examples.enrichment import EnrichmentOutput
from joblane.testing import make_context, run_handler
from joblane.worker.context import JobContext

STATEMENT: list[dict[str, Any]] = [
    {"id": "t1", "description": "CARD PAYMENT TO TESCO STORES 3012", "amount": -23.5},
    {"id": "t2", "description": "UBER *EATS HELP.UBER.COM", "amount": -18.2},
    {"id": "t3", "description": "UBER *TRIP", "amount": -9.1, "date": "2024-03-02"},
    {"id": "t4", "description": "NETFLIX.COM", "amount": -10.99},
    {"id": "t5", "description": "SHELL 1234 M25", "amount": -60},
    {"id": "t6", "description": "ACME CORP SALARY MAR", "amount": 2500},
    {"id": "t7", "description": "", "amount": -1},
    {"id": "t8", "description": "0000 #### 1234", "amount": -2},
    {"id": "t9", "description": "SQ *JOE'S PLUMBING 4411", "amount": "-120.00"},
    {"id": "t10", "description": "Sainsbury's Local", "amount": -4.25},
    {"id": "t11", "description": "CAFÉ MÜLLER 22", "amount": -3.5},
]


def enrich(transactions: list[dict[str, Any]], ctx: JobContext | None = None) -> EnrichmentOutput:
    output = run_handler(app, "enrichment", {"transactions": transactions}, ctx)
    assert isinstance(output, EnrichmentOutput)
    return output


def test_categorises_a_statement_and_names_merchants() -> None:
    output = enrich(STATEMENT)

    by_id = {t.id: (t.merchant, t.category, t.confidence) for t in output.transactions}
    assert by_id == {
        "t1": ("Tesco", "groceries", 0.95),
        "t2": ("Uber Eats", "restaurants", 0.95),
        "t3": ("Uber", "transport", 0.95),
        "t4": ("Netflix", "subscriptions", 0.95),
        "t5": ("Shell", "transport", 0.95),
        "t6": ("Acme Corp", "income", 0.75),
        "t9": ("Joes Plumbing", "uncategorised", 0.0),
        "t10": ("Sainsbury's", "groceries", 0.95),
        "t11": ("Café Müller", "restaurants", 0.75),
    }


def test_summary_counts_and_totals_per_category() -> None:
    summary = enrich(STATEMENT).summary

    assert (summary.total, summary.categorised, summary.uncategorised, summary.failed) == (
        11,
        8,
        1,
        2,
    )
    totals = {name: (c.count, c.amount) for name, c in summary.by_category.items()}
    assert totals == {
        "groceries": (2, -27.75),
        "income": (1, 2500.0),
        "restaurants": (2, -21.7),
        "subscriptions": (1, -10.99),
        "transport": (2, -69.1),
        "uncategorised": (1, -120.0),
    }


def test_unusable_descriptions_are_listed_not_fatal() -> None:
    output = enrich(STATEMENT)

    assert [(f.id, f.reason) for f in output.failed] == [
        ("t7", "description is empty"),
        ("t8", "description has no words to categorise by"),
    ]


def test_progress_is_reported_per_transaction_with_failures() -> None:
    ctx = make_context("enrichment", {})
    reported: list[tuple[int | None, int | None]] = []
    record = ctx.progress

    def spy(processed: int | None = None, total: int | None = None, **kwargs: Any) -> None:
        reported.append((processed, kwargs.get("failed")))
        record(processed, total, **kwargs)

    ctx.progress = spy  # type: ignore[method-assign]
    enrich(STATEMENT, ctx)

    per_item = [entry for entry in reported if entry[0] is not None]
    assert per_item == [(i, 0 if i < 7 else 1 if i == 7 else 2) for i in range(12)]
    final = ctx.take_progress()
    assert final is not None
    assert (final.processed, final.total, final.failed) == (11, 11, 2)
    assert final.message == "categorised 8 of 11 transactions"


def test_cancelled_before_the_first_item() -> None:
    ctx = make_context("enrichment", {})
    ctx.request_cancel()

    with pytest.raises(JobCancelled):
        enrich(STATEMENT, ctx)


def test_cancellation_stops_between_items() -> None:
    ctx = make_context("enrichment", {})
    record = ctx.progress

    def cancel_after_three(processed: int | None = None, *args: Any, **kwargs: Any) -> None:
        record(processed, *args, **kwargs)
        if processed == 3:
            ctx.request_cancel()

    ctx.progress = cancel_after_three  # type: ignore[method-assign]
    with pytest.raises(JobCancelled):
        enrich(STATEMENT, ctx)
    progress = ctx.take_progress()
    assert progress is not None
    assert progress.processed == 3


@pytest.mark.parametrize(
    ("transactions", "problem"),
    [
        ([], "at least 1 item"),
        ([{"id": "a", "description": "TESCO", "amount": "twelve"}], "valid number"),
        ([{"id": "a", "description": "TESCO", "amount": "inf"}], "finite number"),
        ([{"id": "a", "description": "TESCO"}], "Field required"),
        (
            [
                {"id": "a", "description": "X", "amount": 1},
                {"id": "a", "description": "Y", "amount": 2},
            ],
            "repeated: ['a']",
        ),
    ],
)
def test_invalid_input_is_rejected(transactions: list[dict[str, Any]], problem: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        enrich(transactions)


def test_at_most_100_000_transactions() -> None:
    too_many = [{"id": str(i), "description": "TESCO", "amount": 1} for i in range(100_001)]

    with pytest.raises(ValidationError, match="at most 100000 items"):
        enrich(too_many)
