-- strict: catch use of global variables that were never declared, as thrLua's strict
-- module does. A global is declared by assigning it (even nil) in a main chunk or from C;
-- then:
--   * assigning an undeclared global inside a function is "assign to undeclared variable 'x'"
--   * reading an undeclared global from Lua code is "variable 'x' is not declared"
-- Metamethods _G already had are kept and called after the check. The thread-local tables
-- _TLS and _OSTLS, where the runtime defines them, are always allowed. Loading strict again
-- (a configuration reload) forgets what was declared. Plain Lua 5.1.

local getinfo, error, rawset, rawget, type = debug.getinfo, error, rawset, rawget, type

local mt = getmetatable(_G)
if mt == nil then
  mt = {}
  setmetatable(_G, mt)
end

if not rawget(mt, "__strict") then
  rawset(mt, "__strict", true)
  rawset(mt, "__strict_previous", { index = mt.__index, newindex = mt.__newindex })
  local exempt = {}
  for _, name in ipairs({ "_TLS", "_OSTLS" }) do
    if rawget(_G, name) ~= nil then exempt[name] = true end
  end
  rawset(mt, "__strict_exempt", exempt)
end
local previous, exempt = rawget(mt, "__strict_previous"), rawget(mt, "__strict_exempt")
local declared = {}
rawset(mt, "__declared", declared)

-- What kind of code is at `level` above the metamethod: "main", "Lua" or "C".
local function caller_kind()
  local info = getinfo(3, "S")
  return info and info.what or "C"
end

mt.__newindex = function(t, name, value)
  if not declared[name] and not exempt[name] then
    local kind = caller_kind()
    if kind ~= "main" and kind ~= "C" then
      error("assign to undeclared variable '" .. tostring(name) .. "'", 2)
    end
    declared[name] = true
  end
  local chained = previous.newindex
  if type(chained) == "function" then
    chained(t, name, value)
  elseif chained ~= nil then
    chained[name] = value
  else
    rawset(t, name, value)
  end
end

mt.__index = function(t, name)
  if not declared[name] and not exempt[name] and caller_kind() ~= "C" then
    error("variable '" .. tostring(name) .. "' is not declared", 2)
  end
  local chained = previous.index
  if type(chained) == "function" then return chained(t, name) end
  if chained ~= nil then return chained[name] end
  return nil
end
