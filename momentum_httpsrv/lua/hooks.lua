-- The one debug hook of a Lua state's coroutines.
--
-- Lua 5.1 keeps one hook per coroutine (debug.sethook's function, mask and count), so
-- every feature that needs a hook shares this one: line coverage (mask "l", coverage.py)
-- and an instruction-count limit (a count hook) are dispatched from the same function,
-- with the masks combined. `install(co)` is called for every coroutine the runtime makes
-- (tasks and the script's own coroutine.create/wrap) and `apply_to_running()` for the
-- main state; while no feature is on, `active` is false and nothing is installed, so a
-- state without hooks pays one boolean test per coroutine.
local sethook, getinfo = debug.sethook, debug.getinfo

local hooks = { active = false }
local on_line, on_count, count = nil, nil, 0

-- Line events pass the function that triggered them (level 2: 0 is getinfo, 1 the hook)
-- and the line; "f" is the cheapest getinfo (no source text is formatted).
local function dispatch(event, line)
  if event == "line" then
    on_line(getinfo(2, "f").func, line)
  else
    on_count()
  end
end

local function mask()
  return on_line and "l" or ""
end

function hooks.install(co)
  sethook(co, dispatch, mask(), count)
end

function hooks.apply_to_running()
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
