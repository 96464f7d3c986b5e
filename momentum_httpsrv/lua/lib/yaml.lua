-- yaml: thrLua's lyaml module. Tables become emitter events and parser events become
-- tables here, as lyaml does it; the YAML text itself is PyYAML's work (yaml.py).
local tonumber, unpack = tonumber, unpack  -- before any script can replace them
local find, match, sub =
  string.find, string.match, string.sub  -- whatever scripts do to string
local py_emit, py_parse = ...
local type, tostring, error, pcall, select, next, rawget, getmetatable, setmetatable,
  rawset, pairs, ipairs =
  type, tostring, error, pcall, select, next, rawget, getmetatable, setmetatable,
  rawset, pairs, ipairs
local ops = ("").__thrlua
local str2number, native = ops.str2number, ops.native
local TAG_PREFIX = "tag:yaml.org,2002:"

local yaml = {}
local options = {
  dump_auto_array = true, dump_check_metatables = true, dump_error_on_unsupported = false,
  load_set_metatables = true, load_numeric_scalars = true, load_nulls_as_nil = false,
}

-- lyaml raises its errors with lua_error: the message alone, no position.
local function checked(ok, ...)
  if not ok then error(tostring((...)), 0) end
  return ...
end

-- yaml.null stands for YAML's null (~) in loaded data and in data to dump.
function yaml.null() return yaml.null end

-- Loading --------------------------------------------------------------------------------

