"""Shared test helpers: copying a test site into a temp dir, running `serve` for real."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

SITES = Path(__file__).parent / "sites"
REPO = Path(__file__).parent.parent
PROBE = REPO.parent / "shared" / "tools" / "http_probe.py"


@pytest.fixture
def site_dir(tmp_path: Path):
    """A factory: copy tests/sites/<name> into a temp dir and return its path."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(SITES / name, target)
        return target

    return copy


@contextmanager
def serve_process(config: Path, timeout: float = 30.0):
    """Run ``momentum-httpsrv serve -c config``; yield (process, port) once it listens,
    and stop it with SIGTERM afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "momentum_httpsrv.cli", "serve", "-c", str(config)],
        stderr=subprocess.PIPE,
        text=True,
    )
    port = None
    deadline = time.monotonic() + timeout
    while port is None and time.monotonic() < deadline:
        line = process.stderr.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if match:
            port = int(match.group(1))
        elif not line and process.poll() is not None:
            break
    try:
        if port is None:
            process.kill()
            raise AssertionError(f"serve did not start: {process.stderr.read()}")
        yield process, port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
