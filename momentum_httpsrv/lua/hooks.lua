-- The one debug hook of a Lua state's coroutines (hooks.py has the design).
--
-- Lua 5.1 keeps one hook per coroutine (debug.sethook's function, mask and count), so
-- every feature that needs a hook shares this one: line coverage (mask "crl", coverage.py)
-- and the CPU-time limit (a count hook) are dispatched from the same function, with the
-- masks combined. `install(co)` is called for every coroutine the runtime makes (tasks
-- and the script's own coroutine.create/wrap), `apply_to_running()` for the main state
-- and `enter()` each time Python enters the state. While no feature is on, `active` is
-- false and nothing is installed, so a state without hooks pays one boolean test per
-- coroutine. What runs per request is kept to a minimum (bench/bench_limits.py measures
-- it): `enter()` is one assignment and one test unless something is pending, `install`
-- one test and the sethook call. Called with the host table; returns the hooks table.
local host = ...
local sethook, gethook, getinfo = debug.sethook, debug.gethook, debug.getinfo
local clock, running = os.clock, coroutine.running
local error, setmetatable, huge = error, setmetatable, math.huge
local sub, find, format = string.sub, string.find, string.format
local poll, trusted_prefix, warn = host.poll, host.trusted_prefix, host.warn
local xpcall, traceback, type = xpcall, debug.traceback, type

local COUNT = host.count                  -- VM instructions between two limit checks
local POLL_INTERVAL = host.poll_interval  -- CPU seconds between two host polls

local hooks = { active = false }
local on_line = nil                 -- handler(fn, line), or nil
local limit = huge                  -- CPU seconds one entry into the state may use
local limit_message = nil
local deadline = huge               -- false: not read yet for the current entry
local next_poll = 0                 -- os.clock() past which a check polls the host
local ending = nil                  -- why the work running now must end
local MAIN = {}                     -- the escalated[] key of the main thread
local escalated = setmetatable({}, { __mode = "k" })  -- threads checked every instruction
local mask, count = nil, 0          -- the hook as configured; mask nil: no hook
-- Whether the next entry has more to do than renew the deadline: re-arm the main thread
-- (escalated, or the configuration changed) or run queued finalizers.
local entry_work = true

local dispatch

-- Install the hook on `co` (nil: the main thread), every `every` instructions when the
-- limit is on (COUNT, or 1 once escalated); with no feature on, none.
local function arm(co, every)
  if not mask then
    if co then sethook(co) else sethook() end
    return
  end
  every = count > 0 and every or 0
  if co then sethook(co, dispatch, mask, every) else sethook(dispatch, mask, every) end
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
    if now < next_poll then return end
    next_poll = now + POLL_INTERVAL
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
  if not co then entry_work = true end
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
  mask = hooks.active and (on_line and "crl" or "") or nil
  count = limit < huge and COUNT or 0
  current_fn = nil  -- the hook may have been off while other functions ran
  entry_work = true
  hooks.apply_to_running()
end

-- A new coroutine: the hook as configured (prelude.lua calls it when `active`).
function hooks.install(co)
  if mask then sethook(co, dispatch, mask, count) end
end

function hooks.apply_to_running()
  arm(nil, COUNT)
end

-- Python enters the state (a task starts or resumes, a call on the main thread): the
-- work gets the whole limit again; the clock is read at the entry's first check, not
-- here, so entering costs no system call.
local function fresh_entry()
  deadline = false
  if escalated[MAIN] then
    escalated[MAIN] = nil
    hooks.apply_to_running()
  end
end

-- Scripts' `__gc` finalizers. Lua 5.1 runs them inside the collector with hooks off, where
-- no limit could end a spinning one, so the collector only queues them (sandbox.lua gives
-- scripts' userdata a `__gc` that calls `finalize_later`) and they run at the next entry
-- from the host, each with a fresh CPU-time limit, before that entry's own work.
local pending_fns, pending_objects, pending = {}, {}, 0

function hooks.finalize_later(fn, object)  -- runs inside the collector: only queue
  pending = pending + 1
  pending_fns[pending], pending_objects[pending] = fn, object
  entry_work = true
end

local function run_finalizers()
  local fns, objects, count = pending_fns, pending_objects, pending
  pending_fns, pending_objects, pending = {}, {}, 0  -- ones queued meanwhile wait
  for i = 1, count do
    local fn, object = fns[i], objects[i]
    local ok, failure = xpcall(function() fn(object) end, traceback)
    fresh_entry()  -- first: past the limit, every non-trusted instruction fails
    if not ok then
      if type(failure) ~= "string" then failure = "(error object is not a string)" end
      warn("__gc finalizer failed: " .. failure)
    end
  end
end

-- What an entry does besides renewing the deadline, when `entry_work` says so. The flag
-- is cleared first: a finalizer queued or an escalation meanwhile sets it again.
local function entry_chores()
  entry_work = false
  escalated[MAIN] = nil
  hooks.apply_to_running()  -- the hook as now configured (update() may have run elsewhere)
  if pending > 0 then run_finalizers() end
end

function hooks.enter()
  deadline = false
  if entry_work then entry_chores() end
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
  limit_message = format("CPU time limit exceeded (%g s)", seconds)
  update()
end

-- Whether the line hook runs in coroutine `co` (nil: the running one); for tests, since
-- scripts' debug.gethook never shows the emulator's hook.
function hooks.line_hooked(co)
  local _, hook_mask
  if co then _, hook_mask = gethook(co) else _, hook_mask = gethook() end
  return hook_mask ~= nil and find(hook_mask, "l", 1, true) ~= nil
end

return hooks
