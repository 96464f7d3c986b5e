-- The `xml` module as thrlua exposes it (modules/xml.c): documents and nodes are userdata
-- whose method tables carry libxml2's type names; the work is done by Python (xml.py).
-- A node userdata holds (registry, handle); a document userdata holds its registry.
local py = ...

local type, tostring, error, format, select, pcall, newproxy, getmetatable, setmetatable =
  type, tostring, error, string.format, select, pcall, newproxy, getmetatable, setmetatable

local DOC_TYPE, NODE_TYPE = "libxml2:xmlDocPtr", "libxml2:xmlNodePtr"

local docs = setmetatable({}, { __mode = "k" }) -- doc userdata -> registry
local nodes = setmetatable({}, { __mode = "k" }) -- node userdata -> state, false once freed

local doc_template, node_template = newproxy(true), newproxy(true)
local doc_methods, node_methods = getmetatable(doc_template), getmetatable(node_template)
doc_methods.__index = doc_methods
node_methods.__index = node_methods
doc_methods["@type"] = DOC_TYPE
node_methods["@type"] = NODE_TYPE

-- Python raises for bad names or text; scripts see a plain message.
local function checked(ok, ...)
  if not ok then error(tostring((...)), 0) end
  return ...
end

local function call(f, ...)
  return checked(pcall(f, ...))
end

local function new_doc(registry)
  local doc = newproxy(doc_template)
  docs[doc] = registry
  return doc
end

local function new_node(doc, registry, handle)
  if handle == nil then return nil end
  local node = newproxy(node_template)
  nodes[node] = { doc = doc, registry = registry, handle = handle }
  return node
end

-- luaL_checkudata failures, worded as thrlua reports them for method calls.
local function bad_self(method, expected, value)
  error(format("calling '%s' on bad self (%s expected, got %s)", method, expected, type(value)), 0)
end

local function doc_registry(self, method)
  local registry = docs[self]
  if registry == nil then bad_self(method, DOC_TYPE, self) end
  return registry
end

local function node_state(self, method)
  local state = nodes[self]
  if not state then bad_self(method, NODE_TYPE, self) end
  return state
end

local function check_string(value, position, fname)
  local tv = type(value)
  if tv == "string" then return value end
  if tv == "number" then return tostring(value) end
  error(format("bad argument #%d to '%s' (string expected, got %s)", position, fname, tv), 0)
end

local function no_arguments(n)
  if n ~= 0 then error("must be called with no arguments", 0) end
end

local function iterate(doc, registry, handles)
  local i = 0
  return function()
    i = i + 1
    return new_node(doc, registry, handles[i])
  end
end

-- Documents.
function doc_methods.root(self, ...)
  local registry = doc_registry(self, "root")
  local n = select("#", ...)
  if n ~= 0 then error(format("expects no arguments, got %d", n), 0) end
  return new_node(self, registry, py.root(registry))
end

function doc_methods.tostring(self, ...)
  local registry = doc_registry(self, "tostring")
  local n = select("#", ...)
  if n ~= 0 then error(format("expects no arguments, got %d", n), 0) end
  return py.document_text(registry)
end

doc_methods.__tostring = function(self) return py.document_text(docs[self]) end

function doc_methods.xpath(self, ...)
  local registry = doc_registry(self, "xpath")
  local n = select("#", ...)
  if n < 1 or n > 2 then error(format("expects 1 or 2 arguments, got %d", n + 1), 0) end
  local query, context = ...
  local tq = type(query)
  if tq ~= "string" and tq ~= "number" then error("no xpath expression provided", 0) end
  local context_registry, context_handle
  if n == 2 then
    local state = nodes[context]
    if not state then
      error(format("bad argument #2 to 'xpath' (%s expected, got %s)", NODE_TYPE, type(context)), 0)
    end
    context_registry, context_handle = state.registry, state.handle
  end
  return iterate(self, registry, py.xpath(registry, tostring(query), context_registry,
    context_handle))
end

-- Nodes.
function node_methods.name(self, ...)
  local state = node_state(self, "name")
  no_arguments(select("#", ...))
  return py.name(state.registry, state.handle)
end

