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
local create, resume, yield, status = coroutine.create, coroutine.resume, coroutine.yield,
  coroutine.status

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
local scripted = false              -- a script has set a hook of its own (debug.sethook)
local armed_for_script              -- arm()'s part for a thread with a script's hook

-- Install the hook on `co` (nil: the main thread), every `every` instructions when the
-- limit is on (COUNT, or 1 once escalated); with no feature on, none.
local function arm(co, every)
  if not mask then
    if co then sethook(co) else sethook() end
    return
  end
  every = count > 0 and every or 0
  if scripted and armed_for_script(co, mask, every) then return end
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

-- Whether the running work is past its deadline (or must stop), checked outside a count
-- event: re-arming a thread restarts Lua's instruction countdown, so a script that calls
-- debug.sethook in a loop would otherwise never reach a check.
local function overdue()
  if count == 0 then return false end
  local now = clock()
  if not deadline then deadline = now + limit end
  if now > deadline then return true end
  if now < next_poll then return false end
  next_poll = now + POLL_INTERVAL
  local reason = poll()
  if not reason then return false end
  ending, deadline = reason, -1
  return true
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
  hooks.active = on_line ~= nil or limit < huge or scripted
  mask = hooks.active and (on_line and "crl" or "") or nil
  count = limit < huge and COUNT or 0
  current_fn = nil  -- the hook may have been off while other functions ran
  entry_work = true
  hooks.apply_to_running()
end

-- A new coroutine: the hook as configured (prelude.lua calls it when `active`).
function hooks.install(co)
  if scripted then arm(co, COUNT)  -- the creating thread's script hook may cover it
  elseif mask then sethook(co, dispatch, mask, count) end
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

-- Scripts' own hooks (debug.sethook in sandbox.lua). A thread with one is armed with
-- `dispatch_scripted`, which serves the emulator's features as `dispatch` does and calls
-- the script's function for the events it asked for. Lua 5.1 runs a hook with hooks off
-- in its thread, where the CPU-time limit could not end a spinning script hook, so the
-- script's function runs in a coroutine of its own, armed like any other; inside it,
-- debug.getinfo's levels past the hook continue into the hooked thread (`frame`).
-- Calls and returns among the emulator's own Lua functions (what thrLua does in C) are
-- not reported.
local script_hooks = setmetatable({}, { __mode = "k" })  -- thread (or MAIN) -> its hook
local hooked_by = setmetatable({}, { __mode = "k" })     -- hook coroutine -> hooked key
local native = ("").__thrlua and ("").__thrlua.native or {}
local FRAME, DONE = {}, {}
local dispatch_scripted

local function key_of(co)
  local running_co = running()
  co = co or running_co
  return hooked_by[co] or co or MAIN
end

armed_for_script = function(co, mask, count)
  local own = script_hooks[key_of(co)]
  if own == nil then return false end
  local step = count
  if own.count > 0 and (count == 0 or own.count < count) then step = own.count end
  -- Arming the coroutine a script's hook runs in (key_of gives the hooked thread) must not
  -- restart the hooked thread's counters: with a small count the limit would never be due.
  if hooked_by[co] == nil then
    own.step, own.limit_every, own.until_limit, own.until_own = step, count, count, own.count
  end
  mask = mask .. own.mask
  if co then sethook(co, dispatch_scripted, mask, step) else
    sethook(dispatch_scripted, mask, step) end
  return true
end

