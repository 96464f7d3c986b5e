-- The `json` module as Momentum's thrLua exposes it: a binding of json-c (0.11 era).
--
-- JSON objects and arrays are userdata (newproxy) whose contents live in plain Lua tables, so
-- field access never leaves Lua. The decoder is a port of json-c's tokener state machine: error
-- codes and "at offset N" positions match what scripts see in Momentum, including json-c's
-- leniencies (comments, single quotes, case-insensitive literals, trailing commas, trailing
-- garbage after a complete top-level value) and its refusal of an unterminated top-level
-- scalar ("continue at offset N").
--
-- Values stored inside containers: string, boolean, a number (always a 32-bit integer), a
-- nested container proxy, or a box { lua_value, json_text } for doubles, integers outside the
-- 32-bit range (json-c hands those to Lua clamped) and JSON null (lua_value nil).
local pcall, remove = pcall, table.remove  -- before any script can replace them

local byte, char, find, sub, format, lower, gsub, match =
  string.byte, string.char, string.find, string.sub, string.format, string.lower, string.gsub,
  string.match
local floor, ceil, abs = math.floor, math.ceil, math.abs
local concat = table.concat
local type, tostring, tonumber, select, error, next, setmetatable, getmetatable, newproxy =
  type, tostring, tonumber, select, error, next, setmetatable, getmetatable, newproxy
local getinfo = debug.getinfo
local thrlua = ("").__thrlua  -- absent in a bare Lua state (the library's own tests)
local called_name = thrlua and thrlua.called_name or function(_, own_name) return own_name end
local OWN_SOURCE = getinfo(1, "S").source

local TYPE_NAME = "libjson:json_object*"
local INT_MAX, INT_MIN = 2147483647, -2147483648
local EPSILON = 1.5e-8 -- thrlua's "is this number an integer" tolerance
local MAX_DEPTH = 32 -- json-c's default tokener depth

-- json-c's enum json_tokener_error and its reason texts.
local SUCCESS, CONTINUE, ERROR_DEPTH, ERROR_PARSE_EOF, ERROR_PARSE_UNEXPECTED, ERROR_PARSE_NULL,
  ERROR_PARSE_BOOLEAN, ERROR_PARSE_NUMBER, ERROR_PARSE_ARRAY, ERROR_PARSE_OBJECT_KEY_NAME,
  ERROR_PARSE_OBJECT_KEY_SEP, ERROR_PARSE_OBJECT_VALUE_SEP, ERROR_PARSE_STRING,
  ERROR_PARSE_COMMENT = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13
local ERROR_TEXT = {
  [0] = "success", "continue", "nesting too deep", "unexpected end of data",
  "unexpected character", "null expected", "boolean expected", "number expected",
  "array value separator ',' expected", "quoted object property name expected",
  "object property name separator ':' expected", "object value separator ',' expected",
  "invalid string sequence", "expected comment",
}

local NULL = { nil, "null" }

-- proxy -> node. Object node: { keys = {k1, ...}, vals = {[k] = stored} };
-- array node: { items = {...}, n = count }; scalar root node: { value = stored }.
local nodes = setmetatable({}, { __mode = "k" })
local template = newproxy(true)
local meta = getmetatable(template)

local function wrap(node)
  local proxy = newproxy(template)
  nodes[proxy] = node
  return proxy
end

-- json-c's binding raises with luaL_error, which names the line of the code that called
-- into the library (a json function, or a metamethod by indexing): the first frame past
-- this file's own (levels counted from outside_level's caller). A C caller (pcall) gives
-- no position, as there.
local function outside_level(level)
  while true do
    local info = getinfo(level + 1, "S")
    if info == nil or info.source ~= OWN_SOURCE then return level end
    level = level + 1
  end
end

local function raise(message)
  error(message, outside_level(2))
end

