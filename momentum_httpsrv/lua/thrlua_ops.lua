-- Runtime side of the thrLua dialect: the functions translated chunks call as __thrlua.*.
--
-- thrLua (src/luaconf.h, src/lvm.c) converts each operand of a bitwise operator with a C cast
-- to int64_t, operates, and converts the result back to a double. This file reproduces that
-- with doubles only: an int64 is handled as two unsigned 32-bit words, so every intermediate
-- stays exact and the final conversion rounds once, like the C code. Casts of NaN or of values
-- outside [-2^63, 2^63) give INT64_MIN, and shift counts are taken modulo 64, which is what
-- x86-64 (where Momentum runs) does for those undefined cases.
--
-- Errors are raised at level 3 (operator helper -> this file's dispatcher -> user code) so
-- they carry the user's chunk name and line. The table ends up as string.__thrlua, reachable
-- from any environment as ("").__thrlua.

-- Strings convert to numbers as thrLua converts them (luaO_str2d: "010" is 8, "08" is not
-- a number) because lupa's Lua 5.1 is built with that conversion (vm/build_lupa.py), so
-- the native tonumber is thrLua's.
local floor, ceil, type, tonumber, rawget, error, sub =
  math.floor, math.ceil, type, tonumber, rawget, error, string.sub
local match = string.match  -- string methods as our own, whatever scripts do to string
local getmetatable, getlocal, getinfo, getupvalue =
  debug.getmetatable, debug.getlocal, debug.getinfo, debug.getupvalue

local TWO31, TWO32, TWO63 = 2^31, 2^32, 2^63

-- AND of two 4-bit values, indexed by a * 16 + b.
local AND4 = {}
for a = 0, 15 do
  for b = 0, 15 do
    local result, bit = 0, 1
    while bit < 16 do
      if a % (bit * 2) >= bit and b % (bit * 2) >= bit then result = result + bit end
      bit = bit * 2
    end
    AND4[a * 16 + b] = result
  end
end

-- AND of two integers in [0, 2^32).
local function and32(a, b)
  local result, place = 0, 1
  while a > 0 and b > 0 do
    local low_a, low_b = a % 16, b % 16
    result = result + AND4[low_a * 16 + low_b] * place
    a, b, place = (a - low_a) / 16, (b - low_b) / 16, place * 16
  end
  return result
end

-- (int64_t)x as compiled for x86-64.
local function toint(x)
  if x ~= x or x >= TWO63 or x < -TWO63 then return -TWO63 end
  if x >= 1 then return floor(x) end
  if x <= -1 then return ceil(x) end
  return 0  -- also for -0: an int64 has no negative zero
end

-- Apply a word operation to two int64 values: fast for two values in [0, 2^32).
local function wordwise(word_op, a, b)
  if a >= 0 and b >= 0 and a < TWO32 and b < TWO32 then return word_op(a, b) end
  local a_low, b_low = a % TWO32, b % TWO32
  local high = word_op((a - a_low) / TWO32 % TWO32, (b - b_low) / TWO32 % TWO32)
  if high >= TWO31 then high = high - TWO32 end
  return high * TWO32 + word_op(a_low, b_low)
end

local function or32(a, b) return a + b - and32(a, b) end
local function xor32(a, b) return a + b - 2 * and32(a, b) end

local int_ops = {
  __and = function(a, b) return wordwise(and32, a, b) end,
  __or = function(a, b) return wordwise(or32, a, b) end,
  __xor = function(a, b) return wordwise(xor32, a, b) end,
  __shl = function(a, n)
    n = n % 64
    local shifted = a * 2 ^ n
    if shifted >= -TWO63 and shifted < TWO63 then return shifted end
    -- the result wraps: shift the two unsigned words, carrying from low to high
    local low = a % TWO32
    local high = (a - low) / TWO32 % TWO32
    if n >= 32 then
      high, low = low * 2 ^ (n - 32) % TWO32, 0
    else
      local moved = low * 2 ^ n
      low = moved % TWO32
      high = (high * 2 ^ n % TWO32 + (moved - low) / TWO32) % TWO32
    end
    if high >= TWO31 then high = high - TWO32 end
    return high * TWO32 + low
  end,
  __shr = function(a, n) return floor(a / 2 ^ (n % 64)) end,  -- arithmetic shift
  __not = function(a) return -a - 1 end,
}

-- luaT_gettmbyobj on the first operand, then the second (call_binTM).
local function metamethod(a, b, event)
  local mt = getmetatable(a)
  local handler = mt and rawget(mt, event)
  if handler == nil then
    mt = getmetatable(b)
    handler = mt and rawget(mt, event)
  end
  return handler
end

local function culprit_type(a, b)
  if tonumber(a) == nil then return type(a) end
  return type(b)
end

-- How thrLua's getobjname names a variable operand, seen from the frame at `level`.
local function describe(name, level)
  if sub(name, 1, 1) == "." then return "field '" .. sub(name, 2) .. "'" end
  local found, index = false, 1
  while true do
    local local_name = getlocal(level + 1, index)
    if local_name == nil then break end
    if local_name == name then found = true end
    index = index + 1
  end
  if found then return "local '" .. name .. "'" end
  local fn = getinfo(level + 1, "f").func
  index = 1
  while true do
    local upvalue_name = getupvalue(fn, index)
    if upvalue_name == nil then break end
    if upvalue_name == name then return "upvalue '" .. name .. "'" end
    index = index + 1
  end
  return "global '" .. name .. "'"
end

-- Raise thrLua's error for an operation on a wrong operand (luaG_opinterror: the first
-- operand unless it converts to a number). `site` is the translator's "line,left,right"
-- (parser.error_site), or nil. Called as helper -> slow path -> fail: the user's frame is
-- 4 levels up from here.
local function fail(action, a, b, site)
  local culprit, name = b, nil
  local line, left, right = "", "", ""
  if site then line, left, right = match(site, "^(%d*),([^,]*),([^,]*)$") end
  if tonumber(a) == nil then culprit, name = a, left else name = right end
  local message
  if name ~= "" then
    message = "attempt to " .. action .. " " .. describe(name, 4) .. " (a " .. type(culprit)
      .. " value)"
  else
    message = "attempt to " .. action .. " a " .. type(culprit) .. " value"
  end
  if line ~= "" then
    error(getinfo(4, "S").short_src .. ":" .. line .. ": " .. message, 0)
  end
  error(message, 4)
