"""`joblane batch submit FILE [--wait]` and `joblane batch status ID [--json]`, run as
subprocesses against a real `joblane serve` (URL and API key from the environment)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from acceptance.procs import JOBLANE, Processes
from apps import ERROR_RESOLUTIONS, FORMAT_ERROR

pytestmark = pytest.mark.acceptance

BATCH_ID = r"bat_[0-9A-Z]{26}"


@dataclass(frozen=True)
class Cli:
    procs: Processes
    url: str
    api_key: str
    workdir: Path

    def run(
        self, *args: str, stdin: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        environment = {**self.procs.env(), "JOBLANE_URL": self.url}
        environment["JOBLANE_API_KEY"] = self.api_key
        environment.update(env)
        return subprocess.run(
            [*JOBLANE, "batch", *args],
            env=environment,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=self.workdir,
        )

    def items_file(self, name: str, lines: list[str]) -> str:
        path = self.workdir / name
        path.write_text("\n".join(lines) + "\n")
        return str(path)

    def batches(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/v1/batches", headers={"X-API-Key": self.api_key})
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data


def item(index: int, fail: str | None = None, seconds: float = 0.05) -> str:
    inputs = {"index": index, "seconds": seconds, "fail": fail}
    return json.dumps({"type": "batch_item", "input": inputs})


@pytest.fixture
def cli(procs: Processes, api_key: str, tmp_path: Path) -> Iterator[Cli]:
    server, url = procs.start_http("serve", "apps:app", log_name="serve")
    yield Cli(procs, url, api_key, tmp_path)
    assert server.poll() is None, procs.log("serve")


def batch_id_of(stdout: str) -> str:
    accepted = re.search(rf"^({BATCH_ID}) accepted: (\d+) items$", stdout, re.MULTILINE)
    assert accepted, stdout
    return accepted[1]


@pytest.mark.timeout(60)
def test_submit_wait_exits_0_when_every_item_completed(cli: Cli) -> None:
    path = cli.items_file("ok.jsonl", [item(i) for i in range(8)])
    options = ["--name", "nightly", "--max-concurrent", "4", "--priority", "5", "--timeout", "600"]
    done = cli.run("submit", path, "--wait", *options)
    assert done.returncode == 0, done.stdout + done.stderr
    batch_id = batch_id_of(done.stdout)
    assert f"{batch_id} accepted: 8 items" in done.stdout
    assert f"{batch_id} (nightly): completed  100.0%" in done.stdout
    assert "total 8  completed 8  failed 0  cancelled 0  pending 0  processing 0" in done.stdout

    shown = cli.run("status", batch_id)
    assert shown.returncode == 0, shown.stderr
    assert f"{batch_id} (nightly): completed  100.0%" in shown.stdout
    assert "total 8  completed 8  failed 0" in shown.stdout

    as_json = cli.run("status", batch_id, "--json")
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert (body["id"], body["object"], body["status"]) == (batch_id, "batch", "completed")
    assert body["progress"]["completed"] == 8
    assert body["batch_configuration"] == {
        "max_concurrent": 4,
        "priority": 5,
        "timeout": 600.0,
        "callback_url": None,
        "notification_enabled": False,
    }


@pytest.mark.timeout(60)
def test_submit_wait_exits_3_when_some_items_failed_and_names_the_errors(cli: Cli) -> None:
    lines = [item(i, FORMAT_ERROR if i in (2, 5) else None) for i in range(6)]
    done = cli.run("submit", "-", "--wait", stdin="\n".join(lines))  # from stdin
    assert done.returncode == 3, done.stdout + done.stderr
    batch_id = batch_id_of(done.stdout)
    assert f"{batch_id}: completed  100.0%" in done.stdout
    assert "total 6  completed 4  failed 2  cancelled 0  pending 0  processing 0" in done.stdout
    assert f"2 x {FORMAT_ERROR}: {ERROR_RESOLUTIONS[FORMAT_ERROR]}" in done.stdout

    shown = cli.run("status", batch_id)
    assert shown.returncode == 0
    assert f"2 x {FORMAT_ERROR}" in shown.stdout


@pytest.mark.timeout(60)
def test_submit_without_wait_returns_at_once(cli: Cli) -> None:
    path = cli.items_file("slow.jsonl", [item(i, seconds=0.5) for i in range(4)])
    done = cli.run("submit", path, "--max-concurrent", "1")
    assert done.returncode == 0, done.stderr
    batch_id = batch_id_of(done.stdout)
    assert done.stdout.strip() == f"{batch_id} accepted: 4 items"
    shown = cli.run("status", batch_id, "--json")
    assert json.loads(shown.stdout)["status"] in ("queued", "running")
    shown = cli.run("status", batch_id)
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"average item (-|[0-9.]+s)$", shown.stdout, re.MULTILINE), shown.stdout


@pytest.mark.timeout(60)
def test_a_bad_line_is_refused_with_the_line_and_no_batch_is_made(cli: Cli) -> None:
    path = cli.items_file("bad.jsonl", [item(0), '{"type": "batch_item", "input": ', item(2)])
    done = cli.run("submit", path, "--wait")
    assert done.returncode != 0
    assert "422" in done.stderr and "line 2" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert "accepted" not in done.stdout

    refused = {
        "line 3: unknown job type 'nope'": [item(0), item(1), '{"type": "nope", "input": {}}'],
        "line 2: ": [item(0), '{"type": "batch_item", "input": {"index": "two"}}'],
        "at least one item": [],
    }
    for n, (message, lines) in enumerate(refused.items()):
        done = cli.run("submit", cli.items_file(f"refused-{n}.jsonl", lines), "--wait")
        assert done.returncode == 1, done.stdout
        assert "422" in done.stderr and message in done.stderr, done.stderr
    assert cli.batches() == []  # a refused upload leaves nothing behind


@pytest.mark.timeout(60)
def test_status_errors_exit_non_zero_with_the_problem(cli: Cli) -> None:
    missing = "bat_" + "0" * 26
    shown = cli.run("status", missing)
    assert shown.returncode == 1
    assert "404" in shown.stderr and missing in shown.stderr, shown.stderr

    as_json = cli.run("status", missing, "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["code"] == "BATCH_NOT_FOUND"

    malformed = cli.run("status", "bat_nope")
    assert malformed.returncode == 1 and "400" in malformed.stderr, malformed.stderr

    unauthenticated = cli.run("status", missing, JOBLANE_API_KEY="")
    assert unauthenticated.returncode == 1 and "401" in unauthenticated.stderr


@pytest.mark.timeout(60)
def test_an_unreachable_server_is_an_error_message_not_a_traceback(cli: Cli) -> None:
    path = cli.items_file("ok.jsonl", [item(0)])
    done = cli.run("submit", path, "--url", "http://127.0.0.1:9")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr
    assert "127.0.0.1:9" in done.stderr, done.stderr
