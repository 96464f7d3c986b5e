-- msys.adaptive.registerRules and msys.http_lua.registerModule check what they record.
require("Test.More")
plan(6)
require("msys.adaptive")
lives_ok(function()
  msys.adaptive.registerRules({
    ["example.com"] = { responses = { {
      code = "^421 .* from (?<IPADDRESS>\\d+\\.\\d+\\.\\d+\\.\\d+)", trigger = "5/1",
      action = { "suspend", "4 hours" }, phase = "connect" } } },
    ["example.net"] = "example.com",
  }, "augment")
end, "a rule set and an alias register")
error_like(function() msys.adaptive.registerRules({ a = "b", b = "c" }) end,
  "aliases are not recursive", "an alias of an alias is refused")
error_like(function()
  msys.adaptive.registerRules({ a = { responses = { { code = "(", trigger = "1", action = {} } } } })
end, "not a valid PCRE", "a bad code pattern is refused")
error_like(function() msys.adaptive.registerRules({}, "merge") end, "'augment' or 'replace'",
  "an unknown registration type is refused")
local http = require("msys.http_lua")
lives_ok(function() http.registerModule("to-http", { build_request = function() end }) end,
  "a delivery module registers")
error_like(function() http.registerModule("x") end, "table expected", "it must be a table")
