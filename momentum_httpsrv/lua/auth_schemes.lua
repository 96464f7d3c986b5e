-- msys.registerAuth(scheme, tbl): authentication schemes written in Lua
-- (lua/ref-msys-register-auth.md). The tables stay here; the host keeps the names.
local ipairs = ipairs  -- before any script can replace them
local host = ...
local type, error, format, rawset = type, error, string.format, rawset
local schemes = {}

-- Momentum's page says it must be called from an init routine; anywhere else is an error
-- at the caller's line, before the arguments are looked at.
local function refuse_outside_init()
  local callout = host.running_callout()
  if callout ~= "init" then
    error("msys.registerAuth must be called from a module's init, not "
      .. (callout and ("from " .. callout) or "outside a module callout"), 3)
  end
end

rawset(msys, "registerAuth", function(scheme, tbl)
  refuse_outside_init()
  if type(scheme) ~= "string" or not scheme:match("^[%a][%w+.-]*$") then
    error(format("bad argument #1 to 'registerAuth' (a URI scheme name expected, got %s)",
      type(scheme) == "string" and ("'" .. scheme .. "'") or type(scheme)), 2)
  end
  if type(tbl) ~= "table" then
    error(format("bad argument #2 to 'registerAuth' (table expected, got %s)", type(tbl)), 2)
  end
  for _, name in ipairs({ "authenticate", "enumGroups", "queryGroups" }) do
    local fn = tbl[name]
    if fn ~= nil and type(fn) ~= "function" then
      error(format("bad argument #2 to 'registerAuth' (%s must be a function, got %s)",
        name, type(fn)), 2)
    end
  end
  schemes[scheme] = tbl
  host.registered(scheme)
end)

local api = {}

-- tbl:method(...) for the host; nil when the table has no such function.
function api.call(scheme, method, ...)
  local tbl = schemes[scheme]
  local fn = tbl and tbl[method]
  if fn == nil then return nil end
  return true, fn(tbl, ...)
end

return api
