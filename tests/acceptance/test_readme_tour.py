"""The README's tour, run as written against a real `joblane serve` (only the port changes)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from acceptance.procs import Processes

pytestmark = pytest.mark.acceptance

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_script(port: int) -> str:
    block = re.search(r"```sh tour\n(.*?)```", README.read_text(), re.DOTALL)
    assert block, "README has no ```sh tour block"
    script = block[1].replace("localhost:8000", f"127.0.0.1:{port}")
    script = script.replace(".venv/bin/python", sys.executable)  # (it may end in .venv/bin/python)
    return script.replace(".venv/bin/joblane", f"{sys.executable} -m joblane.cli")


def test_readme_tour_works_as_written(procs: Processes) -> None:
    server, url = procs.start_http("serve", log_name="serve")
    port = int(url.rsplit(":", 1)[1])
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", tour_script(port)],
        env=procs.env(),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=procs.workdir,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr + out
    assert "HTTP/1.1 202 Accepted" in out
    assert re.search(r"location: /v1/jobs/job_[0-9A-Z]{26}", out, re.IGNORECASE)
    assert '"status":"running"' in out and "retry-after:" in out.lower()
    assert '{"slept":3.0}' in out
    assert '"code":"INVALID_JSON"' in out and '"line":1' in out
    assert '"status":"cancelled","cancel_reason":"changed my mind"' in out
    assert '"code":"VALIDATION_ERROR"' in out and '"code":"INVALID_JOB_ID"' in out
    # 8: the CLI waits with progress (lines on stderr off a terminal), then prints the result
    assert re.search(r"^job_\w+ running .*  \d+%  \d+/20", done.stderr, re.M), done.stderr
    assert re.search(r"^job_\w+ completed .* 100%  20/20$", done.stderr, re.M), done.stderr
    assert '{"slept": 2.0}' in out
    assert re.search(r"^job_\w+ +sleep +completed +100%", out, re.M)  # jobs list
    # 9: the SDK's wait reported progress, then the result
    assert re.search(r"^running \d+(\.\d+)?$", out, re.M) and "completed 100.0" in out
    assert "result: {'slept': 2.0}" in out
    assert server.poll() is None
