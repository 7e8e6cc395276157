"""`joblane batch submit FILE [--wait]`, `batch status | results | pause | resume | cancel |
retry-failed ID`: clients of the HTTP API, through `joblane.Client`."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from joblane.cli import progress
from joblane.cli.remote import (
    EXIT_CANCELLED,
    EXIT_CODES,
    EXIT_FAILED,
    EXIT_OK,
    Remote,
    remote_command,
)
from joblane.client import Batch


@click.group()
def batch() -> None:
    """Submit batches and follow them."""


def dump(body: Batch) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude_unset=True)


def outcome(body: Batch) -> int:
    """0 only if every item completed; 4 for a cancelled batch; 3 otherwise."""
    if body.status == "cancelled":
        return EXIT_CANCELLED
    p = body.progress
    if body.status == "completed" and not p.failed and not p.cancelled:
        return EXIT_OK
    return EXIT_FAILED


@batch.command(epilog=EXIT_CODES)
@click.argument("items", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--name", help="a name to find the batch by")
@click.option("--max-concurrent", type=int, help="items of this batch running at once")
@click.option("--priority", type=int, help="priority of every item")
@click.option("--timeout", type=float, help="seconds; unfinished items are then cancelled")
@click.option("--wait", is_flag=True, help="follow the batch to its end with a progress bar")
@click.option("--wait-timeout", type=click.FloatRange(min=0), help="seconds to wait (exit 5)")
@remote_command
def submit(remote: Remote, items: str, wait: bool, wait_timeout: float | None,
           **options: Any) -> None:  # fmt: skip
    """Submit ITEMS (a JSONL file, one {type, input, metadata?} per line; - for stdin),
    streamed as it is read.

    With --wait, exits 0 only if every item completed."""
    source = sys.stdin.buffer if items == "-" else items
    with remote.client() as client:
        body = client.submit_batch(source, **options)
        if not remote.as_json:
            click.echo(f"{body.id} accepted: {body.progress.total} items")
        if not wait:
            if remote.as_json:
                remote.emit(dump(body))
            return
        with progress.view(not remote.as_json) as shown:
            shown.update(body)
            body = client.wait_batch(body, timeout=wait_timeout, on_progress=shown.update)
    show(remote, body)
    raise click.exceptions.Exit(outcome(body))


@batch.command(epilog=EXIT_CODES)
@click.argument("batch_id")
@remote_command
def status(remote: Remote, batch_id: str) -> None:
    """Show a batch: status, counts, timing and errors."""
    with remote.client() as client:
        show(remote, client.get_batch(batch_id))


@batch.command(epilog=EXIT_CODES)
@click.argument("batch_id")
@remote_command
def results(remote: Remote, batch_id: str) -> None:
    """Print the batch's results as JSONL: one line per item (id, status, result or error)."""
    with remote.client() as client:
        for line in client.iter_results(batch_id):
            click.echo(json.dumps(line.model_dump(mode="json", exclude_unset=True)))


def _action(name: str, summary: str) -> None:
    @batch.command(name, help=summary, epilog=EXIT_CODES)
    @click.argument("batch_id")
    @remote_command
    def command(remote: Remote, batch_id: str) -> None:
        with remote.client() as client:
            method = {
                "pause": client.pause_batch,
                "resume": client.resume_batch,
                "cancel": client.cancel_batch,
                "retry-failed": client.retry_failed,
            }[name]
            body = method(batch_id)
        if remote.as_json:
            remote.emit(dump(body))
        else:
            click.echo(f"{body.id}: {body.status}")


_action("pause", "Pause a batch: running items finish, no new ones start.")
_action("resume", "Resume a paused batch.")
_action("cancel", "Cancel a batch: unfinished items are cancelled.")
_action("retry-failed", "Queue a batch's failed items again.")


def show(remote: Remote, body: Batch) -> None:
    if remote.as_json:
        remote.emit(dump(body))
        return
    p, t = body.progress, body.timing
    name = f" ({body.name})" if body.name else ""
    click.echo(f"{body.id}{name}: {body.status}  {p.percentage:.1f}%")
    click.echo(
        f"  total {p.total}  completed {p.completed}  failed {p.failed}  "
        f"cancelled {p.cancelled}  pending {p.pending}  processing {p.processing}"
    )
    average = t.average_item_time
    shown = "-" if average is None else f"{average}s"
    click.echo(f"  elapsed {t.elapsed_time:.1f}s  average item {shown}")
    if t.estimated_completion:
        click.echo(f"  estimated completion {t.estimated_completion.isoformat()}")
    if body.status_reason:
        click.echo(f"  reason: {body.status_reason}")
    for group in body.error_summary or []:
        click.echo(f"  {group.count} x {group.error_type}: {group.resolution or ''}")
