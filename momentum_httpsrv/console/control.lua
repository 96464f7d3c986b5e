-- msys.registerControl, the command_construct userdata, console print capture, and the
-- mail-queue corner of msys.core (docs/emulation.md#console). Called with the host table,
-- the msys.core table, the prelude's task api and the id table of command functions
-- (boundary.lua); returns the functions Python runs commands with.
local newproxy = newproxy  -- before any script can replace them
local host, core, tasks, commands = ...
local host_register, host_delay = host.register, host.delay_domain
local print_text, print_out = tasks.print_text, tasks.print_out  -- paniclog, or stdout
local concat, select, tostring, type, error = table.concat, select, tostring, type, error
local find, format, gmatch, lower, match, sub = string.find, string.format, string.gmatch,
  string.lower, string.match, string.sub  -- string methods as our own, whatever scripts do
local floor, task_root = math.floor, tasks.task_root

local api = {}

-- print anywhere in a console command's work — its task, coroutines it creates, the
-- runInPool jobs it starts — goes to that command's reply; elsewhere as before.
local capture = {} -- root task id -> reply buffer
local outputs = {} -- run id -> { buffer, root }, kept until Python takes it

function print(...)
  local text = print_text(2, ...)
  local root = task_root()
  local buffer = root and capture[root]
  if buffer == nil then return print_out(text) end
  buffer[#buffer + 1] = text .. "\n"
end
("").__thrlua.native[print] = true  -- a C function, as thrLua's print

-- Run fn(...) in the current task with print captured under run_id.
function api.run(run_id, fn, ...)
  local buffer, root = {}, task_root()
  outputs[run_id] = { buffer, root }
  capture[root] = buffer
  return fn(...)
end

-- scriptlet eval: run the chunk and print what it returned, in the task (a __tostring
-- that raises is the command's error).
local function print_results(buffer, ...)
  if select("#", ...) > 0 then buffer[#buffer + 1] = print_text(1, ...) .. "\n" end
end

function api.eval(run_id, chunk)
  local buffer = {}
  outputs[run_id] = { buffer, task_root() }
  capture[task_root()] = buffer
  print_results(buffer, chunk())
end

function api.take_output(run_id)
  local output = outputs[run_id]
  if output == nil then return "" end
  outputs[run_id], capture[output[2]] = nil, nil
  return concat(output[1])
end

-- command_construct: read-only userdata; argv is 0-based and refuses to read past argc.
local cc_fields = setmetatable({}, { __mode = "k" })
local cc_proto = newproxy(true)
local cc_mt = getmetatable(cc_proto)
cc_mt.__index = function(cc, key) return cc_fields[cc][key] end
cc_mt.__newindex = function() error("command_construct is read-only", 2) end
cc_mt.__tostring = function() return "command_construct" end
cc_mt.__name = "command_construct"

local argv_words = setmetatable({}, { __mode = "k" })
local argv_proto = newproxy(true)
local argv_mt = getmetatable(argv_proto)
argv_mt.__index = function(argv, index)
  local words = argv_words[argv]
  if type(index) ~= "number" then return nil end
  if index < 0 or index >= words.n or index ~= floor(index) then
    error(format("cc.argv index %s out of range (argc=%d)", tostring(index), words.n), 2)
  end
  return words[index + 1]
end
argv_mt.__newindex = function() error("cc.argv is read-only", 2) end
argv_mt.__len = function(argv) return argv_words[argv].n end
argv_mt.__tostring = function() return "command_construct argv" end

local function new_cc(xml, line, ...)
  local argv = newproxy(argv_proto)
  argv_words[argv] = { n = select("#", ...), ... }
  local cc = newproxy(cc_proto)
  cc_fields[cc] = { argc = select("#", ...), argv = argv, xml = xml, command = line }
  return cc
end

-- msys.registerControl(prefix, fn): the function lives in the id table; the host keeps
-- its number and retires it with its registry.
local function register_control(prefix, fn)
  if type(prefix) ~= "string" or not find(prefix, "%S") then
    error("bad argument #1 to 'registerControl' (non-empty string expected, got "
      .. type(prefix) .. ")", 2)
  end
  if type(fn) == "string" then
    local named = _G[fn]
    if type(named) ~= "function" then
      error("bad argument #2 to 'registerControl' (no global function named '" .. fn .. "')", 2)
    end
    fn = named
  elseif type(fn) ~= "function" then
    error("bad argument #2 to 'registerControl' (function expected, got " .. type(fn) .. ")", 2)
  end
  commands.forget(host_register(prefix, commands.put(fn)))
end
rawset(msys, "registerControl", register_control)

function api.run_command(run_id, command_id, xml, line, ...)
  return api.run(run_id, commands.get(command_id), new_cc(xml, line, ...))
end

-- Domain records: one userdata per domain name, enough for mail_queue_delay_domain.
local domain_names = setmetatable({}, { __mode = "k" })
local domain_cache = setmetatable({}, { __mode = "v" })
local domain_proto = newproxy(true)
local domain_mt = getmetatable(domain_proto)
domain_mt.__index = function(dr, key)
  if key == "name" then return domain_names[dr] end
  return nil
end
domain_mt.__newindex = function() error("domain_record is read-only", 2) end
domain_mt.__tostring = function(dr) return domain_names[dr] end
domain_mt.__name = "domain_record"

local function is_domain_name(name)
  if #name == 0 or #name > 253 or not match(name, "^[%w%-%.]+$") then return false end
  for label in gmatch(name .. ".", "([^.]*)%.") do
    if #label == 0 or #label > 63 or sub(label, 1, 1) == "-" or sub(label, -1) == "-" then
      return false
    end
  end
  return true
end

function core.dns_get_domain(name)
  if type(name) ~= "string" then
    error("bad argument #1 to 'dns_get_domain' (string expected, got " .. type(name) .. ")", 2)
  end
  local key = lower(name)
  if not is_domain_name(key) then return nil end
  local dr = domain_cache[key]
  if dr == nil then
    dr = newproxy(domain_proto)
    domain_names[dr] = key
    domain_cache[key] = dr
  end
  return dr
end

function core.mail_queue_delay_domain(dr, note)
  local name = domain_names[dr]
  if name == nil then
    error("bad argument #1 to 'mail_queue_delay_domain' (domain_record expected, got "
      .. type(dr) .. ")", 2)
  end
  if note ~= nil and type(note) ~= "string" then
    error("bad argument #2 to 'mail_queue_delay_domain' (string expected, got "
      .. type(note) .. ")", 2)
  end
  host_delay(name, note or "")
end

return api
