-- msys.httpsrv and the ec_httpsrv_session class (httpsrv.md §4). Called with the host
-- table, the error marker, the names of the plain session methods, and the dict
-- constructor; returns the functions Python runs handlers with.
local host, ERR, plain_methods, new_dict, tasks = ...
local call, register = host.call, host.register
local coroutine, error, type, rawget, select = coroutine, error, type, rawget, select

local SID = {} -- private key: a session table's id in the host's session map
local Session = {}
local session_mt = { __index = Session, __metatable = "ec_httpsrv_session" }

local function session_id(self, level)
  local sid = type(self) == "table" and rawget(self, SID)
  if not sid then error("session is no longer valid", level + 1) end
  return sid
end

-- Host calls answer ERR, message for Lua errors, reported at the script's line.
local function checked(first, ...)
  if first == ERR then error((...), 3) end
  return first, ...
end

for _, name in ipairs(plain_methods) do
  Session[name] = function(self, ...)
    return checked(call(name, session_id(self, 2), ...))
  end
end

function Session:response_printf(fmt, ...)
  local sid = session_id(self, 2)
  if type(fmt) ~= "string" then
    error("bad argument #1 to 'response_printf' (string expected, got " .. type(fmt) .. ")", 2)
  end
  return checked(call("response_append", sid, fmt:format(...)))
end

-- ec_url_details: a read-only userdata built once per request from the host's parts.
local url_fields = setmetatable({}, { __mode = "k" })
local url_proto = newproxy(true)
local url_mt = getmetatable(url_proto)
url_mt.__index = function(url, key) return url_fields[url][key] end
url_mt.__newindex = function() error("ec_url_details is read-only", 2) end
url_mt.__tostring = function(url) return url_fields[url].url end
url_mt.__name = "ec_url_details"
local url_cache = {}

function Session:request_url_get()
  local sid = session_id(self, 2)
  local url = url_cache[sid]
  if url then return url end
  local p = { call("request_url_parts", sid) }
  url = newproxy(url_proto)
  url_fields[url] = {
    url = p[1], path = p[2], scheme = p[3], host = p[6], port = p[7],
    raw_query = p[8], query = p[9], fragment = p[10],
    userinfo = p[4] and { user = p[4], pass = p[5] } or nil,
    attrs = p[11] and new_dict(p, 12) or nil,
  }
  url_cache[sid] = url
  return url
end

-- msys.httpsrv (httpsrv.md §4.2): handlers and closures stay on the Lua side; the
-- host's registry holds their numbers.
local handlers, closures = {}, {}
local httpsrv = { DONE = 0 }

function httpsrv.register(method, endpoint, handler, closure)
  if method ~= nil and type(method) ~= "string" then
    error("bad argument #1 to 'register' (string or nil expected, got " .. type(method) .. ")", 2)
  end
  if type(endpoint) ~= "string" then
    error("bad argument #2 to 'register' (string expected, got " .. type(endpoint) .. ")", 2)
  end
  if type(handler) == "string" then
    local named = _G[handler]
    if type(named) ~= "function" then
      error("bad argument #3 to 'register' (no global function named '" .. handler .. "')", 2)
    end
    handler = named
  elseif type(handler) ~= "function" then
    error("bad argument #3 to 'register' (function expected, got " .. type(handler) .. ")", 2)
  end
  local id = #handlers + 1
  handlers[id], closures[id] = handler, closure
  return register(method, endpoint, id)
end

-- Python runs each handler as a task (a coroutine, so msys.sleep can suspend it).
local api = {}
local sessions = {}

function api.start_handler(task_id, handler_id, sid)
  local session = setmetatable({ [SID] = sid }, session_mt)
  sessions[sid] = session
  return tasks.start_task(task_id, handlers[handler_id], session)
end

-- The request is complete: the session object stops working (httpsrv.md §4.4).
function api.end_session(sid)
  local session = sessions[sid]
  if session then session[SID] = nil end
  sessions[sid], url_cache[sid] = nil, nil
end

function api.service_closure(id) return closures[id] end

api.httpsrv = httpsrv
api.session_mt = session_mt
return api
