"""`joblane submit | status | wait | cancel | retry | result | jobs list` against a real
server (URL and key from the environment, as a user would set them)."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from acceptance.procs import JOBLANE
from client.live import Live
from joblane.cli.main import cli

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(90)]
JOB_ID = re.compile(r"^job_[0-9A-Z]{26}$")
UNKNOWN = "job_" + "0" * 26


def run(live: Live, *args: str, stdin: str | None = None, **env: str) -> Result:
    environment = {"JOBLANE_URL": live.url, "JOBLANE_API_KEY": live.api_key, **env}
    return CliRunner().invoke(cli, list(args), env=environment, input=stdin)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def test_submit_prints_the_id_and_status_shows_the_job(live: Live, tmp_path: Path) -> None:
    (tmp_path / "input.json").write_text('{"seconds": 0.2}')
    submitted = ok(run(live, "submit", "nap", "--input", f"@{tmp_path / 'input.json'}",
                       "-m", "ref=A-17", "--priority", "3"))  # fmt: skip
    job_id = submitted.stdout.strip()
    assert JOB_ID.match(job_id), submitted.stdout
    shown = json.loads(ok(run(live, "status", job_id, "--json")).stdout)
    assert (shown["id"], shown["type"], shown["metadata"]) == (job_id, "nap", {"ref": "A-17"})
    assert shown["priority"] == 3 and shown["status"] in ("queued", "running", "completed")
    ok(run(live, "wait", job_id))
    human = ok(run(live, "status", job_id)).stdout
    assert f"{job_id} nap: completed  100.0%" in human and 'result: {"slept": 0.2}' in human
    assert json.loads(ok(run(live, "result", job_id)).stdout) == {"slept": 0.2}


def test_submit_wait_shows_progress_lines_off_a_terminal_then_the_result(live: Live) -> None:
    done = ok(run(live, "submit", "ticker", "--input", '{"steps": 6, "step_seconds": 0.4}',
                  "--wait"))  # fmt: skip
    assert json.loads(done.stdout) == {"steps": 6}  # stdout: the result alone
    lines = done.stderr.strip().splitlines()
    assert lines and all(line.startswith("job_") for line in lines), done.stderr
    assert re.search(r" running .*\d+%  \d+/6", done.stderr), done.stderr
    assert re.search(r" completed .*100%  6/6$", lines[-1]), lines[-1]
    assert "\x1b[" not in done.stderr  # no terminal control codes in a log


def test_wait_json_prints_the_finished_job(live: Live) -> None:
    job_id = ok(run(live, "submit", "noop", "--input", "{}")).stdout.strip()
    body = json.loads(ok(run(live, "wait", job_id, "--json")).stdout)
    assert (body["id"], body["status"], body["result"]) == (job_id, "completed", {"ok": True})


def test_a_failed_job_exits_3_with_one_line_and_the_json(live: Live) -> None:
    failed = run(live, "submit", "fail", "--input", '{"code": "OCR_FAILED"}', "--wait", "--json")
    assert failed.exit_code == 3, failed.stderr
    assert failed.stderr.count("\n") == 1 and "OCR_FAILED" in failed.stderr
    body = json.loads(failed.stdout)
    assert body["status"] == "failed" and body["error"]["code"] == "OCR_FAILED"
    job_id = body["id"]
    again = ok(run(live, "retry", job_id)).stdout
    assert f"{job_id} queued (attempt 2 of 2)" in again


def test_cancel_then_wait_exits_4(live: Live) -> None:
    job_id = ok(run(live, "submit", "nap", "--input", '{"seconds": 30}')).stdout.strip()
    cancelled = ok(run(live, "cancel", job_id, "--reason", "changed my mind")).stdout
    assert cancelled.startswith(job_id)
    waited = run(live, "wait", job_id)
    assert waited.exit_code == 4 and "changed my mind" in waited.stderr
    again = run(live, "cancel", job_id)
    assert again.exit_code == 1 and "409 CONFLICT" in again.stderr


def test_wait_timeout_exits_5(live: Live) -> None:
    job_id = ok(run(live, "submit", "nap", "--input", '{"seconds": 30}')).stdout.strip()
    started = time.monotonic()
    waited = run(live, "wait", job_id, "--timeout", "1")
    assert waited.exit_code == 5 and "not finished after 1 s" in waited.stderr
    assert time.monotonic() - started < 5
    ok(run(live, "cancel", job_id))


def test_jobs_list_filters_and_json(live: Live) -> None:
    tag = live.tag()["test"]
    ids = [
        ok(run(live, "submit", "noop", "--input", "{}", "-m", f"test={tag}")).stdout.strip()
        for _ in range(3)
    ]
    for job_id in ids:
        ok(run(live, "wait", job_id))
    listed = ok(run(live, "jobs", "list", "-m", f"test={tag}", "--status", "completed")).stdout
    assert [line.split()[0] for line in listed.splitlines()] == ids[::-1]
    assert all(" completed " in line for line in listed.splitlines())
    page = json.loads(ok(run(live, "jobs", "list", "-m", f"test={tag}", "--limit", "2",
                             "--json")).stdout)  # fmt: skip
    assert [j["id"] for j in page["data"]] == ids[::-1][:2] and page["next_cursor"]
    assert ok(run(live, "jobs", "list", "-m", f"test={tag}", "--status", "failed")).stdout == ""


def test_errors_are_one_line_with_exit_codes(live: Live) -> None:
    missing = run(live, "status", UNKNOWN)
    assert missing.exit_code == 1 and missing.stdout == ""
    assert missing.stderr.startswith(f"error: 404 JOB_NOT_FOUND: Job '{UNKNOWN}' not found")
    assert "(request req_" in missing.stderr and missing.stderr.count("\n") == 1
    as_json = run(live, "status", UNKNOWN, "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["code"] == "JOB_NOT_FOUND"

    invalid = run(live, "submit", "nap", "--input", '{"seconds": "x"}')
    assert invalid.exit_code == 1 and "422 VALIDATION_ERROR" in invalid.stderr
    assert "body.input.seconds" in invalid.stderr, invalid.stderr

    unauthenticated = run(live, "status", UNKNOWN, JOBLANE_API_KEY="")
    assert unauthenticated.exit_code == 1 and "401 UNAUTHORIZED" in unauthenticated.stderr

    unreachable = run(live, "status", UNKNOWN, "--url", "http://127.0.0.1:9")
    assert unreachable.exit_code == 1 and "cannot reach the API" in unreachable.stderr
    assert "127.0.0.1:9" in unreachable.stderr

    for bad in ("{not json", "[1, 2]", "@/nonexistent/input.json"):
        usage = run(live, "submit", "nap", "--input", bad)
        assert usage.exit_code == 2 and "--input" in usage.stderr, usage.stderr
    for result in (missing, invalid, unauthenticated, unreachable, usage):
        assert "Traceback" not in result.stderr + result.stdout


def test_wait_on_a_terminal_draws_a_live_bar(live: Live) -> None:
    """Under a pseudo-terminal the wait draws rich's bar: percentage, items and ETA."""
    job_id = ok(run(live, "submit", "ticker", "--input", '{"steps": 10, "step_seconds": 0.3}'))
    environment = {**os.environ, "JOBLANE_URL": live.url, "JOBLANE_API_KEY": live.api_key,
                   "COLUMNS": "120", "TERM": "xterm"}  # fmt: skip
    environment.pop("NO_COLOR", None)
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [*JOBLANE, "wait", job_id.stdout.strip()],
        stdin=secondary, stdout=subprocess.PIPE, stderr=secondary, env=environment,
    )  # fmt: skip
    os.close(secondary)
    screen = b""
    try:
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # the terminal's other side closed: the process is done with it
                break
            if not data:
                break
            screen += data
    finally:
        stdout = proc.communicate(timeout=30)[0]
        os.close(primary)
    text = screen.decode(errors="replace")
    assert proc.returncode == 0, text
    assert json.loads(stdout) == {"steps": 10}
    assert "\x1b[" in text and "━" in text  # redrawn in place, with a bar
    assert re.search(r"\d+%", text) and "/10" in text and "ETA" in text
