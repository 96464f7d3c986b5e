"""Scripts' own debug hooks (debug.sethook): they run beside the emulator's CPU-time limit,
see the events they asked for as stock Lua reports them, and cannot escape the limit."""

from __future__ import annotations

import pytest

from momentum_httpsrv.lua.runtime import LuaScriptError, LuaState

TRACE = """
local events = {}
local function hook(event)
  local t, caller = debug.getinfo(2), debug.getinfo(3)
  events[#events + 1] = event .. " " .. (t.name or t.what) .. " " .. t.what
    .. " from line " .. caller.currentline
end
local function inner() return 1 end
local function outer()
  inner()
end
debug.sethook(hook, "cr")
local fn, mask, count = debug.gethook()
outer()
debug.sethook()
return table.concat(events, "; "), fn == hook, mask, count
"""


def test_a_call_and_return_hook_sees_the_scripts_calls_as_stock_lua_reports_them():
    trace, same, mask, count = LuaState().execute(TRACE, "=t")
    assert trace == (
        "return sethook C from line 12; call gethook C from line 13; "
        "return gethook C from line 13; call outer Lua from line 14; "
        "call inner Lua from line 10; return inner Lua from line 10; "
        "return outer Lua from line 14; call sethook C from line 15"
    )
    assert (same, mask, count) == (True, "cr", 0)


def test_line_and_count_hooks_and_what_gethook_answers():
    state = LuaState()
    lines = state.execute(
        "local seen = {}\n"
        "debug.sethook(function(e, line) seen[#seen + 1] = line end, 'l')\n"
        "local x = 1\n"
        "x = x + 1\n"
        "debug.sethook()\n"
        "return table.concat(seen, ',')",
        "=t",
    )
    assert lines == ("3,4,5",)
    counted = state.execute(
        "local n = 0\n"
        "debug.sethook(function(e) n = n + 1 end, '', 100)\n"
        "for i = 1, 10000 do end\n"
        "debug.sethook()\n"
        "return n",
        "=t",
    )
    assert 100 <= counted[0] <= 300  # a numeric for: about 2 instructions per turn
    assert state.execute("debug.sethook(print, 'lrc', 7) return debug.gethook()", "=t")[1:] == (
        "crl",
        7,
    )
    assert state.execute("debug.sethook() return debug.gethook()", "=t") == (None, "", 0)


def test_sethook_checks_its_arguments_as_ldblib_does():
    state = LuaState()
    no_mask = r"bad argument #2 to 'sethook' \(string expected, got no value\)"
    with pytest.raises(LuaScriptError, match=no_mask):
        state.execute("debug.sethook(print)", "=t")
    not_a_function = r"bad argument #1 to 'sethook' \(function expected, got number\)"
    with pytest.raises(LuaScriptError, match=not_a_function):
        state.execute("debug.sethook(1, 'c')", "=t")


def test_a_script_hook_that_spins_ends_with_the_cpu_time_limit():
    state = LuaState(cpu_limit=0.2)
    with pytest.raises(LuaScriptError, match=r"t:1: CPU time limit exceeded \(0.2 s\)"):
        state.execute(
            "debug.sethook(function() while true do end end, 'c')\n"
            "local ok = pcall(print, 'x')\n"
            "return 'escaped'",
            "=t",
        )


@pytest.mark.parametrize("spin", [
    "while true do debug.sethook() end",  # each call re-arms: the countdown restarts
    "debug.sethook(function() end, '', 1000) while true do end",
    "debug.sethook(function() end, 'l', 1000) while true do end",
], ids=["sethook-in-a-loop", "small-count", "line-and-small-count"])
def test_a_script_setting_hooks_cannot_escape_the_cpu_time_limit(spin: str) -> None:
    state = LuaState(cpu_limit=0.2)
    with pytest.raises(LuaScriptError, match=r"CPU time limit exceeded \(0.2 s\)"):
        state.execute(spin, "=t")
