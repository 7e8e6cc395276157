"""Live progress of a job or a batch on stderr: a rich bar on a terminal (percentage, items
done of total, the server's ETA), plain lines anywhere else (logs, CI, pipes)."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from types import TracebackType
from typing import TextIO

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
)
from rich.text import Text

from joblane.client import Batch, Job

LINE_INTERVAL = 0.5  # seconds between two plain lines (a change of status always prints)


def counts(item: Job | Batch) -> tuple[float | None, float, float | None]:
    """(total, done, percentage) for the bar: items when the total is known, else percent."""
    if isinstance(item, Batch):
        p = item.progress
        return float(p.total), float(p.finished), p.percentage
    progress = item.progress
    percentage = 100.0 if item.status == "completed" else progress.percentage
    if progress.total:
        done = progress.total if item.status == "completed" else progress.processed
        return float(progress.total), float(done), percentage
    if percentage is not None:
        return 100.0, percentage, percentage
    return None, 0.0, None


def eta_of(item: Job | Batch) -> datetime | None:
    return item.estimated_completion if isinstance(item, Job) else item.timing.estimated_completion


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds + 0.5))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def describe(item: Job | Batch) -> str:
    if isinstance(item, Batch):
        p = item.progress
        extra = f" failed {p.failed}" if p.failed else ""
        return f"{item.id} {item.status}{extra}"
    message = f" {item.progress.message}" if item.progress.message else ""
    return f"{item.id} {item.status}{message}"


class EtaColumn(ProgressColumn):
    """The server's estimate when it has one, else rich's own from the rate seen here."""

    def render(self, task: Task) -> Text:
        eta = task.fields.get("eta")
        if isinstance(eta, datetime):
            left = (eta - datetime.now(UTC)).total_seconds()
            return Text(f"ETA {clock(left)}", style="progress.remaining")
        if task.finished:
            return Text("done", style="progress.remaining")
        left_estimate = task.time_remaining
        shown = clock(left_estimate) if left_estimate is not None else "-:--:--"
        return Text(f"ETA {shown}", style="progress.remaining")


class ItemsColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        items = task.fields.get("items")
        return Text(str(items or ""), style="progress.download")


class BarView:
    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            ItemsColumn(),
            EtaColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> BarView:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.stop()

    def update(self, item: Job | Batch) -> None:
        total, done, _ = counts(item)
        items, eta = _items(item), eta_of(item)
        if self.task is None:
            self.task = self.progress.add_task(describe(item), total=total, items=items, eta=eta)
        self.progress.update(
            self.task, description=describe(item), total=total, completed=done, items=items, eta=eta
        )


class LineView:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.last_status = ""
        self.last_at = 0.0

    def __enter__(self) -> LineView:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def update(self, item: Job | Batch) -> None:
        now = time.monotonic()
        recent = item.status == self.last_status and now - self.last_at < LINE_INTERVAL
        if recent and not item.terminal:
            return
        self.last_status, self.last_at = item.status, now
        _, _, percentage = counts(item)
        parts = [describe(item)]
        if percentage is not None:
            parts.append(f"{percentage:.0f}%")
        if items := _items(item):
            parts.append(items)
        if (eta := eta_of(item)) is not None and not item.terminal:
            parts.append(f"ETA {clock((eta - datetime.now(UTC)).total_seconds())}")
        click.echo("  ".join(parts), err=True, file=self.stream)


class QuietView(LineView):
    def update(self, item: Job | Batch) -> None:
        return None


View = BarView | LineView


def view(enabled: bool) -> View:
    """A bar only when stderr really is a terminal (FORCE_COLOR in a CI log must not make
    rich redraw lines in place)."""
    if not enabled:
        return QuietView()
    if sys.stderr.isatty():
        return BarView(Console(stderr=True))
    return LineView()


def _items(item: Job | Batch) -> str:
    if isinstance(item, Batch):
        return f"{item.progress.finished}/{item.progress.total} items"
    p = item.progress
    if p.total:
        done = p.total if item.status == "completed" else p.processed
        return f"{done}/{p.total}"
    return f"{p.processed}" if p.processed else ""
