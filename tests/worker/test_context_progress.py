"""`JobContext` progress: what the periodic flush takes, and what the outcome carries."""

from __future__ import annotations

from joblane.core.job import Progress
from joblane.testing import make_context


def test_the_outcome_carries_the_last_progress_even_after_a_flush_took_it() -> None:
    """The flush may take the handler's last report and land after the outcome (where the
    state guard drops it): the outcome must still write it."""
    ctx = make_context("sleep", {"seconds": 0})
    ctx.progress(processed=10, total=10, failed=1, message="item 10")

    flushed = ctx.take_progress()

    assert flushed == Progress(10, 10, 1, "item 10")
    assert ctx.take_progress() is None  # nothing new for the next flush
    assert ctx.final_progress() == Progress(10, 10, 1, "item 10")


def test_a_handler_that_never_reported_progress_sends_none_with_its_outcome() -> None:
    ctx = make_context("sleep", {"seconds": 0})

    assert ctx.final_progress() is None
