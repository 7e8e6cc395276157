"""`joblane batch submit FILE [--wait]` and `joblane batch status ID`: clients of the HTTP API."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

import click
import httpx

WAIT_SECONDS = 25
TIMEOUT = httpx.Timeout(10.0, read=WAIT_SECONDS + 15.0)


@contextlib.contextmanager
def _client(url: str, api_key: str | None) -> Iterator[httpx.Client]:
    """A client of the API; a transport failure (refused, timed out…) is a one-line error."""
    headers = {"User-Agent": "joblane-cli"}
    if api_key:
        headers["X-API-Key"] = api_key
    try:
        with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=TIMEOUT) as client:
            yield client
    except httpx.HTTPError as exc:
        raise click.ClickException(f"{url}: {type(exc).__name__}: {exc}") from None


def _checked(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            problem = response.json()
            message = f"{problem.get('title')}: {problem.get('detail')}"
        except ValueError:
            message = response.text[:500]
        raise click.ClickException(f"{response.status_code} {message}")
    body: dict[str, Any] = response.json()
    return body


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(256 * 1024):
        yield chunk


def connection_options(fn: Any) -> Any:
    fn = click.option("--api-key", envvar="JOBLANE_API_KEY", help="API key (env JOBLANE_API_KEY)")(
        fn
    )
    return click.option(
        "--url",
        envvar="JOBLANE_URL",
        default="http://127.0.0.1:8000",
        show_default=True,
        help="the Joblane API (env JOBLANE_URL)",
    )(fn)


@click.group()
def batch() -> None:
    """Submit batches and follow them."""


@batch.command()
@click.argument("items", type=click.File("rb"))
@click.option("--name", help="a name to find the batch by")
@click.option("--max-concurrent", type=int, help="items of this batch running at once")
@click.option("--priority", type=int, help="priority of every item")
@click.option("--timeout", type=float, help="seconds; unfinished items are then cancelled")
@click.option("--wait", is_flag=True, help="follow the batch to its end with a progress bar")
@connection_options
def submit(items: BinaryIO, wait: bool, url: str, api_key: str | None, **options: Any) -> None:
    """Submit ITEMS (a JSONL file, one {type, input, metadata?} per line; - for stdin).

    With --wait, exits 0 only if every item completed."""
    params = {k: v for k, v in options.items() if v is not None}
    with _client(url, api_key) as client:
        response = client.post(
            "/v1/batches",
            params=params,
            content=_chunks(items),
            headers={"Content-Type": "application/x-ndjson"},
        )
        body = _checked(response)
        click.echo(f"{body['id']} accepted: {body['progress']['total']} items")
        if wait:
            body = _follow(client, body)
            _print_status(body)
            sys.exit(0 if body["status"] == "completed" and not _unsuccessful(body) else 1)


@batch.command()
@click.argument("batch_id")
@click.option("--json", "as_json", is_flag=True, help="print the API's JSON")
@connection_options
def status(batch_id: str, as_json: bool, url: str, api_key: str | None) -> None:
    """Show a batch: status, counts, timing and errors."""
    with _client(url, api_key) as client:
        response = client.get(f"/v1/batches/{batch_id}")
        if as_json:
            click.echo(response.text)
            _checked(response)
            return
        _print_status(_checked(response))


def _follow(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    total = body["progress"]["total"]
    with click.progressbar(length=total, label="items", show_pos=True, file=sys.stderr) as bar:
        done = 0
        while body["status"] not in ("completed", "failed", "cancelled"):
            response = client.get(
                f"/v1/batches/{body['id']}",
                params={"metrics_only": "true"},
                headers={"Prefer": f"wait={WAIT_SECONDS}", "If-None-Match": f'"{body["version"]}"'},
            )
            if response.status_code != 304:
                body = _checked(response)
            finished = total - body["progress"]["pending"] - body["progress"]["processing"]
            bar.update(finished - done)
            done = finished
    return _checked(client.get(f"/v1/batches/{body['id']}"))


def _unsuccessful(body: dict[str, Any]) -> int:
    progress = body["progress"]
    return int(progress["failed"]) + int(progress["cancelled"])


def _print_status(body: dict[str, Any]) -> None:
    p, t = body["progress"], body["timing"]
    name = f" ({body['name']})" if body.get("name") else ""
    click.echo(f"{body['id']}{name}: {body['status']}  {p['percentage']:.1f}%")
    click.echo(
        f"  total {p['total']}  completed {p['completed']}  failed {p['failed']}  "
        f"cancelled {p['cancelled']}  pending {p['pending']}  processing {p['processing']}"
    )
    average = t.get("average_item_time")
    shown = "-" if average is None else f"{average}s"
    click.echo(f"  elapsed {t['elapsed_time']:.1f}s  average item {shown}")
    if t.get("estimated_completion"):
        click.echo(f"  estimated completion {t['estimated_completion']}")
    if body.get("status_reason"):
        click.echo(f"  reason: {body['status_reason']}")
    for group in body.get("error_summary") or []:
        click.echo(f"  {group['count']} x {group['error_type']}: {group.get('resolution') or ''}")
