-- The parts of the standard library that thrLua changed, over stock Lua 5.1's (lupa's).
--
-- thrLua's number conversions (leading-zero strings read as strtol reads them, inf and nan
-- written without a sign, string.format's missing-argument message) are lupa's own: the
-- Makefile builds lupa's Lua 5.1 with them (vm/build_lupa.py, docs/lua-vm.md), so
-- tonumber, tostring, table.concat and string.format stay the native C functions.
--
-- The replacements here (debug.getinfo, setfenv, string.dump, debug.getupvalue and
-- setupvalue, coroutine.yield) are Lua functions where thrLua's are C functions; they are registered
-- in `native` so that everything that tells C functions apart (debug.getinfo, setfenv,
-- coroutine.create/wrap, string.dump, debug.getupvalue) treats them as C functions. This
-- chunk is loaded under the name "=[C]", which is how C frames appear in tracebacks.
-- Errors they raise are raised at the caller's level, naming the caller's line.

local ops = ("").__thrlua
if ops.native then return end  -- installed already
local type, gsub, error, pcall, ipairs = type, string.gsub, error, pcall, ipairs
local native_getinfo, native_setfenv, native_dump = debug.getinfo, setfenv, string.dump
local native_getupvalue, native_setupvalue = debug.getupvalue, debug.setupvalue

local native = setmetatable({}, { __mode = "k" })  -- functions that are C in thrLua
ops.native = native

-- The name a function was called by, as luaL_argerror finds it: "?" through pcall. A Lua
-- function called as `return f(...)` has lost its caller's frame, where a C function has
-- not; there the function's own name is what thrLua would find.
local function called_name(level, own_name)
  local info = native_getinfo(level + 1, "n")
  if info.name then return info.name end
  local caller = native_getinfo(level + 2, "S")
  return caller and caller.what == "tail" and own_name or "?"
end

ops.called_name = called_name

local function as_called(message, level, own_name)
  if type(message) ~= "string" then return message end
  local name = called_name(level + 1, own_name)
  message = gsub(message, "^%[C%]:%d+: ", "", 1)
  return (gsub(message, "^(bad argument #%d+ to )'[^']*'", "%1'" .. name .. "'", 1))
end

-- Call a native function whose argument checks failed, and raise its error as that
-- function would have raised it at the caller's line (levels: this, our wrapper, caller).
-- The function is named as its caller called it (as luaL_argerror names it), "?" when
-- that is unknown (called through pcall). Callers write `return (raise_as(...))`: a tail
-- call would drop their frame.
local function raise_as(own_name, fn, ...)
  local ok, message = pcall(fn, ...)
  if ok then return message end
  error(as_called(message, 2, own_name), 3)
end

-- What tells C functions apart.

function debug.getinfo(...)
  local first = ...
  local info
  if type(first) == "number" then
    local level, what = ...
    info = native_getinfo(level > 0 and level + 1 or level, what or "flnSu")
  elseif type(first) == "thread" then
    info = native_getinfo(...)
  else
    info = native_getinfo(...)
    if info == nil and first == nil then return (raise_as("getinfo", native_getinfo, ...)) end
  end
  local fn = info and info.func
  if fn == nil and type(first) == "function" then fn = first end
  if fn ~= nil and native[fn] then
    info.what, info.source, info.short_src = "C", "=[C]", "[C]"
    info.linedefined, info.lastlinedefined, info.currentline, info.nups = -1, -1, -1, 0
  end
  return info
end

function setfenv(target, env)
  if native[target] then error("'setfenv' cannot change environment of given object", 2) end
  local guard = ops.setfenv_guard  -- the sandbox's (sandbox.lua)
  if guard ~= nil then
    local refusal = guard(target)
    if refusal then error(refusal, 2) end
  end
  if type(target) == "number" and target > 0 then target = target + 2 end  -- past pcall, us
  local ok, result = pcall(native_setfenv, target, env)
  if ok then return result end
  error(as_called(result, 1, "setfenv"), 2)
end

-- Binary chunks this state's string.dump made: the only ones loadstring accepts (crafted
-- bytecode can break out of any Lua sandbox). The last DUMPS_KEPT are remembered, counted
-- so that the same chunk dumped twice stays known until both are forgotten.
local DUMPS_KEPT = 256
local dumped, dump_ring, dump_slot = {}, {}, 1

function string.dump(fn)
  if native[fn] then error("unable to dump given function", 2) end
  local chunk = raise_as("dump", native_dump, fn)
  local forgotten = dump_ring[dump_slot]
  if forgotten then
    local count = dumped[forgotten] - 1
    dumped[forgotten] = count > 0 and count or nil
  end
  dump_ring[dump_slot], dumped[chunk] = chunk, (dumped[chunk] or 0) + 1
  dump_slot = dump_slot % DUMPS_KEPT + 1
  return chunk
end

-- Read-only: prelude.lua keeps its own reference, so replacing this field changes nothing.
function ops.is_own_dump(chunk) return dumped[chunk] ~= nil end

function debug.getupvalue(fn, index)
  if native[fn] then return end
  return native_getupvalue(fn, index)
end

function debug.setupvalue(fn, index, value)
  if native[fn] then return end
  return native_setupvalue(fn, index, value)
end

_VERSION = "thrLua 5.1"

-- Outside any coroutine thrLua's yield fails as a yield across a C call (rclua runs the
-- main chunk from C), with no position.
local native_yield, running = coroutine.yield, coroutine.running
function coroutine.yield(...)
  if running() == nil then error("attempt to yield across metamethod/C-call boundary", 0) end
  return native_yield(...)
end

for _, fn in ipairs({ coroutine.yield, debug.getinfo, setfenv, string.dump, debug.getupvalue,
  debug.setupvalue }) do
  native[fn] = true
end
