"""`joblane submit | status | wait | cancel | retry | result` and `joblane jobs list`:
clients of the HTTP API, through `joblane.Client`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from joblane.cli import progress
from joblane.cli.remote import EXIT_CODES, Remote, remote_command
from joblane.client import Client, Job

WAIT_TIMEOUT = click.option(
    "--timeout",
    "wait_timeout",
    type=click.FloatRange(min=0),
    help="give up waiting after this many seconds (exit 5)",
)


HINT = "--input"


def parse_input(value: str) -> dict[str, Any]:
    """`--input`: a JSON object, `@file.json`, or `-` / `@-` for stdin."""
    try:
        if value in ("-", "@-"):
            text = sys.stdin.read()
        elif value.startswith("@"):
            text = Path(value[1:]).read_text()
        else:
            text = value
    except OSError as exc:
        raise click.BadParameter(
            f"cannot read {value[1:]}: {exc.strerror}", param_hint=HINT
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint=HINT) from None
    if not isinstance(data, dict):
        raise click.BadParameter("must be a JSON object", param_hint=HINT)
    return data


def parse_pairs(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    parsed = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"'{pair}': use KEY=VALUE", param_hint=option)
        parsed[key] = value
    return parsed


def dump(job: Job) -> dict[str, Any]:
    return job.model_dump(mode="json", exclude_unset=True)


def follow(client: Client, remote: Remote, job: Job, timeout: float | None) -> Job:
    """Wait for `job` with a live bar, then print its result (or the job with --json)."""
    with progress.view(not remote.as_json) as shown:
        shown.update(job)
        done = client.wait(job, timeout=timeout, on_progress=shown.update)
    if remote.as_json:
        remote.emit(dump(done))
    elif isinstance(done.result, bytes):
        sys.stdout.buffer.write(done.result)
    else:
        click.echo(json.dumps(done.result, ensure_ascii=False))
    return done


@click.command(epilog=EXIT_CODES)
@click.argument("job_type", metavar="TYPE")
@click.option("--input", "input_", required=True, help="JSON object, @file.json, or - (stdin)")
@click.option("--metadata", "-m", multiple=True, metavar="KEY=VALUE", help="repeatable")
@click.option("--priority", type=int)
@click.option("--max-attempts", type=int)
@click.option("--timeout", "job_timeout", type=float, help="seconds the handler may run")
@click.option("--run-at", help="RFC 3339 time to run no earlier than")
@click.option("--idempotency-key", help="the same key returns the same job (24 h)")
@click.option("--wait", is_flag=True, help="follow the job with a progress bar; print its result")
@click.option("--wait-timeout", type=click.FloatRange(min=0), help="seconds to wait (exit 5)")
@remote_command
def submit(remote: Remote, job_type: str, input_: str, metadata: tuple[str, ...],
           job_timeout: float | None, wait: bool, wait_timeout: float | None,
           **options: Any) -> None:  # fmt: skip
    """Submit a job of TYPE; print its id (with --wait: its result)."""
    payload = parse_input(input_)
    with remote.client() as client:
        job = client.submit(
            job_type,
            payload,
            metadata=parse_pairs(metadata, "--metadata"),
            timeout=job_timeout,
            **options,
        )
        if wait:
            follow(client, remote, job, wait_timeout)
        elif remote.as_json:
            remote.emit(dump(job))
        else:
            click.echo(job.id)


@click.command(epilog=EXIT_CODES)
@click.argument("job_id")
@WAIT_TIMEOUT
@remote_command
def wait(remote: Remote, job_id: str, wait_timeout: float | None) -> None:
    """Follow a job to its end with a progress bar, then print its result."""
    with remote.client() as client:
        follow(client, remote, client.get(job_id), wait_timeout)


@click.command(epilog=EXIT_CODES)
@click.argument("job_id")
@remote_command
def status(remote: Remote, job_id: str) -> None:
    """Show a job: status, progress, attempts, result or error."""
    with remote.client() as client:
        job = client.get(job_id)
    if remote.as_json:
        remote.emit(dump(job))
        return
    show_job(job)


@click.command(epilog=EXIT_CODES)
@click.argument("job_id")
@click.option("--reason", help="recorded with the cancellation")
@remote_command
def cancel(remote: Remote, job_id: str, reason: str | None) -> None:
    """Cancel a job (a running one stops at its handler's next check)."""
    with remote.client() as client:
        job = client.cancel(job_id, reason)
    if remote.as_json:
        remote.emit(dump(job))
    elif job.status == "cancelled":
        click.echo(f"{job.id} cancelled")
    else:
        click.echo(f"{job.id} cancel requested ({job.status}); it stops at its next check")


@click.command(epilog=EXIT_CODES)
@click.argument("job_id")
@remote_command
def retry(remote: Remote, job_id: str) -> None:
    """Queue a failed or cancelled job again as a new attempt."""
    with remote.client() as client:
        job = client.retry(job_id)
    if remote.as_json:
        remote.emit(dump(job))
    else:
        click.echo(f"{job.id} {job.status} (attempt {job.attempt} of {job.max_attempts})")


@click.command(epilog=EXIT_CODES)
@click.argument("job_id")
@remote_command
def result(remote: Remote, job_id: str) -> None:
    """Print a completed job's result (JSON)."""
    with remote.client() as client:
        value = client.result(job_id)
    if isinstance(value, bytes):
        sys.stdout.buffer.write(value)
    else:
        click.echo(json.dumps(value, ensure_ascii=False))


@click.group()
def jobs() -> None:
    """List jobs."""


@jobs.command("list", epilog=EXIT_CODES)
@click.option("--status", "statuses", multiple=True, help="queued, running, completed, …")
@click.option("--type", "types", multiple=True, help="job type (repeatable)")
@click.option("--batch", "batch_id", help="only the items of this batch")
@click.option("--metadata", "-m", multiple=True, metavar="KEY=VALUE", help="repeatable")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--cursor", help="next_cursor of a previous page")
@remote_command
def list_jobs(remote: Remote, statuses: tuple[str, ...], types: tuple[str, ...],
              batch_id: str | None, metadata: tuple[str, ...], limit: int,
              cursor: str | None) -> None:  # fmt: skip
    """List jobs, newest first."""
    with remote.client() as client:
        page = client.list(
            status=statuses or None,
            type=types or None,
            batch_id=batch_id,
            metadata=parse_pairs(metadata, "--metadata"),
            limit=limit,
            cursor=cursor,
        )
    if remote.as_json:
        remote.emit({"data": [dump(job) for job in page.data], "next_cursor": page.next_cursor})
        return
    for job in page.data:
        created = job.created_at.strftime("%Y-%m-%d %H:%M:%S") if job.created_at else "-"
        shown = "" if job.progress.percentage is None else f"{job.progress.percentage:.0f}%"
        click.echo(f"{job.id}  {job.type:<16} {job.status:<10} {shown:>4}  {created}")
    if page.next_cursor:
        click.echo(f"(more: --cursor {page.next_cursor})", err=True)


def show_job(job: Job) -> None:
    p = job.progress
    percentage = "" if p.percentage is None else f"  {p.percentage:.1f}%"
    click.echo(f"{job.id} {job.type}: {job.status}{percentage}")
    items = f"{p.processed}/{p.total}" if p.total else str(p.processed)
    message = f"  {p.message}" if p.message else ""
    click.echo(f"  attempt {job.attempt} of {job.max_attempts}  processed {items}{message}")
    if job.waiting_reason:
        click.echo(f"  waiting: {job.waiting_reason}")
    if job.estimated_completion:
        click.echo(f"  estimated completion {job.estimated_completion.isoformat()}")
    if job.cancel_requested or job.cancel_reason:
        click.echo(f"  cancel requested: {job.cancel_reason or '(no reason)'}")
    if job.error:
        e = job.error
        retry = " (retryable)" if e.retryable else ""
        click.echo(f"  error {e.code}{retry}: {e.message}")
        if e.resolution:
            click.echo(f"  resolution: {e.resolution}")
    if job.status == "completed":
        click.echo(f"  result: {json.dumps(job.result, ensure_ascii=False)}")
