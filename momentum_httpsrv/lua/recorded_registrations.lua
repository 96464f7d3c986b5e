-- Registrations a script makes for Momentum's mail paths, which this emulator does not
-- run: msys.adaptive.registerRules and msys.http_lua.registerModule are checked and
-- recorded so `check --verbose` and the console can show what a site set up.
-- Called with the prelude's api (preload); returns the functions Python reads them with.
local api = ...
local type, error, pairs, ipairs, tostring = type, error, pairs, ipairs, tostring
local sort, concat = table.sort, table.concat
local format, match =
  string.format, string.match  -- whatever scripts do to string

local recorded = { adaptive = {}, adaptive_mode = nil, delivery = {} }

-- msys.adaptive (Momentum 3 ad-custom-rules): { [domain] = alias | { responses =
-- { { code = PCRE, trigger = "1" | "n/secs", action = {…}, message =, phase = } … },
-- configuration = { … } } }
local function check_rules(rules)
  for domain, entry in pairs(rules) do
    if type(domain) ~= "string" then
      return "domain keys must be strings, got " .. type(domain)
    end
    if type(entry) == "string" then
      if type(rules[entry]) == "string" then
        return format("'%s' is an alias of '%s', which is an alias too (aliases are not"
          .. " recursive)", domain, entry)
      end
    elseif type(entry) == "table" then
      local responses = entry.responses
      if responses ~= nil and type(responses) ~= "table" then
        return domain .. ": responses must be a table"
      end
      for i, response in ipairs(responses or {}) do
        local where = format("%s: responses[%d]", domain, i)
        if type(response) ~= "table" then return where .. " must be a table" end
        if type(response.code) ~= "string" then return where .. ".code must be a PCRE string" end
        local ok, _, message = api.pcall(msys.pcre.match, "", response.code)
        if not ok or message then
          return where .. ".code is not a valid PCRE: " .. tostring(message or _)
        end
        local trigger = tostring(response.trigger)
        if not (match(trigger, "^%d+$") or match(trigger, "^%d+/%d+$")) then
          return where .. ".trigger must be \"1\" or \"<events>/<seconds>\", got " .. trigger
        end
        if type(response.action) ~= "table" then return where .. ".action must be a table" end
      end
      if entry.configuration ~= nil and type(entry.configuration) ~= "table" then
        return domain .. ": configuration must be a table"
      end
    else
      return domain .. ": a rule set or an alias string expected, got " .. type(entry)
    end
  end
end

local adaptive = {}
function adaptive.registerRules(rules, mode)
  if type(rules) ~= "table" then
    error("bad argument #1 to 'registerRules' (table expected, got " .. type(rules) .. ")", 2)
  end
  mode = mode or "augment"
  if mode ~= "augment" and mode ~= "replace" then
    error("bad argument #2 to 'registerRules' ('augment' or 'replace' expected)", 2)
  end
  local problem = check_rules(rules)
  if problem then error("msys.adaptive.registerRules: " .. problem, 2) end
  if mode == "replace" then recorded.adaptive = {} end
  for domain, entry in pairs(rules) do recorded.adaptive[domain] = entry end
  recorded.adaptive_mode = mode
end
api.preload("msys.adaptive", function() return adaptive end, true)

-- msys.http_lua: a delivery module for the HTTP delivery method; its callouts
-- (build_request, handle_response, …) would run when Momentum delivers a message.
local http_lua = {}
function http_lua.registerModule(name, tbl)
  local hooks = api.module_hooks_of(name, tbl)
  recorded.delivery[#recorded.delivery + 1] = { name = name, tbl = tbl, hooks = hooks }
end
api.preload("msys.http_lua", function() return http_lua end, true)

local recorded_api = {}

-- Lines describing what was recorded, for `check --verbose` and `module list`.
function recorded_api.summary()
  local lines = {}
  local domains = {}
  for domain in pairs(recorded.adaptive) do domains[#domains + 1] = domain end
  sort(domains)
  if #domains > 0 then
    lines[#lines + 1] = format("adaptive rules (%s): %s",
      recorded.adaptive_mode, concat(domains, ", "))
  end
  for _, module in ipairs(recorded.delivery) do
    lines[#lines + 1] = format("http_lua delivery module %s: %s",
      module.name, concat(module.hooks, ", "))
  end
  return lines
end

return recorded_api
