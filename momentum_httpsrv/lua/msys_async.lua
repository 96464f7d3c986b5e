-- msys.runInPool, msys.runInInst, msys.readfile, msys.timer (docs/generations.md#jobs-and-timers).
-- Called with the host table, the prelude's task api and msys.core's class maker.
-- Functions the host runs later (jobs, timer callbacks) stay here, keyed by number.
local host, tasks, new_class = ...
local task_root, host_yield, can_suspend = tasks.task_root, tasks.host_yield, tasks.can_suspend
local type, error, pcall, pairs, setmetatable = type, error, pcall, pairs, setmetatable
local format = string.format  -- string methods as our own, whatever scripts do to string

local function check_function(value, position, fname)
  if type(value) ~= "function" then
    error(format("bad argument #%d to '%s' (function expected, got %s)",
      position, fname, type(value)), 3)
  end
end

-- Synchronous form: a task yields to the host, which runs fn as its own task; outside
-- a task (init, top level) fn runs at once under pcall.
local function run_now(fname, pool, fn)
  if can_suspend() then return host_yield(fname, "run_in_pool", pool, fn, task_root()) end
  return pcall(fn)
end

-- Fire-and-forget and completion forms: the host starts job `id` once the caller is
-- back on the loop, as part of the caller's root task (which may wait for it).
local jobs, last_job = {}, 0

function msys.runInPool(pool, fn, mode, completion_mode)
  if type(pool) ~= "string" and type(pool) ~= "number" then
    error("bad argument #1 to 'runInPool' (string or number expected, got " .. type(pool) .. ")", 2)
  end
  check_function(fn, 2, "runInPool")
  host.check_pool(pool)
  if mode == nil or mode == false then return run_now("msys.runInPool", pool, fn) end
  if mode ~= true then check_function(mode, 3, "runInPool") end
  -- Every completion runs on the scheduler (the loop), whatever completion_mode says.
  last_job = last_job + 1
  jobs[last_job] = { fn, mode ~= true and mode or nil }
  host.spawn(task_root() or 0, last_job, pool)
end

-- A Lua function run later as its own task working for nobody, in no pool: a
-- thread.create thread (its own OS thread in thrLua).
local function spawn(fn)
  last_job = last_job + 1
  jobs[last_job] = { fn }
  host.spawn(0, last_job, nil)
end

-- ec_scheduler_inst: an event loop a script can name in msys.runInInst.
local new_scheduler_inst, check_scheduler_inst = new_class("ec_scheduler_inst", {})
local master = new_scheduler_inst({ name = "master" })

function msys.runInInst(inst, fn)
  if msys.type(inst) == "Event" then inst = inst.scheduler end
  check_scheduler_inst(inst, "runInInst", 2)
  check_function(fn, 2, "runInInst")
  return run_now("msys.runInInst", nil, fn)
end

function msys.readfile(name)
  if type(name) ~= "string" then
    error("bad argument #1 to 'readfile' (string expected, got " .. type(name) .. ")", 2)
  end
  if can_suspend() then return host_yield("msys.readfile", "readfile", name) end
  return host.read_file(name)
end

-- msys.timer: the host keeps one loop timer per id; a timer nobody references is
-- collected and then does nothing when due (as in Momentum: keep a reference). No
-- __gc calls the host: finalizers may run while the Lua state is being closed.
local Timer = {}
local new_timer, check_timer = new_class("msys.timer", Timer)
local live = setmetatable({}, { __mode = "v" })

local function arm(fields)
  local delay = fields.at and (fields.at - host.now()) or fields.delay
  host.timer_schedule(fields.id, delay)
end

function Timer:start()
  local fields = check_timer(self, "start", 2)
  if not fields.running then
    fields.running = true
    arm(fields)
  end
  return true
end

function Timer:stop()
  local fields = check_timer(self, "stop", 2)
  fields.running = false
  host.timer_cancel(fields.id)
  return true
end

function Timer:name() return check_timer(self, "name", 2).name end

local function make_timer(fname, fields, fn, name)
  check_function(fn, 2, fname)
  if type(fields.delay or fields.at) ~= "number" then
    error("bad argument #1 to '" .. fname .. "' (number expected)", 3)
  end
  fields.id, fields.fn, fields.name = host.timer_id(), fn, name
  local timer = new_timer(fields)
  live[fields.id] = timer
  timer:start()
  return timer
end

local timer = {}
function timer.after(delta, fn, name) return make_timer("after", { delay = delta }, fn, name) end
function timer.at(epoch, fn, name) return make_timer("at", { at = epoch }, fn, name) end
function timer.every(interval, fn, name)
  return make_timer("every", { delay = interval, every = true }, fn, name)
end

-- msys.threadpool (count, find, stat); stat's table prints as `threads stats` does.
local threadpool = {}
local stat_mt = { __tostring = function(s) return host.pool_describe(s.name) end }
function threadpool.count() return host.pool_count() end
function threadpool.find(key) return host.pool_find(key) end
function threadpool.stat(key)
  local fields = host.pool_stat(key)
  if fields == nil then return nil end
  local stat = {}
  for name, value in pairs(fields) do stat[name] = value end
  return setmetatable(stat, stat_mt)
end

local api = { timer = timer, master = master, threadpool = threadpool, spawn = spawn }

-- The host runs this as a task when a timer is due.
function api.fire(id)
  local t = live[id]
  if t == nil then return end
  local fields = check_timer(t, "fire", 1)
  if not fields.running then return end
  if fields.every then arm(fields) else fields.running = false end
  fields.fn(t)
end

local function run_job(job)
  job[1]()
  if job[2] then job[2]() end
end

-- The host starts job `id` as task `task_id` working for task `owner`.
function api.start_job(task_id, owner, id)
  local job = jobs[id]
  jobs[id] = nil
  if job == nil then return "done" end
  return tasks.start_task(task_id, owner, run_job, job)
end

-- The host dropped job `id` before starting it.
function api.drop_job(id) jobs[id] = nil end

-- msys.core.scheduler_for_domain: one event loop serves every domain here.
function api.install_core(core)
  core.scheduler_for_domain = function() return master end
end
return api
