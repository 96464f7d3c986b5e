-- thrLua's `thread` library (thrlua src/thrlib.c): mutex, condition, rwlock, create,
-- sleep. Locks belong to the emulator's threads of execution (tasks, prelude.lua's
-- current_thread); a task that must wait yields to the host, which resumes it when the
-- lock's key is notified, so other requests keep running. Code outside a task cannot
-- wait: where Momentum would block, it gets an error naming the lock.
-- Called with the host table, the prelude's task api, msys.core's class maker, the
-- errno table and a function that runs a Lua function later as its own task.
local ipairs, select, remove = ipairs, select, table.remove  -- before any script can replace them
local host, tasks, new_class, errno, spawn = ...
local current_thread, can_suspend = tasks.current_thread, tasks.can_suspend
local format = string.format  -- string methods as our own, whatever scripts do to string
local type, error, floor, huge = type, error, math.floor, math.huge
local function yield(kind, ...) return tasks.host_yield("thread", kind, ...) end

local thread = {
  MUTEX_NORMAL = 0,       -- glibc's PTHREAD_MUTEX_* values
  MUTEX_RECURSIVE = 1,
  MUTEX_ERRORCHECK = 2,
}

local last_key = 0
local function new_key()
  last_key = last_key + 1
  return last_key
end

-- thrlib.c's handle_lock_return: EINVAL, EDEADLK and EPERM raise; other codes (EBUSY
-- from a try*lock) are returned as numbers.
-- `level` (default 3) is the error level of the script's call, seen from here.
local function lock_failure(op, what, code, level)
  error(format("failed to %s %s: %d %s", op, what, errno[code], errno[code .. "_text"]),
    level or 3)
end

-- Wait until `key` is notified (or `timeout` seconds pass): true if notified.
local function wait_for(key, what, timeout, level)
  if not can_suspend() then
    error(what .. ": would wait for another task, and code outside a request, console"
      .. " command, pool job or timer cannot wait here (Momentum would block the thread)",
      level or 3)
  end
  return yield("thread_wait", key, timeout)
end

local function hang(what, level)
  error(what .. ": the thread holding it asked again; thrLua would wait forever here",
    level or 3)
end

-- Mutexes ----------------------------------------------------------------------------
local Mutex = {}
local new_mutex, check_mutex = new_class("thread.mutex", Mutex)

function thread.mutex(...)
  local kind = thread.MUTEX_ERRORCHECK
  if select("#", ...) > 0 then
    kind = ...
    if type(kind) ~= "number" then
      error("bad argument #1 to 'mutex' (number expected, got " .. type(kind) .. ")", 2)
    end
    if kind ~= 0 and kind ~= 1 and kind ~= 2 then
      error("bad argument #1 to 'mutex' (specify one of thread.MUTEX_NORMAL, "
        .. "thread.MUTEX_RECURSIVE or thread.MUTEX_ERRORCHECK)", 2)
    end
  end
  return new_mutex({ kind = kind, count = 0, key = new_key() })
end

-- Called by the methods (not as tail calls): errors are level 4 from the helpers.
local function mutex_lock(m, me, what)
  while true do
    if m.owner == nil then
      m.owner, m.count = me, 1
      return true
    end
    if m.owner == me then
      if m.kind == thread.MUTEX_RECURSIVE then
        m.count = m.count + 1
        return true
      end
      if m.kind == thread.MUTEX_ERRORCHECK then lock_failure("lock", "mutex", "EDEADLK", 4) end
      hang(what, 4)
    end
    wait_for(m.key, what, nil, 4)
  end
end

local function mutex_unlock(m, me)
  if m.owner ~= me and m.kind ~= thread.MUTEX_NORMAL then
    lock_failure("unlock", "mutex", "EPERM", 4)
  end
  -- glibc's normal mutex does not check its owner: any thread's unlock releases it.
  m.count = m.owner == me and m.count - 1 or 0
  if m.count <= 0 then
    m.owner, m.count = nil, 0
    host.notify(m.key)
  end
  return true
end

function Mutex:lock()
  return (mutex_lock(check_mutex(self, "lock", 2), current_thread(), "mutex:lock"))
end

function Mutex:trylock()
  local m, me = check_mutex(self, "trylock", 2), current_thread()
  if m.owner == nil then
    m.owner, m.count = me, 1
    return true
  end
  if m.owner == me and m.kind == thread.MUTEX_RECURSIVE then
    m.count = m.count + 1
    return true
  end
  return errno.EBUSY
end

function Mutex:unlock()
  return (mutex_unlock(check_mutex(self, "unlock", 2), current_thread()))
end

-- Condition variables ------------------------------------------------------------------
local Condition = {}
local new_condition, check_condition = new_class("thread.cond", Condition)

-- thread.condition([mutex]): without one it has its own default (normal) mutex.
function thread.condition(...)
  local mutex
  if select("#", ...) > 0 then
    mutex = check_mutex((...), "condition", 2)
  else
    mutex = { kind = thread.MUTEX_NORMAL, count = 0, key = new_key() }
  end
  return new_condition({ mutex = mutex, waiters = {} })
end

function Condition:acquire()
  return (mutex_lock(check_condition(self, "acquire", 2).mutex, current_thread(), "cond:acquire"))
end

function Condition:release()
  return (mutex_unlock(check_condition(self, "release", 2).mutex, current_thread()))
end

