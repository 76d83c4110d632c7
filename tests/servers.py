"""A real `propensity serve` process tree on 127.0.0.1, for tests that need one (several
workers, a second process beside the test's own)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

# Variables of the test run that must not reach the served process: it keeps its own home.
NOT_INHERITED = ("PROPENSITY_DATABASE_URL", "PROPENSITY_REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(
    home: Path, *, args: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """`propensity serve` over `home` with `args` and extra `env`, once it answers
    /health/live; its base URL. Stopped (SIGTERM) afterwards."""
    port = free_port()
    environment = {
        **os.environ,
        "PROPENSITY_HOME": str(home),
        "PROPENSITY_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    for name in NOT_INHERITED:
        environment.pop(name, None)
    command = [str(Path(sys.executable).parent / "propensity"), "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, *args], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("the server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)
