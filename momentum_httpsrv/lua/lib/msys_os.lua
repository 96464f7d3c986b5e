-- msys.os: statvfs snapshot streams (msys_os.py). Called with the host's subscribe and
-- read functions; returns the module table.
local host_subscribe, host_read = ...
local type, error = type, error

-- ec_statvfs_record_t: what statvfs_subscribe returns; it names the path.
local records = setmetatable({}, { __mode = "k" })
local record_proto = newproxy(true)
local record_mt = getmetatable(record_proto)
record_mt.__name = "ec_statvfs_record_t"
record_mt.__tostring = function(r) return "ec_statvfs_record_t: " .. records[r] end
record_mt.__index = function(r, key) if key == "path" then return records[r] end end

-- ec_statvfs_t: a read-only snapshot.
local snapshots = setmetatable({}, { __mode = "k" })
local snapshot_proto = newproxy(true)
local snapshot_mt = getmetatable(snapshot_proto)
snapshot_mt.__name = "ec_statvfs_t"
snapshot_mt.__index = function(s, key) return snapshots[s][key] end
snapshot_mt.__newindex = function() error("ec_statvfs_t is read-only", 2) end
snapshot_mt.__tostring = function() return "ec_statvfs_t" end

local os_module = {}

function os_module.statvfs_subscribe(path, interval)
  if type(path) ~= "string" then
    error("bad argument #1 to 'statvfs_subscribe' (string expected, got " .. type(path) .. ")", 2)
  end
  if type(interval) ~= "number" then
    error("bad argument #2 to 'statvfs_subscribe' (number expected, got " .. type(interval) .. ")", 2)
  end
  host_subscribe(path, interval)
  local record = newproxy(record_proto)
  records[record] = path
  return record
end

-- statvfs_read(record or subscribed path) -> ec_statvfs_t, or nil, message.
function os_module.statvfs_read(record)
  local path = type(record) == "string" and record or records[record]
  if path == nil then
    error("bad argument #1 to 'statvfs_read' (ec_statvfs_record_t expected, got "
      .. type(record) .. ")", 2)
  end
  local fields, message = host_read(path)
  if fields == nil then return nil, message end
  local snapshot = newproxy(snapshot_proto)
  local copy = {}
  for key, value in pairs(fields) do copy[key] = value end
  snapshots[snapshot] = copy
  return snapshot
end

return os_module
