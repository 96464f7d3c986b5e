-- The parts of the standard library that thrLua changed, over stock Lua 5.1's (lupa's).
--
-- * Strings that start with "0" (or "-0") and not "0." are read as C's strtol(s, NULL, 0)
--   reads them (thrLua's luaO_str2d): "010" is 8, "0x10" is 16, "08" and "0e1" are not
--   numbers, values past 2^63-1 saturate. This applies where the conversion can be reached
--   from Lua: tonumber, string.format's numeric conversions, and the bitwise operators
--   (thrlua_ops.lua). Arithmetic on such strings is converted by the VM itself, out of reach.
-- * inf and nan are written without a sign ("inf", "nan") by tostring, print, table.concat
--   and string.format's %s. Concatenation with `..` is done by the VM, out of reach.
-- * string.format reports a missing argument as Lua 5.1.4 does ("string expected, got no
--   value").
--
-- The replacements are Lua functions where thrLua's are C functions; they are registered
-- in `native` so that everything that tells C functions apart (debug.getinfo, setfenv,
-- coroutine.create/wrap, string.dump, debug.getupvalue) treats them as C functions. This
-- chunk is loaded under the name "=[C]", which is how C frames appear in tracebacks.
-- Errors they raise are raised at the caller's level, naming the caller's line.

local ops = ("").__thrlua
if ops.native then return end  -- installed already
local type, select, find, gsub, byte, error, pcall, unpack, ipairs =
  type, select, string.find, string.gsub, string.byte, error, pcall, unpack, ipairs
local huge = math.huge
local native_tonumber, native_tostring = tonumber, tostring
local native_format, native_concat = string.format, table.concat
local native_getinfo, native_setfenv, native_dump = debug.getinfo, setfenv, string.dump
local native_getupvalue, native_setupvalue = debug.getupvalue, debug.setupvalue

local native = setmetatable({}, { __mode = "k" })  -- functions that are C in thrLua
ops.native = native

local strtol_form, strtol_number, str2number = ops.strtol_form, ops.strtol_number,
  ops.str2number

local function is_special(x)  -- inf, -inf or nan
  return x ~= x or x == huge or x == -huge
end

local function special_text(x)
  return x ~= x and "nan" or "inf"
end

-- Call a native function whose argument checks failed, and raise its error as that
-- function would have raised it at the caller's line (levels: this, our wrapper, caller).
-- The function is named as its caller called it (as luaL_argerror names it), "?" when
-- that is unknown (called through pcall). Callers write `return (raise_as(...))`: a tail
-- call would drop their frame.
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

local function raise_as(own_name, fn, ...)
  local ok, message = pcall(fn, ...)
  if ok then return message end
  error(as_called(message, 2, own_name), 3)
end

function tonumber(...)
  local value, base = ...
  if base == nil or base == 10 then
    if type(value) == "string" then
      local first = byte(value)
      if (first == 48 or first == 45) and strtol_form(value) then
        return strtol_number(value)
      end
      return (native_tonumber(value))
    end
    if value ~= nil or select("#", ...) > 0 then return (native_tonumber(value)) end
  end
  return (raise_as("tonumber", native_tonumber, ...))
end

function tostring(...)
  local value = ...
  if type(value) == "number" and is_special(value) then return special_text(value) end
  if value == nil and select("#", ...) == 0 then return (raise_as("tostring", native_tostring)) end
  return (native_tostring(value))
end

-- table.concat, with inf and nan written as thrLua writes them. The native concatenation
-- runs first; only a result that may hold one of them is built again.
function table.concat(...)
  local ok, result = pcall(native_concat, ...)
  if not ok then return (raise_as("concat", native_concat, ...)) end
  if not (find(result, "inf", 1, true) or find(result, "nan", 1, true)) then return result end
  local list, separator, first, last = ...
  first, last = first or 1, last or #list
  local parts = {}
  for i = first, last do
    local item = list[i]
    parts[#parts + 1] = type(item) == "number" and is_special(item) and special_text(item)
      or item
  end
  return (native_concat(parts, separator))
end

-- string.format: numeric conversions read leading-zero strings as thrLua does, %s writes
-- inf and nan as thrLua does, a missing argument is reported as Lua 5.1.4 reports it.
local SPEC = "%%[-+ #0]*%d*%.?%d*(.)"
local NUMERIC = { d = true, i = true, o = true, u = true, x = true, X = true, c = true,
  e = true, E = true, f = true, g = true, G = true }

local function needs_change(arg)
  local kind = type(arg)
  if kind == "string" then
    local first = byte(arg)
    return (first == 48 or first == 45) and strtol_form(arg)
  end
  return kind == "number" and (arg ~= arg or arg == huge or arg == -huge)
end

local function needs_rewrite(n, a, b, c, d, ...)
  if n > 4 then
    for i = 1, n - 4 do
      if needs_change((select(i, ...))) then return true end
    end
  end
  return needs_change(a) or needs_change(b) or needs_change(c) or needs_change(d)
end

local function format_specs(fmt)
  local specs = {}
  local at = 1
  while true do
    local start, finish, conversion = find(fmt, SPEC, at)
    if start == nil then return specs end
    if conversion ~= "%" then specs[#specs + 1] = conversion end
    at = finish + 1
  end
end

function string.format(fmt, ...)
  local n = select("#", ...)
  if type(fmt) == "string" and not needs_rewrite(n, ...) then
    local ok, result = pcall(native_format, fmt, ...)
    if ok then return result end
  end
  if type(fmt) ~= "string" and type(fmt) ~= "number" then
    return (raise_as("format", native_format, fmt, ...))
  end
  local specs, args = format_specs(fmt), { ... }
  local name = called_name(1, "format")
  for i, conversion in ipairs(specs) do
    local arg = args[i]
    if i > n then
      local expected = NUMERIC[conversion] and "number" or "string"
      error("bad argument #" .. (i + 1) .. " to '" .. name .. "' (" .. expected
        .. " expected, got no value)", 2)
    elseif NUMERIC[conversion] and type(arg) == "string" and strtol_form(arg) then
      local number = strtol_number(arg)
      if number == nil then
        error("bad argument #" .. (i + 1) .. " to '" .. name .. "' (number expected, got string)",
          2)
      end
      args[i] = number
    elseif conversion == "s" and type(arg) == "number" and is_special(arg) then
      args[i] = special_text(arg)
    end
  end
  return (raise_as("format", native_format, fmt, unpack(args, 1, n)))
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

for _, fn in ipairs({ coroutine.yield, tonumber, tostring, table.concat, string.format, debug.getinfo, setfenv,
  string.dump, debug.getupvalue, debug.setupvalue }) do
  native[fn] = true
end
