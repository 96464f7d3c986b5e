-- msys.base64: argument checks in Lua, codec work in Python (base64.py).
local py_encode, py_decode = ...

local type, tostring, error, format, pcall, getmetatable =
  type, tostring, error, string.format, pcall, getmetatable

-- Strings, numbers and Momentum string objects (ec_string userdata print as their text).
local function text_argument(value, position, fname)
  local tv = type(value)
  if tv == "string" then return value end
  if tv == "number" or (tv == "userdata" and getmetatable(value)
      and getmetatable(value).__tostring) then
    return tostring(value)
  end
  error(format("bad argument #%d to '%s' (string expected, got %s)", position, fname, tv), 0)
end

local function charset_argument(value, position, fname)
  if value == nil then return nil end
  if type(value) ~= "string" then
    error(format("bad argument #%d to '%s' (string expected, got %s)", position, fname,
      type(value)), 0)
  end
  return value
end

local function checked(ok, ...)
  if not ok then error(tostring((...)), 0) end
  return ...
end

local base64 = {}

function base64.encode(data, fold, charset)
  data = text_argument(data, 1, "encode")
  charset = charset_argument(charset, 3, "encode")
  return checked(pcall(py_encode, data, fold and true or false, charset))
end

function base64.decode(data, charset)
  data = text_argument(data, 1, "decode")
  charset = charset_argument(charset, 2, "decode")
  return checked(pcall(py_decode, data, charset))
end

return base64
