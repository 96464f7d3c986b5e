"""The shared HTTP/1.1 edge-case probe against a real listener, once per parser (~18 s
each), and against ``serve`` with each parser and with two workers. The probe is the
team's ``shared/tools/http_probe.py`` (README, "HTTP behaviour"): ``$MOMENTUM_HTTP_PROBE``
names it, else it is looked for as ``shared/tools/http_probe.py`` in the repository's
parent directories (a checkout or a worktree at any depth). Without it these tests skip
with the reason in the summary (``-ra``), except in CI (``CI=true``), where its absence is
a failure."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from momentum_httpsrv.httpsrv.listener import PARSERS, HttpListener, ListenerSettings
from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.httpsrv.responses import ResponseSink
from momentum_httpsrv.testing.process import serve_process

PROBE_ENV = "MOMENTUM_HTTP_PROBE"
REPOSITORY = Path(__file__).resolve().parents[1]


def probe_location(environ: Mapping[str, str] = os.environ, start: Path = REPOSITORY) -> Path:
    """``$MOMENTUM_HTTP_PROBE``, else the first ``shared/tools/http_probe.py`` found in
    ``start``'s parent directories (the nearest one when none exists)."""
    if environ.get(PROBE_ENV):
        return Path(environ[PROBE_ENV])
    candidates = [parent / "shared" / "tools" / "http_probe.py" for parent in start.parents]
    return next((path for path in candidates if path.is_file()), candidates[0])


def shared_probe(path: Path | None = None, environ: Mapping[str, str] = os.environ) -> Path:
    """The probe script, or a visible skip (a failure under ``CI=true``) when it is absent."""
    path = path or probe_location(environ)
    if path.is_file():
        return path
    message = (f"the shared HTTP probe is absent: {path} (set {PROBE_ENV}, or put shared/ "
               "in a parent directory of the repository)")
    if environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{message}; CI=true needs it", pytrace=False)
    pytest.skip(message)


@pytest.mark.parametrize(
    ("environ", "outcome"),
    [({"CI": "true"}, pytest.fail.Exception), ({}, pytest.skip.Exception)],
)
def test_an_absent_probe_fails_in_ci_and_skips_visibly_elsewhere(tmp_path, environ, outcome):
    absent = tmp_path / "http_probe.py"
    with pytest.raises(outcome, match=re.escape(str(absent))):
        shared_probe(absent, environ)


def test_the_probe_is_found_in_any_parent_directory_or_named_by_the_environment(tmp_path):
    probe = tmp_path / "shared" / "tools" / "http_probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("")
    worktree = tmp_path / "wt" / "branch"  # a worktree two levels below shared/'s parent
    assert probe_location({}, worktree) == probe
    named = tmp_path / "elsewhere.py"
    assert probe_location({PROBE_ENV: str(named)}, worktree) == named
    assert probe_location({}, tmp_path / "x") != named


def probe_passes(output: str) -> None:
    failures = [line for line in output.splitlines() if line.startswith("FAIL")]
    last_line = output.rstrip().rsplit("\n", 1)[-1]
    assert re.fullmatch(r"\d+ passed, 0 failed", last_line), "\n".join(failures) or output


async def probe_app(request: Request, sink: ResponseSink) -> None:
    """What the probe assumes: GET/HEAD /hello answers, POST /echo echoes, the rest is 404."""
    if request.target == "/hello" and request.method in ("GET", "HEAD"):
        status, reason, body = 200, "OK", b"Hello World!"
    elif request.target == "/echo" and request.method == "POST":
        status, reason, body = 200, "OK", request.body
    else:
        status, reason, body = 404, "NOT FOUND", b""
    sink.start(status, reason, [("Content-Type", "text/plain")], len(body))
    sink.write(body)
    sink.end()


@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_listener_passes_the_http_probe(parser: str) -> None:
    probe_script = shared_probe()

    async def scenario() -> str:
        listener = HttpListener("127.0.0.1:0", probe_app, ListenerSettings(parser=parser))
        await listener.start()
        port = listener.bound_addresses[0][1]  # type: ignore[index]
        try:
            probe = await asyncio.create_subprocess_exec(
                sys.executable, str(probe_script), "--port", str(port), "--get", "/hello",
                "--echo", "/echo",
                stdout=asyncio.subprocess.PIPE,
            )
            output, _ = await asyncio.wait_for(probe.communicate(), 90)
        finally:
            await listener.close(grace=1.0)
        return output.decode()

    probe_passes(asyncio.run(scenario()))


@pytest.mark.parametrize(
    "serve_options",
    [(), ("--http-parser", "h11"), ("--workers", "2")],
    ids=["httptools", "h11", "two-workers"],
)
def test_serve_passes_the_http_probe(site_dir, serve_options: tuple[str, ...]) -> None:
    probe_script = shared_probe()
    config = site_dir("basic") / "ecelerity.conf"
    with serve_process(config, 30.0, *serve_options) as (_, port):
        probe = subprocess.run(
            [sys.executable, str(probe_script), "--port", str(port), "--get", "/hello",
             "--echo", "/echo"],
            capture_output=True, text=True, timeout=120,
        )
    probe_passes(probe.stdout)
