-- msys.getopt: option parsing for console commands (our own implementation; Momentum's
-- getopt.lua is not public).
--
--   local getopt = require("msys.getopt")
--   local opts, args = getopt.getopt(cc, "vn:", { verbose = "v", count = "n" })
--   if not opts then print(args); return end   -- args is the error message
--
-- `words` is a command_construct (its argv[1..argc-1] are used) or a list of strings.
-- `optstring` names one-letter options; a letter followed by ":" takes a value
-- (`-n 5`, `-n5`); flags may be bundled (`-vx`). `long` maps long names to letters of
-- `optstring` (`--count 5`, `--count=5`, `--verbose`). `--` ends the options.
-- Options may come before or after the other words.
-- Returns `opts` (letter -> true, or the value; the last one wins) and the remaining
-- words as a list, or nil and a message naming the bad option.
local getopt = {}

local function word_list(words)
  if type(words) == "table" then return words end
  local list = {}
  for i = 1, words.argc - 1 do list[i] = words.argv[i] end
  return list
end

local function takes_value(optstring, letter)
  local at = optstring:find(letter, 1, true)
  if at == nil or letter == ":" then return nil end
  return optstring:sub(at + 1, at + 1) == ":"
end

function getopt.getopt(words, optstring, long)
  if type(optstring) ~= "string" then
    error("bad argument #2 to 'getopt' (string expected, got " .. type(optstring) .. ")", 2)
  end
  long = long or {}
  local list, opts, rest = word_list(words), {}, {}
  local i = 1
  while i <= #list do
    local word = list[i]
    if word == "--" then
      for j = i + 1, #list do rest[#rest + 1] = list[j] end
      break
    elseif word:sub(1, 2) == "--" then
      local name, value = word:match("^%-%-([^=]+)=(.*)$")
      name = name or word:sub(3)
      local letter = long[name]
      local needs = letter and takes_value(optstring, letter)
      if needs == nil then return nil, "unknown option --" .. name end
      if needs and value == nil then
        i = i + 1
        value = list[i]
        if value == nil then return nil, "option --" .. name .. " needs a value" end
      elseif not needs and value ~= nil then
        return nil, "option --" .. name .. " takes no value"
      end
      opts[letter] = needs and value or true
    elseif word:sub(1, 1) == "-" and #word > 1 then
      local at = 2
      while at <= #word do
        local letter = word:sub(at, at)
        local needs = takes_value(optstring, letter)
        if needs == nil then return nil, "unknown option -" .. letter end
        if needs then
          local value = word:sub(at + 1)
          if value == "" then
            i = i + 1
            value = list[i]
            if value == nil then return nil, "option -" .. letter .. " needs a value" end
          end
          opts[letter] = value
          break
        end
        opts[letter] = true
        at = at + 1
      end
    else
      rest[#rest + 1] = word
    end
    i = i + 1
  end
  return opts, rest
end

return getopt
