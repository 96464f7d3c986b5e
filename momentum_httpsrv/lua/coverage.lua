-- Line coverage of a Lua state's script files (coverage.py drives it). Called once with
-- the state's hooks (hooks.lua), the prelude's api and a host table; counts the lines
-- run in every "@file" chunk the host chose to track.
local hooks, api, host = ...
local pairs, dump, getinfo, setmetatable = pairs, string.dump, debug.getinfo, setmetatable

local counts = {}  -- chunk name ("@path") -> { [line] = times run }
-- function -> its chunk's counts, or false for a chunk not tracked: the source of each
-- function is looked up once, not on every line.
local counts_of = setmetatable({}, { __mode = "k" })

local function on_line(fn, line)
  local lines = counts_of[fn]
  if lines == nil then
    lines = counts[getinfo(fn, "S").source] or false
    counts_of[fn] = lines
  end
  if lines then lines[line] = (lines[line] or 0) + 1 end
end

-- Every file chunk loaded from now on is offered to the host with its bytecode (the
-- host reads the lines that hold code from it); the ones it tracks are counted.
local previous = api.get_file_loaded()
api.set_file_loaded(function(chunkname, chunk)
  previous(chunkname, chunk)
  if counts[chunkname] == nil and host.track(chunkname, dump(chunk)) then
    counts[chunkname] = {}
  end
end)
hooks.set_line(on_line)

local coverage = {}

-- The counts so far (chunk name -> {line -> times}); counting starts again from zero.
function coverage.take()
  local taken = {}
  for source, lines in pairs(counts) do
    local copy = {}
    for line, times in pairs(lines) do
      copy[line], lines[line] = times, nil  -- emptied in place: counts_of refers to it
    end
    taken[source] = copy
  end
  return taken
end

return coverage
