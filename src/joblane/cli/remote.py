"""What every command that talks to the API shares: `--url`, `--api-key`, `--json`, and one
way to end: one line on stderr (never a traceback) and an exit code that says what happened.

Exit codes: 0 completed (or done); 1 an error (the API refused, the server is unreachable);
2 bad usage; 3 the job failed (a batch: some items failed, or it failed); 4 cancelled;
5 still unfinished when `--timeout` ran out.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import click

from joblane.client import (
    ApiError,
    Client,
    ClientError,
    JobCancelledError,
    JobFailed,
    TransportError,
    WaitTimeout,
)
from joblane.client.config import DEFAULT_URL

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_FAILED, EXIT_CANCELLED, EXIT_TIMEOUT = 0, 1, 2, 3, 4, 5
EXIT_CODES = (
    "Exit codes: 0 completed; 1 error (API error, server unreachable); 2 bad usage; "
    "3 failed; 4 cancelled; 5 timed out waiting."
)
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Remote:
    url: str
    api_key: str | None
    as_json: bool

    def client(self) -> Client:
        return Client(self.url, self.api_key or "")

    def emit(self, data: Any) -> None:
        """`data` as one JSON document on stdout."""
        click.echo(json.dumps(data, ensure_ascii=False))


def remote_command(fn: F) -> F:
    """Adds `--url`, `--api-key` and `--json`; passes `remote`; reports client errors."""

    @click.option("--json", "as_json", is_flag=True, help="print the API's JSON (for scripts)")
    @click.option("--api-key", envvar="JOBLANE_API_KEY", help="API key (env JOBLANE_API_KEY)")
    @click.option(
        "--url",
        envvar="JOBLANE_URL",
        default=DEFAULT_URL,
        show_default=True,
        help="the Joblane API (env JOBLANE_URL)",
    )
    @functools.wraps(fn)
    def command(url: str, api_key: str | None, as_json: bool, **kwargs: Any) -> Any:
        remote = Remote(url, api_key, as_json)
        with reporting(remote):
            return fn(remote=remote, **kwargs)

    return command  # type: ignore[return-value]


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(code)


@contextlib.contextmanager
def reporting(remote: Remote) -> Iterator[None]:
    try:
        yield
    except ApiError as exc:
        if remote.as_json and exc.body:
            remote.emit(exc.body)
        fail(describe(exc))
    except (JobFailed, JobCancelledError) as exc:
        if remote.as_json:
            remote.emit(exc.job.model_dump(mode="json", exclude_unset=True))
        fail(str(exc), EXIT_FAILED if isinstance(exc, JobFailed) else EXIT_CANCELLED)
    except WaitTimeout as exc:
        if remote.as_json and exc.last is not None:
            remote.emit(exc.last.model_dump(mode="json", exclude_unset=True))
        fail(str(exc), EXIT_TIMEOUT)
    except TransportError as exc:
        fail(f"cannot reach the API: {exc}")
    except ClientError as exc:
        fail(str(exc))
    except OSError as exc:  # a file named on the command line
        fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))


def describe(exc: ApiError) -> str:
    """`404 JOB_NOT_FOUND: Job 'job_…' not found (request req_…)`, with the first fields of
    a validation error."""
    text = f"{exc.status} {exc.code}: {exc.detail}"
    problems = [_field_problem(e) for e in exc.errors[:3]]
    if problems and not any(p in exc.detail for p in problems):
        text += " — " + "; ".join(problems)
    if exc.request_id:
        text += f" (request {exc.request_id})"
    return text


def _field_problem(error: dict[str, Any]) -> str:
    loc = ".".join(str(part) for part in error.get("loc", []))
    return f"{loc}: {error.get('msg', '')}" if loc else str(error.get("msg", ""))
