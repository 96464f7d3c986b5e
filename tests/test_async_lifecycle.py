"""Timers and runInPool jobs across a generation's life: created before the event loop
runs (script top level, init, rsrc_setup), and cancelled with the generation."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import weakref
from pathlib import Path

from test_console import write_site

from momentum_httpsrv.node import MomentumNode

LOAD_TIME_SCRIPT = r"""
fired, jobs = {}, 0
T_TOP = msys.timer.after(0.05, function() fired[#fired + 1] = "top" end)
msys.runInPool("IO", function() jobs = jobs + 1 end, true)
local mod = {}
function mod:init()
  T_INIT = msys.timer.every(60, function() fired[#fired + 1] = "never" end)
  msys.runInPool("IO", function() jobs = jobs + 1 end, true)
  return true
end
function mod:rsrc_setup()
  T_SETUP = msys.timer.after(0.05, function() fired[#fired + 1] = "setup" end)
  msys.httpsrv.register("GET", "/hello", function(s) s:response_append("hello") end)
  return true
end
msys.registerModule("console_site", mod)
"""

LISTENER = 'HTTP_Listener { Listen "127.0.0.1:0" {} }'


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "momentum_httpsrv.cli", *args],
        capture_output=True, text=True, timeout=60,
    )


def test_check_and_call_accept_load_time_timers_and_jobs(tmp_path: Path) -> None:
    config = write_site(tmp_path, LOAD_TIME_SCRIPT)
    checked = cli("check", "-c", str(config))
    assert checked.returncode == 0, checked.stderr
    called = cli("call", "-c", str(config), "GET", "/hello")
    assert called.returncode == 0, called.stderr
    assert called.stdout.endswith("hello")


async def serve_for(node: MomentumNode, seconds: float) -> None:
    announced: list[str] = []
    serving = asyncio.create_task(node.serve(announce=announced.append))
    await asyncio.sleep(seconds)
    node.request_shutdown()
    await serving


def test_load_time_timers_and_jobs_run_once_the_node_serves(tmp_path: Path) -> None:
    node = MomentumNode(write_site(tmp_path, LOAD_TIME_SCRIPT, LISTENER))
    node.start()
    try:
        lua = node.generation.lua
        assert lua.execute("return #fired, jobs", "=t") == (0, 0)
        asyncio.run(serve_for(node, 0.3))
        fired = lua.execute("table.sort(fired) return table.concat(fired, ','), jobs", "=t")
        assert fired == ("setup,top", 2)
    finally:
        node.stop()


TICKING_SCRIPT = r"""
ticks = 0
T = msys.timer.every(0.01, function()
  ticks = ticks + 1
  msys.runInPool("IO", function() msys.sleep(0.001) end, true)
end)
msys.registerModule("console_site", { init = function() return true end })
"""


def test_a_retired_generation_stops_its_timers_and_jobs(tmp_path: Path) -> None:
    node = MomentumNode(write_site(tmp_path, TICKING_SCRIPT, LISTENER))
    node.start()
    first = node.generation
    first_state = weakref.ref(first.lua)
    ticks: list[int] = []

    async def scenario() -> None:
        assert first is not None
        serving = asyncio.create_task(node.serve(announce=lambda text: None))
        await asyncio.sleep(0.2)
        assert first.lua.msys_async.pending_jobs() < 5
        await node.run_console("config reload")
        ticks.append(first.lua.execute("return ticks", "=t")[0])
        await asyncio.sleep(0.2)
        ticks.append(first.lua.execute("return ticks", "=t")[0])
        assert first.lua.msys_async.pending_jobs() == 0
        assert node.generation.lua.execute("return ticks", "=t")[0] > 5
        node.request_shutdown()
        await serving

    try:
        asyncio.run(scenario())
    finally:
        node.stop()
    assert ticks[0] > 5 and ticks[1] == ticks[0]
    first = None
    gc.collect()
    assert first_state() is None