local function scalar_value(event)
  local text, plain, tag = event[2], event[3], event[4]
  if tag and sub(tag, 1, #TAG_PREFIX) == TAG_PREFIX then
    local kind = sub(tag, #TAG_PREFIX + 1)
    if kind == "str" or kind == "binary" then return text end
    if kind == "int" then return tonumber(match(text, "^%s*([-+]?%d*)")) or 0 end
    if kind == "float" then return tonumber(match(text, "^%s*(%S*)")) or 0 end
    if kind == "bool" then return text == "true" or text == "yes" end
  end
  if plain then
    if text == "~" then
      if options.load_nulls_as_nil then return nil end
      return yaml.null
    end
    if text == "true" or text == "yes" then return true end
    if text == "false" or text == "no" then return false end
    if options.load_numeric_scalars then
      local number = str2number(text)
      if number then return number end
    end
  end
  return text
end

local function load_documents(events)
  local documents, count = {}, 0
  local sequence_mt = options.load_set_metatables and { _yaml = "sequence" } or nil
  local map_mt = options.load_set_metatables and { _yaml = "map" } or nil
  local anchors, at = {}, 1

  local load_node
  -- One node from events[at]; returns true and its value, or false at an "end" event.
  load_node = function()
    local event = events[at]
    at = at + 1
    local kind = event[1]
    if kind == "end" then return false end
    if kind == "error" then error(event[2], 0) end
    if kind == "alias" then
      local value = anchors[event[2]]
      if value == nil then error("invalid reference: " .. event[2], 0) end
      return true, value
    end
    if kind == "scalar" then
      local value = scalar_value(event)
      if event[5] then anchors[event[5]] = value end
      return true, value
    end
    local node = setmetatable({}, kind == "seq" and sequence_mt or map_mt)
    if event[2] then anchors[event[2]] = node end
    if kind == "seq" then
      local index = 1
      while true do
        local more, value = load_node()
        if not more then break end
        rawset(node, index, value)
        index = index + 1
      end
    else
      while true do
        local more, key = load_node()
        if not more then break end
        local _, value = load_node()
        if key ~= nil then rawset(node, key, value) end
      end
    end
    return true, node
  end

  while events[at] do
    if events[at][1] == "error" then error(events[at][2], 0) end
    if events[at][1] == "doc" then
      at = at + 1
      count = count + 1
      local _, value = load_node()
      documents[count] = value
      if events[at][1] == "error" then error(events[at][2], 0) end
      at = at + 1  -- the document's end
      anchors = {}
    else
      at = at + 1
    end
  end
  return documents, count
end

function yaml.load(text)
  if type(text) ~= "string" and type(text) ~= "number" then
    error("bad argument #1 to 'load' (must provide a string argument)", 2)
  end
  local documents, count = load_documents(checked(pcall(py_parse, tostring(text))))
  return unpack(documents, 1, count)
end

-- Dumping --------------------------------------------------------------------------------

local function table_kind(t)
  if options.dump_check_metatables then
    local mt = getmetatable(t)
    local kind = type(mt) == "table" and rawget(mt, "_yaml")
    if kind == "sequence" or kind == "seq" then return "seq" end
    if kind == "map" or kind == "mapping" then return "map" end
  end
  if options.dump_auto_array and #t > 0 then return "seq" end
  return "map"
end

-- Tables reached more than once get an anchor (false: seen once, true: more).
local function find_references(value, references)
  if type(value) ~= "table" then return end
  local seen = references[value]
  if seen == nil then
    references[value] = false
  else
    references[value] = true
    return
  end
  for k, v in next, value do
    find_references(v, references)
    find_references(k, references)
  end
end

local function has_high_bit(text)
  return find(text, "[\128-\255]") ~= nil
end

local function dump_document(value)
  local events, references, anchors, next_anchor = {}, {}, {}, 0
  find_references(value, references)
  local function add(event) events[#events + 1] = event end

  local dump_node
  local function anchor_for(t)  -- nil: no anchor; false: already emitted as an alias
    if not references[t] then return nil end
    local name = anchors[t]
    if name then
      add({ "alias", name })
      return false
    end
    name = tostring(next_anchor)
    next_anchor = next_anchor + 1
    anchors[t] = name
    return name
  end

  dump_node = function(node)
    local kind = type(node)
    if kind == "string" then
      local quoted, binary = false, false
      if node == "true" or node == "false" or node == "~" or str2number(node) then
        quoted = true
      elseif has_high_bit(node) then
        binary = true
      end
      add({ "scalar", node, quoted, binary })
    elseif kind == "number" then
      add({ "scalar", tostring(node), false, false })
    elseif kind == "boolean" then
      add({ "scalar", node and "true" or "false", false, false })
    elseif kind == "table" then
      local anchor = anchor_for(node)
      if anchor == false then return end
      if table_kind(node) == "seq" then
        add({ "seq", anchor or false })
        for i = 1, #node do dump_node(node[i]) end
      else
        add({ "map", anchor or false })
        for k, v in next, node do
          dump_node(k)
          dump_node(v)
        end
      end
      add({ "end" })
    elseif node == yaml.null or not options.dump_error_on_unsupported then
      add({ "scalar", "~", false, false })
    else
      error("cannot dump object of type: " .. kind, 0)
    end
  end

  add({ "doc" })
  dump_node(value)
  add({ "enddoc" })
  return events
end

function yaml.dump(...)
  local events = {}
  for i = 1, select("#", ...) do
    for _, event in ipairs(dump_document((select(i, ...)))) do events[#events + 1] = event end
  end
  return checked(pcall(py_emit, events))
end

-- yaml.configure(name[, value]) reads (and sets) one option; yaml.configure{...} sets many.
local function configure_one(name, value)
  if type(name) ~= "string" then
    error("bad argument #1 to 'configure' (config attribute must be string)", 3)
  end
  if value ~= nil and type(value) ~= "boolean" then
    error("bad argument #1 to 'configure' (value must be boolean or nil)", 3)
  end
  if options[name] == nil then error("unrecognized config option: " .. name, 3) end
  if value ~= nil then options[name] = value end
  return options[name]
end

function yaml.configure(name, value)
  if type(name) == "table" then
    for k, v in pairs(name) do configure_one(k, v) end
    return
  end
  return configure_one(name, value)
end

for _, fn in pairs(yaml) do native[fn] = true end
return yaml
