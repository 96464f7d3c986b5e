-- require("strict"), as thrLua ships it: a global must be declared by an assignment in
-- a main chunk (even of nil) before a function reads or assigns it. _TLS and _OSTLS are
-- always allowed, and the metamethods _G already has (the emulator's _TLS/_OSTLS) keep
-- working behind these. Loading it again (another script, a reload) starts a fresh
-- declaration list, as scripts declare their globals again when they load.
local debug_getinfo, error, rawget, rawset = debug.getinfo, error, rawget, rawset

local mt = getmetatable(_G)
if mt == nil then
  mt = {}
  setmetatable(_G, mt)
end

if not mt.__strict then
  mt.__strict = true
  mt.__inner_index, mt.__inner_newindex = mt.__index, mt.__newindex
  mt.__always_allowed = { _TLS = true, _OSTLS = true }
end
mt.__declared = {}

-- "main", "Lua" or "C": the kind of function doing the access (two levels up).
local function caller_kind()
  local info = debug_getinfo(3, "S")
  return info and info.what or "C"
end

local function allowed(name)
  return mt.__declared[name] or mt.__always_allowed[name]
end

mt.__newindex = function(t, name, value)
  if not allowed(name) then
    local kind = caller_kind()
    if kind ~= "main" and kind ~= "C" then
      error("assign to undeclared variable '" .. tostring(name) .. "'", 2)
    end
    mt.__declared[name] = true
  end
  local inner = mt.__inner_newindex
  if inner then return inner(t, name, value) end
  rawset(t, name, value)
end

mt.__index = function(t, name)
  if not allowed(name) and caller_kind() ~= "C" then
    error("variable '" .. tostring(name) .. "' is not declared", 2)
  end
  local inner = mt.__inner_index
  if type(inner) == "function" then return inner(t, name) end
  if type(inner) == "table" then return inner[name] end
  return rawget(t, name)
end
