"""Task coroutines are reused (prelude.lua's parked coroutines): a handler that returned
without suspending leaves its coroutine for the next request, and nothing a script can
see carries over from one request to the next."""

from __future__ import annotations

from pathlib import Path

from lua_site import LuaSite

SITE = r"""
require("msys.extended.httpsrv")
msys.httpsrv.register("GET", "/who", function(s)
  local seen = _TLS.seen
  _TLS.seen = "yes"
  s:response_append(tostring(coroutine.running()) .. "|" .. tostring(seen))
end)
msys.httpsrv.register("GET", "/sleep", function(s)
  local co = tostring(coroutine.running())
  msys.sleep(0.01)
  s:response_append(co)
end)
msys.httpsrv.register("GET", "/fail", function(s) error("boom") end)
msys.httpsrv.register("GET", "/spin", function(s) for _ = 1, 2e8 do end end)  -- ~2 s
"""


def body(site: LuaSite, target: str) -> str:
    response = site.request("GET", target)
    assert response.status == 200, response
    return response.body.decode("latin-1")


def test_a_handler_that_returned_leaves_its_coroutine_for_the_next(tmp_path: Path) -> None:
    site = LuaSite(SITE, tmp_path)
    first, second = body(site, "/who").split("|"), body(site, "/who").split("|")
    assert first[0] == second[0]  # the same coroutine…
    assert first[1] == second[1] == "nil"  # …with a fresh _TLS each time


def test_failed_and_suspended_handlers_do_not_give_their_coroutine(tmp_path: Path) -> None:
    site = LuaSite(SITE, tmp_path)
    parked = body(site, "/who").split("|")[0]
    assert site.request("GET", "/fail").status == 500
    # the parked one served /fail and died with it: the next request gets a new one
    fresh = body(site, "/who").split("|")[0]
    assert fresh != parked
    slept = body(site, "/sleep")
    assert slept == fresh  # a suspending handler runs in a parked coroutine too…
    assert body(site, "/who").split("|")[0] == fresh  # …and parks it again once it returned


def test_parked_coroutines_take_a_cpu_limit_set_after_they_were_made(tmp_path: Path) -> None:
    site = LuaSite(SITE, tmp_path)
    site.state.hooks.set_limit(0)  # no limit: parked coroutines get no count hook
    body(site, "/who")
    site.state.hooks.set_limit(0.05)
    response = site.request("GET", "/spin")
    assert response.status == 500
    assert any("CPU time limit exceeded" in line for line in site.log)


def test_the_collector_runs_with_momentums_documented_settings(tmp_path: Path) -> None:
    """With coroutines reused, Lua's collector can run as Momentum documents it
    (pause 200, step multiplier 200) unless the scriptlet says otherwise."""
    collect = LuaSite(SITE, tmp_path).state.lua.globals().collectgarbage
    assert collect("setpause", 200) == 200  # returns the setting it replaces
    assert collect("setstepmul", 200) == 200


def test_a_hook_a_handler_set_does_not_reach_the_next_request(tmp_path: Path) -> None:
    site = LuaSite(SITE + r"""
msys.httpsrv.register("GET", "/hook", function(s) debug.sethook(function() end, "l") end)
msys.httpsrv.register("GET", "/look", function(s)
  local fn, mask = debug.gethook()
  s:response_append(tostring(fn) .. "|" .. mask)
end)
""", tmp_path)
    assert body(site, "/look") == "nil|"
    body(site, "/hook")
    assert body(site, "/look") == "nil|"
