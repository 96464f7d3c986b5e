-- The Momentum environment every Lua state starts with. Called once with the host table
-- (Python callbacks); returns the functions Python drives the state with.
local ipairs, pairs, rawget, tonumber, unpack = ipairs, pairs, rawget, tonumber, unpack  -- before any script can replace them
local io_open, io_read, stdout, sort = io.open, io.read, io.stdout, table.sort
-- string methods as our own, whatever scripts do to string
local find, format, gmatch, gsub, match, sub =
  string.find, string.format, string.gmatch, string.gsub, string.match, string.sub
local host = ...
local translate, host_print, host_warn = host.translate, host.print, host.warn
local hooks = host.hooks  -- hooks.lua: the one debug hook every coroutine runs under
local trusted_prefix, enter = host.trusted_prefix, hooks.enter
local raw_loadstring, tostring, select, type, error = loadstring, tostring, select, type, error
local concat, setmetatable, rawset, pcall = table.concat, setmetatable, rawset, pcall
local getinfo, debug_traceback = debug.getinfo, debug.traceback
local is_own_dump = ("").__thrlua.is_own_dump  -- thrlua_stdlib.lua's string.dump record

-- pcall and xpcall as scripts get them (sandbox.lua replaces these with its own).
local api = { pcall = pcall, xpcall = xpcall }

-- Called with every chunk loaded from a file ("@path"): the host records the path (what
-- `serve --reload` watches); line coverage wraps it to track the file.
local function file_loaded(chunkname) host.file_loaded(chunkname) end
function api.get_file_loaded() return file_loaded end
function api.set_file_loaded(fn) file_loaded = fn end

