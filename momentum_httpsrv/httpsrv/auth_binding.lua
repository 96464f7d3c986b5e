-- msys.httpsrv.register_auth (httpsrv.md §3.A.2, [PROP] Lua name). Called with the host
-- table and the msys.httpsrv table; adds register_auth to it and returns the functions
-- Python reads an auth function's verdict with.
--
-- An auth function is registered through httpsrv.register while the host points that
-- registration at the auth registry, so it runs exactly like a handler (a task with a
-- session, may msys.sleep). A wrapper keeps what it returns, keyed by the run number the
-- host announced just before starting it (tasks start synchronously).
local host, httpsrv = ...
local register = httpsrv.register
local error, pcall, type = error, pcall, type

local verdicts = {} -- run number -> { verdict, user }
local announced_run

function httpsrv.register_auth(method, endpoint, fn, closure)
  if method ~= nil and type(method) ~= "string" then
    error("bad argument #1 to 'register_auth' (string or nil expected, got " .. type(method) .. ")", 2)
  end
  if type(endpoint) ~= "string" then
    error("bad argument #2 to 'register_auth' (string expected, got " .. type(endpoint) .. ")", 2)
  end
  if type(fn) == "string" then
    local named = _G[fn]
    if type(named) ~= "function" then
      error("bad argument #3 to 'register_auth' (no global function named '" .. fn .. "')", 2)
    end
    fn = named
  elseif type(fn) ~= "function" then
    error("bad argument #3 to 'register_auth' (function expected, got " .. type(fn) .. ")", 2)
  end
  local function run_auth(session)
    local run = announced_run
    announced_run = nil
    local verdict, user = fn(session)
    verdicts[run] = { verdict, user }
  end
  host.begin_registration()
  local ok, rc = pcall(register, method, endpoint, run_auth, closure)
  host.end_registration()
  if not ok then error(rc, 2) end
  return rc
end

local api = {}

function api.announce(run) announced_run = run end

function api.take_verdict(run)
  local result = verdicts[run]
  verdicts[run] = nil
  if result then return result[1], result[2] end
end

return api
