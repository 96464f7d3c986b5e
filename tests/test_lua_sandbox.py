"""The closed sandbox: nothing a script can reach is a Python object, and our own
functions cannot be changed through ``debug``; ``debug`` keeps working for Lua values."""

from __future__ import annotations

from pathlib import Path

import pytest
from lua_site import scriptlet_client
from lupa import lua51

from momentum_httpsrv.lua.runtime import LuaScriptError

# Everything reachable the ways a script can reach things: globals, every package that can
# be required, the string metatable, upvalues and environments of every function, the
# metatable of every value, the frames (functions and locals) of every coroutine, and
# debug.getregistry. Userdata met on the way are kept in WALKED for Python to judge.
WALKER = r"""
local modules = { "json", "xml", "pcre", "msys.pcre", "msys.base64", "msys.dumper",
  "msys.core", "msys.timer", "msys.httpsrv", "msys.extended.httpsrv", "msys.datasource",
  "msys.extended.message", "msys.getopt", "msys.http", "msys.http.client", "msys.db",
  "msys.threadpool", "python" }
for _, name in ipairs(modules) do pcall(require, name) end
local seen, queue, found = {}, {}, {}
local function push(value)
  local t = type(value)
  if (t == "table" or t == "function" or t == "userdata" or t == "thread")
      and not seen[value] then
    seen[value] = true
    queue[#queue + 1] = value
    if t == "userdata" then found[#found + 1] = value end
  end
end
push(_G); push(debug.getmetatable("")); push(coroutine.running())
local ok = pcall(function() push(debug.getregistry()) end)
push(session)
local i = 1
while i <= #queue do
  local value = queue[i]; i = i + 1
  local t = type(value)
  if t == "table" then
    for k, v in next, value do push(k); push(v) end
  elseif t == "function" then
    local u = 1
    while debug.getupvalue(value, u) do push(select(2, debug.getupvalue(value, u))); u = u + 1 end
    push(debug.getfenv(value))
  elseif t == "thread" then
    for level = 0, 100 do
      local info = debug.getinfo(value, level, "f")
      if not info then break end
      push(info.func)
      local j = 1
      while debug.getlocal(value, level, j) do
        push(select(2, debug.getlocal(value, level, j))); j = j + 1
      end
    end
  else
    push(debug.getfenv(value))
  end
  push(debug.getmetatable(value))
end
for level = 1, 100 do
  local info = debug.getinfo(level, "f")
  if not info then break end
  push(info.func)
  local j = 1
  while debug.getlocal(level, j) do push(select(2, debug.getlocal(level, j))); j = j + 1 end
end
WALKED = { count = #queue, userdata = found, registry = ok }
"""

SITE = r"""
require("msys.extended.httpsrv")
local keep = {}
msys.httpsrv.register("GET", "/walk", function(s)
  session = s
  keep.timer = msys.timer.after(100, function() end)
  keep.co = coroutine.create(function() coroutine.yield() end)
  coroutine.resume(keep.co)
  local walk = assert(loadstring(WALKER_SOURCE, "=walker"))
  walk()
  s:response_append("walked")
end)
"""


@pytest.fixture
def site(tmp_path: Path):
    client = scriptlet_client(tmp_path, SITE)
    yield client
    client.close()


def test_nothing_reachable_from_lua_is_a_python_object(site):
    state = site.node.generation.lua
    state.lua.globals().WALKER_SOURCE = WALKER
    assert site.get("/walk").body == b"walked"
    walked = state.lua.globals().WALKED
    assert walked.count > 300  # the walk went everywhere (functions, tables, frames)
    assert walked.registry is True  # the walk went through the scripts' registry too
    python_objects = [value for value in walked.userdata.values() if lua51.lua_type(value) is None]
    assert python_objects == []