-- Stock Lua names the token it stopped at as translated ('not', '~='); thrLua names it as
-- written ('!', '!='), when that is what the line has.
local written_as = { ["not"] = { "!", "%f[%w_]not%f[^%w_]" }, ["~="] = { "!=", "~=" } }
local function as_written(err, source)
  local line, near = match(err, ":(%d+): .*near '([^']*)'$")
  local written = written_as[near]
  if not written then return err end
  local number, text = tonumber(line), nil
  for candidate in gmatch(source .. "\n", "([^\n]*)\n") do
    number = number - 1
    if number == 0 then text = candidate break end
  end
  if text and find(text, written[1], 1, true) and not find(text, written[2]) then
    return sub(err, 1, -#near - 2) .. written[1] .. "'"
  end
  return err
end

-- How Lua names a chunk in messages (luaO_chunkid, without its length limits).
local function chunk_display(chunkname)
  local first = sub(chunkname, 1, 1)
  if first == "=" or first == "@" then return sub(chunkname, 2) end
  return '[string "' .. match(chunkname, "^[^\n]*") .. '"]'
end

-- Every chunk passes through the thrLua translator before Lua 5.1 sees it; what the
-- translator rejects comes back as loadstring's `nil, message`.
local function load_source(source, chunkname)
  -- Precompiled chunks: only what this state's string.dump made (crafted bytecode can
  -- break out of any Lua sandbox), and never a copy of one of our functions.
  if type(source) == "string" and sub(source, 1, 1) == "\27" then
    local chunk = is_own_dump(source) and raw_loadstring(source, chunkname)
    if chunk and sub(getinfo(chunk, "S").source, 1, #trusted_prefix) ~= trusted_prefix then
      return chunk
    end
    return nil, chunk_display(chunkname)
      .. ": precompiled chunks are accepted only as this state's string.dump made them"
  end
  -- A script's chunk never passes for one of ours (the CPU-time hook trusts those).
  if type(chunkname) == "string" and sub(chunkname, 1, #trusted_prefix) == trusted_prefix then
    chunkname = "=(script) " .. sub(chunkname, 2)
  end
  local text, err = translate(source, chunkname)
  if not text then return nil, err end
  local chunk, load_err = raw_loadstring(text, chunkname)
  if not chunk then return nil, host.syntax_error(source, as_written(load_err, source)) end
  if type(chunkname) == "string" and sub(chunkname, 1, 1) == "@" then
    file_loaded(chunkname, chunk)
  end
  return chunk
end

function loadstring(source, chunkname)
  return load_source(source, chunkname or source)
end

function load(reader, chunkname)
  local parts = {}
  while true do
    local piece = reader()
    if piece == nil or piece == "" then break end
    parts[#parts + 1] = piece
  end
  return load_source(concat(parts), chunkname or "=(load)")
end

local function read_file(path)
  local fh, err = io_open(path, "rb")
  if not fh then return nil, err end
  local source = fh:read("*a")
  fh:close()
  return source
end

-- Like luaL_loadfile, a first line starting with '#' (a shebang) is skipped, keeping
-- the line count.
local function without_shebang(source)
  if sub(source, 1, 1) == "#" then return (gsub(source, "^[^\n]*", "", 1)) end
  return source
end

function loadfile(path)
  if path == nil then return load_source(without_shebang(io_read("*a")), "=stdin") end
  local source, err = read_file(path)
  if not source then return nil, "cannot open " .. err end
  return load_source(without_shebang(source), "@" .. path)
end

function dofile(path)
  local chunk, err = loadfile(path)
  if not chunk then error(err, 0) end  -- as luaB_dofile: the message names the file only
  return chunk()
end

-- Lua-file searcher for `require`, translating like every other chunk.
package.loaders[2] = function(name)
  local fname = gsub(name, "%.", "/")
  local tried = {}
  for template in gmatch(package.path, "[^;]+") do
    local path = gsub(template, "%?", fname)
    local source = read_file(path)
    if source then
      local chunk, err = load_source(source, "@" .. path)
      if not chunk then
        error(format("error loading module '%s' from file '%s':\n\t%s", name, path, err), 0)
      end
      return chunk
    end
    tried[#tried + 1] = "\n\tno file '" .. path .. "'"
  end
  return concat(tried)
end

-- print goes where the host says: the paniclog, a console reply, or stdout. As thrLua's
-- C print, it converts with whatever the global tostring is when it runs, and it counts
-- as a C function (thrlua_stdlib.lua).
local globals, native = _G, ("").__thrlua.native

-- The line print writes for its arguments; errors are raised `level` levels above the
-- caller (print_text(2, …) in a print function blames print's caller).
local function print_text(level, ...)
  local n = select("#", ...)
  local parts = {}
  local convert = globals.tostring
  for i = 1, n do
    local text = convert((select(i, ...)))
    local kind = type(text)
    if kind == "number" then
      text = tostring(text)
    elseif kind ~= "string" then
      error("'tostring' must return a string to 'print'", level + 1)
    end
    parts[i] = text
  end
  return concat(parts, "\t")
end

function print(...)
  host_print(print_text(2, ...))
end
native[print] = true

-- os.setenv and io.popen, which thrLua adds (oslib.py). A popen'd file is a real file;
-- closing it waits for the command, as pclose does.
local host_setenv, popen_start, popen_opened, popen_wait =
  host.setenv, host.popen_start, host.popen_opened, host.popen_wait

function os.setenv(name, value, overwrite)
  if type(name) ~= "string" and type(name) ~= "number" then
    error("bad argument #1 to 'setenv' (string expected, got " .. type(name) .. ")", 2)
  end
  if value ~= nil and type(value) ~= "string" and type(value) ~= "number" then
    error("bad argument #2 to 'setenv' (string expected, got " .. type(value) .. ")", 2)
  end
  return host_setenv(tostring(name), value ~= nil and tostring(value) or nil,
    overwrite == nil or not not overwrite)
end

local piped = setmetatable({}, { __mode = "k" })  -- file -> child id
local file_methods = debug.getmetatable(io.stdout).__index
local close_file, io_close, io_open = file_methods.close, io.close, io.open

function io.popen(command, mode)
  if type(command) ~= "string" and type(command) ~= "number" then
    error("bad argument #1 to 'popen' (string expected, got " .. type(command) .. ")", 2)
  end
  mode = mode == nil and "r" or tostring(mode)
  local fd, child = popen_start(tostring(command), mode)
  if fd == nil then return nil, child end
  local file, err = io_open("/dev/fd/" .. fd, sub(mode, 1, 1) == "w" and "w" or "r")
  popen_opened(child)
  if not file then
    popen_wait(child)
    return nil, err
  end
  piped[file] = child
  return file
end

local function close_piped(file, ...)
  local child = piped[file]
  if child == nil then return ... end
  piped[file] = nil
  popen_wait(child)
  return ...
end

file_methods.close = function(file, ...) return close_piped(file, close_file(file, ...)) end
function io.close(file, ...)
  if file == nil then return io_close() end
  return close_piped(file, io_close(file, ...))
end

-- Packages Momentum has but we do not emulate load fine and fail only when used.
local function make_stub(name)
  return setmetatable({}, {
    __index = function(t, key)
      local stub = make_stub(name .. "." .. tostring(key))
      rawset(t, key, stub)
      return stub
    end,
    __call = function() error("not emulated: " .. name, 2) end,
    __tostring = function() return "not emulated: " .. name end,
  })
end

-- Momentum's own Lua packages: msys.* and the opendkim binding.
local function is_momentum_package(name)
  return sub(name, 1, 5) == "msys." or sub(name, 1, 9) == "opendkim."
end

package.loaders[#package.loaders + 1] = function(name)
  if is_momentum_package(name) then
    return function() return make_stub(name) end
  end
  return "\n\tno emulated package '" .. name .. "'"
end

-- Emulated system packages are reachable through their global path once loaded
-- (`require "msys.core"` makes `msys.core` usable, `require "json"` makes `json`). The
-- package's preload function sets it, so `require` itself stays the stock one and its
-- errors point at the script's line.
local function set_global_path(name, module)
  local parent, last = _G, nil
  for part in gmatch(name, "[^.]+") do
    if last then
      local child = rawget(parent, last)
      if type(child) ~= "table" then child = {}; rawset(parent, last, child) end
      parent = child
    end
    last = part
  end
  rawset(parent, last, module)
end

-- `msys` and its namespaces autoload on first use (no require needed).
msys = setmetatable({}, {
  __index = function(t, key)
    if type(key) ~= "string" then return nil end
    local module = require("msys." .. key)
    rawset(t, key, module)
    return module
  end,
})

package.loaded.msys = msys  -- require("msys") is the namespace itself

-- Modules and their callouts (docs/generations.md#building-one).
local modules = {}
local module_callouts = { init = true, deinit = true, rsrc_setup = true, config_rsrc_setup = true }

-- registerModule(name, tbl)'s argument checks (errors are its caller's), then the
-- sorted names of tbl's functions other than callouts, and whether it has any function.
function api.module_hooks_of(name, tbl)
  if type(name) ~= "string" then
    error("bad argument #1 to 'registerModule' (string expected, got " .. type(name) .. ")", 3)
  end
  if type(tbl) ~= "table" then
    error("bad argument #2 to 'registerModule' (table expected, got " .. type(tbl) .. ")", 3)
  end
  local hooks, usable = {}, false
  for key, value in pairs(tbl) do
    if type(value) == "function" then
      usable = true
      if not module_callouts[key] then hooks[#hooks + 1] = tostring(key) end
    end
  end
  sort(hooks)
  return hooks, usable
end

function msys.registerModule(name, tbl)
  -- Like Momentum, take the hooks the table has now (validate_*, core_*, …; calling
  -- them is not emulated, listing them is).
  local hooks, usable = api.module_hooks_of(name, tbl)
  if not usable then
    host_warn("no usable methods found for module " .. name .. " in registerModule call")
    return
  end
  modules[#modules + 1] = { name = name, tbl = tbl, hooks = hooks }
end


-- An error value as text: a string or number as such, anything else as rclua reports it.
local function error_text(value)
  if type(value) == "string" or type(value) == "number" then return tostring(value) end
  return "(error object is not a string)"
end

local function traceback(message)
  message = error_text(message)
  return { message = message, traceback = debug_traceback(message, 2) }
end

-- Run `chunk` under a traceback handler: true, results... or false, message, traceback.
local function call_traced(fn, ...)
  local args, n = { ... }, select("#", ...)
  enter()
  local result = { api.xpcall(function() return fn(unpack(args, 1, n)) end, traceback) }
  if result[1] then return unpack(result) end
  return false, result[2].message, result[2].traceback
end
api.call_traced = call_traced

function api.load(source, chunkname)
  local chunk, err = load_source(without_shebang(source), chunkname)
  if not chunk then return false, err, nil end
  return true, chunk
end

-- Call `hook` on every module that defines it, in registration order. Returns a list
-- of {name, ok, value-or-message, traceback}. While it runs, api.running_callout() names
-- the hook (msys.registerAuth may only be called from init).
local hook_aliases = { rsrc_setup = "config_rsrc_setup" }
local running_callout = nil
function api.call_hook(hook)
  local results, outer = {}, running_callout
  running_callout = hook
  for _, module in ipairs(modules) do
    local fn = module.tbl[hook]
    if fn == nil and hook_aliases[hook] then fn = module.tbl[hook_aliases[hook]] end
    if type(fn) == "function" then
      local ok, value, tb = call_traced(fn, module.tbl)
      results[#results + 1] = { module.name, ok, ok and value or value, tb }
    end
  end
  running_callout = outer
  return results
end

function api.running_callout() return running_callout end

function api.module_names()
  local names = {}
  for i, module in ipairs(modules) do names[i] = module.name end
  return names
end

-- Each module's policy hooks as one string, "name: hook, hook" (or just the name).
function api.module_hooks()
  local lines = {}
  for i, module in ipairs(modules) do
    lines[i] = module.name .. (#module.hooks > 0 and ": " .. concat(module.hooks, ", ") or "")
  end
  return lines
end

-- `require(name)` returns `opener()` (a host function: Lua's require accepts only Lua
-- functions from package.preload). System packages also get their global path.
api.seal = function(module) return module end  -- sandbox.lua replaces it
function api.preload(name, opener, system)
  package.preload[name] = function()
    local module = api.seal(opener())
    if system then set_global_path(name, module) end
    return module
  end
end

-- Tasks: handler and command calls run as coroutines, so helpers such as msys.sleep
-- can suspend them by yielding a request to the host (docs/lua-boundary.md#tasks-and-suspension). A task is part
-- of the work of its root: itself, or the task that started it (runInPool); plain
-- coroutines a task creates belong to its root too. Console print capture and the
-- ownership of fire-and-forget jobs go by root.
local raw_create, resume, raw_yield, running, status = coroutine.create,
  coroutine.resume, coroutine.yield, coroutine.running, coroutine.status
local tasks = {}                                     -- task id -> its coroutine
local task_of = setmetatable({}, { __mode = "k" })   -- task coroutine -> task id
local root_of = {}                                   -- task id -> root task id
local owner_of = setmetatable({}, { __mode = "k" })  -- plain coroutine -> root task id

local at_end = {}                                    -- task id -> function run when it ends
local os_tls_of = {}                                 -- thread.create task id -> its _OSTLS

local function finish(id)
  tasks[id], root_of[id], os_tls_of[id] = nil, nil, nil
  local ender = at_end[id]
  if ender then
    at_end[id] = nil
    ender()
  end
end

-- What a helper yields to ask the host for a service (HOST, kind, args...); other
-- yields are the script's own.
local HOST = setmetatable({}, { __tostring = function() return "host request" end })

-- Coroutines of tasks that returned without suspending wait here for the next task:
-- making a coroutine (a Lua thread, ~1 KB for the collector) and installing its hook is
-- the dearest part of a short task such as a plain HTTP handler. A parked coroutine
-- runs `run_parked`, which calls each task's function and yields PARKED with its
-- results; one that failed or is still suspended is never parked. Per-coroutine state a
-- script can see (_TLS, the main-chunk mark) is dropped when it is parked, and the pool
-- is emptied whenever the hook settings change (a parked coroutine keeps the hook it was
-- made with); one whose script set a hook of its own (debug.sethook) is not parked.
-- Nor is one a script has seen (coroutine.running() in its task: `seen`): a script may
-- keep it, and on Momentum the coroutine of a finished request is dead, so that one is
-- ended (resumed with no function, run_parked returns) and every coroutine function,
-- debug.traceback and debug.getinfo report it dead as Lua does; a reused coroutine is
-- therefore always one no script holds. Nor is one whose globals a script replaced
-- (setfenv(0, t): what getfenv(0) and loadstring's functions see in that coroutine).
local PARKED = {}
local parked, parked_count, PARKED_MAX = {}, 0, 16
local seen = setmetatable({}, { __mode = "k" })  -- task coroutine -> true once a script saw it
local thread_env = debug.getfenv  -- a coroutine's globals (setfenv(0) changes them)
local made_env = setmetatable({}, { __mode = "k" })  -- task coroutine -> its globals when made
local forget_thread_state  -- set below, with the tables it clears

local function run_parked(fn, ...)
  if fn == nil then return end  -- retired (see park)
  return run_parked(raw_yield(PARKED, fn(...)))
end

local script_hooked = hooks.script_hooked

local function park(co)
  forget_thread_state(co)
  if seen[co] then
    resume(co)  -- ends it: dead from now on, as on Momentum
  elseif parked_count < PARKED_MAX and not script_hooked(co)  -- a script's hook stays its
      and thread_env(co) == made_env[co] then
    parked_count = parked_count + 1
    parked[parked_count] = co
  end
end

-- How many coroutines wait for a task (tests read it: reuse is invisible to scripts).
function api.parked_count() return parked_count end

for _, name in ipairs({ "set_line", "set_limit" }) do
  local set = hooks[name]
  hooks[name] = function(...)
    parked, parked_count = {}, 0
    return set(...)
  end
end

local main_chunks = setmetatable({}, { __mode = "k" })  -- see api.as_main_chunk

local function task_step(id, co, ok, ...)
  if not ok then
    local value = ...
    local message = error_text(value)
    finish(id)
    if main_chunks[co] and type(value) ~= "string" and type(value) ~= "number" then
      -- rclua (lua.c) adds no traceback to an error object that is not a string, and
      -- reports nothing at all for nil: no traceback, and an empty message for nil.
      return "error", value == nil and "" or message, nil
    end
    return "error", message, debug_traceback(co, message)
  end
  if ... == PARKED then
    task_of[co] = nil
    finish(id)
    park(co)
    return "done", select(2, ...)
  end
  if status(co) == "dead" then
    finish(id)
    return "done", ...
  end
  if ... == HOST then return "yield", select(2, ...) end
  return "yield", ...
end

-- parent: the id of the task this one works for, or 0.
function api.start_task(id, parent, fn, ...)
  local co
  if parked_count > 0 then
    co = parked[parked_count]
    parked[parked_count], parked_count = nil, parked_count - 1
  else
    co = raw_create(run_parked)
    made_env[co] = thread_env(co)
    if hooks.active then hooks.install(co) end
  end
  tasks[id], task_of[co] = co, id
  root_of[id] = parent ~= 0 and (root_of[parent] or parent) or id
  enter()
  return task_step(id, co, resume(co, fn, ...))
end

function api.resume_task(id, ...)
  local co = tasks[id]
  enter()
  return task_step(id, co, resume(co, ...))
end

-- The host gave up on a task (cancelled): forget it.
api.drop_task = finish

-- Whether a suspension here would reach the host: the running coroutine is a task's
-- or one a task made (resumed through coroutine.resume/wrap, which pass it on).
local function can_suspend()
  local co = running()
  return co ~= nil and (task_of[co] ~= nil or owner_of[co] ~= nil)
end
api.can_suspend = can_suspend

-- The root task of the code running now, or nil outside any task.
function api.task_root()
  local co = running()
  if co == nil then return nil end
  local id = task_of[co]
  if id then return root_of[id] end
  return owner_of[co]
end
local task_root = api.task_root

local function check_coroutine_body(fn, fname)
  if type(fn) ~= "function" or native[fn] then
    fname = getinfo(2, "n").name or "?"  -- as the caller named it, like luaL_argerror
    error("bad argument #1 to '" .. fname .. "' (Lua function expected)", 3)
  end
end

-- The emulator's thread of execution (thread.mutex owners): a task, the task that
-- created a plain coroutine, or 0 for code outside every task (top level, init).
local thread_of = setmetatable({}, { __mode = "k" })  -- plain coroutine -> its task id

function api.current_thread()
  local co = running()
  if co == nil then return 0 end
  return task_of[co] or thread_of[co] or 0
end
local current_thread = api.current_thread

local function new_coroutine(fn)
  local co = raw_create(fn)
  if hooks.active then hooks.install(co) end
  owner_of[co], thread_of[co] = task_root(), current_thread()
  return co
end

function coroutine.create(fn)
  check_coroutine_body(fn, "create")
  return new_coroutine(fn)
end

-- Lua 5.1 cannot yield across a C function (pcall, xpcall, table.sort, gsub…): the
-- level of the first such frame of the running coroutine, or nil.
local function c_boundary()
  local level = 3
  while true do
    local info = getinfo(level, "S")
    if info == nil then return nil end
    if info.what == "C" then return level end
    level = level + 1
  end
end

-- Suspend the running task for the host's service `kind`: from the task's own coroutine
-- or one it made (each coroutine.resume on the way passes the request up and the answer
-- down). `fname` names the helper in the errors of the cases that cannot suspend.
local function host_yield(fname, kind, ...)
  if not can_suspend() then
    error(fname .. ": cannot suspend here (only a handler, console command, timer or job "
      .. "can, not init, rsrc_setup or a chunk's top level)", 3)
  end
  if c_boundary() then
    error(fname .. ": cannot suspend inside pcall, xpcall or a function called from C "
      .. "(table.sort, string.gsub…); call it outside", 3)
  end
  return raw_yield(HOST, kind, ...)
end
api.host_yield = host_yield

local function pass_on(co, ok, first, ...)
  if ok and first == HOST and status(co) == "suspended" then
    return pass_on(co, resume(co, host_yield("coroutine.resume", ...)))
  end
  return ok, first, ...
end

function coroutine.resume(co, ...)
  return pass_on(co, resume(co, ...))
end

local function wrapped_result(ok, ...)
  if not ok then error((...), 0) end
  return ...
end

function coroutine.wrap(fn)
  check_coroutine_body(fn, "wrap")
  local co = new_coroutine(fn)
  return function(...)
    return wrapped_result(pass_on(co, resume(co, ...)))
  end
end

-- thrLua's _TLS and _OSTLS (lstate.c): globals resolved when no real global of that
-- name exists. _TLS is one table per Lua thread, so each task and each coroutine has
-- its own; _OSTLS is one table per OS thread: every Lua task here runs on the one
-- event-loop thread and shares one, except a thread.create thread, which is an OS
-- thread of its own in thrLua (api.own_os_thread) and shares its table with its
-- coroutines.
local tls_of = setmetatable({}, { __mode = "k" })
local main_tls, os_tls = {}, {}
setmetatable(_G, {
  __index = function(_, key)
    if key == "_TLS" then
      local co = running()
      if co == nil then return main_tls end
      local tls = tls_of[co]
      if tls == nil then tls = {}; tls_of[co] = tls end
      return tls
    elseif key == "_OSTLS" then
      return os_tls_of[current_thread()] or os_tls
    end
    return nil
  end,
})

function msys.sleep(seconds)
  if type(seconds) ~= "number" then
    error("bad argument #1 to 'sleep' (number expected, got " .. type(seconds) .. ")", 2)
  end
  host_yield("msys.sleep", "sleep", seconds)
end

function msys.asyncOk()
  return can_suspend()
end

-- The id of the task running now, or nil (msys_async.lua: whose jobs are whose).
function api.current_task()
  local co = running()
  return co and task_of[co]
end

for _, fn in ipairs({ loadstring, load, loadfile, dofile, coroutine.create, coroutine.wrap,
  os.setenv, io.popen, io.close, file_methods.close }) do
  native[fn] = true
end

-- `momentum-httpsrv lua` runs its main chunk as a task (so that it may sleep and wait
-- for threads as a loaded script does), which scripts see as rclua's main thread:
-- coroutine.running() is nil there, and a yield of the script's own is an error (the
-- package's own yields, sleep and waits, still suspend the task). main_chunks is
-- declared above task_step.
local checked_yield, INTERNAL = coroutine.yield, "=[momentum-httpsrv]"

forget_thread_state = function(co)
  tls_of[co], main_chunks[co] = nil, nil
end

function api.as_main_chunk(fn)
  return function(...)
    main_chunks[running()] = true
    return fn(...)
  end
end

function coroutine.running()
  local co = running()
  if co ~= nil and main_chunks[co] then return nil end
  if co ~= nil and task_of[co] then seen[co] = true end  -- never reused (see park)
  return co
end

function coroutine.yield(...)
  local co = running()
  if co ~= nil and main_chunks[co] then
    local level, info = 2, getinfo(2, "S")
    while info.what == "tail" do  -- `return yield(…)`: the caller's caller decides
      level = level + 1
      info = getinfo(level, "S")
    end
    local source = info.source
    if sub(source, 1, #INTERNAL) ~= INTERNAL and source ~= "=[C]" then
      error("attempt to yield across metamethod/C-call boundary", 0)
    end
  end
  return checked_yield(...)
end
native[coroutine.running], native[coroutine.yield] = true, true

-- A standalone interpreter prints to C's stdout, the stream io.write uses, so that the
-- two keep their order (and os.exit flushes both).
function api.print_to_stdout()
  host_print = function(text) stdout:write(text, "\n") end
end

function api.flush_stdout()
  stdout:flush()
end

-- The running task is a thread.create thread: it gets an _OSTLS of its own.
function api.own_os_thread()
  os_tls_of[api.current_task()] = {}
end

-- Run `fn` when the running task ends, however it ends (thread.create's join).
function api.at_task_end(fn)
  at_end[api.current_task()] = fn
end

api.make_stub = make_stub
api.print_text = print_text
-- Where print goes outside console capture (console/control.lua's print).
function api.print_out(text) host_print(text) end

-- Where there is no configuration (`momentum-httpsrv lua`), msys.<name> says it needs one.
function api.needs_configuration(name)
  rawset(msys, name, function()
    error("msys." .. name .. ": needs a configuration; there is none when"
      .. " `momentum-httpsrv lua` runs a file", 2)
  end)
end
return api
