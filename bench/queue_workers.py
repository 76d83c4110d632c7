"""`propensity worker` processes for a benchmark: started on a home, stopped again, their CPU.

A job timed through the queue is timed the way production runs it: the row and message
written by one process, its chunks taken by whichever worker is free."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
VENV_BIN = Path(sys.executable).parent


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextmanager
def workers(home: Path, count: int, *, logs: Path, timeout: float = 90.0) -> Iterator[list[int]]:
    """`count` single-threaded workers on `home` (no periodic tasks), ready when the block
    starts (each has logged worker_started); yields their pids, stops them after."""
    env = {
        **os.environ,
        "PROPENSITY_HOME": str(home),
        "PROPENSITY_ENVIRONMENT": "test",
        "PROPENSITY_LOG_LEVEL": "INFO",
    }
    command = [str(VENV_BIN / "propensity"), "worker", "--threads", "1", "--no-periodic"]
    logs.mkdir(parents=True, exist_ok=True)
    started: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for index in range(count):
            log = logs / f"worker-{index}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
            started.append((process, log))
        deadline = time.monotonic() + timeout
        for process, log in started:
            while "worker_started" not in log.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"a worker did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
        yield [process.pid for process, _ in started]
    finally:
        for process, _ in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
