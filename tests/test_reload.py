"""Config reload under HTTP load: every request answered by one generation or the other."""

from __future__ import annotations

import asyncio
from pathlib import Path

from test_console_server import ask, control_site, serving

from momentum_httpsrv.node import MomentumNode

VERSIONED_SCRIPT = """
local mod = {}
function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/which", function(session)
    msys.sleep(0.002)  -- keep requests in flight while generations swap
    session:response_status_set_std(200, "OK", "text/plain")
    session:response_append("VERSION")
  end)
  return true
end
msys.registerModule("console_site", mod)
"""
WORKERS = 8
REQUESTS_PER_WORKER = 260
RELOADS = 20


async def keep_alive_worker(
    port: int, count: int, bodies: list[bytes], until: asyncio.Event | None = None
) -> None:
    """``count`` requests on one connection, and more until ``until`` is set."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    while sent < count or (until is not None and not until.is_set()):
        sent += 1
        writer.write(b"GET /which HTTP/1.1\r\nHost: t\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        assert status == b"HTTP/1.1 200 OK", head
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        bodies.append(await reader.readexactly(length))
    writer.close()


def test_reload_under_load(tmp_path: Path) -> None:
    config, _ = control_site(tmp_path)
    script = tmp_path / "console_site.lua"
    script.write_text(VERSIONED_SCRIPT.replace("VERSION", "one"))
    node = MomentumNode(config)
    node.start()

    async def scenario() -> None:
        serve, port, path = await serving(node)
        console = await asyncio.open_unix_connection(path)
        bodies: list[bytes] = []
        reloaded = asyncio.Event()
        load = asyncio.gather(
            *(
                keep_alive_worker(port, REQUESTS_PER_WORKER, bodies, reloaded)
                for _ in range(WORKERS)
            )
        )
        replies = []
        for number in range(RELOADS):
            await asyncio.sleep(0.02)
            script.write_text(VERSIONED_SCRIPT.replace("VERSION", ("two", "one")[number % 2]))
            replies.append(await ask(*console, "config reload"))
        reloaded.set()
        await load
        assert all(reply.startswith("Configuration reloaded") for reply in replies), replies
        assert len(bodies) >= WORKERS * REQUESTS_PER_WORKER >= 2000
        assert set(bodies) == {b"one", b"two"}

        script.write_text("this is not Lua")
        failed = await ask(*console, "config reload")
        assert failed.startswith("Reconfigure failed: ") and "console_site.lua:1:" in failed
        answers: list[bytes] = []
        await keep_alive_worker(port, 3, answers)
        assert answers == [b"one"] * 3  # the 20th reload loaded "one"; it keeps answering
        console[1].close()
        node.request_shutdown()
        await serve

    try:
        asyncio.run(scenario())
    finally:
        node.stop()
