-- Collected by our pytest plugin: TAP from Test.More, run in the Momentum environment.
require("Test.More")
plan(7)

is(0x0F & 0x3C, 0x0C, "bitwise and")
is(1 << 2 + 1, 5, "shift binds below +")
is(0660, 432, "leading-zero octal")
ok(1 != 2, "not-equal")
is("\x41\u00e9", "A\195\169", "hex and unicode escapes")
is(msys.core.get_now_ts() > 0, true, "msys.core autoloads")
local j = require("json").decode('{"a": [1, 2]}')
is(tostring(j), '{ "a": [ 1, 2 ] }', "json-c text")
