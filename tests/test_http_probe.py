"""The shared HTTP/1.1 edge-case probe against a real listener, once per parser (~18 s each)."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

from momentum_httpsrv.httpsrv.listener import PARSERS, HttpListener, ListenerSettings
from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.httpsrv.responses import ResponseSink

PROBE = Path(__file__).resolve().parents[1] / ".." / "shared" / "tools" / "http_probe.py"


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


@pytest.mark.skipif(not PROBE.is_file(), reason=f"the shared probe is absent ({PROBE})")
@pytest.mark.parametrize("parser", sorted(PARSERS))
def test_listener_passes_the_http_probe(parser: str) -> None:
    async def scenario() -> str:
        listener = HttpListener("127.0.0.1:0", probe_app, ListenerSettings(parser=parser))
        await listener.start()
        port = listener.bound_addresses[0][1]  # type: ignore[index]
        try:
            probe = await asyncio.create_subprocess_exec(
                sys.executable, str(PROBE), "--port", str(port), "--get", "/hello",
                "--echo", "/echo",
                stdout=asyncio.subprocess.PIPE,
            )
            output, _ = await asyncio.wait_for(probe.communicate(), 90)
        finally:
            await listener.close(grace=1.0)
        return output.decode()

    output = asyncio.run(scenario())
    failures = [line for line in output.splitlines() if line.startswith("FAIL")]
    last_line = output.rstrip().rsplit("\n", 1)[-1]
    assert re.fullmatch(r"\d+ passed, 0 failed", last_line), "\n".join(failures) or output