function Condition:wait(timeout)
  local c, me = check_condition(self, "wait", 2), current_thread()
  if timeout ~= nil and type(timeout) ~= "number" then
    error("bad argument #2 to 'wait' (number expected, got " .. type(timeout) .. ")", 2)
  end
  -- thrlib.c turns a NaN or infinite timeout into a timespec pthread_cond_timedwait
  -- refuses with EINVAL.
  if timeout ~= nil and (timeout ~= timeout or timeout == huge or timeout == -huge) then
    error("cond:wait failed " .. errno.EINVAL_text, 2)
  end
  local m = c.mutex
  if m.owner ~= me then
    error("cond:wait failed " .. errno.EPERM_text .. " (the caller does not hold its mutex)", 2)
  end
  if timeout == nil and not can_suspend() then
    error("cond:wait: nothing could signal it outside a request, console command, pool job"
      .. " or timer; it would wait forever", 2)
  end
  local waiter = { key = new_key(), signaled = false }
  c.waiters[#c.waiters + 1] = waiter
  local held = m.count
  m.owner, m.count = nil, 0
  host.notify(m.key)
  if not can_suspend() then
    host.block_sleep(timeout)
  else
    local deadline = timeout and host.now() + timeout
    while not waiter.signaled do
      local left = deadline and deadline - host.now()
      if left and left <= 0 then break end
      yield("thread_wait", waiter.key, left)
    end
  end
  for i, w in ipairs(c.waiters) do
    if w == waiter then remove(c.waiters, i) break end
  end
  mutex_lock(m, me, "cond:wait")
  m.count = held
  if timeout ~= nil then return waiter.signaled end
end

local function wake(waiter)
  waiter.signaled = true
  host.notify(waiter.key)
end

function Condition:signal()
  local c = check_condition(self, "signal", 2)
  local waiter = remove(c.waiters, 1)
  if waiter then wake(waiter) end
end

function Condition:broadcast()
  local c = check_condition(self, "broadcast", 2)
  local waiters = c.waiters
  c.waiters = {}
  for _, waiter in ipairs(waiters) do wake(waiter) end
end

-- Read-write locks (glibc's default: readers are preferred) ------------------------------
local RwLock = {}
local new_rwlock, check_rwlock = new_class("thread.rwlock", RwLock)

function thread.rwlock()
  return new_rwlock({ readers = {}, nreaders = 0, key = new_key() })
end

local function add_reader(l, me)
  l.readers[me] = (l.readers[me] or 0) + 1
  l.nreaders = l.nreaders + 1
  return true
end

function RwLock:rdlock()
  local l, me = check_rwlock(self, "rdlock", 2), current_thread()
  if l.writer == me then lock_failure("rdlock", "rwlock", "EDEADLK") end
  while l.writer ~= nil do wait_for(l.key, "rwlock:rdlock") end
  return add_reader(l, me)
end

function RwLock:tryrdlock()
  local l, me = check_rwlock(self, "tryrdlock", 2), current_thread()
  if l.writer ~= nil then return errno.EBUSY end
  return add_reader(l, me)
end

function RwLock:wrlock()
  local l, me = check_rwlock(self, "wrlock", 2), current_thread()
  if l.writer == me then lock_failure("wrlock", "rwlock", "EDEADLK") end
  while l.writer ~= nil or l.nreaders > 0 do
    if l.readers[me] then hang("rwlock:wrlock (it holds a read lock)") end
    wait_for(l.key, "rwlock:wrlock")
  end
  l.writer = me
  return true
end

function RwLock:trywrlock()
  local l, me = check_rwlock(self, "trywrlock", 2), current_thread()
  if l.writer ~= nil or l.nreaders > 0 then return errno.EBUSY end
  l.writer = me
  return true
end

-- Unlocking a lock the caller does not hold is undefined in pthreads; it is an error here.
function RwLock:unlock()
  local l, me = check_rwlock(self, "unlock", 2), current_thread()
  if l.writer == me then
    l.writer = nil
  elseif l.readers[me] then
    l.readers[me] = l.readers[me] > 1 and l.readers[me] - 1 or nil
    l.nreaders = l.nreaders - 1
  else
    lock_failure("unlock", "rwlock", "EPERM")
  end
  host.notify(l.key)
  return true
end

-- OS threads: a task started when the caller is back on the loop ----------------------
local Thread = {}
local new_thread, check_thread = new_class("thread.thread", Thread)

-- thread.create(fn[, arg[, joinable]]): a joinable thread's function gets the thread
-- object (thrlib.c passes the userdata), a detached one gets `argument`. Each runs as
-- its own OS thread would: with its own _OSTLS.
function thread.create(fn, argument, ...)
  if type(fn) ~= "function" then
    error("bad argument #1 to 'create' (function expected)", 2)
  end
  local joinable = true
  if select("#", ...) > 0 then
    joinable = ...
    if type(joinable) ~= "boolean" then
      error("bad argument #3 to 'create' (boolean expected, got " .. type(joinable) .. ")", 2)
    end
  end
  local fields = { key = new_key(), done = false }
  local t = joinable and new_thread(fields) or nil
  spawn(function()
    tasks.own_os_thread()
    tasks.at_task_end(function()
      fields.done = true
      host.notify(fields.key)
    end)
    fn(joinable and t or argument)
  end)
  -- thrlib.c returns the top of its stack: the thread, or for a detached one `argument`.
  if joinable then return t end
  return argument
end

function Thread:join()
  local fields = check_thread(self, "join", 2)
  while not fields.done do wait_for(fields.key, "thread:join") end
  return true
end

-- thread.sleep(seconds): whole seconds; returns the seconds left (always 0 here).
function thread.sleep(seconds)
  if type(seconds) ~= "number" then
    error("bad argument #1 to 'sleep' (number expected, got " .. type(seconds) .. ")", 2)
  end
  if seconds ~= seconds or seconds == huge or seconds == -huge then
    error("bad argument #1 to 'sleep' (number has no integer representation)", 2)
  end
  msys.sleep(floor(seconds))
  return 0
end

return thread
