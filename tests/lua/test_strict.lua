-- require("strict") as thrLua ships it, and its compatibility with _TLS and _OSTLS.
require("strict")
require("Test.More")
plan(6)
_TLS.fred = true
is(_TLS.fred, true, "_TLS works under strict")
_OSTLS.wilma = true
is(_OSTLS.wilma, true, "_OSTLS works under strict")
declared = nil
local ok, err = pcall(function() undeclared_here = 1 end)
is(ok, false, "assigning an undeclared global in a function fails")
like(err, "assign to undeclared variable 'undeclared_here'", "and says which")
error_like(function() return never_declared end, "variable 'never_declared' is not declared",
  "reading one fails too")
lives_ok(function() declared = 2 end, "a global declared in the main chunk may be assigned")