# The types of print's upvalues as a script reads them (one was a Python method).
PRINT_UPVALUE_TYPES = """
local types, i = {}, 1
while debug.getupvalue(print, i) do
  types[i] = type(select(2, debug.getupvalue(print, i)))
  i = i + 1
end
return table.concat(types, ",")
"""


def test_the_known_ways_to_python_are_closed(site):
    state = site.node.generation.lua
    (upvalues,) = state.execute(PRINT_UPVALUE_TYPES, "=t")
    assert upvalues == ""  # print is a C function, as thrLua's: no upvalues to read
    assert state.execute("return (pcall(require, 'python'))", "=t") == (False,)
    with pytest.raises(LuaScriptError, match="debug.setupvalue: not for the emulator"):
        state.execute("debug.setupvalue(msys.sleep, 1, function() end)", "=t")
    # print is a C function, as thrLua's: nothing to set
    assert state.execute("return debug.setupvalue(print, 1, function() end)", "=t") == ()


def test_a_python_error_caught_by_a_script_is_its_text(site):
    state = site.node.generation.lua
    caught = state.execute(
        "local bad = function() return msys.core.get_now_ts(1, 2, 3) end\n"
        "local _, by_pcall = pcall(bad)\n"
        "local _, by_xpcall = xpcall(bad, function(e) return type(e) end)\n"
        "local _, by_resume = coroutine.resume(coroutine.create(bad))\n"
        "local _, by_wrap = pcall(coroutine.wrap(bad))\n"
        "return type(by_pcall), by_xpcall, type(by_resume), type(by_wrap), by_pcall",
        "=t",
    )
    assert caught[:4] == ("string", "string", "string", "string")
    assert "positional arguments" in caught[4]


def test_debug_keeps_working_for_scripts_own_values(site):
    state = site.node.generation.lua
    script = """
      local secret = 41
      local function f() return secret end
      local name, value = debug.getupvalue(f, 1)
      debug.setupvalue(f, 1, value + 1)
      local local_name, local_value = debug.getlocal(1, 1)
      return name, f(), local_name, local_value, debug.getinfo(1, "l").currentline,
        debug.getinfo(f).what
    """
    assert state.execute(script, "=t") == ("secret", 42, "secret", 42, 7, "Lua")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("pcall()", "t:1: bad argument #1 to 'pcall' (value expected)"),
        ("xpcall(print)", "t:1: bad argument #2 to 'xpcall' (value expected)"),
        ("coroutine.resume(1)", "t:1: bad argument #1 to 'resume' (coroutine expected)"),
    ],
)
def test_wrapped_pcall_and_resume_report_argument_errors_at_the_callers_line(site, call, message):
    with pytest.raises(LuaScriptError) as failure:
        site.node.generation.lua.execute(call, "=t")
    assert failure.value.message == message


def test_a_scripts_userdata_metatable_works_as_in_stock_lua(site):
    # Scripts edit a shadow of their userdata's metatable (the real one forwards to it).
    script = """
      local p = newproxy(true)
      local mt = getmetatable(p)
      mt.__index = function(u, k) return k .. "!" end
      mt.__tostring = function() return "P" end
      mt.__add = function(a, b) return 42 end
      mt.__eq = function() return true end
      mt.__len = function() return 7 end
      mt.__call = function(u, x) return x * 2 end
      local q = newproxy(p)
      local plain = newproxy(true)
      local d = newproxy()
      debug.setmetatable(d, { __index = { a = 1 } })
      local ok, message = pcall(newproxy, {})
      mt.__metatable = "locked"
      return p.foo, tostring(p), p + 1, 1 + p, #p, p(21), p == q,
        debug.getmetatable(q) == mt, getmetatable(p), tostring(plain):sub(1, 10),
        (pcall(function() return plain.x end)), d.a, message
    """
    assert site.node.generation.lua.execute(script, "=t") == (
        "foo!", "P", 42, 42, 7, 42, True, True, "locked", "userdata: ", False, 1,
        "bad argument #1 to 'newproxy' (boolean or proxy expected)",
    )


