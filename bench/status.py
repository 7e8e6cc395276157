"""Status `GET /v1/jobs/{id}` req/s and latency at 64 connections, measured by wrk (a separate
process) against a real `joblane api` process on SQLite.

    .venv/bin/python bench/status.py [--connections 64] [--duration 10] [--processes 1]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess

import httpx

from harness import backend_option, cluster, machine


def wrk(url: str, key: str, connections: int, duration: int, threads: int) -> dict[str, str]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-H",
            f"X-API-Key: {key}",
            url,
        ],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    stats = {"rps": re.search(r"Requests/sec:\s+([\d.]+)", out)}
    for pct in ("50", "99"):
        stats[f"p{pct}"] = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.MULTILINE)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result = {k: (m[1] if m else "?") for k, m in stats.items()}
    result["errors"] = non2xx[1] if non2xx else "0"
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    backend_option(parser)
    args = parser.parse_args()
    with cluster(args.backend) as c:
        key = c.run("keys", "create", "--tenant", "bench")
        url = c.start_http("api", "--processes", str(args.processes))
        headers = {"X-API-Key": key}
        job = httpx.post(f"{url}/v1/jobs", json={"type": "noop", "input": {}}, headers=headers)
        job.raise_for_status()
        target = f"{url}/v1/jobs/{job.json()['id']}"
        wrk(target, key, args.connections, 2, args.threads)  # warm-up
        r = wrk(target, key, args.connections, args.duration, args.threads)
    print(
        f"status GET [{args.backend}]: {args.connections} connections, "
        f"{args.processes} API process(es), "
        f"{args.duration}s: {float(r['rps']):,.0f} req/s, p50 {r['p50']}, p99 {r['p99']}, "
        f"non-2xx {r['errors']} ({machine()})"
    )


if __name__ == "__main__":
    main()
