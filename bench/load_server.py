"""The server side of `bench/load.py`: a demo home, a bearer token, account ids, and a
two-worker uvicorn process that is always stopped again."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

BENCH_DIR = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
DEMO_TENANT = "demo"
BENCH_USER = "load-bench@demo.local"
# Quotas and rate limits are raised so that the benchmark measures serving, not refusals.
HIGH_LIMIT_DAY = "100000000/day"
SERVER_ENV = {
    "PROPENSITY_CS_PREDICT_DAILY_LIMIT": HIGH_LIMIT_DAY,
    "PROPENSITY_CS_BATCH_DAILY_LIMIT": HIGH_LIMIT_DAY,
    "PROPENSITY_CS_CTA_DAILY_LIMIT": HIGH_LIMIT_DAY,
    "PROPENSITY_RETAINSTREAM_RATE_LIMIT": "100000000/minute",
    "PROPENSITY_ML_RATE_LIMIT_SCORING": "100000000/minute",
    # Per-request logging at INFO would measure the log writer, not the service.
    "PROPENSITY_LOG_LEVEL": "WARNING",
}
# Files that make up a home; the SQLite shared-memory index is rebuilt from the WAL on open.
HOME_FILES = ("propensity.db", "propensity.db-wal", "secret_key")


@dataclass(frozen=True)
class Server:
    base: str
    pid: int
    port: int


@dataclass(frozen=True)
class Target:
    token: str
    tenant_id: int
    account_ids: list[int]
    # Open leads (neither converted nor lost): what the ML platform's lead score is asked for.
    lead_ids: list[int] = field(default_factory=list)


def copy_home(source: Path, home: Path) -> None:
    """Copies a finished demo home file by file, so the source is only ever read."""
    home.mkdir(parents=True, exist_ok=True)
    # A write-ahead log or shared-memory index left from an earlier run would be replayed
    # against the copied database and corrupt it when the source has none of its own.
    for name in (*HOME_FILES, "propensity.db-shm"):
        (home / name).unlink(missing_ok=True)
    for name in HOME_FILES:
        if (source / name).exists():
            shutil.copy2(source / name, home / name)


def export_source(revision: str, into: Path) -> Path:
    """`src/` as committed at `revision`, so that a run measures a known commit even while
    the shared working tree is being edited. Returns the folder to put on PYTHONPATH."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", revision],
        cwd=BENCH_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = into / f"src-{sha}"
    if not target.exists():
        target.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", "--format=tar", sha, "src"],
            cwd=BENCH_DIR.parent,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def _env(home: Path, source: Path | None) -> dict[str, str]:
    env = {**os.environ, "PROPENSITY_HOME": str(home), **SERVER_ENV}
    if source is not None:
        # Ahead of the editable install's path entry, so this copy of `propensity` is imported.
        env["PYTHONPATH"] = str(source)
    return env


def prepare_home(home: Path, *, build: bool, source: Path | None) -> None:
    """Builds the demo into `home` when asked (2-3 minutes), then applies new migrations."""
    cli = str(VENV_BIN / "propensity")
    if build:
        subprocess.run([cli, "demo", "--no-serve"], env=_env(home, source), check=True)
    subprocess.run([cli, "db", "upgrade"], env=_env(home, source), check=True)


def bench_token(session: Any, *, settings: Any, tenant: Any, email: str, role: str) -> str:
    """A token of the benchmark's own user `email` in `tenant`, created with `role` on first
    use (a random password: none needs to be known)."""
    from propensity.models import User
    from propensity.tenancy.service import create_user, token_for

    user = session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = create_user(
            session, tenant=tenant, email=email, password=os.urandom(16).hex(), role=role
        )
    token: str = token_for(user=user, key=settings.signing_key(), lifetime=timedelta(hours=4))
    return token


def bench_target(home: Path) -> Target:
    """An analyst's token (a user created for the benchmark) and the demo tenant's account
    ids, read from the home's own database."""
    from propensity.db import Database
    from propensity.models import Role
    from propensity.settings import Settings
    from propensity.tenancy.service import get_tenant

    settings = Settings(home=home, database_url=None)
    database = Database(settings.resolved_database_url)
    try:
        with database.system_session() as session:
            tenant = get_tenant(session, slug_or_id=DEMO_TENANT)
            token = bench_token(
                session, settings=settings, tenant=tenant, email=BENCH_USER, role=Role.ANALYST
            )
            ids = session.scalars(
                sa.text(
                    "SELECT id FROM customers WHERE tenant_id = :t AND kind = 'account' ORDER BY id"
                ),
                {"t": tenant.id},
            ).all()
            leads = session.scalars(
                sa.text(
                    "SELECT id FROM leads WHERE tenant_id = :t AND converted_at IS NULL "
                    "AND lost_at IS NULL ORDER BY id"
                ),
                {"t": tenant.id},
            ).all()
            return Target(
                token=token, tenant_id=tenant.id, account_ids=list(ids), lead_ids=list(leads)
            )
    finally:
        database.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{base}/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server not ready after {timeout:.0f} s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM lets uvicorn's supervisor stop its workers; SIGKILL to the process group (the
    one this benchmark created for the server) if it does not finish in time."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


@contextmanager
def running_server(home: Path, *, workers: int, log: Path, source: Path | None) -> Iterator[Server]:
    """Serves `home` on 127.0.0.1 with `workers` uvicorn processes until the block ends."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "load_app:app",
        "--factory",
        "--app-dir",
        str(BENCH_DIR),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            env=_env(home, source),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, process, timeout=120)
            yield Server(base, process.pid, port)
        finally:
            stop_process(process)