# Keys of the registry a script sees, after it stored one of its own.
SCRIPT_REGISTRY = """
local registry = debug.getregistry()
registry.mine = "kept"
local keys = {}
for key in pairs(registry) do keys[#keys + 1] = tostring(key) end
table.sort(keys)
return table.concat(keys, ","), debug.getregistry().mine, registry._LOADED == package.loaded
"""


def test_debug_getregistry_is_a_table_of_the_scripts_own(site):
    state = site.node.generation.lua
    assert state.execute(SCRIPT_REGISTRY, "=t") == ("_LOADED,mine", "kept", True)


def test_a_chunk_this_state_dumped_loads_and_runs(site):
    state = site.node.generation.lua
    result = state.execute(
        "local f = assert(loadstring(string.dump(function(x) return x * 2 end), '=dumped'))\n"
        "local pieces, dumped = {}, string.dump(function() return 'by reader' end)\n"
        "for i = 1, #dumped, 7 do pieces[#pieces + 1] = dumped:sub(i, i + 6) end\n"
        "local g = assert(load(function() return table.remove(pieces, 1) end))\n"
        "return f(21), g()",
        "=t",
    )
    assert result == (42, "by reader")


# A dump with its constant 1.5 rewritten as 2.5 in place: valid bytecode stock Lua loads
# (CRAFTED_IN_STOCK_LUA shows it), but not a chunk this state's string.dump made.
CRAFTED = r"""
local dumped = string.dump(function() return 1.5 end)
local at = assert(dumped:find("\0\0\0\0\0\0\248\63", 1, true))
local crafted = dumped:sub(1, at - 1) .. "\0\0\0\0\0\0\4\64" .. dumped:sub(at + 8)
return loadstring(crafted, "=crafted")
"""
CRAFTED_IN_STOCK_LUA = CRAFTED.replace("return loadstring", "return assert(loadstring") + ")()"


def test_crafted_or_foreign_bytecode_is_refused(site):
    state = site.node.generation.lua
    refusal = "precompiled chunks are accepted only as this state's string.dump made them"
    assert lua51.LuaRuntime().execute(CRAFTED_IN_STOCK_LUA) == 2.5
    assert state.execute(CRAFTED, "=t") == (None, f"crafted: {refusal}")
    foreign = lua51.LuaRuntime(encoding=None).eval("string.dump(function() return 1 end)")
    state.lua.globals().FOREIGN = foreign
    assert state.execute("return loadstring(FOREIGN, '=foreign')", "=t") == (
        None,
        f"foreign: {refusal}",
    )


def test_a_script_cannot_vouch_for_its_own_bytecode(site):
    state = site.node.generation.lua
    refusal = "precompiled chunks are accepted only as this state's string.dump made them"
    vouch = "local ops = ('').__thrlua\nops.is_own_dump = function() return true end\n"
    assert state.execute(vouch + CRAFTED, "=t") == (None, f"crafted: {refusal}")


def test_a_dump_of_an_emulator_function_does_not_load(site):
    state = site.node.generation.lua
    refusal = "precompiled chunks are accepted only as this state's string.dump made them"
    result = state.execute(
        "return loadstring(string.dump(msys.httpsrv.register), '=ours')",
        "=t",
    )
    assert result == (None, f"ours: {refusal}")


def test_only_the_latest_dumps_are_remembered(site):
    state = site.node.generation.lua
    result = state.execute(
        "local first = string.dump(function() return 1 end)\n"
        "local last\n"
        "for i = 1, 256 do last = string.dump(function() return i end) end\n"
        "return (loadstring(first)) == nil, type(loadstring(last))",
        "=t",
    )
    assert result == (True, "function")


def test_debug_gethook_answers_as_stock_lua_with_no_hook_set(site):
    state = site.node.generation.lua  # the CPU-time limit's hook is on, and stays hidden
    assert state.execute("return debug.gethook()", "=t") == (None, "", 0)
