"""Task coroutines are reused (prelude.lua's parked coroutines): a handler that returned
without suspending leaves its coroutine for the next request, and nothing a script can
see carries over from one request to the next. A coroutine a script has seen
(``coroutine.running()``) is never reused: it is dead once its request ended, as on
Momentum."""

from __future__ import annotations

from pathlib import Path

from lua_site import JOIN_LUA, LuaSite

SITE = r"""
require("msys.extended.httpsrv")
msys.httpsrv.register("GET", "/who", function(s)
  local seen = _TLS.seen
  _TLS.seen = "yes"
  s:response_append(tostring(seen))
end)
msys.httpsrv.register("GET", "/sleep", function(s)
  msys.sleep(0.01)
  s:response_append("slept")
end)
msys.httpsrv.register("GET", "/fail", function(s) error("boom") end)
msys.httpsrv.register("GET", "/spin", function(s) for _ = 1, 2e8 do end end)  -- ~2 s
"""


def body(site: LuaSite, target: str) -> str:
    response = site.request("GET", target)
    assert response.status == 200, response
    return response.body.decode("latin-1")


def parked(site: LuaSite) -> int:
    return int(site.state.api.parked_count())


def test_a_handler_that_returned_leaves_its_coroutine_for_the_next(tmp_path: Path) -> None:
    site = LuaSite(SITE, tmp_path)
    assert parked(site) == 0
    assert body(site, "/who") == "nil"
    assert parked(site) == 1  # its coroutine waits for the next task…
    assert body(site, "/who") == "nil"  # …which gets a fresh _TLS
    assert parked(site) == 1  # and gives it back


def test_failed_and_suspended_handlers_do_not_give_their_coroutine(tmp_path: Path) -> None:
    site = LuaSite(SITE, tmp_path)
    body(site, "/who")
    assert parked(site) == 1
    assert site.request("GET", "/fail").status == 500
    assert parked(site) == 0  # the parked one served /fail and died with it
    assert body(site, "/sleep") == "slept"
    assert parked(site) == 1  # a suspending handler parks its coroutine once it returned


KEEPER = SITE + JOIN_LUA + r"""
msys.httpsrv.register("GET", "/keep", function(s)
  kept = coroutine.running()
  if s:request_url_get().query == "sleep" then msys.sleep(0.01) end
end)
-- What a script sees of coroutine `co`: status, a resume, a resume that would run its
-- own function in it, a wrapped resume, debug.traceback and debug.getinfo.
local function looks(co)
  local wrapped = coroutine.wrap(function() return join(coroutine.resume(co)) end)
  return join(coroutine.status(co), coroutine.resume(co),
    coroutine.resume(co, function() ran_inside = true end), wrapped(),
    debug.traceback(co, "tb"), debug.getinfo(co, 0, "S"), debug.getinfo(co, 1, "S"),
    ran_inside)
end
msys.httpsrv.register("GET", "/poke", function(s) s:response_append(looks(kept)) end)
msys.httpsrv.register("GET", "/dead", function(s)
  local co = coroutine.create(function() end)
  coroutine.resume(co)
  s:response_append(looks(co))
end)
msys.httpsrv.register("GET", "/same", function(s)
  s:response_append(tostring(coroutine.running() == kept))
end)
"""


def test_a_kept_task_coroutine_is_dead_once_its_request_ended(tmp_path: Path) -> None:
    site = LuaSite(KEEPER, tmp_path)
    dead = body(site, "/dead")  # how Lua 5.1 shows a coroutine that returned
    assert dead == "|".join(("dead", "false", "false", "false|cannot resume dead coroutine",
                             "tb\nstack traceback:", "nil", "nil", "nil"))
    for keep in ("/keep", "/keep?sleep"):
        assert body(site, keep) == ""
        assert parked(site) == 0  # the one the script saw is not handed on
        assert body(site, "/poke") == dead
        # resuming it ran nothing and broke nothing: the next requests are served
        assert body(site, "/who") == "nil"
        assert body(site, "/same") == "false"  # no later request runs in the kept one
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


def test_a_thread_environment_a_handler_set_does_not_reach_the_next_request(
    tmp_path: Path,
) -> None:
    """setfenv(0, t) changes the running coroutine's own globals (what loadstring's
    functions and getfenv(0) see); on Momentum the next request has a new coroutine."""
    site = LuaSite(SITE + r"""
msys.httpsrv.register("GET", "/setenv", function(s)
  setfenv(0, setmetatable({ leaked = "earlier request" }, { __index = _G }))
end)
msys.httpsrv.register("GET", "/env", function(s)
  s:response_append(tostring(loadstring("return leaked")()) .. "|"
    .. tostring(getfenv(0) == _G))
end)
""", tmp_path)
    assert body(site, "/env") == "nil|true"
    body(site, "/setenv")
    assert body(site, "/env") == "nil|true"
    assert parked(site) == 1  # coroutines with the usual environment are still reused
