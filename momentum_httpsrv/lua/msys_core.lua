-- msys.core: the dictionary helpers and constants scripts use (lua-runtime.md §4.2).
-- Called with the host table; returns the module table and constructors other bindings use.
local host, constants = ...
local core = {}
for name, value in pairs(constants) do core[name] = value end

-- ec_dict userdata: insertion-ordered string pairs behind a shared metatable.
local dicts = setmetatable({}, { __mode = "k" })
local dict_proto = newproxy(true)
local dict_mt = getmetatable(dict_proto)
dict_mt.__index = function(dict, key) return dicts[dict].values[key] end
dict_mt.__newindex = function() error("ec_dict is read-only", 2) end
dict_mt.__tostring = function() return "ec_dict" end
dict_mt.__name = "ec_dict"

-- Build a dict from the flat list `list[first], list[first+1], …` (key, value, key, …).
local function new_dict(list, first)
  local dict = newproxy(dict_proto)
  local keys, values = {}, {}
  for i = first, #list, 2 do
    local key = list[i]
    if values[key] == nil then keys[#keys + 1] = key end
    values[key] = list[i + 1]
  end
  dicts[dict] = { keys = keys, values = values }
  return dict
end

local function check_dict(dict, fname)
  local data = dicts[dict]
  if data == nil then
    error("bad argument #1 to '" .. fname .. "' (ec_dict expected, got " .. type(dict) .. ")", 3)
  end
  return data
end

function core.dict_iter2(dict)
  check_dict(dict, "dict_iter2")
  return { position = 0 }
end

function core.dict_next(dict, iter)
  local data = check_dict(dict, "dict_next")
  if type(iter) ~= "table" or iter.position == nil then
    error("bad argument #2 to 'dict_next' (iterator expected, got " .. type(iter) .. ")", 2)
  end
  iter.position = iter.position + 1
  local key = data.keys[iter.position]
  if key == nil then return 0, nil, nil end
  return 1, key, data.values[key]
end

function core.dict_iter2_free(dict, iter)
  check_dict(dict, "dict_iter2_free")
  if type(iter) == "table" then iter.position = math.huge end
end

core.get_now_ts = host.now

return core, { new_dict = new_dict }
