-- The closed sandbox: scripts see Lua values only, never the host's Python objects, and
-- cannot change our own functions (the chunks named under the package directory). The
-- debug library keeps working on the scripts' own values; what our functions hold reads
-- as nil. Module tables get Lua functions in place of Python ones (`seal`, at require);
-- `pcall`, `xpcall` and `coroutine.resume` hand on a Python error as its text.
-- Run once, after every file of ours that reads the raw debug library has loaded. Called with a sample Python object, the
-- prelude's api, the prefix of our own chunk names and hooks.lua's table; returns `seal`.
local sample, prelude_api, trusted_prefix, hooks = ...
local type, error, pairs, select, sub, tostring = type, error, pairs, select, string.sub, tostring
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
  error(("debug.%s: %s"):format(fname, why), 3)
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

function debug.sethook()
  refuse("sethook", "not available here (the emulator's CPU-time limit uses the hook)")
end

-- No hook of the script's own: what stock Lua answers then (the emulator's stays hidden).
function debug.gethook() return nil, "", 0 end

function debug.getmetatable(value)
  if is_python(value) then return nil end
  return raw_getmetatable(value)
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
return seal
