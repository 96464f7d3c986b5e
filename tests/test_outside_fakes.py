"""The fakes on their own: the clock that moves msys.sleep, timers and get_now_ts; what
FakeDns and FakeHttp record and answer."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from momentum_httpsrv.lua.runtime import LuaState

SCRIPT = r'''
require("msys.timer")
local mod = {}
fired = {}
local function note(what) fired[#fired + 1] = what .. "@" .. msys.core.get_now_ts() end
every_timer = msys.timer.every(60, function() note("every") end)  -- kept: a collected timer stops
local function nap(session)
  local before = msys.core.get_now_ts()
  msys.sleep(3600)
  session:response_status_set_std(200, "OK", "text/plain")
  session:response_append(before .. " " .. msys.core.get_now_ts())
  return msys.httpsrv.DONE
end
local function later(session)
  held = msys.timer.after(30, function() note("after") end)
  session:response_status_set_std(200, "OK", "text/plain")
  return msys.httpsrv.DONE
end
local function show(session)
  session:response_status_set_std(200, "OK", "text/plain")
  session:response_append("fired:" .. table.concat(fired, " "))
  return msys.httpsrv.DONE
end
function mod:rsrc_setup()
  msys.httpsrv.register("GET", "/nap", nap)
  msys.httpsrv.register("GET", "/later", later)
  msys.httpsrv.register("GET", "/fired", show)
  return true
end
msys.registerModule("clocked", mod)
'''


def clock_site(directory: Path) -> Path:
    (directory / "clocked.lua").write_text(SCRIPT)
    (directory / "ecelerity.conf").write_text(
        'scriptlet "scriptlet" {\n  script "clocked" { source = "clocked" }\n}\n'
    )
    return directory / "ecelerity.conf"


def test_sleep_moves_the_clock_without_waiting(tmp_path, momentum_clock, momentum_site):
    site = momentum_site(clock_site(tmp_path))
    started = time.monotonic()
    response = site.get("/nap")
    assert time.monotonic() - started < 60  # an hour of msys.sleep did not happen for real
    before, after = map(int, response.text.split())
    assert (before, after) == (1_700_000_000, 1_700_003_600)
    assert momentum_clock.time() == 1_700_003_600


def test_timers_fire_when_the_clock_is_moved(tmp_path, momentum_clock, momentum_site):
    site = momentum_site(clock_site(tmp_path))
    site.get("/later")
    assert site.get("/fired").text == "fired:"
    momentum_clock.advance(29)
    assert site.get("/fired").text == "fired:"
    momentum_clock.advance(1)
    assert site.get("/fired").text == "fired:after@1700000030"
    momentum_clock.advance(100)
    assert site.get("/fired").text == (
        "fired:after@1700000030 every@1700000060 every@1700000120"
    )


def test_a_fake_dns_names_nodata_and_chosen_failures(momentum_dns):
    momentum_dns.add("example.com", "A", "192.0.2.1").fail("flaky.example", "SERVFAIL")
    state = LuaState([])
    chunk = state.compile(
        'local a, b = msys.dnsLookup("example.com", "txt")\n'
        'local c, d = msys.dnsLookup("flaky.example")\n'
        'local e, f = msys.dnsLookup("EXAMPLE.com.")\n'
        "return b, d, e[1]", "=t"
    )
    assert asyncio.run(state.run_in_task(chunk)) == ("NODATA", "SERVFAIL", "192.0.2.1")
    assert momentum_dns.questions[0] == ("example.com", "TXT", None)
