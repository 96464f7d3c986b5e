-- msys.dumper.Dumper(value): a Lua chunk ("return ...") that rebuilds a printable copy of
-- value, with keys in a fixed order (array part, other numbers, strings, the rest) so the
-- same data always dumps to the same text.
local type, tostring, format, concat, sort, floor, find, gsub, byte, next =
  type, tostring, string.format, table.concat, table.sort, math.floor, string.find,
  string.gsub, string.byte, next
local gmatch = string.gmatch  -- string methods as our own, whatever scripts do to string

local KEYWORDS = {}
for word in gmatch("and break do else elseif end false for function if in local nil not or repeat "
    .. "return then true until while", "%a+") do
  KEYWORDS[word] = true
end

local ESCAPES = { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function quote(s)
  return '"' .. gsub(s, '[%z\1-\31\\"\127]', function(c)
    return ESCAPES[c] or format("\\%03d", byte(c))
  end) .. '"'
end

local function number_text(n)
  if n ~= n then return "0/0" end
  if n == 1 / 0 then return "math.huge" end
  if n == -1 / 0 then return "-math.huge" end
  if n == floor(n) and n >= -2 ^ 53 and n <= 2 ^ 53 then return format("%d", n) end
  return format("%.17g", n)
end

local function scalar_text(v)
  local tv = type(v)
  if tv == "string" then return quote(v) end
  if tv == "number" then return number_text(v) end
  if tv == "boolean" or tv == "nil" then return tostring(v) end
  if tv == "userdata" then return quote(tostring(v)) end -- json/xml objects print their text
  return quote(tv) -- functions and threads: only their type is stable
end

local function key_rank(k)
  local tk = type(k)
  if tk == "number" then return 1 end
  if tk == "string" then return 2 end
  return 3
end

local function key_before(a, b)
  local ra, rb = key_rank(a), key_rank(b)
  if ra ~= rb then return ra < rb end
  if ra == 3 then return tostring(a) < tostring(b) end
  return a < b
end

local function key_text(k)
  if type(k) == "string" and find(k, "^[%a_][%w_]*$") and not KEYWORDS[k] then return k end
  return "[" .. scalar_text(k) .. "]"
end

local function dump(value, indent, open, out)
  if type(value) ~= "table" then
    out[#out + 1] = scalar_text(value)
    return
  end
  if open[value] then
    out[#out + 1] = "{} --[[ cycle ]]"
    return
  end
  local keys = {}
  for k in next, value do keys[#keys + 1] = k end
  if #keys == 0 then
    out[#out + 1] = "{}"
    return
  end
  sort(keys, key_before)
  open[value] = true
  local inner = indent .. "  "
  out[#out + 1] = "{\n"
  for i = 1, #keys do
    local k = keys[i]
    out[#out + 1] = inner .. key_text(k) .. " = "
    dump(value[k], inner, open, out)
    out[#out + 1] = ",\n"
  end
  out[#out + 1] = indent .. "}"
  open[value] = nil
end

local dumper = {}

function dumper.Dumper(value)
  local out = { "return " }
  dump(value, "", {}, out)
  return concat(out)
end

return dumper
