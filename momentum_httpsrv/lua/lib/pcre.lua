-- msys.pcre / pcre: argument checking and replacement callbacks in Lua, matching in Python.
local py_match, py_replace, py_replace_plan, py_split = ...

local type, tostring, tonumber, error, format, concat, floor, ceil =
  type, tostring, tonumber, error, string.format, table.concat, math.floor, math.ceil

local function argerror(position, fname, message)
  error(format("bad argument #%d to '%s' (%s)", position, fname, message), 0)
end

-- luaL_checklstring: strings, and numbers converted to strings.
local function check_string(value, position, fname)
  local tv = type(value)
  if tv == "string" then return value end
  if tv == "number" then return tostring(value) end
  argerror(position, fname, "string expected, got " .. tv)
end

-- luaL_optint with a default of -1 ("no limit").
local function optional_limit(value, position, fname)
  if value == nil then return -1 end
  local number = tonumber(value)
  if number == nil then argerror(position, fname, "number expected, got " .. type(value)) end
  if number >= 0 then return floor(number) end
  return ceil(number)
end

local pcre = {}

function pcre.match(subject, pattern)
  subject = check_string(subject, 1, "match")
  pattern = check_string(pattern, 2, "match")
  if pattern == "" then return nil, "an empty pattern was provided", 0 end
  return py_match(subject, pattern)
end

function pcre.replace(subject, pattern, replacement, limit)
  subject = check_string(subject, 1, "replace")
  pattern = check_string(pattern, 2, "replace")
  local rtype = type(replacement)
  if rtype ~= "string" and rtype ~= "number" and rtype ~= "function" then
    argerror(3, "replace", "expected string/function")
  end
  limit = optional_limit(limit, 4, "replace")
  if pattern == "" then return nil, "an empty pattern was provided", 0 end
  if rtype ~= "function" then
    return py_replace(subject, pattern, tostring(replacement), limit)
  end
  local plan, message, offset = py_replace_plan(subject, pattern, limit)
  if plan == nil then return nil, message, offset end
  local out, n = { plan[1] }, 1
  for i = 2, #plan, 2 do
    local captures = plan[i]
    local value = replacement(captures)
    if not value then
      value = captures[0]
    elseif type(value) ~= "string" and type(value) ~= "number" then
      error(format("invalid replacement value (a %s)", type(value)), 0)
    end
    out[n + 1] = value
    out[n + 2] = plan[i + 1]
    n = n + 2
  end
  return concat(out)
end

function pcre.split(subject, pattern, limit)
  subject = check_string(subject, 1, "split")
  pattern = check_string(pattern, 2, "split")
  limit = optional_limit(limit, 3, "split")
  if pattern == "" then return nil, "an empty pattern was provided", 0 end
  return py_split(subject, pattern, limit)
end

return pcre
