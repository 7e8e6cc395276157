"""Submit `POST /v1/jobs` req/s at 64 connections, by wrk (a separate process) against a real
`joblane api` process on SQLite (synchronous=FULL: each 202 is durable; group commit shares the
fsyncs between concurrent submissions).

    .venv/bin/python bench/submit.py [--connections 64] [--duration 10]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile

from harness import backend_option, cluster, machine

LUA = """
wrk.method = "POST"
wrk.body = '{"type": "noop", "input": {}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "%s"
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=10)
    backend_option(parser)
    args = parser.parse_args()
    with cluster(args.backend) as c, tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        key = c.run("keys", "create", "--tenant", "bench")
        script.write(LUA % key)
        script.flush()
        url = c.start_http("api")
        command = [
            "wrk",
            "-t1",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            "--latency",
            "-s",
            script.name,
            f"{url}/v1/jobs",
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(
        f"submit POST [{args.backend}]: {args.connections} connections, {args.duration}s: "
        f"{float(rps[1]) if rps else 0:,.0f} req/s, p50 {p50[1] if p50 else '?'}, "
        f"p99 {p99[1] if p99 else '?'}, non-2xx {bad[1] if bad else 0} ({machine()})"
    )


if __name__ == "__main__":
    main()
