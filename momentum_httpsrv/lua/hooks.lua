-- The one debug hook of a Lua state's coroutines (hooks.py has the design).
--
-- Lua 5.1 keeps one hook per coroutine (debug.sethook's function, mask and count), so
-- every feature that needs a hook shares this one: line coverage (mask "crl", coverage.py)
-- and the CPU-time limit (a count hook) are dispatched from the same function, with the
-- masks combined. `install(co)` is called for every coroutine the runtime makes (tasks
-- and the script's own coroutine.create/wrap), `apply_to_running()` for the main state
-- and `enter()` each time Python enters the state. While no feature is on, `active` is
-- false and nothing is installed, so a state without hooks pays one boolean test per
-- coroutine. Called with the host table; returns the hooks table.
local host = ...
local sethook, gethook, getinfo = debug.sethook, debug.gethook, debug.getinfo
local clock, running = os.clock, coroutine.running
local error, setmetatable, huge, sub = error, setmetatable, math.huge, string.sub
local poll, trusted_prefix = host.poll, host.trusted_prefix

local COUNT = host.count            -- VM instructions between two limit checks
local POLL_EVERY = host.poll_every  -- checks between two host polls

local hooks = { active = false }
local on_line = nil                 -- handler(fn, line), or nil
local limit = huge                  -- CPU seconds one entry into the state may use
local limit_message = nil
local deadline = huge               -- false: not read yet for the current entry
local polls = POLL_EVERY
local ending = nil                  -- why the work running now must end
local main_armed = false            -- the main thread has the hook as now configured
local MAIN = {}                     -- the escalated[] key of the main thread
local escalated = setmetatable({}, { __mode = "k" })  -- threads checked every instruction

local dispatch

-- Install the hook on `co` (nil: the main thread), with a count of `count` when the
-- limit is on; with no feature on, none.
local function arm(co, count)
  if not hooks.active then
    if co then sethook(co) else sethook() end
    return
  end
  local mask = on_line and "crl" or ""
  count = limit < huge and count or 0
  if co then sethook(co, dispatch, mask, count) else sethook(dispatch, mask, count) end
end

-- A count event: the CPU-time limit's check.
local function check_limit()
  local now = clock()
  if not deadline then deadline = now + limit end  -- the first check of this entry
  if now <= deadline then
    local co = running()
    if escalated[co or MAIN] then  -- left over from earlier work that ran out
      escalated[co or MAIN] = nil
      arm(co, COUNT)
    end
    polls = polls - 1
    if polls > 0 then return end
    polls = POLL_EVERY
    local reason = poll()  -- Python runs its signal handlers here
    if not reason then return end
    ending, deadline = reason, -1
  elseif deadline ~= -1 then
    ending = limit_message
  end
  -- Out of time (or stopping): our own frames (a traceback handler) may finish. Level 3:
  -- 1 is this function, 2 dispatch, 3 the function that was running.
  local source = getinfo(3, "S").source
  if sub(source, 1, #trusted_prefix) == trusted_prefix then return end
  -- From now on every instruction of this coroutine fails, so a pcall cannot catch it.
  local co = running()
  escalated[co or MAIN] = true
  arm(co, 1)
  error(ending, 3)
end

-- Line events pass the running function and the line. Which function runs changes only
-- at a call, a return (pcall, resume and yield are calls that return, so errors caught and
-- coroutine switches end in one too) or on entry from the host (a call or a resume), so
-- the function is looked up (getinfo at level 2: 0 is getinfo, 1 the hook; "f", no text
-- formatted) on the first line after such an event, not on every line.
local current_fn = nil
dispatch = function(event, line)
  if event == "line" then
    local fn = current_fn
    if fn == nil then
      fn = getinfo(2, "f").func
      current_fn = fn
    end
    on_line(fn, line)
  elseif event == "count" then
    check_limit()
  else  -- "call", "return", "tail return" (only while the line hook is on)
    current_fn = nil
  end
end

local function update()
  hooks.active = on_line ~= nil or limit < huge
  current_fn = nil  -- the hook may have been off while other functions ran
  main_armed = false
  hooks.apply_to_running()
end

function hooks.install(co)
  arm(co, COUNT)
end

function hooks.apply_to_running()
  arm(nil, COUNT)
  main_armed = true
end

-- Python enters the state (a task starts or resumes, a call on the main thread): the
-- work gets the whole limit again; the clock is read at the entry's first check, not
-- here, so entering costs no system call.
function hooks.enter()
  deadline = false
  if escalated[MAIN] or not main_armed then
    escalated[MAIN] = nil
    hooks.apply_to_running()
  end
end

-- Whether the running coroutine's work is being ended (past the limit, or stopping). An
-- error raised from a hook reaches xpcall's handler while Lua has hooks off, so a
-- script's handler must not run then (it could spin unchecked).
function hooks.ending()
  return escalated[running() or MAIN] ~= nil
end

-- handler(fn, line) on every new line executed (fn: the running function), or nil.
function hooks.set_line(handler)
  on_line = handler
  update()
end

-- CPU seconds each entry into the state may run; 0 for no limit.
function hooks.set_limit(seconds)
  limit = seconds > 0 and seconds or huge
  limit_message = ("CPU time limit exceeded (%g s)"):format(seconds)
  update()
end

-- Whether the line hook runs in coroutine `co` (nil: the running one); for tests, since
-- scripts' debug.gethook never shows the emulator's hook.
function hooks.line_hooked(co)
  local _, mask
  if co then _, mask = gethook(co) else _, mask = gethook() end
  return mask ~= nil and mask:find("l", 1, true) ~= nil
end

return hooks
