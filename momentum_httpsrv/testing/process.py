"""Run ``momentum-httpsrv serve`` as a real process, for tests over real HTTP."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


@contextmanager
def serve_process(
    config: Path | str, timeout: float = 30.0, *serve_options: str
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Yield (process, port) once the first 127.0.0.1 listener is up; SIGTERM it after.

    Use ``Listen "127.0.0.1:0"`` in the configuration to get an ephemeral port;
    ``serve_options`` are extra ``serve`` arguments (e.g. ``--http-parser``, ``h11``).
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "momentum_httpsrv.cli", "serve", "-c", str(config),
         *serve_options],
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr = process.stderr
    assert stderr is not None  # stderr=PIPE
    port = None
    deadline = time.monotonic() + timeout
    while port is None and time.monotonic() < deadline:
        line = stderr.readline()
        match = _LISTENING.search(line)
        if match:
            port = int(match.group(1))
        elif not line and process.poll() is not None:
            break
    try:
        if port is None:
            process.kill()
            raise RuntimeError(f"serve did not start: {stderr.read()}")
        yield process, port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        stderr.close()


def stderr_until(process: subprocess.Popen[str], pattern: str, timeout: float = 60.0) -> str:
    """Read a ``serve_process``'s stderr until ``pattern`` matches; returns what was read
    (AssertionError with it after ``timeout`` seconds)."""
    assert process.stderr is not None
    descriptor = process.stderr.fileno()  # unbuffered: select sees every byte not yet read
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([descriptor], [], [], 0.5)
        if ready:
            seen += os.read(descriptor, 65536).decode()
            if re.search(pattern, seen):
                return seen
    raise AssertionError(f"no line matching {pattern!r} in:\n{seen}")
