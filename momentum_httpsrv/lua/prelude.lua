-- The Momentum environment every Lua state starts with. Called once with the host table
-- (Python callbacks); returns the functions Python drives the state with.
local host = ...
local translate, host_print, host_warn = host.translate, host.print, host.warn
local raw_loadstring, tostring, select, type, error = loadstring, tostring, select, type, error
local concat, setmetatable, rawset, pcall = table.concat, setmetatable, rawset, pcall

-- Every chunk passes through the thrLua translator before Lua 5.1 sees it; what the
-- translator rejects comes back as loadstring's `nil, message`.
-- Stock Lua names the token it stopped at as translated ('not', '~='); thrLua names it as
-- written ('!', '!='), when that is what the line has.
local written_as = { ["not"] = { "!", "%f[%w_]not%f[^%w_]" }, ["~="] = { "!=", "~=" } }
local function as_written(err, source)
  local line, near = err:match(":(%d+): .*near '([^']*)'$")
  local written = written_as[near]
  if not written then return err end
  local number, text = tonumber(line), nil
  for candidate in (source .. "\n"):gmatch("([^\n]*)\n") do
    number = number - 1
    if number == 0 then text = candidate break end
  end
  if text and text:find(written[1], 1, true) and not text:find(written[2]) then
    return err:sub(1, -#near - 2) .. written[1] .. "'"
  end
  return err
end

local function load_source(source, chunkname)
  local text, err = translate(source, chunkname)
  if not text then return nil, err end
  local chunk, problem = raw_loadstring(text, chunkname)
  if not chunk then return nil, as_written(problem, source) end
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
  local fh, err = io.open(path, "rb")
  if not fh then return nil, err end
  local source = fh:read("*a")
  fh:close()
  return source
end

-- Like luaL_loadfile, a first line starting with '#' (a shebang) is skipped, keeping
-- the line count.
local function without_shebang(source)
  if source:sub(1, 1) == "#" then return (source:gsub("^[^\n]*", "", 1)) end
  return source
end

function loadfile(path)
  if path == nil then return load_source(without_shebang(io.read("*a")), "=stdin") end
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
  local fname = name:gsub("%.", "/")
  local tried = {}
  for template in package.path:gmatch("[^;]+") do
    local path = template:gsub("%?", fname)
    local source = read_file(path)
    if source then
      local chunk, err = load_source(source, "@" .. path)
      if not chunk then
        error(("error loading module '%s' from file '%s':\n\t%s"):format(name, path, err), 0)
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
function print(...)
  local n = select("#", ...)
  local parts = {}
  local convert = globals.tostring
  for i = 1, n do
    local text = convert((select(i, ...)))
    local kind = type(text)
    if kind == "number" then
      text = tostring(text)
    elseif kind ~= "string" then
      error("'tostring' must return a string to 'print'", 2)
    end
    parts[i] = text
  end
  host_print(concat(parts, "\t"))
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
  local file, err = io_open("/dev/fd/" .. fd, mode:sub(1, 1) == "w" and "w" or "r")
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

package.loaders[#package.loaders + 1] = function(name)
  if name:sub(1, 5) == "msys." then
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
  for part in name:gmatch("[^.]+") do
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

-- Modules and their callouts (lua-runtime.md §2).
local modules = {}

function msys.registerModule(name, tbl)
  if type(name) ~= "string" then
    error("bad argument #1 to 'registerModule' (string expected, got " .. type(name) .. ")", 2)
  end
  if type(tbl) ~= "table" then
    error("bad argument #2 to 'registerModule' (table expected, got " .. type(tbl) .. ")", 2)
  end
  for _, value in pairs(tbl) do
    if type(value) == "function" then
      modules[#modules + 1] = { name = name, tbl = tbl }
      return
    end
  end
  host_warn("scriptlet: no usable methods found for module " .. name .. " in registerModule call")
end

local api = {}

local function traceback(message)
  if type(message) ~= "string" and type(message) ~= "number" then
    message = "(error object is not a string)"  -- as rclua reports it
  end
  return { message = tostring(message), traceback = debug.traceback(tostring(message), 2) }
end

-- Run `chunk` under a traceback handler: true, results... or false, message, traceback.
local function call_traced(fn, ...)
  local args, n = { ... }, select("#", ...)
  local result = { xpcall(function() return fn(unpack(args, 1, n)) end, traceback) }
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
-- of {name, ok, value-or-message, traceback}.
local hook_aliases = { rsrc_setup = "config_rsrc_setup" }
function api.call_hook(hook)
  local results = {}
  for _, module in ipairs(modules) do
    local fn = module.tbl[hook]
    if fn == nil and hook_aliases[hook] then fn = module.tbl[hook_aliases[hook]] end
    if type(fn) == "function" then
      local ok, value, tb = call_traced(fn, module.tbl)
      results[#results + 1] = { module.name, ok, ok and value or value, tb }
    end
  end
  return results
end

function api.module_names()
  local names = {}
  for i, module in ipairs(modules) do names[i] = module.name end
  return names
end

-- `require(name)` returns `opener()` (a host function: Lua's require accepts only Lua
-- functions from package.preload). System packages also get their global path.
function api.preload(name, opener, system)
  package.preload[name] = function()
    local module = opener()
    if system then set_global_path(name, module) end
    return module
  end
end

-- Tasks: handler and command calls run as coroutines, so helpers such as msys.sleep
-- can suspend them by yielding a request to the host (httpsrv.md §4.8). A task is part
-- of the work of its root: itself, or the task that started it (runInPool); plain
-- coroutines a task creates belong to its root too. Console print capture and the
-- ownership of fire-and-forget jobs go by root.
local raw_create, raw_wrap, resume, running = coroutine.create, coroutine.wrap,
  coroutine.resume, coroutine.running
local tasks = {}                                     -- task id -> its coroutine
local task_of = setmetatable({}, { __mode = "k" })   -- task coroutine -> task id
local root_of = {}                                   -- task id -> root task id
local owner_of = setmetatable({}, { __mode = "k" })  -- plain coroutine -> root task id

local function finish(id) tasks[id], root_of[id] = nil, nil end

local function task_step(id, co, ok, ...)
  if not ok then
    local message = tostring((...))
    finish(id)
    return "error", message, debug.traceback(co, message)
  end
  if coroutine.status(co) == "dead" then
    finish(id)
    return "done", ...
  end
  return "yield", ...
end

-- parent: the id of the task this one works for, or 0.
function api.start_task(id, parent, fn, ...)
  local co = raw_create(fn)
  tasks[id], task_of[co] = co, id
  root_of[id] = parent ~= 0 and (root_of[parent] or parent) or id
  return task_step(id, co, resume(co, ...))
end

function api.resume_task(id, ...)
  local co = tasks[id]
  return task_step(id, co, resume(co, ...))
end

-- The host gave up on a task (cancelled): forget it.
api.drop_task = finish

local function in_task()
  local co = running()
  return co ~= nil and task_of[co] ~= nil
end

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
    fname = debug.getinfo(2, "n").name or "?"  -- as the caller named it, like luaL_argerror
    error("bad argument #1 to '" .. fname .. "' (Lua function expected)", 3)
  end
end

function coroutine.create(fn)
  check_coroutine_body(fn, "create")
  local co = raw_create(fn)
  owner_of[co] = task_root()
  return co
end

function coroutine.wrap(fn)
  check_coroutine_body(fn, "wrap")
  local owner = task_root()
  if owner == nil then return raw_wrap(fn) end
  return raw_wrap(function(...)
    owner_of[running()] = owner
    return fn(...)
  end)
end

-- msys.sleep suspends the running handler or command; elsewhere it blocks.
function msys.sleep(seconds)
  if type(seconds) ~= "number" then
    error("bad argument #1 to 'sleep' (number expected, got " .. type(seconds) .. ")", 2)
  end
  if in_task() then
    coroutine.yield("sleep", seconds)
  else
    host.block_sleep(seconds)
  end
end

function msys.asyncOk()
  return in_task()
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

-- A standalone interpreter prints to C's stdout, the stream io.write uses, so that the
-- two keep their order (and os.exit flushes both).
function api.print_to_stdout()
  local stdout = io.stdout
  host_print = function(text) stdout:write(text, "\n") end
end

function api.flush_stdout()
  io.stdout:flush()
end

api.make_stub = make_stub
return api
