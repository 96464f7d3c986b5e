-- The one debug hook of a Lua state's coroutines.
--
-- Lua 5.1 keeps one hook per coroutine (debug.sethook's function, mask and count), so
-- every feature that needs a hook shares this one: line coverage (mask "crl", coverage.py)
-- and an instruction-count limit (a count hook) are dispatched from the same function,
-- with the masks combined. `install(co)` is called for every coroutine the runtime makes
-- (tasks and the script's own coroutine.create/wrap) and `apply_to_running()` for the
-- main state; while no feature is on, `active` is false and nothing is installed, so a
-- state without hooks pays one boolean test per coroutine.
local sethook, getinfo = debug.sethook, debug.getinfo

local hooks = { active = false }
local on_line, on_count, count = nil, nil, 0

-- Line events pass the running function and the line. Which function runs changes only
-- at a call, a return (pcall, resume and yield are calls that return, so errors caught and
-- coroutine switches end in one too) or on entry from the host (a call or a resume), so
-- the function is looked up (getinfo at level 2: 0 is getinfo, 1 the hook; "f", no text
-- formatted) on the first line after such an event, not on every line.
local running = nil
local function dispatch(event, line)
  if event == "line" then
    local fn = running
    if fn == nil then
      fn = getinfo(2, "f").func
      running = fn
    end
    on_line(fn, line)
  elseif event == "count" then
    on_count()
  else  -- "call", "return", "tail return"
    running = nil
  end
end

local function mask()
  return on_line and "crl" or ""
end

function hooks.install(co)
  sethook(co, dispatch, mask(), count)
end

function hooks.apply_to_running()
  running = nil
  if hooks.active then sethook(dispatch, mask(), count) else sethook() end
end

-- handler(fn, line) on every new line executed (fn: the running function), or nil.
function hooks.set_line(handler)
  on_line = handler
  hooks.active = on_line ~= nil or on_count ~= nil
  hooks.apply_to_running()
end

-- handler() every `every` VM instructions, or nil to stop.
function hooks.set_count(handler, every)
  on_count, count = handler, handler and every or 0
  hooks.active = on_line ~= nil or on_count ~= nil
  hooks.apply_to_running()
end

return hooks
