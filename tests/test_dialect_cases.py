"""thrLua snippets and what thrLua prints for them, run through translate + lupa.lua51.

Every expected output below was produced by thrLua itself (``rclua`` built from
SparkPost/thrlua f201931) running the same snippet through the harness in ``HARNESS``.
One place where the emulator knowingly differs is not listed here but tested in
test_dialect_runtime.py: error messages raised inside helpers name no variable.
"""

from __future__ import annotations

import lupa.lua51 as lua51
import pytest

from momentum_httpsrv.lua.dialect import install_dialect_runtime, translate

# Runs `source` as chunk `name`, collecting what it prints and the error it dies with.
HARNESS = """
local source, name = ...
local out = {}
print = function(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  out[#out + 1] = table.concat(parts, "\\t")
end
local chunk, problem = loadstring(source, name)
if not chunk then return problem end
local ok, err = pcall(chunk)
if not ok then out[#out + 1] = tostring(err) end
return table.concat(out, "\\n")
"""

CASES: list[tuple[str, str, str]] = [
    # -- every operator -------------------------------------------------------------------
    ("band", "print(5 & 3)", "1"),
    ("bor", "print(5 | 3)", "7"),
    ("bxor", "print(5 ^^ 3)", "6"),
    ("shl", "print(1 << 4)", "16"),
    ("shr", "print(256 >> 4)", "16"),
    ("idiv", "print(7 \\ 2, -7 \\ 2, 7.5 \\ 2)", "3\t-4\t3"),
    ("idiv by zero", "print(1 \\ 0 == math.huge, -1 \\ 0 == -math.huge)", "true\ttrue"),
    ("bnot", "print(~0, ~0x54)", "-1\t-85"),
    ("not equal", "print(1 != 2, 1 != 1, 'a' != 'a')", "true\tfalse\tfalse"),
    ("bang", "print(!nil, !1, !!false)", "true\tfalse\tfalse"),
    # -- thrLua's precedence (not C's) ------------------------------------------------------
    ("shl over add", "print(1 << 2 + 1)", "5"),
    ("bor with add, left to right", "print(2 | 1 + 1)", "4"),
    ("concat below bor", 'print("a" .. 1 | 2)', "a3"),
    ("add then bor", "print(1 + 2 | 4)", "7"),
    ("mul then shl", "print(2 * 3 << 1)", "12"),
    ("shl then mul", "print(1 << 3 * 2)", "16"),
    ("sub then band", "print(6 - 4 & 3)", "2"),
    ("band then sub", "print(6 & 3 - 1)", "1"),
    ("bor before equality", "print(1 | 2 == 3)", "true"),
    ("pow before bor", "print(2 ^ 3 | 1, 2 | 3 ^ 2)", "9\t11"),
    ("bnot before add", "print(~1 + 1)", "-1"),
    ("pow before bnot", "print(~2 ^ 2)", "-5"),
    ("minus before band", "print(-2 & 7, - 2 ^^ 1)", "6\t-1"),
    ("bang before equality", "print(!true == false)", "true"),
    ("idiv then mul", "print(10 \\ 3 * 3, 10 * 3 \\ 4, 17 % 5 \\ 2)", "9\t7\t1"),
    ("shifts left to right", "print(1 << 2 >> 1)", "2"),
    ("band then bor", "print(12 & 10 | 1)", "9"),
    ("bor then band, same level", "print(12 | 10 & 1)", "0"),
    ("bxor then band", "print(5 ^^ 3 & 1)", "0"),
    ("comparison below bor", "print(1 < 2 | 4)", "true"),
    ("length operand", 'print(#"abc" << 1)', "6"),
    ("concat of shl", "print(1 .. 2 << 1)", "14"),
    ("and/or operands", "print(true and 1 | 2, nil or 4 \\ 3)", "3\t1"),
    # -- operands of every shape ------------------------------------------------------------
    ("field and index operands", "local t = {n = 6}; print(t.n & 3, t['n'] | 1)", "2\t7"),
    ("method call operand",
     "local o = {v = function(self) return 12 end}; print(o:v() >> 2)", "3"),
    ("call operand", "print(math.max(3, 5) & 4)", "4"),
    ("string method operand", 'local s = "x"; print(#s:rep(3) | 8)', "11"),
    ("parenthesised operands", "print((1 | 2) * (4 & 6))", "12"),
    ("bnot of hex", "print(0xFF & ~0x0F)", "240"),
    ("nested in call arguments", "print(string.format('%x', 0xF0 | 0x0F))", "ff"),
    ("inside table constructor", "local t = {1 | 2, k = 4 << 1}; print(t[1], t.k)", "3\t8"),
    ("inside index", "local t = {'a', 'b', 'c'}; print(t[1 | 2])", "c"),
    ("bang before call and parens", "print(!tostring(1), !(1 == 2))", "false\ttrue"),
    ("multi-line expression", "local v = 1 |\n  2 |\n  4\nprint(v)", "7"),
    ("return of an operation", "local function f(x) return x << 1 end print(f(21))", "42"),
    ("while condition", "local n = 0; while n != 3 do n = n + 1 end print(n)", "3"),
    # -- 64-bit integer conversion ----------------------------------------------------------
    ("negative shift count", "print(1 << -1, 1 >> -1)", "-9.2233720368548e+18\t0"),
    ("arithmetic right shift", "print(-16 >> 2)", "-4"),
    ("shifting negatives", "print(- 1 << 0, -1 << 1, -(2^62) << 1)",
     "-1\t-2\t-9.2233720368548e+18"),
    ("shl wraps around", "print(3 << 62, 0x7FFFFFFF << 33, -3 << 63)",
     "-4.6116860184274e+18\t-8589934592\t-9.2233720368548e+18"),
    ("shift count modulo 64", "print(1 << 64, 1 >> 64)", "1\t1"),
    ("beyond 2^53 rounds once", "print(string.format('%.0f', (2^62 + 2^10) | 1))",
     "4611686018427388928"),
    ("out of range casts", "print(2^63 | 0, -(2^63) | 0, 0/0 | 0)",
     "-9.2233720368548e+18\t-9.2233720368548e+18\t-9.2233720368548e+18"),
    ("truncation toward zero", "print(3.9 | 0, -3.9 | 0, -0.5 | 0)", "3\t-3\t0"),
    ("no negative zero", "local z = -0.0; print(1 / (z | z), 1 / (z << 1), 1 / (z >> 3))",
     "inf\tinf\tinf"),
    ("bnot of large", "print(~(2^63))", "9.2233720368548e+18"),
    ("string operands", 'print("12" & 10, "0x10" | 1)', "8\t17"),
    ("string idiv divides", 'print("7" \\ 2)', "3.5"),
    # -- metamethods ------------------------------------------------------------------------
    ("all bitwise metamethods",
     "local mt = {}\n"
     "for _, e in ipairs({'or', 'and', 'xor', 'shl', 'shr', 'not'}) do\n"
     "  mt['__' .. e] = function() return e end\n"
     "end\n"
     "local t = setmetatable({}, mt)\n"
     "print(t | 1, 1 & t, t ^^ t, t << 1, 2 >> t, ~t)",
     "or\tand\txor\tshl\tshr\tnot"),
    ("metamethod of second operand",
     "local t = setmetatable({}, {__or = function(a, b) return type(a) .. type(b) end})\n"
     "print(1 | t)", "numbertable"),
    ("__not gets the operand twice",
     "local t = setmetatable({}, {__not = function(a, b) return rawequal(a, b) end})\n"
     "print(~t)", "true"),
    ("idiv uses __div",
     "local t = setmetatable({}, {__div = function() return 'div' end}); print(t \\ 2)", "div"),
    ("idiv ignores __intdiv",
     "print(pcall(function()\n"
     "  return setmetatable({}, {__intdiv = function() return 1 end}) \\ 2\nend))",
     "false\tt.lua:2: attempt to perform arithmetic on a table value"),
    # -- octal and other numerals -----------------------------------------------------------
    ("octal literals", "print(0660, 010, 0010, 07, 0)", "432\t8\t8\t7\t0"),
    ("ordinary numerals", "print(-010, 0x1F, 0.5, 1e2, 00, .5)", "-8\t31\t0.5\t100\t0\t0.5"),
    ("octal in arithmetic", "print(0660 + 1, 10 + 010, 0660 | 1)", "433\t18\t433"),
    ("hex saturates like strtol", "print(0xFFFFFFFFFFFFFFFF)", "9.2233720368548e+18"),
    # -- string escapes ---------------------------------------------------------------------
    ("hex escapes", 'print("\\x41\\x42", "\\x410")', "AB\tA0"),
    ("unicode escapes", 'print("\\u00e9" == "\\195\\169", #"\\u20ac", #"\\u01f600")',
     "true\t3\t4"),
    ("eight-digit unicode escape", 'print(#"\\u70008000", #"\\uFFFFFFFF")', "6\t1"),
    ("escapes next to ordinary ones", "print('\\65\\x42\\n' .. \"\\u0043\")", "AB\nC"),
    ("long strings untouched", "print([[\\x41]], [==[a ]] ~= 010 ]==])", "\\x41\ta ]] ~= 010 "),
    ("escaped backslash is not an escape", "print('\\\\x41')", "\\x41"),
    # -- operator-looking text inside strings and comments ----------------------------------
    ("operators inside strings", "print(\"a != b | c & d\", 'x << 1 \\\\ ~y')",
     "a != b | c & d\tx << 1 \\ ~y"),
    ("operators inside comments", "print(1) -- a | b != c\n--[[ 0660 & ~x ]] print(2)",
     "1\n2"),
    ("long comment with level", "--[==[ 1 << 2 ]] ]==] print(010)", "8"),
    # -- generic for and __iter ------------------------------------------------------------
    ("__iter object",
     "local t = setmetatable({}, {__iter = function(self)\n"
     "  return function(_, i) if i < 3 then return i + 1 end end, self, 0\nend})\n"
     "local seen = {}\nfor i in t do seen[#seen + 1] = i end\nprint(table.concat(seen, ' '))",
     "1 2 3"),
    ("__iter with ipairs", "local t = setmetatable({'x', 'y'}, {__iter = ipairs})\n"
     "for i, v in t do print(i, v) end", "1\tx\n2\ty"),
    ("__iter on a call result",
     "local function obj()\n"
     "  return setmetatable({}, {__iter = function() return ipairs({'p', 'q'}) end})\n"
     "end\nfor _, v in obj() do print(v) end", "p\nq"),
    ("pairs still works", "for k, v in pairs({a = 1}) do print(k, v) end", "a\t1"),
    ("ipairs still works", "for i, v in ipairs({'x', 'y'}) do print(i, v) end", "1\tx\n2\ty"),
    ("plain iterator function",
     "local function gen() local n = 0 return function() n = n + 1\n"
     "  if n <= 2 then return n end end end\nfor i in gen() do print(i) end", "1\n2"),
    ("iterator in a variable",
     "local it = ('a,b'):gmatch('[^,]+'); for w in it do print(w) end", "a\nb"),
    ("next, t form", "for k, v in next, {z = 1} do print(k, v) end", "z\t1"),
    ("table without __iter",
     "print(pcall(function() for x in {} do end end))",
     "false\tt.lua:1: attempt to call a table value"),
    # -- runtime errors report the source line ----------------------------------------------
    ("error line after rewrites",
     "local a = 1 | 2\nlocal b = 0660\nlocal c = ({}) | 1",
     "t.lua:3: attempt to perform bitwise operation on a table value"),
    ("error line of a stock operation",
     "local x = 1 != 2\n\nlocal y = nil + (1 << 2)",
     "t.lua:3: attempt to perform arithmetic on a nil value"),
    ("error after a multi-line table",
     "local t = {\n  a = 1 | 2,\n  b = ~0,\n  c = '\\x41',\n}\nerror('boom')", "t.lua:6: boom"),
    ("error inside a returned operation",
     "local function f()\n  return {} | 1\nend\nf()",
     "t.lua:2: attempt to perform bitwise operation on a table value"),
    ("idiv error line", "local a = 1\nlocal b = a \\ {}",
     "t.lua:2: attempt to perform arithmetic on a table value"),
    ("bnot error line", "local a = 1\n\nlocal b = ~{}",
     "t.lua:3: attempt to perform bitwise operation on a table value"),
    # -- syntax errors are left to Lua, at thrLua's line ------------------------------------
    ("unclosed paren after rewrite", "local a = 1 | 2\nlocal b = (3 & 4\nprint(a)",
     "t.lua:3: ')' expected (to close '(' at line 2) near 'print'"),
    ("operator without operand", "x = 1 |\n+ 2", "t.lua:2: unexpected symbol near '+'"),
    # thrLua's ``~`` is unary only (bitwise not); ``~=`` is not-equal; a binary ``~`` is an error.
    ("binary tilde", "x = 1 ~ 2; print(x)", "t.lua:1: unexpected symbol near '~'"),
    ("binary tilde on a later line", "local a, b = 5, 3\nx = a\n  ~ b\nprint(x)",
     "t.lua:3: unexpected symbol near '~'"),
    ("binary tilde after a rewrite", "x = 1 | 2 ~ 3", "t.lua:1: unexpected symbol near '~'"),
    ("binary tilde after unary tilde", "x = ~1 ~ 2", "t.lua:1: unexpected symbol near '~'"),
    ("binary tilde inside unary operand", "x = ~(1 ~ 2)", "t.lua:1: ')' expected near '~'"),
    ("tilde space equals", "print(1 ~ = 2)", "t.lua:1: ')' expected near '~'"),
    ("unary tilde forms", "print(~1, ~ 1, ~~1)", "-2\t-2\t1"),
    ("tilde equals is not-equal", "local a, b = 5, 3\nprint(a ~= b, a ~= 5, ~a ~= b)",
     "true\tfalse\ttrue"),
]


@pytest.mark.parametrize(("snippet", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_snippet_prints_what_thrlua_prints(snippet: str, expected: str) -> None:
    lua = lua51.LuaRuntime(encoding="latin-1", unpack_returned_tuples=True)
    install_dialect_runtime(lua)
    translated = translate(snippet, "@t.lua")
    assert translated.count("\n") == snippet.count("\n")
    assert lua.execute(HARNESS, translated, "@t.lua") == expected


def test_case_table_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({name for name, _, _ in CASES}) == len(CASES)
