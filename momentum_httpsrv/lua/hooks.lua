-- The one debug hook of every coroutine of a Lua state (see hooks.py for the design).
-- Called with the host table; returns the functions the prelude and the host use.
local host = ...
local sethook, getinfo, clock, running = debug.sethook, debug.getinfo, os.clock, coroutine.running
local error, setmetatable, huge, sub = error, setmetatable, math.huge, string.sub
local poll, trusted_prefix = host.poll, host.trusted_prefix

local COUNT = host.count            -- VM instructions between two checks
local POLL_EVERY = host.poll_every  -- checks between two host polls
local limit = huge                  -- CPU seconds one entry into the state may use
local limit_message = nil
local deadline = huge               -- false: not read yet for the current entry
local polls = POLL_EVERY
local ending = nil                  -- why the work running now must end
local main_armed = false            -- the main thread has the hook for the current limit
local line_hook = nil               -- function(line) or nil: line coverage joins here
local MAIN = {}                     -- the escalated[] key of the main thread
local escalated = setmetatable({}, { __mode = "k" })  -- threads checked every instruction

local hook

-- Install the hook on `co` (nil: the main thread), checking every `count` instructions;
-- with no limit and no line hook there is nothing to check and no hook.
local function arm(co, count)
  if limit == huge and not line_hook then
    if co then sethook(co) else sethook() end
    return
  end
  local mask = line_hook and "l" or ""
  if co then sethook(co, hook, mask, count) else sethook(hook, mask, count) end
end

hook = function(event, line)
  if event == "line" then return line_hook(line) end
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
  -- Out of time (or stopping): our own frames (a traceback handler) may finish.
  local source = getinfo(2, "S").source
  if sub(source, 1, #trusted_prefix) == trusted_prefix then return end
  -- From now on every instruction of this coroutine fails, so a pcall cannot catch it.
  local co = running()
  escalated[co or MAIN] = true
  arm(co, 1)
  error(ending, 2)
end

local api = {}

-- Python enters the state (a task starts or resumes, a call on the main thread): the
-- work gets the whole limit again.
-- The clock is read at the entry's first check, not here: entering costs no system call.
function api.enter()
  deadline = false
  if escalated[MAIN] or not main_armed then
    escalated[MAIN] = nil
    main_armed = true
    arm(nil, COUNT)
  end
end

-- Every coroutine the state runs gets the hook when it is made.
function api.install(co)
  arm(co, COUNT)
end

function api.set_limit(seconds)
  limit = seconds > 0 and seconds or huge
  limit_message = ("CPU time limit exceeded (%g s)"):format(seconds)
  main_armed = false
end

-- Line coverage: `fn(line)` runs on every line of coroutines made from now on (and of
-- the main thread from the next entry); nil removes it.
function api.set_line_hook(fn)
  line_hook = fn
  main_armed = false
end

return api
