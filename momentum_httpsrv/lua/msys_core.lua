-- msys.core: the dictionary helpers and constants scripts use (docs/emulation.md#the-runtime-and-msys).
-- Called with the host table; returns the module table and constructors other bindings use.
-- Before any script can replace them.
local error, rawget, setmetatable, tostring, type = error, rawget, setmetatable, tostring, type
local getmetatable, newproxy, pcall, io_type = getmetatable, newproxy, pcall, io.type
local huge, min, max = math.huge, math.min, math.max
local find, format, sub =
  string.find, string.format, string.sub  -- whatever scripts do to string
local host, constants, string_constants = ...
local core = {}
for name, value in pairs(constants) do core[name] = value end
for name, value in pairs(string_constants) do core[name] = value end

-- ec_dict userdata: insertion-ordered string pairs behind a shared metatable.
local dicts = setmetatable({}, { __mode = "k" })
local dict_proto = newproxy(true)
local dict_mt = getmetatable(dict_proto)
dict_mt.__index = function(dict, key) return dicts[dict].values[key] end
dict_mt.__newindex = function() error("ec_dict is read-only", 2) end
dict_mt.__tostring = function() return "ec_dict" end
dict_mt.__name = "ec_dict"

-- Build a dict from the flat list `list[first], list[first+1], …` (key, value, key, …).
local function new_dict(list, first)
  local dict = newproxy(dict_proto)
  local keys, values = {}, {}
  for i = first, #list, 2 do
    local key = list[i]
    if values[key] == nil then keys[#keys + 1] = key end
    values[key] = list[i + 1]
  end
  dicts[dict] = { keys = keys, values = values }
  return dict
end

local function check_dict(dict, fname)
  local data = dicts[dict]
  if data == nil then
    error("bad argument #1 to '" .. fname .. "' (ec_dict expected, got " .. type(dict) .. ")", 3)
  end
  return data
end

function core.dict_iter2(dict)
  check_dict(dict, "dict_iter2")
  return { position = 0 }
end

function core.dict_next(dict, iter)
  local data = check_dict(dict, "dict_next")
  if type(iter) ~= "table" or iter.position == nil then
    error("bad argument #2 to 'dict_next' (iterator expected, got " .. type(iter) .. ")", 2)
  end
  iter.position = iter.position + 1
  local key = data.keys[iter.position]
  if key == nil then return 0, nil, nil end
  return 1, key, data.values[key]
end

function core.dict_iter2_free(dict, iter)
  check_dict(dict, "dict_iter2_free")
  if type(iter) == "table" then iter.position = huge end
end

core.get_now_ts = host.now

-- Userdata classes share one pattern: a proxy, its state in a weak table, and a
-- metatable whose __name is the class msys.type reports.
-- With `public`, the state's fields are readable (read-only) as the object's fields.
local function new_class(name, methods, public)
  local state = setmetatable({}, { __mode = "k" })
  local proto = newproxy(true)
  local mt = getmetatable(proto)
  mt.__name = name
  mt.__index = methods
  if public then
    mt.__index = function(obj, key)
      local method = methods[key]
      if method ~= nil then return method end
      return state[obj][key]
    end
    mt.__newindex = function() error(name .. " is read-only", 2) end
  end
  mt.__tostring = function(obj) return name .. ": " .. tostring(state[obj]) end
  local function new(fields)
    local obj = newproxy(proto)
    state[obj] = fields
    return obj
  end
  local function check(obj, fname, level)
    local fields = state[obj]
    if fields == nil then
      error("bad argument #1 to '" .. fname .. "' (" .. name .. " expected, got "
        .. type(obj) .. ")", level + 1)
    end
    return fields
  end
  return new, check, mt
end

-- ec_string (msys.core.string_new): a mutable byte buffer.
local EcString = {}
local new_string, check_string, string_mt = new_class("ec_string", EcString)
string_mt.__tostring = function(s) return check_string(s, "tostring", 1).value end
string_mt.__len = function(s) return #check_string(s, "len", 1).value end

function EcString:set(value)
  check_string(self, "set", 2).value = tostring(value)
end

function EcString:write(buf, len)
  local fields = check_string(self, "write", 2)
  buf = tostring(buf)
  fields.value = fields.value .. (len and sub(buf, 1, len) or buf)
  return len or #buf
end

function EcString:tostring() return check_string(self, "tostring", 2).value end

function core.string_new() return new_string({ value = "" }) end

-- io_object: block I/O over a file object the host opened (io_wrapper_open) or over an
-- in-memory string (request payloads). Reads follow Lua's file:read formats.
local IoObject = {}
local new_io, check_io = new_class("io_object", IoObject)

local function read_memory(fields, fmt)
  local data, pos = fields.data, fields.pos
  if fmt == "*a" or fmt == "a" then
    fields.pos = #data
    return sub(data, pos + 1)
  end
  if pos >= #data then return nil end
  if fmt == "*l" or fmt == "l" then
    local stop = find(data, "\n", pos + 1, true) or #data + 1
    fields.pos = stop
    return sub(data, pos + 1, stop - 1)
  end
  fields.pos = min(#data, pos + fmt)
  return sub(data, pos + 1, fields.pos)
end

function IoObject:read(fmt)
  local fields = check_io(self, "read", 2)
  fmt = fmt or "*l"
  if type(fmt) ~= "number" and type(fmt) ~= "string" then
    error("bad argument #1 to 'read' (invalid format)", 2)
  end
  if fields.closed then return nil, "io object is closed", 9 end
  if fields.data then return read_memory(fields, fmt) end
  return host.io_read(fields.file, fmt)
end

function IoObject:write(data, len)
  local fields = check_io(self, "write", 2)
  if fields.closed or not fields.file then return nil, "io object is not writable", 9 end
  data = tostring(data)
  if len then data = sub(data, 1, len) end
  return host.io_write(fields.file, data)
end

function IoObject:seek(whence, offset)
  local fields = check_io(self, "seek", 2)
  whence, offset = whence or "cur", offset or 0
  if fields.data then
    local base = ({ set = 0, cur = fields.pos, ["end"] = #fields.data })[whence]
    if base == nil then error("bad argument #1 to 'seek' (invalid option)", 2) end
    fields.pos = max(0, min(#fields.data, base + offset))
    return fields.pos
  end
  return host.io_seek(fields.file, whence, offset)
end

function IoObject:close()
  local fields = check_io(self, "close", 2)
  if not fields.closed then
    fields.closed = true
    if fields.file then host.io_close(fields.file) end
  end
  return true
end

-- An io_object nobody references any more drops its host file object, which closes
-- the descriptor (no __gc calling the host: it may run while the state is closing).

-- msys.core.io_wrapper_open(name, flags, mode): files and file:// / jlog:// URIs.
function core.io_wrapper_open(name, flags, mode)
  if type(name) ~= "string" then
    error("bad argument #1 to 'io_wrapper_open' (string expected, got " .. type(name) .. ")", 2)
  end
  local file, code, message = host.io_open(name, flags or core.O_RDONLY, mode or 420)
  if not file then return nil, message, code end
  return new_io({ file = file })
end

local function memory_io(data) return new_io({ data = data, pos = 0 }) end

-- A function(n) reading up to n bytes from anything response_io accepts, or nil.
local function io_reader(obj)
  if io_type(obj) == "file" then
    return function(n) return obj:read(n) end
  end
  local fields = type(obj) == "userdata" and pcall(check_io, obj, "response_io", 1)
  if fields then
    return function(n) return IoObject.read(obj, n) end
  end
  return nil
end

-- The configuration's binding slots (msys_core.py BindingTable); without a configuration
-- (`momentum-httpsrv lua`) these fail and say so.
local function binding_lookup(fname, what, key)
  local ok, value = host.binding_lookup(what, key)
  if not ok then error("msys.core." .. fname .. ": " .. value, 3) end
  return value
end

-- config_get_binding_id_from_name(name), config_get_binding_name_from_id(slot),
-- config_get_binding_group_size(name).
for fname, spec in pairs({
  config_get_binding_id_from_name = { "id", "string" },
  config_get_binding_name_from_id = { "name", "number" },
  config_get_binding_group_size = { "group_size", "string" },
}) do
  local what, wanted = spec[1], spec[2]
  core[fname] = function(key)
    if type(key) ~= wanted then
      error(format("bad argument #1 to '%s' (%s expected, got %s)", fname, wanted, type(key)), 2)
    end
    return binding_lookup(fname, what, key)
  end
end

-- ec_sockaddr_family(sa): AF_INET or AF_INET6 of an ec_sockaddr.
function core.ec_sockaddr_family(sa)
  if msys.type(sa) ~= "ec_sockaddr" then
    error("bad argument #1 to 'ec_sockaddr_family' (ec_sockaddr expected, got "
      .. msys.type(sa) .. ")", 2)
  end
  return sa.family
end

-- msys.type: like type(), but emulated userdata report their class name: `__name` for
-- msys classes, thrlua's own `@type` field for the json and xml libraries.
function msys.type(value)
  local mt = getmetatable(value)
  if type(mt) == "string" then return mt end
  if type(mt) == "table" then
    local name = rawget(mt, "__name") or rawget(mt, "@type")
    if type(name) == "string" then return name end
  end
  return type(value)
end

return core, {
  new_dict = new_dict,
  new_class = new_class,
  memory_io = memory_io,
  io_reader = io_reader,
  string_value = function(s)
    local ok, fields = pcall(check_string, s, "string", 1)
    return ok and fields.value or nil
  end,
}
