-- thrLua's thread library and _TLS/_OSTLS, as thrlua's src/thrlib.c and lstate.c define them.
require("Test.More")
plan(35)

-- mutex types
is(thread.MUTEX_NORMAL, 0, "MUTEX_NORMAL is glibc's value")
is(thread.MUTEX_RECURSIVE, 1, "MUTEX_RECURSIVE")
is(thread.MUTEX_ERRORCHECK, 2, "MUTEX_ERRORCHECK")
is(require("thread"), thread, "require('thread') is the global")
local m = thread.mutex()
is(msys.type(m), "thread.mutex", "msys.type names the class")
is(m:lock(), true, "lock returns true")
error_like(function() m:lock() end, "failed to lock mutex: 35 Resource deadlock avoided",
  "the default (error-checking) mutex refuses a second lock by its holder")
is(m:trylock(), 16, "trylock of a held mutex returns EBUSY")
is(m:unlock(), true, "unlock returns true")
error_like(function() m:unlock() end, "failed to unlock mutex: 1 Operation not permitted",
  "unlocking a mutex one does not hold is an error")
local r = thread.mutex(thread.MUTEX_RECURSIVE)
ok(r:lock() and r:lock() and r:trylock(), "a recursive mutex locks again")
ok(r:unlock() and r:unlock() and r:unlock(), "and unlocks as often")
local n = thread.mutex(thread.MUTEX_NORMAL)
n:lock()
error_like(function() n:lock() end, "would wait forever", "a normal mutex locked twice would hang")
error_like(function() thread.mutex(7) end, "specify one of thread.MUTEX_NORMAL",
  "an unknown type is refused")

-- threads and contention: the waiting thread runs once the lock is released
local log = {}
local held = thread.mutex()
held:lock()
local t = thread.create(function(self)
  is(msys.type(self), "thread.thread", "a joinable thread's function gets the thread")
  log[#log + 1] = "waits"
  held:lock()
  log[#log + 1] = "locked"
  _TLS.who = "child"
  held:unlock()
end)
msys.sleep(0.02)
log[#log + 1] = "released"
_TLS.who = "main"
held:unlock()
is(t:join(), true, "join returns true")
is(table.concat(log, ","), "waits,released,locked", "the waiter got the mutex after the release")
is(_TLS.who, "main", "_TLS is per task")
local detached = thread.create(function(arg) log[#log + 1] = arg end, "detached arg", false)
is(detached, "detached arg", "creating a detached thread returns its argument, as thrlib.c does")
msys.sleep(0.02)
is(log[#log], "detached arg", "a detached thread's function gets its argument")

local failing = thread.create(function() error("thread body failed") end)
is(failing:join(), true, "join returns when the thread's function raised")

-- conditions
local c = thread.condition()
local queue = {}
local consumer = thread.create(function()
  c:acquire()
  while #queue == 0 do c:wait() end
  log[#log + 1] = "consumed " .. table.remove(queue, 1)
  c:release()
end)
msys.sleep(0.02)
c:acquire(); queue[1] = "item"; c:signal(); c:release()
consumer:join()
is(log[#log], "consumed item", "signal wakes a waiter, which holds the mutex again")
c:acquire()
is(c:wait(0.02), false, "a timed wait nobody signals returns false")
c:release()
error_like(function() c:wait(1) end, "cond:wait failed", "waiting without the mutex is an error")
local waiters = 0
local sleepers = {}
for i = 1, 3 do
  sleepers[i] = thread.create(function()
    c:acquire(); c:wait(); waiters = waiters + 1; c:release()
  end)
end
msys.sleep(0.02)
c:acquire(); c:broadcast(); c:release()
for i = 1, 3 do sleepers[i]:join() end
is(waiters, 3, "broadcast wakes every waiter")

-- rwlocks
local rw = thread.rwlock()
ok(rw:rdlock() and rw:rdlock(), "read locks are shared")
is(rw:trywrlock(), 16, "trywrlock while read-locked returns EBUSY")
local writer = thread.create(function() rw:wrlock(); log[#log + 1] = "wrote"; rw:unlock() end)
msys.sleep(0.02)
rw:unlock()
isnt(log[#log], "wrote", "the writer waits for every reader")
rw:unlock()
writer:join()
is(log[#log], "wrote", "and writes once they are gone")
rw:wrlock()
error_like(function() rw:rdlock() end, "failed to rdlock rwlock: 35", "rdlock by the writer")
rw:unlock()
error_like(function() rw:unlock() end, "failed to unlock rwlock", "unlocking an unheld rwlock")

-- _TLS and _OSTLS
_OSTLS.n = "main"
local seen = {}
local os_thread = thread.create(function()
  seen.own = _OSTLS.n
  _OSTLS.n = "other"
  local inner = coroutine.create(function() seen.inner = _OSTLS.n end)
  coroutine.resume(inner)
end)
os_thread:join()
is(seen.own, nil, "a thread.create thread is another OS thread: its own _OSTLS")
is(seen.inner, "other", "which its coroutines share")
local co = coroutine.create(function()
  is(_TLS.who, nil, "a coroutine has its own _TLS")
  is(_OSTLS.n, "main", "and shares the OS thread's _OSTLS")
end)
coroutine.resume(co)
