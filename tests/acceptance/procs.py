"""Start real `joblane` processes on 127.0.0.1 and make sure none outlives its test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

TESTS_DIR = Path(__file__).resolve().parents[1]
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


@dataclass
class Processes:
    workdir: Path
    database: str
    env_overrides: dict[str, str] = field(default_factory=dict)
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOBLANE_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR), env.get("PYTHONPATH")]))
        env["JOBLANE_DATABASE_URL"] = self.database_url
        env.update(UNLIMITED_RATES)
        env.update(self.env_overrides)
        return env

    @property
    def database_url(self) -> str:
        """`database` is a SQLite file path, or already a URL (e.g. postgresql://…)."""
        return self.database if "://" in self.database else f"sqlite:///{self.database}"

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [*JOBLANE, *args], env=self.env(), capture_output=True, check=True, timeout=60
        )
        return done.stdout.decode().strip()

    def start(self, *args: str, log_name: str) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{log_name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [*JOBLANE, *args], env=self.env(), stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.started.append(proc)
        return proc

    def start_http(
        self, command: str, *args: str, log_name: str
    ) -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        proc = self.start(command, *args, "--port", str(port), log_name=log_name)
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, proc)
        return proc, url

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before becoming ready")
        try:
            if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout}s")


def wait_until(check: object, timeout: float, interval: float = 0.05) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise TimeoutError(f"condition not met within {timeout}s")
