"""The session from Lua: msys.httpsrv.register and session:<method>() through the
dispatcher, with no configuration file and no sockets."""

import asyncio

import pytest

from momentum_httpsrv.httpsrv.dispatch import Dispatcher
from momentum_httpsrv.httpsrv.lua_binding import LuaHttpsrvBinding
from momentum_httpsrv.httpsrv.requests import Request
from momentum_httpsrv.httpsrv.responses import CollectingSink
from momentum_httpsrv.lua.runtime import LuaState

SITE = r'''
require("msys.extended.httpsrv")
require("msys.core")

local function attrs_of(session)
  local url = session:request_url_get()
  if url.attrs == nil then return "no attrs" end
  local out, iter = {}, msys.core.dict_iter2(url.attrs)
  while true do
    local rc, key, value = msys.core.dict_next(url.attrs, iter)
    if rc == 0 then break end
    out[#out + 1] = key .. "=" .. value
  end
  msys.core.dict_iter2_free(url.attrs, iter)
  return table.concat(out, ",")
end

msys.httpsrv.register("GET", "/attrs", function(s) s:response_append(attrs_of(s)) end)
msys.httpsrv.register("GET", "/url", function(s)
  local u = s:request_url_get()
  s:response_append(table.concat({u.url, u.path, tostring(u.raw_query), tostring(u.query),
    tostring(u.fragment), tostring(u.port), tostring(u == s:request_url_get())}, "|"))
  local ok, err = pcall(function() u.path = "/x" end)
  s:response_append("|" .. tostring(err))
end)
msys.httpsrv.register("GET", "/headers", function(s)
  local v = s:request_header_get("x-probe")
  local missing, code = s:request_header_get("x-missing")
  s:response_printf("%s|%s|%d|%s", v, tostring(missing), code, s:request_method_get())
end)
msys.httpsrv.register("POST", "/setters", function(s)
  local rcs = {
    s:response_status_set(299, "Custom"),
    s:response_header_set("X-One", "1"),
    s:response_header_set("X-Bad", "a\r\nb"),
    s:response_status_set(42, "x"),
  }
  s:response_append(table.concat(rcs, ","))
end)
local stolen
msys.httpsrv.register("GET", "/steal", function(s) stolen = s end)
msys.httpsrv.register("GET", "/stale", function(s)
  local ok, err = pcall(stolen.request_method_get, stolen)
  s:response_append(tostring(err))
end)
msys.httpsrv.register("GET", "/badarg", function(s)
  local ok, err = pcall(function() s:response_header_set(nil, "v") end)
  s:response_append(err)
end)
msys.httpsrv.register("GET", "/flush", function(s)
  s:response_append("one,")
  s:response_flush(0)
  s:response_append("two")
  s:response_flush(1)
  s:response_append(tostring(s:response_append("late")))
end)
'''


@pytest.fixture
def site(tmp_path):
    log = []
    state = LuaState([tmp_path], print_sink=log.append, warn=log.append)
    binding = LuaHttpsrvBinding(state)
    state.execute(SITE, "@site.lua")
    dispatcher = Dispatcher(binding.registry, lambda message, tb: log.append(message))

    def request(method, target, body=b"", headers=()):
        sink = CollectingSink()
        asyncio.run(dispatcher(Request(method, target, "1.1", list(headers), body), sink))
        return sink.response

    request.log = log
    return request


@pytest.mark.parametrize(
    ("target", "body"),
    [
        ("/attrs?b=2&a=x%20y", b"b=2,a=x y"),
        ("/attrs?flag", b"no attrs"),
        ("/attrs", b"no attrs"),
    ],
)
def test_query_attrs_with_dict_helpers(site, target, body):
    assert site("GET", target).body == body


def test_url_details_fields(site):
    body = site("GET", "/url/a%20b?q=1%2B1#frag").body.decode()
    assert body.startswith("/url/a%20b?q=1%2B1#frag|/url/a b|q=1%2B1|q=1+1|frag|0|true|")
    assert body.endswith("ec_url_details is read-only")


def test_header_and_method_getters(site):
    response = site("GET", "/headers", headers=[("X-Probe", "yes")])
    assert response.body == b"yes|nil|2|GET"


def test_setters_return_c_codes(site):
    response = site("POST", "/setters")
    assert (response.status, response.reason) == (299, "Custom")
    assert response.body == b"0,0,22,22"
    assert response.header("X-One") == "1" and response.header("X-Bad") is None


