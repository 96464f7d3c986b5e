"""Suspend/resume from Lua and the msys.core helpers, through the
in-process pipeline."""

import time

import pytest
from lua_site import JOIN_LUA, LuaSite

SITE = r'''
require("msys.extended.httpsrv")
require("msys.timer")
local R = msys.httpsrv.register
''' + JOIN_LUA + r'''
R("GET", "/pool-sync", function(s)
  local ok, a, b = msys.runInPool("IO", function()
    msys.sleep(0.01)
    return "done", msys.asyncOk()
  end)
  local bad_ok, message = msys.runInPool("CPU", function() error("boom") end)
  s:response_append(join(msys.asyncOk(), ok, a, b, bad_ok, message))
end)

local events = {}
R("GET", "/pool-async", function(s)
  events = {}
  msys.runInPool("IO", function() events[#events + 1] = "job" end, true)
  msys.runInPool("IO", function()
    msys.sleep(0.01)
    events[#events + 1] = "job2"
  end, function() events[#events + 1] = "completion" end,
    msys.core.ECTP_COMPLETE_CALLBACK_SCHED)
  events[#events + 1] = "handler"
  s:response_append("started")
end)
R("GET", "/events", function(s) s:response_append(table.concat(events, ",")) end)

local ticks, keep = {}, {}
R("GET", "/timer", function(s)
  ticks = {}
  keep.once = msys.timer.after(0.045, function(t) ticks[#ticks + 1] = "after:" .. t:name() end,
    "once")
  local count = 0
  keep.every = msys.timer.every(0.01, function(t)
    ticks[#ticks + 1] = "every"
    count = count + 1
    if count == 3 then t:stop() end
  end)
  keep.stopped = msys.timer.at(msys.core.get_now_ts() + 0.01,
    function() ticks[#ticks + 1] = "x" end)
  keep.stopped:stop()
  msys.sleep(0.1)
  s:response_append(join(msys.type(keep.once), table.concat(ticks, ",")))
end)

R("GET", "/readfile", function(s)
  local path = s:request_header_get("x-file")
  local data = msys.readfile(path)
  local missing, reason = msys.readfile(path .. ".missing")
  s:response_append(join(#data, data:sub(1, 4), missing, reason ~= nil))
end)

R("GET", "/core", function(s)
  local path = s:request_header_get("x-file")
  local c = msys.core
  local w = c.io_wrapper_open(path, c.O_CREAT + c.O_WRONLY + c.O_TRUNC, 420)
  local n = w:write("hello world", 5)
  w:close()
  local a = c.io_wrapper_open("jlog://" .. path .. "=>master", c.O_WRONLY, 420)
  a:write(", more\nline2")
  a = nil
  collectgarbage()
  local r = c.io_wrapper_open("file://" .. path, c.O_RDONLY, 0)
  local first, second, rest = r:read("*l"), r:read(2), r:read("*a")
  local none, message, code = c.io_wrapper_open(path .. "/nope", c.O_RDONLY, 0)
  local exists = c.io_wrapper_open(path, c.O_CREAT + c.O_EXCL + c.O_WRONLY, 420)
  local es = c.string_new()
  es:set("abc")
  s:response_append(join(n, first, second, rest, none, code, exists,
    tostring(es), #es, es:tostring(), msys.type(es), msys.type({}), msys.type(s),
    type(c.get_now_ts()), c.VALIDATE_CONT ~= c.VALIDATE_DONE, c.EC_AUTH_OK, c.O_RDONLY))
end)
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return LuaSite(SITE, tmp_path_factory.mktemp("site"))


def test_run_in_pool_sync_form_is_pcall_like_and_may_suspend(site):
    assert site.request("GET", "/pool-sync").body.decode().startswith(
        "true|true|done|true|false|site.lua:")
    assert site.request("GET", "/pool-sync").body.endswith(b": boom")


def test_run_in_pool_async_forms_run_after_the_handler_returns(site):
    assert site.request("GET", "/pool-async").body == b"started"
    assert site.request("GET", "/events").body == b"handler,job,job2,completion"
    assert not [line for line in site.log if "no thread pool" in line]


def test_unknown_pool_warns_once(site):
    site.state.execute("msys.runInPool('Nope', function() end); msys.runInPool('Nope', print)",
                       "=t")
    assert [line for line in site.log if "'Nope'" in line] == [
        "msys.runInPool: no thread pool named 'Nope'; using IO"]


def test_timers_fire_repeat_and_stop(site):
    assert site.request("GET", "/timer").body == b"msys.timer|every,every,every,after:once"


def test_readfile_suspends_and_reports_failures(site, tmp_path):
    path = tmp_path / "data"
    path.write_bytes(b"\xffBIN" + b"x" * 1000)
    response = site.request("GET", "/readfile", headers=(("X-File", str(path)),))
    assert response.body == b"1004|\xffBIN|nil|true"


def test_core_helpers(site, tmp_path):
    path = tmp_path / "out.txt"
    before = time.time()
    response = site.request("GET", "/core", headers=(("X-File", str(path)),))
    assert path.read_bytes() == b"hello, more\nline2"
    assert response.body == (
        b"5|hello, more|li|ne2|nil|20|nil|abc|3|abc|ec_string|table|ec_httpsrv_session"
        b"|number|true|0|0")
    assert time.time() - before < 5