local function ours(info)  -- a frame of the emulator's own Lua (C in thrLua)
  if info == nil then return false end
  if native[info.func] then return true end
  if info.what == "C" then return false end
  local source = info.source
  return source == "=[C]" or source == "=thrlua_ops" or sub(source, 1, #trusted_prefix) == trusted_prefix
end

local function hook_body(fn, event, line)
  fn(event, line)
  return DONE
end

-- Levels: 1 this function, 2 dispatch_scripted, 3 the hooked function.
local function run_script_hook(own, event, line)
  local co = create(hook_body)
  hooked_by[co] = running() or MAIN
  arm(co, COUNT)
  local ok, answer, offset, what = resume(co, own.fn, event, line)
  while ok and answer == FRAME do
    ok, answer, offset, what = resume(co, getinfo(3 + (offset > 0 and offset or 0), what))
  end
  -- The hook ran out of time, or the hooked work did: a count that expired while the hook
  -- ran (Lua counts its instructions too, with hooks off) is lost, so check here as well.
  local key = running() or MAIN
  local out = escalated[co] or overdue()
  if out then
    escalated[key] = true
    arm(nil, 1)  -- the next instruction of the hooked work raises the limit's error
  end
  if not ok then error(answer, 0) end
  if answer ~= DONE or status(co) ~= "dead" then
    error("attempt to yield across metamethod/C-call boundary", 0)
  end
  if not out and script_hooks[key] ~= own then arm(nil, COUNT) end  -- changed by the hook
end

dispatch_scripted = function(event, line)
  local own = script_hooks[running() or MAIN]
  if event == "count" then
    if own == nil then return check_limit() end
    if own.limit_every > 0 then
      own.until_limit = own.until_limit - own.step
      if own.until_limit <= 0 then
        own.until_limit = own.limit_every
        check_limit()
      end
    end
    if own.count > 0 then
      own.until_own = own.until_own - own.step
      if own.until_own <= 0 then
        own.until_own = own.until_own + own.count
        run_script_hook(own, "count", nil)
      end
    end
    return
  end
  if event == "line" then
    if on_line then on_line(getinfo(2, "f").func, line) end
    if own and own.line and not ours(getinfo(2, "Sf")) then run_script_hook(own, event, line) end
    return
  end
  current_fn = nil
  if own == nil or not (event == "call" and own.call or event ~= "call" and own.ret) then
    return
  end
  local callee = getinfo(2, "Sf")
  if callee.source == "=thrlua_ops" then return end
  local caller = getinfo(3, "Sf")
  if ours(callee) and (event == "tail return" or caller == nil or caller.what == "C"
      or caller.what == "tail") then return end
  if ours(caller) and (callee.what == "C" or ours(callee)) then return end
  run_script_hook(own, event, line)
end

-- debug.sethook's work: `co` nil for the running thread (inside a script's hook, the
-- hooked one); `fn` nil removes the hook.
function hooks.set_script_hook(co, fn, mask, count)
  local key = key_of(co)
  if fn == nil then
    script_hooks[key] = nil
  else
    local call, ret, line = find(mask, "c", 1, true) ~= nil, find(mask, "r", 1, true) ~= nil,
      find(mask, "l", 1, true) ~= nil
    local letters = (call and "c" or "") .. (ret and "r" or "") .. (line and "l" or "")
    script_hooks[key] = { fn = fn, mask = letters, count = count, call = call, ret = ret,
      line = line }
  end
  if not scripted then
    scripted = true
    update()
  end
  local again = (escalated[key] or overdue()) and 1 or COUNT  -- 1: the next instruction checks
  if co and co ~= running() then arm(co, again)
  elseif hooked_by[running()] == nil then arm(nil, again) end  -- else: after the hook
end

-- Whether coroutine `co` has a hook a script set (prelude.lua does not reuse such a one).
function hooks.script_hooked(co)
  return script_hooks[co] ~= nil
end

-- debug.gethook's answer: the script's hook of `co` (nil: as set_script_hook), its mask
-- and count.
function hooks.script_hook(co)
  local own = script_hooks[key_of(co)]
  if own == nil then return nil, "", 0 end
  return own.fn, own.mask, own.count
end

-- Inside a script's hook: the hooked thread's frame `offset` levels below the hooked
-- function (0: it), as debug.getinfo(…, what) reports it; nil elsewhere.
function hooks.hooked_frame_depth()
  if hooked_by[running()] == nil then return nil end
  local depth = 1
  while getinfo(depth + 1, "S") ~= nil do depth = depth + 1 end
  return depth  -- counted from the caller: its level of hook_body
end

function hooks.hooked_frame(offset, what)
  return yield(FRAME, offset, what)
end

return hooks
