-- msys.dnsLookup, msys.http.client, msys.db (docs/emulation.md#the-outside-world).
-- Called with the host table, the prelude's task api and msys.core's class maker.
-- Each call suspends the running task (the host answers the yield); outside a task
-- (top level, init) the host runs it to its end and this thread waits, as Momentum's
-- thread does. Only strings, numbers, booleans and nil cross: tables are built here.
local host, tasks, new_class = ...
local type, error, select, tostring, tonumber, pairs, ipairs, setmetatable =
  type, error, select, tostring, tonumber, pairs, ipairs, setmetatable
local concat, unpack = table.concat, unpack
local format, gmatch, match, upper =
  string.format, string.gmatch, string.match, string.upper  -- whatever scripts do to string
local can_suspend, host_yield = tasks.can_suspend, tasks.host_yield
local helper_names = {
  dns_lookup = "msys.dnsLookup", http_request = "msys.http.client", db = "msys.db",
}

local function outside(kind, ...)
  if can_suspend() then return host_yield(helper_names[kind], kind, ...) end
  return host.block(kind, ...)
end

local function bad_argument(position, fname, expected, value, level)
  error(format("bad argument #%d to '%s' (%s expected, got %s)",
    position, fname, expected, type(value)), level + 1)
end

-- msys.dnsLookup ----------------------------------------------------------------------
local record_types = { A = true, AAAA = true, TXT = true, MX = true, PTR = true, NS = true }

local function dns_answer(priority, ok, ...)
  if not ok then return nil, (...) end
  local results, n = {}, select("#", ...)
  for i = 1, n, 2 do
    local value, pref = select(i, ...)
    if priority and pref ~= nil then value = { pref, value } end
    results[#results + 1] = value
  end
  return results
end

function msys.dnsLookup(name, rtype, options)
  if type(name) ~= "string" then bad_argument(1, "dnsLookup", "string", name, 2) end
  if rtype == nil then rtype = "A" end
  local wanted = type(rtype) == "string" and upper(rtype)
  if not record_types[wanted] then
    error("msys.dnsLookup: invalid record type '" .. tostring(rtype) .. "'", 2)
  end
  if options ~= nil and type(options) ~= "table" then
    bad_argument(3, "dnsLookup", "table", options, 2)
  end
  local server = options and options.server
  if server ~= nil and type(server) ~= "string" then
    error("msys.dnsLookup: options.server must be a string", 2)
  end
  return dns_answer(options and options.priority == true,
    outside("dns_lookup", name, wanted, server))
end

-- msys.http.client ----------------------------------------------------------------------
local Client = {}
local new_client, check_client = new_class("msys.http.client", Client)
local methods = { GET = true, POST = true, PUT = true, DELETE = true }

local function split_lines(text)
  local lines = {}
  for line in gmatch(text, "[^\n]+") do lines[#lines + 1] = line end
  return lines
end

function Client:set_header(line)
  local fields = check_client(self, "set_header", 2)
  if line == nil then fields.headers = {} return end
  if type(line) ~= "string" then bad_argument(1, "set_header", "string", line, 2) end
  fields.headers[#fields.headers + 1] = line
end

function Client:set_timeout(seconds)
  local fields = check_client(self, "set_timeout", 2)
  if seconds ~= nil and type(seconds) ~= "number" then
    bad_argument(1, "set_timeout", "number", seconds, 2)
  end
  fields.timeout = seconds
end

local function finish_request(fields, ok, a, b, c, d)
  if not ok then
    fields.status, fields.reason, fields.body, fields.header_lines = nil, nil, nil, {}
    return false, a, b
  end
  fields.status, fields.reason, fields.body, fields.header_lines = a, b, c, split_lines(d)
  return true
end

function Client:do_request(method, url, body)
  local fields = check_client(self, "do_request", 2)
  if type(method) ~= "string" or not methods[upper(method)] then
    error("do_request: method must be GET, POST, PUT or DELETE, got " .. tostring(method), 2)
  end
  if type(url) ~= "string" then bad_argument(2, "do_request", "string", url, 2) end
  if body ~= nil and type(body) ~= "string" then
    bad_argument(3, "do_request", "string", body, 2)
  end
  return finish_request(fields, outside("http_request", method, url, body, fields.timeout,
    concat(fields.headers, "\n")))
end
Client.request = Client.do_request  -- undocumented, used by Message Systems' lua-aws

function Client:get_status()
  local fields = check_client(self, "get_status", 2)
  return fields.status, fields.reason
end

function Client:get_body() return check_client(self, "get_body", 2).body end

function Client:get_headers()
  local lines = {}
  for i, line in ipairs(check_client(self, "get_headers", 2).header_lines) do lines[i] = line end
  return lines
end

-- A later header of the same name replaces an earlier one.
function Client:parse_headers(lines)
  local fields = check_client(self, "parse_headers", 2)
  if lines == nil then lines = fields.header_lines end
  if type(lines) ~= "table" then bad_argument(1, "parse_headers", "table", lines, 2) end
  local parsed = {}
  for _, line in ipairs(lines) do
    local name, value = match(tostring(line), "^([^:]+):%s*(.-)%s*$")
    if name then parsed[name] = value end
  end
  return parsed
end

local http_client = {}
function http_client.new()
  return new_client({ headers = {}, header_lines = {} })
end

-- msys.db ----------------------------------------------------------------------------
-- Each row's column names in the query's order (rows are keyed by name; msys.cidr's
-- datasource type also takes columns by position).
local columns_of = setmetatable({}, { __mode = "k" })

-- The host answers true, ncolumns, names..., values... (row after row) or false, message.
local function rows_from(ok, ...)
  if not ok then return nil, (...) end
  local packed, n = { ... }, select("#", ...)
  local ncol, names, rows = packed[1], {}, {}
  for c = 1, ncol do
    local name = packed[c + 1]
    names[c] = (name ~= nil and name ~= "") and name or c
  end
  if ncol == 0 then return rows end
  for first = ncol + 2, n, ncol do
    local row = {}
    for c = 1, ncol do row[names[c]] = packed[first + c - 1] end
    columns_of[row] = names
    rows[#rows + 1] = row
  end
  return rows
end

-- Run one msys.db call: its rows, or (options.raise_error false) nil, the value the
-- function returns on failure and the message; a raised error names the script's line.
local function run_query(operation, failure, cache, query, params, options)
  if type(cache) ~= "string" then bad_argument(1, operation, "string", cache, 3) end
  if type(query) ~= "string" then bad_argument(2, operation, "string", query, 3) end
  if params ~= nil and type(params) ~= "table" then
    bad_argument(3, operation, "table", params, 3)
  end
  if options ~= nil and type(options) ~= "table" then
    bad_argument(4, operation, "table", options, 3)
  end
  local flat = {}
  for key, value in pairs(params or {}) do
    local kind = type(value)
    if kind ~= "string" and kind ~= "number" and kind ~= "boolean" then
      error(format("%s: parameter '%s' is a %s (string, number, boolean or nil expected)",
        operation, tostring(key), kind), 3)
    end
    flat[#flat + 1] = key
    flat[#flat + 1] = value
  end
  local use_cache = not (options and options.nocache == true)
  local rows, err = rows_from(outside("db", operation, cache, query, use_cache,
    unpack(flat, 1, #flat)))
  if rows == nil then
    if not (options and options.raise_error == false) then error(err, 3) end
    return nil, failure, err
  end
  return rows
end

local db = {}

function db.query(...)
  local rows, failure, err = run_query("query", nil, ...)
  if rows == nil then return failure, err end
  local i = 0
  return function()
    i = i + 1
    return rows[i]
  end
end

function db.fetch_row(...)
  local rows, failure, err = run_query("fetch_row", nil, ...)
  if rows == nil then return failure, err end
  return rows[1]
end

function db.execute(...)
  local rows, failure, err = run_query("execute", false, ...)
  if rows == nil then return failure, err end
  return true
end

return {
  http_client = http_client,
  db = db,
  row_columns = function(row) return columns_of[row] end,
}
