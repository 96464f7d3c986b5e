-- msys.cidr, msys.audit_series, msys.gauge_cache, msys.counter: argument checks and
-- error shaping over the host's stores (policy_data.py). Called with the host table
-- and the package name; returns that package's table.
local pcall, setmetatable = pcall, setmetatable  -- before any script can replace them
local host, package_name = ...
local type, error, tostring, select = type, error, tostring, select
local format, gsub =
  string.format, string.gsub  -- whatever scripts do to string

-- Host calls answer true, result or false, message; a refusal is the caller's error
-- (`level` counts from the function checking, 3 by default: the API function's caller).
local function checked(fname, ok, result, level)
  if not ok then error(package_name .. "." .. fname .. ": " .. tostring(result), level or 3) end
  return result
end

local function arg_check(fname, position, value, wanted, optional, level)
  if (optional and value == nil) or type(value) == wanted then return value end
  error(format("bad argument #%d to '%s' (%s expected, got %s)",
    position, fname, wanted, type(value)), level or 3)
end

-- A number the stores can count with: NaN and the infinities are refused (a window,
-- a limit or a count cannot be made of them).
local huge = math.huge
local function finite(value)
  return type(value) == "number" and value == value and value ~= huge and value ~= -huge
end

local function finite_check(fname, position, value, level)
  if finite(value) then return value end
  arg_check(fname, position, value, "number", false, (level or 3) + 1)
  error(format("bad argument #%d to '%s' (finite number expected, got %s)",
    position, fname, tostring(value)), level or 3)
end

-- An optional option field that must be a finite number.
local function finite_option(fname, option, value, default)
  if value == nil then return default end
  if not finite(value) then
    error(format("%s.%s: %s must be a finite number, not %s",
      package_name, fname, option, tostring(value)), 3)
  end
  return value
end

-- An address key as scripts give it: a string, or an accept_construct (its remote IP).
-- Without one Momentum takes the SMTP peer, and there is no SMTP session here.
-- `level` is the error level of the API function's caller, seen from here.
local function address_key(fname, key, level)
  if msys.type(key) == "accept_construct" then
    local remote = key.remote_addr
    if remote == nil then
      error(package_name .. "." .. fname .. ": the accept_construct has no remote address", level)
    end
    return tostring(remote)
  end
  if key == nil then
    error(package_name .. "." .. fname .. ": no address given, and there is no SMTP"
      .. " connection to take it from here", level)
  end
  if type(key) ~= "string" then
    error(format("bad argument to '%s' (address string or accept_construct expected, got %s)",
      fname, type(key)), level)
  end
  return key
end

local packages = {}

function packages.cidr()
  local cidr, defaults = {}, {}
  local from_datasource = {} -- name -> { cachename, query, cidr_column, value_column, refresh, loaded }

  -- A row's column by name or by position in the query's columns; without one, the
  -- first column.
  local function column(row, wanted, option)
    local key = wanted
    if wanted == nil or type(wanted) == "number" then
      key = (host.row_columns(row) or {})[wanted or 1]
      if key == nil then
        error("no column " .. tostring(wanted or 1) .. " in the query's rows", 0)
      end
    elseif type(wanted) ~= "string" then
      error(option .. " must be a column name or position", 0)
    end
    local value = row[key]
    if value == nil then error("no column '" .. tostring(key) .. "' in the query's rows", 0) end
    return tostring(value)
  end

  -- Run a datasource CIDR's query and hand its rows to the host; returns what went wrong.
  local function load_rows(name, spec)
    local rows, err = msys.db.query(spec.cachename, spec.query, nil,
      { raise_error = false, nocache = true })
    if rows == nil then return "the query failed: " .. tostring(err) end
    local networks, values = {}, spec.value_column and {} or nil
    local ok, message = pcall(function()
      for row in rows do
        networks[#networks + 1] = column(row, spec.cidr_column, "cidr_column")
        if values then values[#networks] = column(row, spec.value_column, "value_column") end
      end
    end)
    if not ok then return message end
    local loaded, problem = host.load_rows(name, networks, values)
    if not loaded then return tostring(problem) end
    spec.loaded = host.now()
  end

  -- options: a table, or the type itself (then only 'empty' has what it needs).
  function cidr.define(name, options)
    arg_check("define", 1, name, "string")
    if type(options) ~= "table" then options = { type = options } end
    local kind = options.type
    if type(kind) ~= "string" then
      error("msys.cidr.define: options.type must be 'datasource', 'rbldnsd' or 'empty'", 2)
    end
    local source = options.source
    if source ~= nil and type(source) ~= "string" then
      error("msys.cidr.define: options.source must be a string", 2)
    end
    local value = options.value
    if value ~= nil and type(value) ~= "string" then
      error("msys.cidr.define: options.value must be 'a' or 'txt'", 2)
    end
    local refresh = options.refresh or 1800
    if not finite(refresh) then
      error("msys.cidr.define: options.refresh must be a number of seconds", 2)
    end
    local spec
    if kind == "datasource" then
      if type(options.cachename) ~= "string" or type(options.query) ~= "string" then
        error("msys.cidr.define: a datasource CIDR needs cachename and query strings", 2)
      end
      spec = { cachename = options.cachename, query = options.query, refresh = refresh,
        cidr_column = options.cidr_column, value_column = options.value_column }
    end
    checked("define", host.define(name, kind, source, value or "a",
      options.interpolate and true or false, refresh))
    from_datasource[name] = spec
    if spec then
      local problem = load_rows(name, spec)
      if problem then error("msys.cidr.define: " .. problem, 2) end
    end
    defaults[name] = options.default_value
  end

  function cidr.query(name, address)
    arg_check("query", 1, name, "string")
    local spec = from_datasource[name]
    if spec and spec.refresh > 0 and host.now() - spec.loaded >= spec.refresh then
      local problem = load_rows(name, spec)
      if problem then host.warn("'" .. name .. "' keeps its entries: " .. problem) end
    end
    local found = checked("query", host.query(name, address_key("query", address, 3)))
    if found == nil then return defaults[name] end
    return found
  end

  function cidr.reload(name)
    arg_check("reload", 1, name, "string")
    local spec = from_datasource[name]
    if spec then
      local problem = load_rows(name, spec)
      if problem then error("msys.cidr.reload: " .. problem, 2) end
      return
    end
    checked("reload", host.reload(name))
  end
  return cidr
end

function packages.audit_series()
  local series = {}
  function series.define(name, kind, interval, num_windows, options)
    arg_check("define", 1, name, "string")
    arg_check("define", 2, kind, "string")
    finite_check("define", 3, interval)
    finite_check("define", 4, num_windows)
    arg_check("define", 5, options, "table", true)
    checked("define", host.define(name, kind, interval, num_windows))
  end
  -- options: a table { count =, key = }, or the key itself.
  -- Called by the API functions: errors are their caller's (level 3 from here).
  local function key_and(fname, name, options)
    arg_check(fname, 1, name, "string", false, 4)
    if type(options) ~= "table" then options = { key = options } end
    local ok, kind = host.kind(name)
    kind = checked(fname, ok, kind, 4)
    local key = options.key
    if kind == "string" then
      if key == nil then error("msys.audit_series." .. fname .. ": a string series needs a key", 3) end
      key = tostring(key)
    else
      key = address_key(fname, key, 4)
    end
    return key, options
  end
  function series.add(name, options)
    local key
    key, options = key_and("add", name, options)
    local count = finite_option("add", "count", options.count, 1)
    checked("add", host.add(name, key, count))
  end
  function series.count(name, options)
    local key
    key, options = key_and("count", name, options)
    local startv = finite_option("count", "startv", options.startv, 0)
    local endv = finite_option("count", "endv", options.endv, 0)
    return checked("count", host.count(name, key, startv, endv))
  end
  function series.remove_item(name, key)
    key = key_and("remove_item", name, key)
    checked("remove_item", host.remove(name, key))
  end
  return series
end

function packages.gauge_cache()
  local gauge = {}
  function gauge.define(name, maxelems, ttl, replicated)
    arg_check("define", 1, name, "string")
    finite_check("define", 2, maxelems)
    finite_check("define", 3, ttl)
    arg_check("define", 4, replicated, "boolean", true)
    checked("define", host.define(name, maxelems, ttl))
  end
  local function keyed(fname, name, key)  -- errors are the API function's caller's
    arg_check(fname, 1, name, "string", false, 4)
    if type(key) ~= "string" and type(key) ~= "number" then
      arg_check(fname, 2, key, "string", false, 4)
    end
    return tostring(key)
  end
  function gauge.inc(name, key) return checked("inc", host.adjust(name, keyed("inc", name, key), 1)) end
  function gauge.dec(name, key) return checked("dec", host.adjust(name, keyed("dec", name, key), -1)) end
  function gauge.get(name, key) return checked("get", host.get(name, keyed("get", name, key))) end
  function gauge.remove_item(name, key)
    checked("remove_item", host.remove(name, keyed("remove_item", name, key)))
  end
  return gauge
end

function packages.counter()
  local counter = { STRICT = 0, RELAXED = 1 }
  local paths = setmetatable({}, { __mode = "k" })
  local counter_mt = {
    __name = "msys.counter",
    __tostring = function(c) return "msys.counter: " .. tostring(paths[c]) end,
  }
  local function path_of(fname, c)
    if type(c) == "string" then return c end
    local path = paths[c]
    if path == nil then
      error(format("bad argument #1 to '%s' (counter or path expected, got %s)", fname, type(c)), 3)
    end
    return path
  end
  function counter.open(path, semantics)
    arg_check("open", 1, path, "string")
    if semantics ~= nil and semantics ~= counter.STRICT and semantics ~= counter.RELAXED then
      error("bad argument #2 to 'open' (msys.counter.STRICT or msys.counter.RELAXED expected)", 2)
    end
    checked("open", host.open(path))
    local c = setmetatable({}, counter_mt)
    paths[c] = path
    return c
  end
  function counter.add(c, delta)
    finite_check("add", 2, delta)
    if delta > 2^53 or delta < -2^53 then
      error("bad argument #2 to 'add' (a count between -2^53 and 2^53 expected)", 2)
    end
    return checked("add", host.add(path_of("add", c), delta))
  end
  function counter.inc(c) return checked("inc", host.add(path_of("inc", c), 1)) end
  function counter.read(c) return checked("read", host.read(path_of("read", c))) end
  function counter.reset(c) checked("reset", host.reset(path_of("reset", c))) end
  function counter.unlink(c) checked("unlink", host.unlink(path_of("unlink", c))) end
  return counter
end

return packages[gsub(package_name, "^msys%.", "")]()