local function attribute(self, ...)
  local state = node_state(self, "attr")
  local n = select("#", ...)
  local name, value = ...
  name = check_string(name, 1, "attr")
  if n == 2 then
    if value ~= nil then value = check_string(value, 2, "attr") end
    call(py.set_attribute, state.registry, state.handle, name, value)
    return
  end
  if n == 1 then return call(py.get_attribute, state.registry, state.handle, name, nil) end
  error("must be called with one argument", 0)
end
node_methods.attr = attribute
node_methods.attribute = attribute

function node_methods.attrns(self, ...)
  local state = node_state(self, "attrns")
  local n = select("#", ...)
  if n >= 3 then
    error("attrns: setting namespaced attributes (with node:newns) is not emulated", 0)
  end
  local name, namespace = ...
  name = check_string(name, 1, "attrns")
  if namespace ~= nil then
    namespace = check_string(namespace, 2, "attrns")
    if namespace == "" then return nil end
  end
  return call(py.get_attribute, state.registry, state.handle, name, namespace)
end

function node_methods.children(self)
  local state = node_state(self, "children")
  return iterate(state.doc, state.registry, py.children(state.registry, state.handle))
end

function node_methods.contents(self, ...)
  local state = node_state(self, "contents")
  local n = select("#", ...)
  if n == 1 then
    call(py.set_contents, state.registry, state.handle, check_string((...), 1, "contents"))
    return
  end
  if n == 0 then return py.get_contents(state.registry, state.handle) end
  error("must be called with no arguments", 0)
end

function node_methods.addchild(self, child)
  local state = node_state(self, "addchild")
  if type(child) == "userdata" then
    local child_state = nodes[child]
    if not child_state then
      error(format("bad argument #1 to 'addchild' (%s expected, got userdata)", NODE_TYPE), 0)
    end
    -- the child now belongs to this node's document, as xmlAddChild makes it
    child_state.handle = call(py.add_child_node, state.registry, state.handle,
      child_state.registry, child_state.handle)
    child_state.registry, child_state.doc = state.registry, state.doc
    return child
  end
  local handle = call(py.add_child_named, state.registry, state.handle,
    check_string(child, 1, "addchild"))
  return new_node(state.doc, state.registry, handle)
end

function node_methods.doc(self)
  return node_state(self, "doc").doc
end
node_methods.document = node_methods.doc

function node_methods.unlink(self)
  local state = node_state(self, "unlink")
  py.unlink(state.registry, state.handle)
  return self
end

function node_methods.copy(self, ...)
  local state = node_state(self, "copy")
  no_arguments(select("#", ...))
  local registry, handle = py.copy(state.registry, state.handle)
  return new_node(nil, registry, handle)
end

function node_methods.free(self)
  local state = node_state(self, "free")
  py.unlink(state.registry, state.handle)
  nodes[self] = false
end

function node_methods.tostring(self, ...)
  local state = node_state(self, "tostring")
  local n = select("#", ...)
  if n ~= 0 then error(format("expects no arguments, got %d", n), 0) end
  return py.node_text(state.registry, state.handle)
end

node_methods.__tostring = function(self)
  local state = node_state(self, "__tostring")
  return py.node_text(state.registry, state.handle)
end

-- The module.
local xml = {}

function xml.parsexml(...)
  local n = select("#", ...)
  if n < 1 then error("parsexml requires one argument", 0) end
  local text, keep_blanks = ...
  if n > 1 and type(keep_blanks) ~= "number" then
    error(format("bad argument #2 to 'parsexml' (number expected, got %s)", type(keep_blanks)), 0)
  end
  local tt = type(text)
  if tt ~= "string" and tt ~= "number" then return nil, "parsexml expects a string" end
  local keep = n > 1 and (keep_blanks >= 1 or keep_blanks <= -1) -- lua_tointeger(...) ~= 0
  local registry = py.parse(tostring(text), keep)
  if registry == nil then return nil end  -- as thrLua: libxml2 tells why on stderr only
  return new_doc(registry)
end

function xml.newnode(name, namespace)
  name = check_string(name, 1, "newnode")
  if namespace ~= nil then error("newnode: namespaces (node:newns) are not emulated", 0) end
  local registry, handle = call(py.new_node, name)
  return new_node(nil, registry, handle)
end

return xml
