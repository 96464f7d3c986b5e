-- mathx: C99 math functions added to `math` (the numbers themselves come from libm,
-- mathx.py). Arguments are checked as luaL_checknumber checks them.
local c_functions, arity = ...
local type, error, select = type, error, select
local format = string.format  -- string methods as our own, whatever scripts do to string
local ops = ("").__thrlua
local str2number, native, called_name = ops.str2number, ops.native, ops.called_name

local function number_argument(value, position, name)
  if type(value) == "number" then return value end
  local number = type(value) == "string" and str2number(value)
  if number then return number end
  error(format("bad argument #%d to '%s' (number expected, got %s)",
    position, called_name(2, name), value == nil and "no value" or type(value)), 3)
end

local function wrap(name, fn, count)
  if count == 1 then
    return function(x) return (fn(number_argument(x, 1, name))) end
  elseif count == 2 then
    return function(x, y)
      return (fn(number_argument(x, 1, name), number_argument(y, 2, name)))
    end
  end
  return function(x, y, z)
    return (fn(number_argument(x, 1, name), number_argument(y, 2, name),
      number_argument(z, 3, name)))
  end
end

-- fmax and fmin take any number of arguments (at least one).
local function fold(name, fn)
  return function(...)
    local m = number_argument((...), 1, name)
    for i = 2, select("#", ...) do m = fn(m, number_argument((select(i, ...)), i, name)) end
    return m
  end
end

for name, fn in pairs(c_functions) do
  local replacement
  if name == "fmax" or name == "fmin" then
    replacement = fold(name, fn)
  else
    replacement = wrap(name, fn, arity[name])
  end
  native[replacement] = true
  math[name] = replacement
end
math.infinity = 1 / 0
math.nan = -(0 / 0)  -- C's NAN has the sign bit clear
return math
