-- msys.httpsrv and the ec_httpsrv_session class (docs/lua-boundary.md#return-conventions). Called with the host
-- table, the error marker, the names of the plain session methods, msys.core's
-- internals, the task api, the scheduler instance, the reason phrases and the id table of
-- handlers (lua/boundary.lua); returns the functions Python runs handlers with. Lua values
-- that outlive a host call (handlers, closures, stream readers) stay in tables, keyed by
-- number (runtime.py: the lupa rule).
local host, ERR, plain_methods, core, tasks, scheduler, reasons, handlers = ...
-- Captured before any script runs: a script replacing these (string.find = nil,
-- msys = nil, require = nil) changes what scripts see, not the session methods.
local find, gsub, lower = string.find, string.gsub, string.lower
local msys_type, msys_core, require = msys.type, msys.core, require
local new_dict, new_class = core.new_dict, core.new_class
local call, register, warn = host.call, host.register, host.warn
local coroutine, error, type, rawget, select = coroutine, error, type, rawget, select
local tostring, unpack, pcall = tostring, unpack, pcall

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

-- The response of a request stays here while its handler runs, so that a plain handler
-- crosses to the host once, with its result: status, reason, the std message, body and
-- headers. Any method that needs the host's view of the response (response_flush, a
-- queued response_io), a yield, or the handler's end hands it over (take_pending); from
-- then on every method goes to the host. The rules are the host's (session.py), kept
-- here to the letter.
-- sid -> { status, reason, std (or false), headers { name, value, … } or nil, body { parts } or nil }
local pending = {}
local EINVAL, CONTROLS = 22, "[%z\1-\8\10-\31\127]"
local floor, ceil, huge, concat = math.floor, math.ceil, math.huge, table.concat
-- Before any script can replace them.
local remove, format, newproxy, setmetatable = table.remove, string.format, newproxy, setmetatable

local function integer_arg(value, position, fname)
  if type(value) ~= "number" then
    error(format("bad argument #%d to '%s' (number expected, got %s)",
      position, fname, type(value)), 4)
  end
  if value ~= value or value == huge or value == -huge then
    error(format("bad argument #%d to '%s' (number has no integer representation)",
      position, fname), 4)
  end
  return value >= 0 and floor(value) or ceil(value)
end

local function text_arg(value, position, fname, optional)
  if value == nil and optional then return nil end
  if type(value) == "number" then return format("%.14g", value) end
  if type(value) ~= "string" then
    error(format("bad argument #%d to '%s' (string expected, got %s)",
      position, fname, type(value)), 4)
  end
  return value
end

-- Header names and values a handler used before, known good: the checks are pattern
-- scans, dear in this VM, and handlers set the same few again and again. Bounded: emptied
-- when full; long texts are checked each time.
local good_names, good_values, good_count, GOOD_MAX, GOOD_LEN = {}, {}, 0, 512, 200

local function remember(known, text)
  if #text > GOOD_LEN then return end
  if good_count >= GOOD_MAX then good_names, good_values, good_count = {}, {}, 0 end
  good_count = good_count + 1
  if known == nil then good_values[text] = true else known[text] = true end
end

local function is_token(text)
  if good_names[text] then return true end
  if text == "" or find(text, "[^%w!#%$%%&'%*%+%-%.%^_`|~]") then return false end
  remember(good_names, text)
  return true
end

local function is_field_value(text)
  if good_values[text] then return true end
  if find(text, CONTROLS) then return false end
  remember(nil, text)
  return true
end

local function header_index(p, name) -- where a header of that name is, or nil
  local headers = p.headers
  if headers == nil then return nil end
  local wanted = lower(name)
  for i = 1, #headers, 2 do
    if lower(headers[i]) == wanted then return i end
  end
end

