"""Runaway Lua: the CPU-time limit of work that does not yield, the memory limit of a Lua
state, signals while Lua spins, and suspending helpers outside a handler's coroutine."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from momentum_httpsrv.cli import EXIT_CONFIG
from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.lua import hooks
from momentum_httpsrv.lua.runtime import LuaState
from momentum_httpsrv.node import GenerationError, MomentumNode
from momentum_httpsrv.testing.client import MomentumTestClient
from momentum_httpsrv.testing.process import serve_process

SITE = r'''
require("msys.extended.httpsrv")
local R = msys.httpsrv.register
R("GET", "/spin", function(s)
  local x = 0
  while true do x = x + 1 end
end)
R("GET", "/spin-in-pcall", function(s)
  while true do pcall(function() while true do end end) end
end)
R("GET", "/ok", function(s) s:response_append("alive") end)
R("GET", "/spin-in-xpcall", function(s)
  -- Lua runs an error handler raised from a hook with hooks off: this one must not run.
  xpcall(function() while true do end end, function(e) HANDLER_RAN = true return e end)
end)
R("GET", "/grow", function(s)
  local t = {}
  local piece = string.rep("x", 1024 * 1024)
  for i = 1, 100000 do t[i] = piece .. i end
end)
R("GET", "/double", function(s)
  local text = "x"
  while true do text = text .. text end
end)
R("GET", "/nested-sleep", function(s)
  local co = coroutine.create(function(a)
    msys.sleep(0.05)
    local b = coroutine.yield("inner " .. a)
    msys.sleep(0)
    return "done " .. b
  end)
  local ok1, v1 = coroutine.resume(co, "a")
  local ok2, v2 = coroutine.resume(co, "b")
  local wrapped = coroutine.wrap(function() msys.sleep(0); return "wrapped" end)()
  s:response_append(table.concat({tostring(ok1), v1, tostring(ok2), v2, wrapped}, "|"))
end)
local keep = {}
R("GET", "/timer-spins", function(s)
  keep.timer = msys.timer.after(0, function() while true do end end)
  msys.sleep(0.05)  -- the timer runs meanwhile, and must end
  s:response_append("after the timer")
end)
R("GET", "/sleep-in-pcall", function(s)
  local ok, message = pcall(msys.sleep, 0.01)
  s:response_append(tostring(ok) .. "|" .. message)
end)
R("GET", "/finalizer-spins", function(s)
  local p = newproxy(true)
  getmetatable(p).__gc = function() while true do end end
  p = nil
  collectgarbage("collect")
  s:response_append("collected")
end)
R("GET", "/finalizer-spins-via-debug", function(s)
  local p = newproxy()
  debug.setmetatable(p, { __gc = function() while true do end end })
  rawset(getmetatable(p), "__gc", function() while true do end end)
  p = nil
  collectgarbage("collect")
  s:response_append("collected")
end)
R("GET", "/finalizer-counts", function(s)
  local p = newproxy(true)
  getmetatable(p).__gc = function(object) FINALIZED = (FINALIZED or 0) + 1 end
  p = nil
  collectgarbage("collect")
end)
msys.registerModule("limits", {
  init = function() return true end,
  rsrc_setup = function()
    msys.registerControl("spin", function(cc) while true do end end)
    return true
  end,
})
'''


def write_site(directory: Path, scriptlet_options: str, script: str = SITE) -> Path:
    (directory / "site.lua").write_text(script)
    config = directory / "ecelerity.conf"
    config.write_text(
        f'scriptlet "scriptlet" {{\n  {scriptlet_options}\n'
        '  script "site" { source = "site" }\n}\n'
        'HTTP_Listener { Listen "127.0.0.1:0" {} }\n'
    )
    return config


@pytest.fixture
def limited(tmp_path: Path):
    client = MomentumTestClient(write_site(tmp_path, "CPU_Time_Limit = 0.3\nMemory_Limit = 200"))
    yield client
    client.close()


def test_a_handler_that_spins_gets_a_500_at_its_line_and_the_state_keeps_serving(limited):
    response = limited.get("/spin")
    assert response.status == 500
    assert "site.lua:6: CPU time limit exceeded (0.3 s)" in limited.paniclog
    assert "stack traceback" in limited.paniclog
    assert limited.get("/ok").body == b"alive"


def test_pcall_cannot_swallow_the_cpu_time_limit(limited):
    assert limited.get("/spin-in-pcall").status == 500
    assert "CPU time limit exceeded" in limited.paniclog
    assert limited.get("/ok").body == b"alive"


def test_an_xpcall_handler_does_not_run_past_the_cpu_time_limit(limited):
    assert limited.get("/spin-in-xpcall").status == 500
    assert "CPU time limit exceeded" in limited.paniclog
    assert limited.node.generation.lua.lua.globals().HANDLER_RAN is None
    assert limited.get("/ok").body == b"alive"


@pytest.mark.parametrize("target", ["/finalizer-spins", "/finalizer-spins-via-debug"])
def test_a_finalizer_that_spins_is_ended_and_the_state_keeps_serving(limited, target):
    assert limited.get(target).body == b"collected"
    assert limited.get("/ok").body == b"alive"  # the finalizer ran first, and was ended
    assert "__gc finalizer failed" in limited.paniclog
    assert "site.lua:" in limited.paniclog
    assert "CPU time limit exceeded (0.3 s)" in limited.paniclog
    assert limited.get("/ok").body == b"alive"


def test_an_ordinary_finalizer_still_runs(limited):
    limited.get("/finalizer-counts")
    limited.get("/ok")
    assert limited.node.generation.lua.lua.globals().FINALIZED == 1
    assert "__gc" not in limited.paniclog


def test_a_console_command_that_spins_answers_the_error(limited):
    reply = limited.node.console("spin")
    line = next(n for n, text in enumerate(SITE.splitlines(), 1) if 'Control("spin"' in text)
    assert f"site.lua:{line}: CPU time limit exceeded" in reply
    assert limited.get("/ok").body == b"alive"


def test_a_timer_callback_that_spins_is_ended(limited):
    async def serving_request() -> bytes:
        limited.node.generation.lua.msys_async.start()  # timers run as when serving
        request = Request("GET", "/timer-spins", "1.1", [("Host", "x")], b"")
        return (await limited.node.handle(request)).body

    assert asyncio.run(serving_request()) == b"after the timer"
    assert "msys.timer callback failed" in limited.paniclog
    assert "CPU time limit exceeded" in limited.paniclog


def init_error(tmp_path: Path, scriptlet_options: str, init_body: str) -> str:
    """The error a configuration whose module's ``init`` runs ``init_body`` fails with."""
    script = f'msys.registerModule("m", {{ init = function() {init_body} end }})\n'
    node = MomentumNode(write_site(tmp_path, scriptlet_options, script))
    with pytest.raises(GenerationError) as failure:
        node.start()
    node.stop()
    return str(failure.value)


