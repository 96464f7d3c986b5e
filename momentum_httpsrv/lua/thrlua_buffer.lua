-- thrLua's built-in `buffer` library (src/buf.c): fixed-size byte buffers.
--
--   buffer.new(size) / buffer.new(string)   a buffer of that many bytes (holding the string)
--   b:write(s[, offset])   copy s in at offset (default: after the content), cut at the end;
--                          returns the bytes written, 0 when offset is past the end
--   b:string([start[, stop]])   bytes start..stop-1 of the content, nil out of range
--   b:slice([offset[, length]]) a buffer over the same bytes (writes show in both)
--   b:copy(dest[, destoff[, srcoff[, srclen]]])  write bytes of b into dest
--   #b, tostring(b)        the content's length and bytes
-- Files' write (and io.write) take buffers as strings. Offsets count from 0.

local ops = ("").__thrlua
local format = string.format  -- string methods as our own, whatever scripts do to string
if rawget(_G, "buffer") then return end  -- installed already
local native = ops.native
local type, tostring, error, concat, sub, newproxy, getmetatable, select, unpack =
  type, tostring, error, table.concat, string.sub, newproxy, getmetatable, select, unpack
local floor, ceil = math.floor, math.ceil

local state = setmetatable({}, { __mode = "k" })  -- buffer -> its fields
local prototype = newproxy(true)
local mt = getmetatable(prototype)
local methods = {}

local function new_buffer(store, base, allocd, length)
  local b = newproxy(prototype)
  state[b] = { store = store, base = base, allocd = allocd, len = length }
  return b
end

-- luaL_checkudata(L, 1, LUAL_BUFFER_MT)
local function check(b, position, name)
  local fields = state[b]
  if fields == nil then
    local got = type(b)
    error(format("bad argument #%d to '%s' (buffer expected, got %s)", position, name,
      b == nil and "no value" or got), 3)
  end
  return fields
end

local function optional_integer(value, default, position, name)
  if value == nil then return default end
  local number = type(value) == "number" and value or type(value) == "string"
    and ops.str2number(value)
  if not number then
    error(format("bad argument #%d to '%s' (number expected, got %s)", position, name,
      type(value)), 3)
  end
  return number >= 0 and floor(number) or ceil(number)
end

local function bytes(fields, first, count)  -- count bytes from offset first, as a string
  if count <= 0 then return "" end
  local base = fields.base
  return concat(fields.store, "", base + first + 1, base + first + count)
end

-- luaL_bufwrite: copy into the buffer at offset (-1: after the content).
local function write_bytes(fields, offset, text)
  if offset == -1 then offset = fields.len end
  if offset < 0 or offset > fields.allocd then return 0 end
  local count = #text
  if offset + count > fields.allocd then count = fields.allocd - offset end
  local store, at = fields.store, fields.base + offset
  for i = 1, count do store[at + i] = sub(text, i, i) end
  fields.len = offset + count
  return count
end

function methods.write(b, text, offset)
  local fields = check(b, 1, "write")
  if type(text) ~= "string" and type(text) ~= "number" then
    error(format("bad argument #2 to 'write' (string expected, got %s)",
      text == nil and "no value" or type(text)), 2)
  end
  return write_bytes(fields, optional_integer(offset, -1, 3, "write"), tostring(text))
end

function methods.string(b, start, stop)
  local fields = check(b, 1, "string")
  start = optional_integer(start, 0, 2, "string")
  stop = optional_integer(stop, fields.len, 3, "string")
  if stop < 0 or start < 0 or start > fields.len or stop > fields.len or stop < start then
    return nil
  end
  return bytes(fields, start, stop - start)
end

function methods.slice(b, offset, length)
  local fields = check(b, 1, "slice")
  offset = optional_integer(offset, 0, 2, "slice")
  length = optional_integer(length, fields.len, 3, "slice")
  if offset < 0 or length < 0 or offset + length > fields.allocd then return nil end
  return new_buffer(fields.store, fields.base + offset, length, length)
end

function methods.copy(b, dest, destoff, srcoff, srclen)
  local source = check(b, 1, "copy")
  local target = check(dest, 2, "copy")
  destoff = optional_integer(destoff, 0, 3, "copy")
  srcoff = optional_integer(srcoff, 0, 4, "copy")
  srclen = optional_integer(srclen, -1, 5, "copy")
  if srclen == -1 then srclen = source.len - srcoff end
  if srcoff < 0 or srclen < 0 or srcoff + srclen > source.allocd then return 0 end
  return write_bytes(target, destoff, bytes(source, srcoff, srclen))
end

mt.__index = methods
mt.__len = function(b) return check(b, 1, "__len").len end
mt.__tostring = function(b)
  local fields = check(b, 1, "__tostring")
  return bytes(fields, 0, fields.len)
end

local function new(...)
  if select("#", ...) ~= 1 then return end
  local init = ...
  if type(init) == "string" and not ops.str2number(init) then
    local store = {}
    for i = 1, #init do store[i] = sub(init, i, i) end
    return new_buffer(store, 0, #init, #init)
  end
  local size = optional_integer(init, nil, 1, "new")
  if size == nil or size < 0 then
    error("bad argument #1 to 'new' (number expected, got " .. type(init) .. ")", 2)
  end
  local store = {}
  for i = 1, size do store[i] = "\0" end
  return new_buffer(store, 0, size, 0)
end

buffer = { new = new }
package.loaded.buffer = buffer

-- Files write a buffer's content as they write a string.
local file_methods = getmetatable(io.stdout).__index
local file_write, io_write = file_methods.write, io.write

local function as_strings(...)
  local count = select("#", ...)
  for i = 1, count do
    if state[(select(i, ...))] then
      local values = { ... }
      for j = i, count do
        if state[values[j]] then values[j] = tostring(values[j]) end
      end
      return unpack(values, 1, count)
    end
  end
  return ...
end

file_methods.write = function(file, ...) return file_write(file, as_strings(...)) end
io.write = function(...) return io_write(as_strings(...)) end

for _, fn in pairs(methods) do native[fn] = true end
native[new], native[file_methods.write], native[io.write] = true, true, true
