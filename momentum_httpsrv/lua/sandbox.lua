-- The closed sandbox: scripts see Lua values only, never the host's Python objects, and
-- cannot change our own functions (the chunks named under the package directory). The
-- debug library keeps working on the scripts' own values; what our functions hold reads
-- as nil. Module tables get Lua functions in place of Python ones (`seal`, at require);
-- `pcall`, `xpcall` and `coroutine.resume` hand on a Python error as its text. Scripts'
-- `__gc` finalizers never run inside the collector (see the shadow metatables below).
-- Run once, after every file of ours that reads the raw debug library has loaded. Called with a sample Python object, the
-- prelude's api, the prefix of our own chunk names and hooks.lua's table; returns `seal`.
local sample, prelude_api, trusted_prefix, hooks = ...
local type, error, pairs, select, sub, tostring = type, error, pairs, select, string.sub, tostring
local format = string.format  -- string methods as our own, whatever scripts do to string
local raw = {}
for name, fn in pairs(debug) do raw[name] = fn end
local raw_getmetatable, getinfo = raw.getmetatable, raw.getinfo
local python_mt = raw_getmetatable(sample)

local function is_python(value)
  return type(value) == "userdata" and raw_getmetatable(value) == python_mt
end

local function is_trusted(fn)
  if type(fn) ~= "function" then return false end
  local source = getinfo(fn, "S").source
  return sub(source, 1, #trusted_prefix) == trusted_prefix
end

-- What a script gets to see of `value` held by `owner` (a function of ours shows none).
local function shown(owner, value)
  if is_trusted(owner) or is_python(value) then return nil end
  return value
end

local function refuse(fname, why)
  error(format("debug.%s: %s", fname, why), 3)
end

function debug.getupvalue(fn, index)
  local name, value = raw.getupvalue(fn, index)
  if name == nil then return end  -- none there (a C function's): no values, as stock Lua
  return name, shown(fn, value)
end

function debug.setupvalue(fn, index, value)
  if is_trusted(fn) then refuse("setupvalue", "not for the emulator's own functions") end
  return raw.setupvalue(fn, index, value)
end

-- getlocal/setlocal take an optional thread first; the frame's function decides.
local function frame_function(...)
  if type((...)) == "thread" then
    local thread, level = ...
    local info = getinfo(thread, level, "f")
    return info and info.func
  end
  local info = getinfo((...) + 2, "f")  -- + this function and the wrapper
  return info and info.func
end

function debug.getlocal(...)
  local fn = frame_function(...)
  if type((...)) == "thread" then
    local name, value = raw.getlocal(...)
    return name, shown(fn, value)
  end
  local level, index = ...
  local name, value = raw.getlocal(level + 1, index)
  return name, shown(fn, value)
end

function debug.setlocal(...)
  if is_trusted(frame_function(...)) then
    refuse("setlocal", "not for the emulator's own functions")
  end
  if type((...)) == "thread" then return raw.setlocal(...) end
  local level, index, value = ...
  return raw.setlocal(level + 1, index, value)
end

function debug.setfenv(object, env)
  if is_trusted(object) then refuse("setfenv", "not for the emulator's own functions") end
  return raw.setfenv(object, env)
end

-- setfenv itself (thrlua_stdlib.lua) asks this before it changes anything, so that its
-- levels and messages stay thrLua's.
("").__thrlua.setfenv_guard = function(target)
  if is_trusted(target) then return "setfenv: not for the emulator's own functions" end
end

-- The real registry holds the emulator's objects; scripts get a table of their own to
-- use as one, with _LOADED (package.loaded) as in stock Lua.
local script_registry = { _LOADED = package.loaded }
function debug.getregistry() return script_registry end

-- A script's own hook (hooks.lua runs it beside the emulator's), checked as ldblib does.
do
  local set_script_hook, script_hook = hooks.set_script_hook, hooks.script_hook
  local called_name, tonumber = ("").__thrlua.called_name, tonumber

  local function bad(n, expected, value)
    error(format("bad argument #%d to '%s' (%s expected, got %s)",
      n, called_name(2, "sethook"), expected, value == nil and "no value" or type(value)), 3)
  end

  function debug.sethook(...)
    local first, co = 1, nil
    if type((...)) == "thread" then first, co = 2, ... end
    local fn, mask, count = select(first, ...)
    if fn == nil then set_script_hook(co, nil) return end
    if type(mask) == "number" then mask = tostring(mask) end
    if type(mask) ~= "string" then bad(first + 1, "string", mask) end
    if type(fn) ~= "function" then bad(first, "function", fn) end
    if count == nil then count = 0 else
      local number = tonumber(count)
      if number == nil then bad(first + 2, "number", count) end
      count = number - number % 1
    end
    set_script_hook(co, fn, mask, count > 0 and count or 0)
  end

  function debug.gethook(co)
    if type(co) ~= "thread" then co = nil end
    local fn, mask, count = script_hook(co)
    return fn, mask, count
  end

  -- Inside a script's hook, the levels past it are the hooked thread's (hooks.lua).
  local running = coroutine.running
  local inner_getinfo, depth_of, hooked_frame = debug.getinfo, hooks.hooked_frame_depth,
    hooks.hooked_frame
  function debug.getinfo(...)
    local level, what = ...
    if type(level) == "thread" and level == running() then  -- levels count from here
      local _, at, thread_what = ...
      if type(at) == "number" then return (inner_getinfo(level, at + 1, thread_what)) end
    end
    if type(level) ~= "number" then return inner_getinfo(...) end
    if level > 0 then
      local depth = depth_of()
      if depth and level + 2 >= depth then return hooked_frame(level + 2 - depth, what or "flnSu") end
      level = level + 1
    end
    return (inner_getinfo(level, what))
  end
  local native = ("").__thrlua.native
  native[debug.sethook], native[debug.gethook], native[debug.getinfo] = true, true, true
end

-- Scripts' userdata (newproxy, debug.setmetatable): the metatable a script sees and edits
-- is a plain table (its "shadow"); the userdata's real metatable holds forwarders that
-- look the metamethod up in the shadow, so no script function is ever the real `__gc`.
-- The real `__gc` only queues the shadow's finalizer for hooks.lua to run at the next
-- entry, under the CPU-time limit (the collector runs `__gc` with hooks off).
local SHADOW = {}                                  -- real metatable[SHADOW] = shadow
local real_of = setmetatable({}, { __mode = "kv" })  -- shadow -> its real metatable
local rawget, rawequal, finalize_later = rawget, rawequal, hooks.finalize_later
local raw_setmetatable, base_getmetatable = raw.setmetatable, getmetatable

local function metamethod(value, event)
  local mt = raw_getmetatable(value)
  if type(mt) ~= "table" then return nil end
  local shadow = rawget(mt, SHADOW)
  return rawget(shadow or mt, event)
end

local function binary(event, what)
  return function(a, b)
    local handler = metamethod(a, event)
    if handler == nil then handler = metamethod(b, event) end
    if handler == nil then error("attempt to " .. what .. " a userdata value", 2) end
    return handler(a, b)
  end
end

local function same_handler(a, b, event)  -- Lua compares only with one shared handler
  local handler = metamethod(a, event)
  if handler ~= nil and rawequal(handler, metamethod(b, event)) then return handler end
end

local forwarders = {
  __index = function(object, key)
    local handler = metamethod(object, "__index")
    if handler == nil then error("attempt to index a userdata value", 2) end
    if type(handler) == "function" then return handler(object, key) end
    return handler[key]
  end,
  __newindex = function(object, key, value)
    local handler = metamethod(object, "__newindex")
    if handler == nil then error("attempt to index a userdata value", 2) end
    if type(handler) == "function" then return handler(object, key, value) end
    handler[key] = value
  end,
  __call = function(object, ...)
    local handler = metamethod(object, "__call")
    if handler == nil then error("attempt to call a userdata value", 2) end
    return handler(object, ...)
  end,
  __tostring = function(object)
    local handler = metamethod(object, "__tostring")
    if handler ~= nil then return handler(object) end
    local mt = raw_getmetatable(object)  -- the stock text, "userdata: 0x…"
    raw_setmetatable(object, nil)
    local text = tostring(object)
    raw_setmetatable(object, mt)
    return text
  end,
  __len = function(object)
    local handler = metamethod(object, "__len")
    if handler == nil then error("attempt to get length of a userdata value", 2) end
    return handler(object)
  end,
  __eq = function(a, b)
    local handler = same_handler(a, b, "__eq")
    if handler == nil then return false end
    return handler(a, b)
  end,
  __lt = function(a, b)
    local handler = same_handler(a, b, "__lt")
    if handler == nil then error("attempt to compare two userdata values", 2) end
    return handler(a, b)
  end,
  __le = function(a, b)
    local handler = same_handler(a, b, "__le")
    if handler ~= nil then return handler(a, b) end
    handler = same_handler(a, b, "__lt")
    if handler == nil then error("attempt to compare two userdata values", 2) end
    return not handler(b, a)
  end,
  __unm = binary("__unm", "perform arithmetic on"),
  __add = binary("__add", "perform arithmetic on"),
  __sub = binary("__sub", "perform arithmetic on"),
  __mul = binary("__mul", "perform arithmetic on"),
  __div = binary("__div", "perform arithmetic on"),
  __mod = binary("__mod", "perform arithmetic on"),
  __pow = binary("__pow", "perform arithmetic on"),
  __concat = binary("__concat", "concatenate"),
  __gc = function(object)  -- inside the collector: queue only
    local handler = metamethod(object, "__gc")
    if handler ~= nil then finalize_later(handler, object) end
  end,
}

local function forwarding(real, shadow)
  for event, forwarder in pairs(forwarders) do real[event] = forwarder end
  real[SHADOW], real_of[shadow] = shadow, real
  return real
end

-- What getmetatable (`locked`: honouring `__metatable`) shows a script of `mt`.
local function script_view(mt, locked)
  if type(mt) ~= "table" then return mt end
  local shadow = rawget(mt, SHADOW)
  if shadow == nil then return mt end
  if locked and rawget(shadow, "__metatable") ~= nil then return rawget(shadow, "__metatable") end
  return shadow
end

do  -- the upvalues keep the stock names, which argument errors quote
  local getmetatable, newproxy = base_getmetatable, newproxy
  _G.getmetatable = function(value)
    local mt = getmetatable(value)
    return script_view(mt, true)
  end
  -- Our own files make their prototypes with the raw newproxy (no forwarding needed).
  _G.newproxy = function(prototype)
    if prototype == true then
      local object = newproxy(true)
      if not is_trusted(getinfo(2, "f").func) then forwarding(raw_getmetatable(object), {}) end
      return object
    end
    local kind = type(prototype)
    if kind ~= "userdata" and kind ~= "boolean" and kind ~= "nil" then
      error("bad argument #1 to 'newproxy' (boolean or proxy expected)", 2)
    end
    return newproxy(prototype)  -- a tail call: a foreign userdata's error is at the caller
  end
end

function debug.getmetatable(value)
  if is_python(value) then return nil end
  return script_view(raw_getmetatable(value), false)
end

function debug.setmetatable(value, mt)
  if is_python(value) then refuse("setmetatable", "not for the emulator's objects") end
  if type(value) == "userdata" and type(mt) == "table" and rawget(mt, SHADOW) == nil then
    mt = real_of[mt] or forwarding({}, mt)
  end
  return raw_setmetatable(value, mt)
end

package.loaded.python = nil

-- An error a Python helper raises is a Python object; scripts catching it get its text.
local function as_text(value)
  if is_python(value) then return tostring(value) end
  return value
end

local function caught(ok, ...)
  if ok then return ok, ... end
  return false, as_text((...))
end

do  -- the upvalues keep the stock names, which argument errors quote
  local pcall, xpcall, resume = pcall, xpcall, coroutine.resume
  _G.pcall = function(...)
    if select("#", ...) == 0 then error("bad argument #1 to 'pcall' (value expected)", 2) end
    return caught(pcall(...))
  end
  _G.xpcall = function(...)
    if select("#", ...) < 2 then error("bad argument #2 to 'xpcall' (value expected)", 2) end
    local fn, handler = ...
    local ending = hooks.ending
    local trusted = is_trusted(handler)
    return caught(xpcall(fn, function(message)
      -- Hooks are off while a hook's error is handled: only our own handlers run then.
      if not trusted and ending() then return message end
      return handler(as_text(message))
    end))
  end
  coroutine.resume = function(co, ...)
    if type(co) ~= "thread" then error("bad argument #1 to 'resume' (coroutine expected)", 2) end
    return caught(resume(co, ...))
  end
end

-- Python functions a module table holds directly become Lua functions calling them.
local function seal(module, seen)
  if type(module) ~= "table" then return module end
  seen = seen or {}
  if seen[module] then return module end
  seen[module] = true
  for key, value in pairs(module) do
    if is_python(value) then
      module[key] = function(...) return value(...) end
    elseif type(value) == "table" then
      seal(value, seen)
    end
  end
  return module
end
prelude_api.seal = seal
prelude_api.pcall, prelude_api.xpcall = _G.pcall, _G.xpcall
return seal