def test_session_is_invalid_after_its_request(site):
    site("GET", "/steal")
    assert site("GET", "/stale").body == b"session is no longer valid"


def test_bad_argument_is_a_lua_error_at_the_caller(site):
    lines = SITE.split("\n")
    line = next(n for n, text in enumerate(lines, 1) if "s:response_header_set(nil" in text)
    assert site("GET", "/badarg").body == (
        f"site.lua:{line}: bad argument #1 to 'response_header_set' (string expected, got nil)"
    ).encode()


def test_flush_then_final_locks_output(site):
    response = site("GET", "/flush")
    assert response.streamed and response.body == b"one,two"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('s:response_printf("%d", "x")',
         "bad argument #2 to 'response_printf' (number expected, got string)"),
        ("s:response_status_set(0/0, 'x')",
         "bad argument #1 to 'response_status_set' (number has no integer representation)"),
        ("s:response_flush(1/0)",
         "bad argument #1 to 'response_flush' (number has no integer representation)"),
    ],
)
def test_argument_errors_name_the_script_line_and_the_method(tmp_path, call, message):
    log = []
    state = LuaState([tmp_path], print_sink=log.append, warn=log.append)
    binding = LuaHttpsrvBinding(state)
    state.execute(
        "msys.httpsrv.register('GET', '/e', function(s)\n"
        f"  local ok, err = pcall(function() {call} end)\n"
        "  s:response_append(err)\nend)\n",
        "@errs.lua",
    )
    dispatcher = Dispatcher(binding.registry, lambda m, tb: log.append(m))
    sink = CollectingSink()
    asyncio.run(dispatcher(Request("GET", "/e"), sink))
    assert sink.response.body.decode() == f"errs.lua:2: {message}"


PLAIN = r'''
local function plain(s)
  s:response_status_set_std(201, "Made", "text/plain")
  s:response_header_set("X-One", "1")
  s:response_header_set("x-one", "2")
  s:response_header_set("X-Gone", "g")
  s:response_header_set("X-Gone", nil)
  s:response_printf("%s-%d|", "a", 7)
  s:response_append(12)
  s:response_append("")
  s:response_append("|" .. s:response_header_set("Bad Name", "v"))
  s:response_append("|" .. s:response_status_set(199, "no"))
end
msys.httpsrv.register("GET", "/plain", plain)
msys.httpsrv.register("GET", "/flushed", function(s)
  plain(s)
  s:response_flush(0)
  s:response_append("|after")
end)
msys.httpsrv.register("GET", "/std", function(s)
  s:response_status_not_found("text/html")
  s:response_status_set_std(503, "Busy\r\nX: y", nil)
end)
'''


def test_a_plain_handler_crosses_to_the_host_only_with_its_result(tmp_path):
    """Status, headers and body stay in Lua while the handler runs: no host call, one
    hand-over with the result; the response is what the host's setters would make (a
    handler that flushes hands over first and goes on through the host)."""
    state = LuaState([tmp_path])
    binding = LuaHttpsrvBinding(state)
    state.execute(PLAIN, "@plain.lua")
    host_calls: list[str] = []
    for name, function in list(binding._calls.items()):
        binding._calls[name] = (
            lambda *args, name=name, function=function: host_calls.append(name) or function(*args)
        )
    dispatcher = Dispatcher(binding.registry, lambda message, tb: None)

    def get(target):
        sink = CollectingSink()
        asyncio.run(dispatcher(Request("GET", target, "1.1", [("Host", "h")]), sink))
        return sink.response

    plain = get("/plain")
    assert host_calls == []
    assert (plain.status, plain.reason, plain.body) == (201, "Made", b"a-7|12|22|22")
    assert [(n, v) for n, v in plain.headers if n != "Date"] == [
        ("Content-Type", "text/plain"), ("x-one", "2"), ("Content-Length", "12")]

    flushed = get("/flushed")
    assert host_calls == ["take_pending", "response_flush", "response_append"]
    assert (flushed.status, flushed.body) == (201, b"a-7|12|22|22|after")

    std = get("/std")  # the std message is the body; the reason loses its control bytes
    assert (std.status, std.reason, std.body) == (503, "Busy  X: y", b"Busy\r\nX: y")
