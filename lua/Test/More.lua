-- Test.More: a small TAP producer for unit-testing Momentum Lua scripts.
--
--   require("Test.More")
--   plan(2)
--   is(1 + 1, 2, "addition")
--   like(msys_version(), "^4%.", "runs on Momentum 4")
--
-- Loading it defines the test functions as globals (the style thrLua's own tests use) and
-- also returns them as a table. Results are TAP lines ("1..N", "ok N - name",
-- "not ok N - name") written with print, so they go wherever the host sends print; diag()
-- writes "# ..." lines to io.stderr, note() with print. Replace M.out / M.err (functions
-- taking one line) to send them elsewhere. Plain Lua 5.1.

local M = {}
M.out = function(line) print(line) end
M.err = function(line) io.stderr:write(line, "\n") end

local state = {
  count = 0,          -- tests run so far
  failed = 0,         -- failures that count (not inside todo)
  planned = nil,      -- number given to plan(), if any
  skipping_all = false,
  todo_reason = nil,
  todo_left = 0,
}

local function emit(stream, line)
  stream(line)
end

local function comment_lines(stream, text)
  for line in (tostring(text) .. "\n"):gmatch("([^\n]*)\n") do
    emit(stream, "# " .. line)
  end
end

function M.diag(message)
  comment_lines(M.err, message)
end

function M.note(message)
  comment_lines(M.out, message)
end

local function show(value)
  if type(value) == "string" then return "'" .. value .. "'" end
  return tostring(value)
end

local this_file = debug.getinfo(1, "S").source

-- "file:line" of the first caller outside this file: where the failing test was written.
local function caller_location()
  local level = 2
  while true do
    local info = debug.getinfo(level, "Sl")
    if info == nil then return "?" end
    if info.source ~= this_file and info.what ~= "tail" then return info.short_src .. ":" .. info.currentline end
    level = level + 1
  end
end

-- Record one test result; returns the result so callers can chain on it.
local function report(passed, name, details)
  if state.skipping_all then return passed end
  state.count = state.count + 1
  local line = (passed and "ok " or "not ok ") .. state.count
  if name ~= nil and name ~= "" then
    line = line .. " - " .. tostring(name)  -- as thrLua's Test.More: a '#' is not escaped
  end
  local in_todo = state.todo_left > 0
  if in_todo then
    line = line .. " # TODO # " .. state.todo_reason
    state.todo_left = state.todo_left - 1
  elseif not passed then
    state.failed = state.failed + 1
  end
  emit(M.out, line)
  if not passed then
    -- an expected (todo) failure explains itself on stdout, like Perl's Test::More
    local stream = in_todo and M.out or M.err
    local label = name ~= nil and (" '" .. tostring(name) .. "'") or ""
    comment_lines(stream, "  Failed " .. (in_todo and "(TODO) " or "") .. "test" .. label
      .. "\n  at " .. caller_location())
    if details then comment_lines(stream, details) end
  end
  return passed
end

function M.plan(count)
  if type(count) == "table" and count.skip_all then return M.skip_all(count.skip_all) end
  if count == "no_plan" then return end
  if type(count) ~= "number" then
    error("plan() expects a number of tests, 'no_plan' or {skip_all = reason}", 2)
  end
  state.planned = count
  emit(M.out, "1.." .. count)
end

-- Skip the whole file: print an empty plan and ignore every later test call.
function M.skip_all(reason)
  emit(M.out, "1..0 # SKIP " .. tostring(reason or ""))
  state.skipping_all = true
end

function M.BAIL_OUT(reason)
  emit(M.out, "Bail out!  " .. tostring(reason or ""))
  error("Bail out!  " .. tostring(reason or ""), 0)
end

-- Close a run without a plan (or check the plan); returns true when everything passed.
function M.done_testing(count)
  if state.skipping_all then return true end
  if state.planned == nil then
    state.planned = count or state.count
    emit(M.out, "1.." .. state.planned)
  end
  if state.planned ~= state.count then
    M.diag("Looks like you planned " .. state.planned .. " tests but ran " .. state.count .. ".")
  end
  if state.failed > 0 then
    M.diag("Looks like you failed " .. state.failed .. " test of " .. state.count .. ".")
  end
  return state.failed == 0 and state.planned == state.count
end

function M.ok(test, name) return report(not not test, name) end
function M.nok(test, name) return report(not test, name) end
function M.pass(name) return report(true, name) end
function M.fail(name) return report(false, name) end

-- Numbers compare as they print (14 significant digits), as thrLua's is(), isnt() and
-- is_deeply() do: 0.1 + 0.2 is 0.3.
local function as_printed(value)
  if type(value) == "number" then return tonumber(tostring(value)) end
  return value
end

function M.is(got, expected, name)
  return report(as_printed(got) == as_printed(expected), name,
    "         got: " .. show(got) .. "\n    expected: " .. show(expected))
end

function M.isnt(got, unexpected, name)
  return report(as_printed(got) ~= as_printed(unexpected), name,
    "         got: " .. show(got) .. "\n    expected: anything else")
end

function M.like(got, pattern, name)
  return report(string.find(tostring(got), pattern) ~= nil, name,
    "                  " .. show(got) .. "\n    doesn't match '" .. pattern .. "'")
end

function M.unlike(got, pattern, name)
  return report(string.find(tostring(got), pattern) == nil, name,
    "                  " .. show(got) .. "\n          matches '" .. pattern .. "'")
end

local comparisons = {
  ["=="] = function(a, b) return a == b end,
  ["~="] = function(a, b) return a ~= b end,
  ["!="] = function(a, b) return a ~= b end,
  ["<"] = function(a, b) return a < b end,
  ["<="] = function(a, b) return a <= b end,
  [">"] = function(a, b) return a > b end,
  [">="] = function(a, b) return a >= b end,
}

function M.cmp_ok(this, op, that, name)
  local compare = comparisons[op]
  if not compare then error("cmp_ok: unknown comparison operator " .. show(op), 2) end
  return report(compare(this, that), name,
    "    " .. show(this) .. "\n        " .. op .. "\n    " .. show(that))
end

function M.type_ok(value, expected_type, name)
  return report(type(value) == expected_type, name,
    "    " .. show(value) .. " is a " .. type(value) .. ", not a " .. expected_type)
end

-- Returns nil when equal, or a description of the first difference found.
local function deep_difference(got, expected, path, seen)
  if as_printed(got) == as_printed(expected) then return nil end
  if type(got) ~= "table" or type(expected) ~= "table" then
    return path .. ": got " .. show(got) .. ", expected " .. show(expected)
  end
  seen[got] = seen[got] or {}
  if seen[got][expected] then return nil end  -- this pair is already being compared
  seen[got][expected] = true
  for key, value in pairs(expected) do
    local difference = deep_difference(got[key], value, path .. "[" .. show(key) .. "]", seen)
    if difference then return difference end
  end
  for key, value in pairs(got) do
    if expected[key] == nil then
      return path .. "[" .. show(key) .. "]: got " .. show(value) .. ", expected nil"
    end
  end
  return nil
end

function M.is_deeply(got, expected, name)
  local difference = deep_difference(got, expected, "value", {})
  return report(difference == nil, name, difference and ("    " .. difference))
end

function M.eq_array(got, expected, name)
  local difference
  if type(got) ~= "table" or type(expected) ~= "table" then
    difference = "    eq_array needs two tables, got " .. type(got) .. " and " .. type(expected)
  elseif #got ~= #expected then
    difference = "    got " .. #got .. " elements, expected " .. #expected
  else
    for i = 1, #expected do
      if got[i] ~= expected[i] then
        difference = "    [" .. i .. "]: got " .. show(got[i]) .. ", expected " .. show(expected[i])
        break
      end
    end
  end
  return report(difference == nil, name, difference)
end

function M.require_ok(module_name)
  local loaded, problem = pcall(require, module_name)
  return report(loaded, "require '" .. tostring(module_name) .. "'",
    not loaded and ("    " .. tostring(problem)) or nil)
end

-- code is a function or a string of Lua; optional args table; then expectation and name.
local function run_code(code, arg2, arg3, arg4)
  local args, expectation, name = {}, arg2, arg3
  if type(arg2) == "table" then args, expectation, name = arg2, arg3, arg4 end
  if type(code) == "string" then
    local compiled, problem = loadstring(code)
    if not compiled then return false, problem, expectation, name end
    code = compiled
  end
  local succeeded, problem = pcall(code, unpack(args))
  return succeeded, problem, expectation, name
end

function M.error_is(code, arg2, arg3, arg4)
  local succeeded, problem, expected, name = run_code(code, arg2, arg3, arg4)
  if succeeded then return report(false, name, "    no error was raised") end
  return report(problem == expected, name,
    "    error: " .. show(problem) .. "\n expected: " .. show(expected))
end

function M.error_like(code, arg2, arg3, arg4)
  local succeeded, problem, pattern, name = run_code(code, arg2, arg3, arg4)
  if succeeded then return report(false, name, "    no error was raised") end
  return report(string.find(tostring(problem), pattern) ~= nil, name,
    "    error: " .. show(problem) .. "\n doesn't match '" .. tostring(pattern) .. "'")
end

function M.lives_ok(code, arg2, arg3)
  local args, name = {}, arg2
  if type(arg2) == "table" then args, name = arg2, arg3 end
  local succeeded, problem = run_code(code, args, nil, name)
  return report(succeeded, name, not succeeded and ("    died: " .. tostring(problem)) or nil)
end

function M.skip(reason, count)
  for _ = 1, count or 1 do
    state.count = state.count + 1
    emit(M.out, "ok " .. state.count .. " - # skip" .. (reason and " " .. tostring(reason) or ""))
  end
end

-- Mark the next `count` tests (default 1) as TODO: their failures do not count.
function M.todo(reason, count)
  state.todo_reason = tostring(reason or "")
  state.todo_left = count or 1
end

function M.todo_skip(reason)
  state.count = state.count + 1
  emit(M.out, "not ok " .. state.count .. " - # TODO & SKIP"
    .. (reason and " " .. tostring(reason) or ""))
end

-- Skip every remaining planned test.
function M.skip_rest(reason)
  if state.planned then M.skip(reason, state.planned - state.count) end
end

for name, fn in pairs(M) do
  if type(fn) == "function" then _G[name] = fn end
end

return M