-- luaL_argerror: a json function is named as its caller called it ("?" through pcall);
-- metamethods pass "?".
local function argerror(position, fname, expected, value)
  local level = outside_level(2)
  if fname ~= "?" then fname = called_name(level - 1, fname) end
  error(format("bad argument #%d to '%s' (%s expected, got %s)", position, fname, expected,
    type(value)), level)
end

local function truncate(x)
  if x >= 0 then return floor(x) + 0 end
  return ceil(x) + 0
end

local function object_set(node, key, value)
  local vals = node.vals
  if vals[key] == nil then
    local keys = node.keys
    keys[#keys + 1] = key
  end
  vals[key] = value
end

local function object_delete(node, key)
  local vals = node.vals
  if vals[key] == nil then return end
  vals[key] = nil
  local keys = node.keys
  for i = 1, #keys do
    if keys[i] == key then
      remove(keys, i)
      return
    end
  end
end

local function array_put(node, index, value)
  local items, n = node.items, node.n
  for i = n + 1, index - 1 do items[i] = NULL end
  items[index] = value
  if index > n then node.n = index end
end

local function read(stored)
  if type(stored) == "table" then return stored[1] end
  return stored
end

-- Lua value -> stored value, following thrlua's assignment rules.
local to_stored

-- `position` is where the value sits on the C binding's stack, which its argument errors
-- report: a member of an object two slots above the table (key, value), of an array one.
local function table_to_stored(t, position, fname)
  if t[1] == nil then
    local node = { keys = {}, vals = {} }
    for k, v in next, t do
      local tk = type(k)
      if tk ~= "string" then
        if tk ~= "number" then
          raise(format("cannot use a %s key in a json object", tk))
        end
        k = tostring(k)
      end
      object_set(node, k, to_stored(v, position + 2, fname))
    end
    return wrap(node)
  end
  local items, i, v = {}, 1, t[1]
  repeat
    items[i] = to_stored(v, position + 1, fname)
    i = i + 1
    v = t[i]
  until v == nil
  return wrap({ items = items, n = i - 1 })
end

to_stored = function(value, position, fname)
  local tv = type(value)
  if tv == "string" or tv == "boolean" then return value end
  if tv == "number" then
    if abs(value - floor(value)) < EPSILON and value <= INT_MAX and value >= INT_MIN then
      return truncate(value)
    end
    return { value, format("%f", value) }
  end
  if tv == "table" then return (table_to_stored(value, position, fname)) end  -- not a tail call
  if tv == "userdata" then
    local node = nodes[value]
    if node == nil then argerror(position, fname, TYPE_NAME, value) end
    if node.vals or node.items then return value end
    return node.value
  end
  raise("cannot assign values of type " .. tv)
end

-- Serialisation: json-c's json_object_to_json_string (JSON_C_TO_STRING_SPACED).
local ESCAPES = {
  ["\b"] = "\\b", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
  ['"'] = '\\"', ["\\"] = "\\\\", ["/"] = "\\/",
}
for b = 0, 31 do
  local c = char(b)
  if ESCAPES[c] == nil then ESCAPES[c] = format("\\u%04x", b) end
end

local function quote(s)
  return '"' .. (gsub(s, '[%z\1-\31"\\/]', ESCAPES)) .. '"'
end

local function write(v, buf, n)
  local tv = type(v)
  if tv == "string" then
    n = n + 1; buf[n] = quote(v)
  elseif tv == "number" then
    n = n + 1; buf[n] = format("%d", v)
  elseif tv == "boolean" then
    n = n + 1; buf[n] = v and "true" or "false"
  elseif tv == "table" then
    n = n + 1; buf[n] = v[2]
  else
    local node = nodes[v]
    local keys = node.keys
    if keys then
      local vals = node.vals
      n = n + 1; buf[n] = "{"
      for i = 1, #keys do
        local k = keys[i]
        n = n + 1
        buf[n] = i > 1 and ", " .. quote(k) .. ": " or " " .. quote(k) .. ": "
        n = write(vals[k], buf, n)
      end
      n = n + 1; buf[n] = " }"
    elseif node.items then
      local items = node.items
      n = n + 1; buf[n] = "["
      for i = 1, node.n do
        n = n + 1; buf[n] = i > 1 and ", " or " "
        n = write(items[i], buf, n)
      end
      n = n + 1; buf[n] = " ]"
    else
      n = write(node.value, buf, n)
    end
  end
  return n
end

local function to_text(proxy)
  local node = nodes[proxy]
  local value = node.value
  if type(value) == "string" then return value end -- a string root prints raw
  local buf = {}
  write(proxy, buf, 0)
  return concat(buf)
end

-- Metamethods.
meta["@type"] = TYPE_NAME

meta.__tostring = to_text

meta.__index = function(self, key)
  local node = nodes[self]
  local vals = node.vals
  if vals then
    local tk = type(key)
    if tk ~= "string" then
      if tk ~= "number" then argerror(2, "?", "string", key) end
      key = tostring(key)
    end
    local v = vals[key]
    if type(v) == "table" then return v[1] end
    return v
  end
  local items = node.items
  if items then
    local index = tonumber(key)
    if index == nil then argerror(2, "?", "number", key) end
    local v = items[truncate(index)]
    if type(v) == "table" then return v[1] end
    return v
  end
  return nil
end

meta.__newindex = function(self, key, value)
  local node = nodes[self]
  if node.items then
    local index = tonumber(key)
    if index == nil then raise("json array index must be numeric") end
    index = truncate(index)
    if not (index >= 1 and index <= INT_MAX) then
      raise("lua array semantics are that index operations are 1-based")
    end
    if value == nil then raise("cannot delete from json arrays") end
    array_put(node, index, to_stored(value, 3, "?"))
  elseif node.vals then
    local tk = type(key)
    if tk ~= "string" then
      if tk ~= "number" then argerror(2, "?", "string", key) end
      key = tostring(key)
    end
    if value == nil then
      object_delete(node, key)
    else
      object_set(node, key, to_stored(value, 3, "?"))
    end
  else
    raise("cannot assign to this type of json object")
  end
end

meta.__len = function(self)
  local node = nodes[self]
  return node.n or 0
end

-- Arrays stop at the first null element, as thrlua's iterator does.
local function next_item(self, index)
  index = index + 1
  local v = nodes[self].items[index]
  if v == nil or v == NULL then return nil end
  return index, read(v)
end

local function no_items() return nil end

-- `for k, v in obj do`: thrLua calls the __iter metamethod for a non-function.
meta.__iter = function(self)
  local node = nodes[self]
  if node.items then return next_item, self, 0 end
  local keys = node.keys
  if keys then
    local vals, i = node.vals, 0
    return function()
      i = i + 1
      local k = keys[i]
      if k == nil then return nil end
      return k, read(vals[k])
    end, self, nil
  end
  return no_items
end

-- Decoder: json-c 0.11 json_tokener_parse_ex over a string of known length.
local EATWS, START, FINISH, NULL_STATE, COMMENT_START, COMMENT, COMMENT_EOL, COMMENT_END,
  STRING, STRING_ESCAPE, ESCAPE_UNICODE, BOOLEAN, NUMBER, ARRAY, ARRAY_ADD, ARRAY_SEP,
  FIELD_START, FIELD, FIELD_END, OBJECT_VALUE, OBJECT_VALUE_ADD, OBJECT_SEP,
  ARRAY_AFTER_SEP, FIELD_START_AFTER_SEP =
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24

local HEX = {}
for i = 0, 9 do HEX[48 + i] = i end
for i = 0, 5 do HEX[97 + i] = 10 + i; HEX[65 + i] = 10 + i end
local HEX_WEIGHT = { [0] = 4096, 256, 16, 1 }
local SIMPLE_ESCAPES = { [34] = '"', [92] = "\\", [47] = "/", [98] = "\b", [110] = "\n",
  [114] = "\r", [116] = "\t", [102] = "\f" }
local REPLACEMENT_CHAR = "\239\191\189"

local function utf8_char(ucs)
  if ucs < 0x80 then return char(ucs) end
  if ucs < 0x800 then return char(0xC0 + floor(ucs / 64), 0x80 + ucs % 64) end
  if ucs < 0x10000 then
    return char(0xE0 + floor(ucs / 4096), 0x80 + floor(ucs / 64) % 64, 0x80 + ucs % 64)
  end
  return char(0xF0 + floor(ucs / 262144) % 8, 0x80 + floor(ucs / 4096) % 64,
    0x80 + floor(ucs / 64) % 64, 0x80 + ucs % 64)
end

local function is_high_surrogate(ucs) return ucs >= 0xD800 and ucs <= 0xDBFF end
local function is_low_surrogate(ucs) return ucs >= 0xDC00 and ucs <= 0xDFFF end

-- sscanf("%lld") / sscanf("%lf") over the characters json-c collected for a number.
local function parse_number(text)
  if find(text, "[%.eE]") then
    local prefix = match(text, "^[%+%-]?%d*%.?%d*")
    if not find(prefix, "%d") then return nil end
    local exponent = match(text, "^[eE][%+%-]?%d+", #prefix + 1)
    if exponent then prefix = prefix .. exponent end
    local d = tonumber(prefix)
    return { d, format("%f", d) }
  end
  local sign, digits = match(text, "^([%+%-]?)(%d+)")
  if sign == nil then return nil end
  local negative = sign == "-"
  digits = gsub(digits, "^0+", "")
  if digits == "" then return 0 end
  if #digits <= 10 then
    local v = tonumber(digits)
    if negative then v = -v end
    if v >= INT_MIN and v <= INT_MAX then return v end
  end
  local limit = negative and "9223372036854775808" or "9223372036854775807"
  if #digits > 19 or (#digits == 19 and digits > limit) then digits = limit end
  if negative then return { INT_MIN, "-" .. digits } end
  return { INT_MAX, digits }
end

local function decode(s)
  local n = #s
  local p = 1 -- 1-based position of the current character; json-c's char_offset is p - 1
  local c = 1 -- current byte (json-c starts with '\1')
  local depth, lvl = 0, 1 -- lvl = depth + 1 indexes the per-level arrays
  local st, sv, cur, curnode, fld = { EATWS }, { START }, {}, {}, {}
  local err = SUCCESS
  local obj, quote_char, st_pos, ucs, pb
  local done = false

  while true do
    if p > n then -- PEEK_CHAR at the end of the input
      if depth == 0 and st[lvl] == EATWS and sv[lvl] == FINISH then err = SUCCESS
      else err = CONTINUE end
      break
    end
    c = byte(s, p)
    local redo = true
    while redo do
      redo = false
      local state = st[lvl]
      if state == EATWS then
        local q = find(s, "[^ \t\n\v\f\r]", p)
        if q == nil then
          p = n + 1
          if depth == 0 and sv[lvl] == FINISH then err = SUCCESS else err = CONTINUE end
          done = true; break
        end
        p = q; c = byte(s, q)
        if c == 47 then -- '/'
          st[lvl] = COMMENT_START
        else
          st[lvl] = sv[lvl]; redo = true
        end
      elseif state == START then
        if c == 123 then -- '{'
          local node = { keys = {}, vals = {} }
          cur[lvl] = wrap(node); curnode[lvl] = node
          st[lvl] = EATWS; sv[lvl] = FIELD_START
        elseif c == 91 then -- '['
          local node = { items = {}, n = 0 }
          cur[lvl] = wrap(node); curnode[lvl] = node
          st[lvl] = EATWS; sv[lvl] = ARRAY
        elseif c == 110 or c == 78 then -- 'n', 'N'
          st[lvl] = NULL_STATE; pb = ""; st_pos = 0; redo = true
        elseif c == 34 or c == 39 then -- '"', "'"
          st[lvl] = STRING; pb = {}; quote_char = c
        elseif c == 116 or c == 84 or c == 102 or c == 70 then -- 't', 'T', 'f', 'F'
          st[lvl] = BOOLEAN; pb = ""; st_pos = 0; redo = true
        elseif (c >= 48 and c <= 57) or c == 45 then -- digit, '-'
          st[lvl] = NUMBER; redo = true
        else
          err = ERROR_PARSE_UNEXPECTED; done = true; break
        end
      elseif state == FINISH then
        if depth == 0 then done = true; break end
        obj = cur[lvl]
        st[lvl] = EATWS; sv[lvl] = START; cur[lvl] = nil; curnode[lvl] = nil; fld[lvl] = nil
        depth = depth - 1; lvl = lvl - 1
        redo = true
      elseif state == NULL_STATE then
        pb = pb .. char(c)
        local m = st_pos < 4 and st_pos + 1 or 4
        if lower(sub(pb, 1, m)) ~= sub("null", 1, m) then
          err = ERROR_PARSE_NULL; done = true; break
        end
        if st_pos == 4 then
          cur[lvl] = NULL; sv[lvl] = FINISH; st[lvl] = EATWS; redo = true
        else
          st_pos = st_pos + 1
        end
      elseif state == COMMENT_START then
        if c == 42 then st[lvl] = COMMENT -- '*'
        elseif c == 47 then st[lvl] = COMMENT_EOL -- '/'
        else err = ERROR_PARSE_COMMENT; done = true; break end
      elseif state == COMMENT or state == COMMENT_EOL then
        local q = find(s, state == COMMENT and "[%*%z]" or "[\n%z]", p)
        if q == nil then p = n + 1; err = CONTINUE; done = true; break end
        p = q; c = byte(s, q)
        if c == 0 then p = p + 1; done = true; break end
        st[lvl] = state == COMMENT and COMMENT_END or EATWS
      elseif state == COMMENT_END then
        st[lvl] = c == 47 and EATWS or COMMENT
      elseif state == STRING or state == FIELD then
        local q = find(s, quote_char == 34 and '["\\%z]' or "['\\%z]", p)
        if q == nil then p = n + 1; err = CONTINUE; done = true; break end
        if q > p then pb[#pb + 1] = sub(s, p, q - 1) end
        p = q; c = byte(s, q)
        if c == 0 then p = p + 1; done = true; break end
        if c == quote_char then
          local text = concat(pb)
          if state == STRING then
            cur[lvl] = text; sv[lvl] = FINISH
          else
            fld[lvl] = match(text, "^[^%z]*"); sv[lvl] = FIELD_END
          end
          st[lvl] = EATWS
        else
          sv[lvl] = state; st[lvl] = STRING_ESCAPE
        end
      elseif state == STRING_ESCAPE then
        local simple = SIMPLE_ESCAPES[c]
        if simple then
          pb[#pb + 1] = simple; st[lvl] = sv[lvl]
        elseif c == 117 then -- 'u'
          ucs = 0; st_pos = 0; st[lvl] = ESCAPE_UNICODE
        else
          err = ERROR_PARSE_STRING; done = true; break
        end
      elseif state == ESCAPE_UNICODE then
        local got_high = 0
        while true do
          local digit = HEX[c]
          if digit == nil then
            -- json-c's strchr() also "finds" NUL, then stops at it one character later
            if c == 0 then p = p + 1 else err = ERROR_PARSE_STRING end
            done = true; break
          end
          ucs = ucs + digit * HEX_WEIGHT[st_pos]
          st_pos = st_pos + 1
          if st_pos == 4 then
            local pending = false
            if got_high ~= 0 then
              if is_low_surrogate(ucs) then
                ucs = (got_high - 0xD800) * 1024 + (ucs - 0xDC00) + 0x10000
              else
                pb[#pb + 1] = REPLACEMENT_CHAR
              end
              got_high = 0
            end
            if ucs < 0x800 then
              pb[#pb + 1] = utf8_char(ucs)
            elseif is_high_surrogate(ucs) then
              got_high = ucs
              if p ~= n and p + 1 ~= n and byte(s, p + 1) == 92 and byte(s, p + 2) == 117 then
                p = p + 3
                if p > n then
                  pb[#pb + 1] = REPLACEMENT_CHAR; err = CONTINUE; done = true; break
                end
                c = byte(s, p); ucs = 0; st_pos = 0; pending = true
              else
                pb[#pb + 1] = REPLACEMENT_CHAR
              end
            elseif is_low_surrogate(ucs) or ucs >= 0x110000 then
              pb[#pb + 1] = REPLACEMENT_CHAR
            else
              pb[#pb + 1] = utf8_char(ucs)
            end
            if not pending then st[lvl] = sv[lvl]; break end
          else
            p = p + 1
            if p > n then
              if got_high ~= 0 then pb[#pb + 1] = REPLACEMENT_CHAR end
              err = CONTINUE; done = true; break
            end
            c = byte(s, p)
          end
        end
        if done then break end
      elseif state == BOOLEAN then
        pb = pb .. char(c)
        local lowered = lower(pb)
        local mt = st_pos < 4 and st_pos + 1 or 4
        local mf = st_pos < 5 and st_pos + 1 or 5
        if sub(lowered, 1, mt) == sub("true", 1, mt) then
          if st_pos == 4 then
            cur[lvl] = true; sv[lvl] = FINISH; st[lvl] = EATWS; redo = true
          else
            st_pos = st_pos + 1
          end
        elseif sub(lowered, 1, mf) == sub("false", 1, mf) then
          if st_pos == 5 then
            cur[lvl] = false; sv[lvl] = FINISH; st[lvl] = EATWS; redo = true
          else
            st_pos = st_pos + 1
          end
        else
          err = ERROR_PARSE_BOOLEAN; done = true; break
        end
      elseif state == NUMBER then
        local q = find(s, "[^0-9%.%+%-eE]", p)
        if q == nil then p = n + 1; err = CONTINUE; done = true; break end
        local value = parse_number(sub(s, p, q - 1))
        p = q; c = byte(s, q)
        if value == nil then err = ERROR_PARSE_NUMBER; done = true; break end
        cur[lvl] = value; sv[lvl] = FINISH; st[lvl] = EATWS; redo = true
      elseif state == ARRAY or state == ARRAY_AFTER_SEP then
        if c == 93 then -- ']'
          sv[lvl] = FINISH; st[lvl] = EATWS
        else
          if depth >= MAX_DEPTH - 1 then err = ERROR_DEPTH; done = true; break end
          st[lvl] = ARRAY_ADD
          depth = depth + 1; lvl = lvl + 1
          st[lvl] = EATWS; sv[lvl] = START
          redo = true
        end
      elseif state == ARRAY_ADD then
        local node = curnode[lvl]
        local k = node.n + 1
        node.items[k] = obj; node.n = k
        sv[lvl] = ARRAY_SEP; st[lvl] = EATWS; redo = true
      elseif state == ARRAY_SEP then
        if c == 93 then sv[lvl] = FINISH; st[lvl] = EATWS
        elseif c == 44 then sv[lvl] = ARRAY_AFTER_SEP; st[lvl] = EATWS
        else err = ERROR_PARSE_ARRAY; done = true; break end
      elseif state == FIELD_START or state == FIELD_START_AFTER_SEP then
        if c == 125 then -- '}'
          sv[lvl] = FINISH; st[lvl] = EATWS
        elseif c == 34 or c == 39 then
          quote_char = c; pb = {}; st[lvl] = FIELD
        else
          err = ERROR_PARSE_OBJECT_KEY_NAME; done = true; break
        end
      elseif state == FIELD_END then
        if c == 58 then sv[lvl] = OBJECT_VALUE; st[lvl] = EATWS -- ':'
        else err = ERROR_PARSE_OBJECT_KEY_SEP; done = true; break end
      elseif state == OBJECT_VALUE then
        if depth >= MAX_DEPTH - 1 then err = ERROR_DEPTH; done = true; break end
        st[lvl] = OBJECT_VALUE_ADD
        depth = depth + 1; lvl = lvl + 1
        st[lvl] = EATWS; sv[lvl] = START
        redo = true
      elseif state == OBJECT_VALUE_ADD then
        object_set(curnode[lvl], fld[lvl], obj)
        fld[lvl] = nil
        sv[lvl] = OBJECT_SEP; st[lvl] = EATWS; redo = true
      else -- OBJECT_SEP
        if c == 125 then sv[lvl] = FINISH; st[lvl] = EATWS
        elseif c == 44 then sv[lvl] = FIELD_START_AFTER_SEP; st[lvl] = EATWS
        else err = ERROR_PARSE_OBJECT_VALUE_SEP; done = true; break end
      end
    end
    if done then break end
    p = p + 1 -- ADVANCE_CHAR; a NUL ends the parse
    if c == 0 then break end
  end

  if c == 0 and st[lvl] ~= FINISH and sv[lvl] ~= FINISH then err = ERROR_PARSE_EOF end
  if err == SUCCESS then
    local root = cur[lvl]
    if type(root) == "userdata" then return root end
    if root ~= nil and root ~= NULL then return wrap({ value = root }) end
  end
  return nil, err, ERROR_TEXT[err] .. " at offset " .. (p - 1)
end

-- Module functions.
local json = {}

function json.decode(text)
  local tt = type(text)
  if tt ~= "string" then
    if tt ~= "number" then argerror(1, "decode", "string", text) end
    text = tostring(text)
  end
  return decode(text)
end

function json.encode(...)
  if select("#", ...) == 0 then return wrap({ keys = {}, vals = {} }) end
  local value = ...
  if type(value) == "userdata" and nodes[value] then return value end
  local stored = to_stored(value, 1, "encode")
  if type(stored) == "userdata" then return stored end
  return wrap({ value = stored })
end

json.new = json.encode

function json.strerror(code)
  local number = tonumber(code)
  if number == nil then argerror(1, "strerror", "number", code) end
  return ERROR_TEXT[truncate(number)] or "unknown error"
end

-- Reference counting is Lua's garbage collector here; kept for scripts written for json-c.
function json.free(obj)
  if nodes[obj] == nil then argerror(1, "free", TYPE_NAME, obj) end
end

function json.addref(obj)
  if nodes[obj] == nil then argerror(1, "addref", TYPE_NAME, obj) end
  return true
end

json.ERROR_DEPTH = ERROR_DEPTH
json.ERROR_PARSE_EOF = ERROR_PARSE_EOF
json.ERROR_PARSE_UNEXPECTED = ERROR_PARSE_UNEXPECTED
json.ERROR_PARSE_NULL = ERROR_PARSE_NULL
json.ERROR_PARSE_BOOLEAN = ERROR_PARSE_BOOLEAN
json.ERROR_PARSE_NUMBER = ERROR_PARSE_NUMBER
json.ERROR_PARSE_ARRAY = ERROR_PARSE_ARRAY
json.ERROR_PARSE_OBJECT_KEY_NAME = ERROR_PARSE_OBJECT_KEY_NAME
json.ERROR_PARSE_OBJECT_KEY_SEP = ERROR_PARSE_OBJECT_KEY_SEP
json.ERROR_PARSE_OBJECT_VALUE_SEP = ERROR_PARSE_OBJECT_VALUE_SEP
json.ERROR_PARSE_STRING = ERROR_PARSE_STRING
json.ERROR_PARSE_COMMENT = ERROR_PARSE_COMMENT

return json
