"""A reload builds the next generation on a worker thread: while its scripts load (here a
top level that spins in CPU), the running generation keeps answering on the event loop,
and the result of the reload is still right (docs/generations.md#reload)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from momentum_httpsrv.console.commands import ReconfigureError
from momentum_httpsrv.node import MomentumNode

SITE = """
local mod = {}
function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/which", function(session)
    session:response_status_set_std(200, "OK", "text/plain")
    session:response_append("VERSION")
  end)
  return true
end
function mod:deinit() print("deinit VERSION") return true end
msys.registerModule("site", mod)
"""
CONFIG = """HTTP_Listener { Listen "127.0.0.1:0" {} }
scriptlet "scriptlet" { CPU_Time_Limit = LIMIT  script "site" { source = "site" } }
"""


def spinning_top_level(loading: Path, gate: Path, seconds: float) -> str:
    """Lua that says it is loading, then spins in CPU until ``gate`` exists (or, without a
    gate, for ``seconds`` of CPU)."""
    return (
        f'io.open("{loading}", "w"):close()\n'
        f"local until_cpu = os.clock() + {seconds}\n"
        f'while os.clock() < until_cpu and not io.open("{gate}") do end\n'
    )


def start_node(tmp_path: Path, limit: float = 10) -> MomentumNode:
    (tmp_path / "site.lua").write_text(SITE.replace("VERSION", "one"))
    (tmp_path / "ecelerity.conf").write_text(CONFIG.replace("LIMIT", str(limit)))
    node = MomentumNode(tmp_path / "ecelerity.conf", paniclog_path=tmp_path / "paniclog")
    node.start()
    return node


async def get_which(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /which HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), answer
    return body


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def run_served(node: MomentumNode, scenario: Callable[[int], Awaitable[None]]) -> None:
    async def served() -> None:
        serving = asyncio.create_task(node.serve(announce=lambda text: None))
        await until(lambda: bool(node.listeners))
        try:
            await scenario(node.listeners[0].bound_addresses[0][1])
        finally:
            node.request_shutdown()
            await serving

    try:
        asyncio.run(served())
    finally:
        node.stop()


def test_the_old_generation_answers_while_the_next_ones_scripts_spin(tmp_path: Path) -> None:
    node = start_node(tmp_path)
    loading, gate = tmp_path / "loading", tmp_path / "gate"
    (tmp_path / "site.lua").write_text(
        spinning_top_level(loading, gate, 5.0) + SITE.replace("VERSION", "two")
    )

    async def scenario(port: int) -> None:
        reload = asyncio.create_task(node.reload())
        await until(loading.exists)
        assert await get_which(port) == b"one"  # answered on the loop while Lua spins
        assert not reload.done() and node.generation.number == 1
        gate.touch()
        assert (await reload).number == 2
        assert await get_which(port) == b"two"
        await until(lambda: "deinit one" in node.paniclog.text())

    run_served(node, scenario)


def test_a_reload_out_of_cpu_time_keeps_the_old_generation(tmp_path: Path) -> None:
    """The CPU-time limit holds on the loading thread: the top level ends with the error,
    and the running generation was answering meanwhile and stays."""
    node = start_node(tmp_path, limit=0.5)
    loading = tmp_path / "loading"
    (tmp_path / "site.lua").write_text(
        f'io.open("{loading}", "w"):close()\nwhile true do end\n' + SITE
    )
    answers: list[bytes] = []

    async def scenario(port: int) -> None:
        reload = asyncio.create_task(node.reload())
        await until(loading.exists)
        answers.append(await get_which(port))
        with pytest.raises(ReconfigureError, match=r"site\.lua:2: CPU time limit exceeded"):
            await reload
        answers.append(await get_which(port))

    run_served(node, scenario)
    assert answers == [b"one", b"one"]
    assert node.paniclog is not None
    assert "config reload failed: " in node.paniclog.text()
    assert "still serving generation 1" in node.paniclog.text()


def test_a_reload_whose_caller_went_away_retires_what_it_built(tmp_path: Path) -> None:
    node = start_node(tmp_path)
    loading, gate = tmp_path / "loading", tmp_path / "gate"
    (tmp_path / "site.lua").write_text(
        spinning_top_level(loading, gate, 5.0) + SITE.replace("VERSION", "two")
    )

    async def scenario(port: int) -> None:
        reload = asyncio.create_task(node.reload())
        await until(loading.exists)
        reload.cancel()
        gate.touch()
        await until(lambda: "deinit two" in node.paniclog.text())  # built, then retired
        assert node.generation.number == 1 and await get_which(port) == b"one"
        # the next reload is not held up, and numbers the generation it swaps in
        assert (await node.reload()).number == 2

    run_served(node, scenario)
