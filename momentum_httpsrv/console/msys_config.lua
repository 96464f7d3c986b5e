-- msys.config(action, word…): the console's `config` command from Lua
-- (docs/emulation.md#console). Called with the host table and the prelude's task api. In a task (a handler, a
-- console command, a timer) the command runs as the console runs it; elsewhere (top
-- level, init, rsrc_setup) on the tree being loaded.
local host, tasks = ...
local can_suspend, host_yield = tasks.can_suspend, tasks.host_yield
local type, select, tostring, error, format = type, select, tostring, error, string.format

local function words(...)
  local list, n = {}, select("#", ...)
  for i = 1, n do
    local word = (select(i, ...))
    local tw = type(word)
    if tw ~= "string" and tw ~= "number" then
      error(format("bad argument #%d to 'config' (string expected, got %s)", i + 1, tw), 3)
    end
    list[i] = tostring(word)
  end
  return list, n
end

rawset(msys, "config", function(action, ...)
  if type(action) ~= "string" then
    error(format("bad argument #1 to 'config' (string expected, got %s)", type(action)), 2)
  end
  local list, n = words(...)
  if can_suspend() then
    return host_yield("msys.config", "config", action, unpack(list, 1, n))
  end
  return host.config_now(action, unpack(list, 1, n))
end)