def test_init_that_spins_fails_the_configuration(tmp_path):
    error = init_error(tmp_path, "CPU_Time_Limit = 0.2", "while true do end")
    assert "site.lua:1: CPU time limit exceeded (0.2 s)" in error


def test_limits_are_checked_at_apply_time(run_check):
    result = run_check('scriptlet "scriptlet" { CPU_Time_Limit = -1 }\n')
    assert result.exit_code == EXIT_CONFIG
    assert "ecelerity.conf:1:" in result.output and "CPU_Time_Limit must be 0 or more" in (
        result.output
    )


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("target", ["/double", "/grow"])
def test_memory_past_the_limit_is_not_enough_memory_and_is_given_back(limited, target):
    limited.get("/ok")
    baseline = rss_bytes()
    response = limited.get(target)
    assert response.status == 500
    assert "not enough memory" in limited.paniclog
    assert limited.get("/ok").body == b"alive"
    assert rss_bytes() - baseline < 100 * 2**20  # the 200 MB it held is returned


def test_msys_sleep_suspends_from_a_coroutine_the_handler_made(limited):
    async def scenario() -> tuple[bytes, list[str]]:
        order: list[str] = []

        async def fetch(target: str) -> bytes:
            response = await limited.node.handle(
                Request("GET", target, "1.1", [("Host", "x")], b"")
            )
            order.append(target)
            return response.body

        nested, _ = await asyncio.gather(fetch("/nested-sleep"), fetch("/ok"))
        return nested, order

    body, order = asyncio.run(scenario())
    assert body == b"true|inner a|true|done b|wrapped"
    assert order == ["/ok", "/nested-sleep"]  # the loop served /ok while the other slept