local function set_header(p, name, value)
  if not is_token(name) or (value ~= nil and not is_field_value(value)) then return EINVAL end
  local headers = p.headers
  if headers == nil then -- the first header: nothing to replace
    if value ~= nil then p.headers = { name, value } end
    return 0
  end
  local at = header_index(p, name)
  while at do -- the same order as the host's: the others, then this one last
    remove(headers, at)
    remove(headers, at)
    at = header_index(p, name)
  end
  if value ~= nil then headers[#headers + 1], headers[#headers + 2] = name, value end
  return 0
end

local function add_body(p, data) -- body: nil, the one part, or a table of parts
  if data == "" then return end
  local body = p.body
  if body == nil then
    p.body = data
  elseif type(body) == "string" then
    p.body = { body, data }
  else
    body[#body + 1] = data
  end
end

local function set_status(p, code, message)
  if code < 200 or code > 999 then return EINVAL end
  p.status = code
  if message == nil then
    message = reasons[code] or ""
  elseif not is_field_value(message) then
    message = gsub(message, CONTROLS, " ")
  end
  p.reason = message
  p.std = false
  return 0
end

local function set_status_std(p, code, message, mimetype)
  local rc = set_status(p, code, message)
  if rc ~= 0 then return rc end
  p.std = message ~= nil and message ~= "" and message
  if mimetype ~= nil then return set_header(p, "Content-Type", mimetype) end
  return 0
end

local kept_here = {
  response_status_set = function(p, code, message)
    code = integer_arg(code, 1, "response_status_set")
    return set_status(p, code, text_arg(message, 2, "response_status_set", true))
  end,
  response_status_set_std = function(p, code, message, mimetype)
    code = integer_arg(code, 1, "response_status_set_std")
    message = text_arg(message, 2, "response_status_set_std", true)
    mimetype = text_arg(mimetype, 3, "response_status_set_std", true)
    return set_status_std(p, code, message, mimetype)
  end,
  response_header_set = function(p, name, value)
    name = text_arg(name, 1, "response_header_set")
    return set_header(p, name, text_arg(value, 2, "response_header_set", true))
  end,
  response_append = function(p, data)
    add_body(p, text_arg(data, 1, "response_append"))
    return 0
  end,
}
for fname, code in pairs({ response_status_ok = 200, response_status_error = 500,
                           response_status_denied = 403, response_status_not_found = 404 }) do
  kept_here[fname] = function(p, mimetype)
    local rc = set_status_std(p, code, reasons.momentum[code], text_arg(mimetype, 1, fname, true))
    p.std = false -- the helpers' phrase is a status line, never a body
    return rc
  end
end
for fname, here in pairs(kept_here) do
  local to_host = Session[fname]
  Session[fname] = function(self, ...)
    local p = pending[session_id(self, 2)]
    if p == nil then return to_host(self, ...) end
    local rc = here(p, ...) -- not a tail call: argument errors blame the caller's line
    return rc
  end
end

-- The pending response as host values (nothing once handed over): status, reason, std
-- message or nil, body, then header names and values.
local function take_pending(sid)
  local p = pending[sid]
  if p == nil then return end
  pending[sid] = nil
  local body = p.body or ""
  if type(body) == "table" then body = concat(body) end
  if p.headers == nil then return p.status, p.reason, p.std or nil, body end
  return p.status, p.reason, p.std or nil, body, unpack(p.headers)
end

-- Before a method that needs the host's view of the response.
local function hand_over(sid)
  if pending[sid] ~= nil then call("take_pending", sid, take_pending(sid)) end
end

local function append(sid, text)
  local p = pending[sid]
  if p == nil then return checked(call("response_append", sid, text)) end
  add_body(p, text)
  return 0
end

function Session:response_printf(fmt, ...)
  local sid = session_id(self, 2)
  if type(fmt) ~= "string" then
    error("bad argument #1 to 'response_printf' (string expected, got " .. type(fmt) .. ")", 2)
  end
  -- string.format's complaints name the script's line and this method, not ours.
  local ok, text = pcall(format, fmt, ...)
  if not ok then error((gsub(text, "to '[^']*'", "to 'response_printf'", 1)), 2) end
  local rc = append(sid, text)
  return rc
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

-- The request's method and target, given when its handler starts: the method is
-- answered here, and so is the URL of a target with nothing to parse (a path with no
-- "%", "?" or "#": ec_parse_url gives it back as url and path, port 0, nothing else).
local request_line = {} -- sid -> { method, target }

function Session:request_method_get()
  return request_line[session_id(self, 2)][1]
end

function Session:request_url_get()
  local sid = session_id(self, 2)
  local url = url_cache[sid]
  if url then return url end
  local target = request_line[sid][2]
  url = newproxy(url_proto)
  if find(target, "^/[^%%?#]*$") then
    url_fields[url] = { url = target, path = target, port = 0 }
  else
    local p = { call("request_url_parts", sid) }
    url_fields[url] = {
      url = p[1], path = p[2], scheme = p[3], host = p[6], port = p[7],
      raw_query = p[8], query = p[9], fragment = p[10],
      userinfo = p[4] and { user = p[4], pass = p[5] } or nil,
      attrs = p[11] and new_dict(p[11], 1) or nil, -- a flat key, value, … list
    }
  end
  url_cache[sid] = url
  return url
end

-- Per-request Lua state, keyed by session id and dropped by end_session: ctx_set values,
-- the matched handler (for service_ctx_get) and the connection objects.
local contexts, handler_of, connection_cache = {}, {}, {}

function Session:ctx_set(value)
  contexts[session_id(self, 2)] = value
end

function Session:ctx_get()
  return contexts[session_id(self, 2)]
end

local function typed_error(position, fname, expected, value)
  error(format("bad argument #%d to '%s' (%s expected, got %s)",
    position, fname, expected, msys_type(value)), 3)
end

function Session:response_vprintf(fmt, args)
  if type(args) ~= "table" then typed_error(2, "response_vprintf", "table", args) end
  return self:response_printf(fmt, unpack(args, 1, args.n or #args))
end

function Session:response_string(s)
  local sid = session_id(self, 2)
  local text = type(s) == "string" and s or core.string_value(s)
  if text == nil then typed_error(1, "response_string", "ec_string", s) end
  local rc = append(sid, text)
  return rc
end

-- Payload readers: a new in-memory io_object per call, and the json/xml parsers.
function Session:request_data_get()
  return core.memory_io(checked(call("request_data_get_string", session_id(self, 2))))
end

function Session:request_data_get_json()
  local text = checked(call("request_data_get_string", session_id(self, 2)))
  local json = require("json")
  if text == "" then -- no payload is "unexpected end of data" (docs/request-lifecycle.md#the-session-object)
    return nil, json.ERROR_PARSE_EOF, json.strerror(json.ERROR_PARSE_EOF)
  end
  return json.decode(text)
end

function Session:request_data_get_xml()
  local text = checked(call("request_data_get_string", session_id(self, 2)))
  return (require("xml").parsexml(text))
end

-- json/xml writers: serialise now, append, and default the Content-Type.
local function append_document(self, fname, text, content_type)
  local sid = session_id(self, 3)
  local rc = append(sid, text)
  if rc ~= 0 then return rc end
  local p = pending[sid]
  if p == nil then
    call("content_type_default", sid, content_type)
    return rc
  end
  if header_index(p, "Content-Type") then return rc end
  return set_header(p, "Content-Type", content_type)
end

function Session:response_json(obj)
  if type(obj) == "table" then obj = require("json").encode(obj) end
  if msys_type(obj) == "nil" then typed_error(1, "response_json", "json object", obj) end
  return append_document(self, "response_json", tostring(obj), "application/json")
end

function Session:response_xml(doc)
  if type(doc) ~= "userdata" then typed_error(1, "response_xml", "xml document", doc) end
  return append_document(self, "response_xml", tostring(doc), "text/xml")
end

-- response_io: immediate copies now; otherwise the session takes the object: the host
-- streams it after what is pending (docs/request-lifecycle.md#the-session-object) through stream_read, and
-- stream_close closes it when it is sent or dropped.
local IO_CHUNK = 65536
local streams, last_stream = {}, 0 -- stream id -> { reader, object }

function Session:response_io(obj, immediate)
  local sid = session_id(self, 2)
  local reader = core.io_reader(obj)
  if reader == nil then typed_error(1, "response_io", "io object or file", obj) end
  if immediate and immediate ~= 0 then
    while true do
      local chunk = reader(IO_CHUNK)
      if chunk == nil or chunk == "" then return 0 end
      local rc = append(sid, chunk)
      if rc ~= 0 then return rc end
    end
  end
  hand_over(sid)
  last_stream = last_stream + 1
  local id = last_stream
  streams[id] = { reader, obj }
  local rc = checked(call("response_io_stream", sid, id))
  if rc ~= 0 then streams[id] = nil end
  return rc
end

-- response_flush: over the high-water mark the host answers EAGAIN with the data kept;
-- a handler then waits (suspended) until the client has taken enough of it.
local EAGAIN = 11
function Session:response_flush(final)
  local sid = session_id(self, 2)
  hand_over(sid)
  local rc = checked(call("response_flush", sid, final))
  if rc == EAGAIN and tasks.can_suspend() then
    rc = tasks.host_yield("session:response_flush", "drain_response", sid)
  end
  return rc
end

-- Connection objects (docs/request-lifecycle.md#the-session-object): built once per request.
local new_sockaddr, _, sockaddr_mt = new_class("ec_sockaddr", {}, true)
sockaddr_mt.__tostring = function(addr)
  local host = addr.address
  if addr.family == msys_core.AF_INET6 then host = "[" .. host .. "]" end
  return host .. ":" .. addr.port
end
local new_accept_construct = new_class("accept_construct", {}, true)
local new_event = new_class("Event", {}, true)

local function sockaddr(host, port)
  if host == nil then return nil end
  local family = find(host, ":", 1, true) and msys_core.AF_INET6 or msys_core.AF_INET
  return new_sockaddr({ family = family, address = host, port = port })
end

local function connection(self)
  local sid = session_id(self, 3)
  local cached = connection_cache[sid]
  if cached then return cached end
  local conn_id, listener, peer_host, peer_port, local_host, local_port =
    call("connection_parts", sid)
  cached = { peer = sockaddr(peer_host, peer_port), ["local"] = sockaddr(local_host, local_port) }
  cached.ac = new_accept_construct({
    conn_id = conn_id, remote_addr = cached.peer, local_addr = cached["local"],
    protocol = msys_core.P_HTTP, inst = { address = listener },
  })
  connection_cache[sid] = cached
  return cached
end

function Session:request_accept_construct_get() return connection(self).ac end
function Session:request_peer_address() return connection(self).peer end
function Session:request_local_address() return connection(self)["local"] end
function Session:request_event_get_scheduler_inst() session_id(self, 2); return scheduler end

function Session:request_event_get()
  local ac = connection(self).ac
  return new_event({ conn_id = ac.conn_id, scheduler = scheduler })
end

-- msys.httpsrv (docs/request-lifecycle.md#dispatch): each registration (function, closure, kind, endpoint)
-- stays in the handlers id table; the host's registry holds its number and retires it
-- with the registry.
function Session:service_ctx_get()
  return handlers.get(handler_of[session_id(self, 2)]).closure
end
local httpsrv = { DONE = 0 }

-- register and register_auth (docs/request-lifecycle.md#dispatch): the function stays here under a
-- number, and the host files the number in the registry of its kind ("endpoint" or
-- "auth"). Errors are reported at the script's line (level 3: here, the API function,
-- the caller).
local function store(kind, fname, method, endpoint, handler, closure)
  if method ~= nil and type(method) ~= "string" then
    error("bad argument #1 to '" .. fname .. "' (string or nil expected, got "
      .. type(method) .. ")", 3)
  end
  if type(endpoint) ~= "string" then
    error("bad argument #2 to '" .. fname .. "' (string expected, got " .. type(endpoint) .. ")", 3)
  end
  if type(handler) == "string" then
    local named = _G[handler]
    if type(named) ~= "function" then
      error("bad argument #3 to '" .. fname .. "' (no global function named '" .. handler .. "')", 3)
    end
    handler = named
  elseif type(handler) ~= "function" then
    error("bad argument #3 to '" .. fname .. "' (function expected, got " .. type(handler) .. ")", 3)
  end
  local id = handlers.put({
    fn = handler, closure = closure, kind = kind, endpoint = (method or "*") .. " " .. endpoint,
  })
  local rc, retired = register(method, endpoint, id, kind)
  if rc ~= 0 then handlers.forget({ id }) end
  handlers.forget(retired)
  return rc
end

function httpsrv.register(method, endpoint, handler, closure)
  local rc = store("endpoint", "register", method, endpoint, handler, closure)
  return rc
end

-- fn(session) returns msys_core.EC_AUTH_OK (and a user name), EC_AUTH_FAIL or EC_AUTH_ERROR.
function httpsrv.register_auth(method, endpoint, fn, closure)
  local rc = store("auth", "register_auth", method, endpoint, fn, closure)
  return rc
end

-- Python runs each handler as a task (a coroutine, so msys.sleep can suspend it).
local api = {}
local sessions = {}

-- A handler's return value: nothing, nil or DONE; anything else is taken as DONE with a
-- warning (docs/request-lifecycle.md#handlers).
-- An auth function's values are its verdict and user name, handed back to the host.
-- An endpoint's end hands its pending response to the host (its results).
local function run_handler(handler_id, session)
  local registration = handlers.get(handler_id)
  if registration.kind == "auth" then return registration.fn(session) end
  local sid = rawget(session, SID)
  local rc = registration.fn(session)
  if rc ~= nil and rc ~= httpsrv.DONE then
    local shown = (type(rc) == "string" or type(rc) == "number") and rc or "a " .. type(rc)
    warn(format("httpsrv: handler for %s returned %s; taken as DONE",
      registration.endpoint, shown))
  end
  return take_pending(sid)
end

-- keep_response: the response may be kept here (an endpoint, never an auth function, whose
-- client is still there).
function api.start_handler(task_id, handler_id, sid, keep_response, method, target)
  local session = setmetatable({ [SID] = sid }, session_mt)
  sessions[sid], handler_of[sid], request_line[sid] = session, handler_id, { method, target }
  if keep_response then
    pending[sid] = { status = 200, reason = "OK", std = false }
  end
  return tasks.start_task(task_id, 0, run_handler, handler_id, session)
end

-- The handler yields: its response goes to the host (the host calls this between steps).
api.take_pending = take_pending

-- The request is complete: the session object stops working (docs/request-lifecycle.md#handlers).
function api.end_session(sid)
  local session = sessions[sid]
  if session then session[SID] = nil end
  sessions[sid], url_cache[sid], handler_of[sid], pending[sid] = nil, nil, nil, nil
  request_line[sid] = nil
  contexts[sid], connection_cache[sid] = nil, nil
end

-- Streams queued by response_io: read a block ("" at the end; nil, message on error).
function api.stream_read(id, size)
  local stream = streams[id]
  if stream == nil then return "" end
  return stream[1](size)
end

function api.stream_close(id)
  local stream = streams[id]
  streams[id] = nil
  if stream then pcall(stream[2].close, stream[2]) end
end

api.httpsrv = httpsrv
api.session_mt = session_mt
return api
