"""Does one tenant's flood hurt another? A second tenant's status polls, alone and then while the
first tenant sends 10x its rate limit for 60 s, against a real `joblane api` process.

    .venv/bin/python bench/rate_limits.py [--backend postgres] [--limit 20] [--factor 10]
                                          [--calm-rate 100] [--duration 60] [--rounds 3]

Segments alternate: 60 s of the calm tenant alone, then 60 s of it during the flood, `--rounds`
times; each round is printed, then all rounds pooled (alternating puts a shared machine's drift
on both sides instead of on whichever segment ran second).

The calm tenant's load is open-loop (requests start on a fixed schedule whatever the answers,
and latency counts from the scheduled start, so a stall is not hidden). The flood comes from wrk
(C, so the load generator itself takes little of the 2 cores): 10 connections, each pausing
between requests so that together they send about `--limit * --factor` requests a second (the
achieved rate is printed). The flooding tenant has `read_rate = read_burst = --limit`; the calm
tenant has no limit of its own (the server's default is set far above the offered load).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from harness import Cluster, backend_option, cluster, machine


async def open_loop(url: str, key: str, rate: float, duration: float) -> list[tuple[float, int]]:
    """(latency from the scheduled start, status) of every request."""
    results: list[tuple[float, int]] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(headers={"X-API-Key": key}, limits=limits, timeout=30) as client:

        async def one(scheduled: float) -> None:
            try:
                status = (await client.get(url)).status_code
            except httpx.HTTPError:
                status = 0
            results.append((time.perf_counter() - scheduled, status))

        start = time.perf_counter()
        tasks = []
        for i in range(int(rate * duration)):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
    return results


# `--pin`: the API process on one core, the load generators on the other, as if the tenants'
# clients ran on machines of their own (the database server is left where the OS puts it).
SERVER_CPUS: set[int] | None = None
CLIENT_CPUS: set[int] | None = None


def pinned(proc: subprocess.Popen[Any], cpus: set[int] | None) -> subprocess.Popen[Any]:
    if cpus is not None:
        os.sched_setaffinity(proc.pid, cpus)
    return proc


def load_process(
    url: str, key: str, rate: float, duration: float, out: Path
) -> subprocess.Popen[bytes]:
    args = [url, key, str(rate), str(duration), str(out)]
    return pinned(subprocess.Popen([sys.executable, __file__, "_load", *args]), CLIENT_CPUS)


FLOOD_CONNECTIONS = 10


def wrk_flood(
    url: str, key: str, rate: float, duration: float, workdir: Path
) -> subprocess.Popen[str]:
    """About `rate` requests/s: each connection waits 1000 * connections / rate ms between them."""
    script = workdir / "pace.lua"
    pause_ms = 1000 * FLOOD_CONNECTIONS / rate
    script.write_text(f"function delay()\n  return {pause_ms:.3f}\nend\n")
    args = ["wrk", "-t1", f"-c{FLOOD_CONNECTIONS}", f"-d{duration:.0f}s", "-s", str(script)]
    flood = subprocess.Popen(
        [*args, "-H", f"X-API-Key: {key}", url], stdout=subprocess.PIPE, text=True
    )
    return pinned(flood, CLIENT_CPUS)


def wrk_counts(out: str, duration: float) -> dict[str, float]:
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sent = int(total[1]) if total else 0
    limited = int(non2xx[1]) if non2xx else 0
    return {
        "sent_per_s": sent / duration,
        "ok_per_s": (sent - limited) / duration,
        "limited": limited,
    }


def summary(paths: list[Path]) -> dict[str, float]:
    rows = [row for path in paths for row in json.loads(path.read_text())]
    ok = sorted(lat for lat, status in rows if status == 200)
    limited = sum(1 for _, status in rows if status == 429)
    failed = len(rows) - len(ok) - limited
    seconds = max(row_span(paths), 1e-9)
    return {
        "sent": len(rows),
        "ok_per_s": len(ok) / seconds,
        "p50_ms": 1000 * statistics.median(ok) if ok else float("nan"),
        "p99_ms": 1000 * ok[int(0.99 * (len(ok) - 1))] if ok else float("nan"),
        "limited": limited,
        "failed": failed,
    }


def row_span(paths: list[Path]) -> float:
    """Seconds of offered load the files cover (each segment writes its duration first)."""
    return sum(float(path.with_suffix(".seconds").read_text()) for path in paths)


def setup(c: Cluster, limit: float) -> tuple[str, dict[str, str], dict[str, str]]:
    c.run("tenants", "set", "flood", "-s", f"read_rate={limit}", "-s", f"read_burst={int(limit)}")
    keys = {t: c.run("keys", "create", "--tenant", t) for t in ("flood", "calm")}
    url = c.start_http("api")
    pinned(c.procs[-1], SERVER_CPUS)
    targets = {}
    for tenant, key in keys.items():
        job = httpx.post(
            f"{url}/v1/jobs", json={"type": "noop", "input": {}}, headers={"X-API-Key": key}
        )
        job.raise_for_status()
        targets[tenant] = f"{url}/v1/jobs/{job.json()['id']}"
    return url, keys, targets


def calm_segment(
    c: Cluster, args: argparse.Namespace, keys: dict[str, str], targets: dict[str, str], name: str
) -> Path:
    out = c.workdir / f"{name}.json"
    load_process(targets["calm"], keys["calm"], args.calm_rate, args.duration, out).wait()
    return out


def flood_segment(
    c: Cluster, args: argparse.Namespace, keys: dict[str, str], targets: dict[str, str], name: str
) -> tuple[Path, dict[str, float]]:
    rate = args.limit * args.factor
    flood = wrk_flood(targets["flood"], keys["flood"], rate, args.duration + 2, c.workdir)
    time.sleep(1.0)
    out = calm_segment(c, args, keys, targets, name)
    return out, wrk_counts(flood.communicate()[0], args.duration + 2)


def run(args: argparse.Namespace) -> None:
    """Alternates calm-alone and calm-during-flood segments, so drift on a shared machine
    lands on both sides; each round is reported, then all rounds pooled."""
    with cluster(args.backend) as c:
        _, keys, targets = setup(c, args.limit)
        load_process(targets["calm"], keys["calm"], args.calm_rate, 3, c.workdir / "w.json").wait()
        alone: list[Path] = []
        during: list[Path] = []
        floods: list[dict[str, float]] = []
        for i in range(args.rounds):
            alone.append(calm_segment(c, args, keys, targets, f"alone{i}"))
            out, flooded = flood_segment(c, args, keys, targets, f"during{i}")
            during.append(out)
            floods.append(flooded)
            report(args, f"round {i + 1}", summary([alone[-1]]), summary([out]), flooded)
        if args.rounds > 1:
            pooled = {k: statistics.fmean(f[k] for f in floods) for k in floods[0]}
            report(args, "pooled", summary(alone), summary(during), pooled)


def report(
    args: argparse.Namespace,
    label: str,
    before: dict[str, float],
    after: dict[str, float],
    flooded: dict[str, float],
) -> None:
    def change(key: str) -> str:
        return f"{100 * (after[key] / before[key] - 1):+.1f}%"

    print(
        f"rate-limit isolation [{args.backend}{', pinned' if args.pin else ''}] {label} "
        f"({machine()}): flood tenant limited to "
        f"{args.limit:g}/s sends {flooded['sent_per_s']:.0f}/s (wrk) for {args.duration:g}s "
        f"({flooded['ok_per_s']:.1f}/s answered 200, {flooded['limited']:,.0f} answered 429);\n"
        f"  calm tenant at {args.calm_rate:g}/s offered: alone {before['ok_per_s']:.1f}/s, "
        f"p50 {before['p50_ms']:.2f} ms, p99 {before['p99_ms']:.2f} ms; during the flood "
        f"{after['ok_per_s']:.1f}/s ({change('ok_per_s')}), p50 {after['p50_ms']:.2f} ms "
        f"({change('p50_ms')}), p99 {after['p99_ms']:.2f} ms ({change('p99_ms')}); "
        f"failed {before['failed']:.0f} / {after['failed']:.0f}",
        flush=True,
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        url, key, rate, duration, out = sys.argv[2:7]
        rows = asyncio.run(open_loop(url, key, float(rate), float(duration)))
        Path(out).write_text(json.dumps(rows))
        Path(out).with_suffix(".seconds").write_text(duration)
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=float, default=20.0, help="the flood tenant's reads/s")
    parser.add_argument("--factor", type=float, default=10.0, help="how far over it sends")
    parser.add_argument("--calm-rate", type=float, default=100.0, help="the calm tenant's reads/s")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of flood")
    parser.add_argument("--rounds", type=int, default=3, help="calm-alone/flood pairs, alternated")
    parser.add_argument("--pin", action="store_true", help="API on CPU 0, load on CPU 1")
    backend_option(parser)
    args = parser.parse_args()
    if args.pin:
        global SERVER_CPUS, CLIENT_CPUS
        SERVER_CPUS, CLIENT_CPUS = {0}, {1}
    run(args)


if __name__ == "__main__":
    main()