def test_msys_sleep_inside_pcall_is_a_clear_error(limited):
    body = limited.get("/sleep-in-pcall").body.decode()
    assert body.startswith("false|")
    assert "msys.sleep: cannot suspend inside pcall" in body


def test_msys_sleep_outside_any_task_is_an_error_not_a_blocking_sleep(tmp_path):
    error = init_error(tmp_path, "", "msys.sleep(30) return true")
    assert "site.lua:1: msys.sleep: cannot suspend here" in error


def test_a_signal_stops_the_server_while_a_finalizer_spins(tmp_path):
    config = write_site(tmp_path, "CPU_Time_Limit = 600")
    with serve_process(config) as (process, port):
        http_get(port, "/finalizer-spins", timeout=10)
        with pytest.raises(OSError):  # the next entry runs the finalizer, which spins
            while True:
                http_get(port, "/ok", timeout=0.5)
                time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("the server ignored SIGTERM while a finalizer spun")
    assert returncode == 0


def http_get(port: int, target: str, timeout: float) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        return sock.recv(65536)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_server_while_lua_spins(tmp_path, signum):
    config = write_site(tmp_path, "CPU_Time_Limit = 600")
    with serve_process(config) as (process, port):
        spinning = socket.create_connection(("127.0.0.1", port))
        spinning.sendall(b"GET /spin HTTP/1.1\r\nHost: x\r\n\r\n")
        # The spin has begun once the loop stops answering others.
        with pytest.raises(OSError):
            while True:
                http_get(port, "/ok", timeout=0.5)
                time.sleep(0.05)
        process.send_signal(signum)
        try:
            returncode = process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("the server ignored the signal while Lua spun")
        spinning.close()
    assert returncode == 0


def test_spinning_lua_polls_python_by_cpu_time_not_per_check(monkeypatch):
    """The hook polls Python (where signal handlers run) about every HOOK_POLL_INTERVAL
    of CPU time: often enough for a signal, never on every check."""
    polls: list[float] = []

    def counting_poll() -> None:
        polls.append(time.process_time())

    monkeypatch.setattr(hooks, "_poll", counting_poll)
    state = LuaState(max_memory=0)
    started = time.process_time()
    state.execute("for i = 1, 1e8 do end", "=spin")  # 100,000,000 instructions
    spun = time.process_time() - started
    assert 1 <= len(polls) <= spun / hooks.HOOK_POLL_INTERVAL + 2


def test_an_interrupt_ends_the_lua_spinning_on_each_thread(tmp_path: Path) -> None:
    """While a reload loads, Lua runs on the loop thread and on the reload's worker: a
    stop signal ends both (the first to poll does not take it from the other)."""
    states = [LuaState([tmp_path], cpu_limit=20.0) for _ in range(2)]
    outcomes: list[str] = []

    def spin(state: LuaState) -> None:
        try:
            state.execute("while true do end", "=spin")
        except Exception as error:  # the interrupt, as a Lua error
            outcomes.append(str(error))

    threads = [threading.Thread(target=spin, args=(state,), daemon=True) for state in states]
    try:
        for thread in threads:
            thread.start()
        time.sleep(0.1)  # both spinning
        hooks.interrupt_lua_work("interrupted: stopping")
        for thread in threads:
            thread.join(timeout=5)
    finally:
        hooks.clear_interrupt()
    assert [thread.is_alive() for thread in threads] == [False, False]
    assert len(outcomes) == 2
    assert all("interrupted: stopping" in outcome for outcome in outcomes)
