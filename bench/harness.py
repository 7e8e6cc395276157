"""Start joblane processes on 127.0.0.1 for a benchmark, and stop them all afterwards."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

BENCH_DIR = Path(__file__).resolve().parent
JOBLANE = [sys.executable, "-m", "joblane.cli"]
# Rate limits stay on (their code runs) but never refuse the bursts of thousands sent here.
UNLIMITED_RATES = {
    f"JOBLANE_RATE_{kind}{part}": "1000000" for kind in ("READ", "WRITE") for part in ("", "_BURST")
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def machine() -> str:
    cpus = os.cpu_count()
    python = platform.python_version()
    return f"{platform.system()} {platform.machine()}, {cpus} cores, Python {python}"


ADMIN_URL = os.environ.get(
    "JOBLANE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Cluster:
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    postgres_db: str | None = None

    @property
    def database(self) -> str:
        return str(self.workdir / "bench.db")

    @property
    def database_url(self) -> str:
        if self.postgres_db is not None:
            return ADMIN_URL.rsplit("/", 1)[0] + "/" + self.postgres_db
        return f"sqlite:///{self.database}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOBLANE_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCH_DIR), env.get("PYTHONPATH")]))
        env["JOBLANE_DATABASE_URL"] = self.database_url
        env["JOBLANE_LOG_LEVEL"] = "warning"
        env.update(UNLIMITED_RATES)
        env.update(self.extra_env)
        return env

    def run(self, *args: str) -> str:
        out = subprocess.run([*JOBLANE, *args], env=self.env(), capture_output=True, check=True)
        return out.stdout.decode().strip()

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"proc-{len(self.procs)}.log", "ab")  # noqa: SIM115
        env = {**self.env(), **(env or {})}
        proc = subprocess.Popen([*JOBLANE, *args], env=env, stdout=log, stderr=log)
        log.close()
        self.procs.append(proc)
        return proc

    def start_http(self, command: str, *args: str, env: dict[str, str] | None = None) -> str:
        port = free_port()
        proc = self.start(command, "bench_app:app", *args, "--port", str(port), env=env)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{command} exited early, see {self.workdir}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    return url
            time.sleep(0.05)
        raise TimeoutError(url)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _admin(sql: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextlib.contextmanager
def cluster(backend: str = "sqlite", **extra_env: str) -> Iterator[Cluster]:
    """A fresh database (a SQLite file, or a new PostgreSQL database) and its processes."""
    with tempfile.TemporaryDirectory(prefix="joblane-bench-") as tmp:
        c = Cluster(Path(tmp), dict(extra_env))
        if backend == "postgres":
            c.postgres_db = f"joblane_bench_{os.getpid()}"
            _admin(f'DROP DATABASE IF EXISTS "{c.postgres_db}" WITH (FORCE)')
            _admin(f'CREATE DATABASE "{c.postgres_db}"')
        c.run("migrate")
        try:
            yield c
        finally:
            c.stop()
            if c.postgres_db is not None:
                _admin(f'DROP DATABASE IF EXISTS "{c.postgres_db}" WITH (FORCE)')


def backend_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