end

-- Slow path of every bitwise operator: string operands, metamethods, errors.
local function bitwise(event, a, b, site)
  local x, y = tonumber(a), tonumber(b)
  if x and y then return int_ops[event](toint(x), toint(y)) end
  local handler = metamethod(a, b, event)
  if handler == nil then fail("perform bitwise operation on", a, b, site) end
  return (handler(a, b))
end

local function binary(event)
  local int_op = int_ops[event]
  return function(a, b, site)
    if type(a) == "number" and type(b) == "number" then return int_op(toint(a), toint(b)) end
    return (bitwise(event, a, b, site))
  end
end

local ops = {
  band = binary("__and"),
  bor = binary("__or"),
  bxor = binary("__xor"),
  shl = binary("__shl"),
  shr = binary("__shr"),
}

function ops.bnot(a)
  if type(a) == "number" then return -toint(a) - 1 end
  return (bitwise("__not", a, a))
end

-- Integer division. thrLua floors only when both operands are numbers; otherwise its VM
-- takes the ordinary division path (OP_INTDIV uses TM_DIV): strings are divided without
-- flooring and tables go to __div, never __intdiv.
local function divide(a, b, site)
  local x, y = tonumber(a), tonumber(b)
  if x and y then return x / y end
  local handler = metamethod(a, b, "__div")
  if handler == nil then fail("perform arithmetic on", a, b, site) end
  return (handler(a, b))
end

function ops.idiv(a, b, site)
  if type(a) == "number" and type(b) == "number" then return floor(a / b) end
  return (divide(a, b, site))
end

-- A left fold with two or more bitwise operators (``a | b + c & d``) is translated to
-- ``chain(a)("|", b)("+", c)("&", d)()`` rather than nested helper calls, so that its length
-- does not count against Lua's limit on syntax nesting. Each call applies one operator as
-- soon as its right operand has been evaluated, which is where thrLua's VM applies it; the
-- closure holds the running value of this one evaluation. Errors are raised at the caller of
-- step (level 2 here, level 3 in bitwise and divide).
local chain_events = { ["|"] = "__or", ["&"] = "__and", ["^^"] = "__xor", ["<<"] = "__shl",
  [">>"] = "__shr" }
local arithmetic_events = { ["+"] = "__add", ["-"] = "__sub", ["*"] = "__mul",
  ["/"] = "__div", ["%"] = "__mod" }
local arithmetic = {
  ["+"] = function(a, b) return a + b end,
  ["-"] = function(a, b) return a - b end,
  ["*"] = function(a, b) return a * b end,
  ["/"] = function(a, b) return a / b end,
  ["%"] = function(a, b) return a % b end,
}

function ops.chain(value)
  local function step(operator, b)
    if operator == nil then return value end
    local a = value
    local event = chain_events[operator]
    if event ~= nil then
      if type(a) == "number" and type(b) == "number" then
        value = int_ops[event](toint(a), toint(b))
      else
        value = bitwise(event, a, b)
      end
    elseif operator == "\\" then
      if type(a) == "number" and type(b) == "number" then
        value = floor(a / b)
      else
        value = divide(a, b)
      end
    elseif tonumber(a) and tonumber(b) or metamethod(a, b, arithmetic_events[operator]) then
      value = arithmetic[operator](a, b)
    else
      error("attempt to perform arithmetic on a " .. culprit_type(a, b) .. " value", 2)
    end
    return step
  end
  return step
end

-- Generic-for generator: a value that is not a function iterates through its __iter
-- metamethod (OP_TFORLOOP), which receives the value and returns generator, state, control.
function ops.iter(generator, state, control)
  if type(generator) ~= "function" then
    local mt = getmetatable(generator)
    local handler = mt and rawget(mt, "__iter")
    if type(handler) == "function" then return handler(generator) end
  end
  return generator, state, control
end

ops.str2number = tonumber  -- the native one, whatever scripts do to the global
local installed = rawget(getmetatable("").__index, "__thrlua")
if installed then ops.native = installed.native end  -- the standard library is replaced once

rawset(getmetatable("").__index, "__thrlua", ops)
