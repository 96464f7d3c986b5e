"""Translator plumbing: lexer errors, the __iter rule, environments, caching, Test.More."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lupa.lua51 as lua51
import pytest

from momentum_httpsrv.lua import dialect
from momentum_httpsrv.lua.dialect import (
    PRELUDE,
    LuaDialectSyntaxError,
    StockLuaVMError,
    check_thrlua_vm,
    install_dialect_runtime,
    translate,
    translate_for_loader,
)
from momentum_httpsrv.lua.parser import NESTED_FOLD_LIMIT

SHIPPED_LUA = Path(__file__).resolve().parents[1] / "lua"


@pytest.fixture
def lua() -> lua51.LuaRuntime:
    runtime = lua51.LuaRuntime(encoding="latin-1", unpack_returned_tuples=True)
    install_dialect_runtime(runtime)
    return runtime


def run(lua: lua51.LuaRuntime, source: str, chunkname: str = "@t.lua") -> object:
    return lua.execute(translate(source, chunkname), name=chunkname)


# -- the VM: lupa's Lua 5.1 as vm/build_lupa.py builds it ----------------------------------


def test_installed_lupa_converts_numbers_as_thrlua() -> None:
    check_thrlua_vm(lua51.LuaRuntime())  # the VM the Makefile built: no error


def test_a_stock_lupa_is_refused_with_the_way_to_fix_it() -> None:
    class StockVM:  # stock lupa cannot be installed next to ours: its answer, by hand
        def eval(self, expression: str) -> object:
            assert expression == '"010" + 0'
            return 10

    with pytest.raises(StockLuaVMError, match=r"stock build .* make \.venv/bin/momentum-httpsrv"):
        install_dialect_runtime(StockVM())


# -- lexer errors: thrLua's message, chunk name and line ------------------------------------

LEXER_ERRORS = [
    ('a = "\\xyo"', "@x.lua", "x.lua:1: expected hex digit near '\"'"),
    ('a = 1\nb = "ok\\x4"', "@x.lua", "x.lua:2: expected hex digit near '\"ok'"),
    ('a = "\\u012"', "=cfg", "cfg:1: expected either 4, 6 or 8 hex digits for unicode escape "
     "near '\"'"),
    ('a = "\\65\\u0123456"', "=cfg", "cfg:1: expected either 4, 6 or 8 hex digits for unicode "
     "escape near '\"A'"),
    ("a = '\\u\r", "=cfg", "cfg:1: expected either 4, 6 or 8 hex digits for unicode escape "
     "near '''"),
    ('a = "\\300"', "=cfg", "cfg:1: escape sequence too large near '\"'"),
    ('a = "foo\nb = 1', "=cfg", "cfg:1: unfinished string near '\"foo'"),
    ('a = "foo', "=cfg", "cfg:1: unfinished string near '<eof>'"),
    ("a = [[\nfoo", "=cfg", "cfg:2: unfinished long string near '<eof>'"),
    ("--[==[\nfoo\n", "=cfg", "cfg:3: unfinished long comment near '<eof>'"),
    ("--[[\n[[\nfoo\n]]\n]]", "=cfg", "cfg:2: nesting of [[...]] is deprecated near '['"),
    ("a = [==x", "=cfg", "cfg:1: invalid long string delimiter near '[=='"),
    ("a = 08", "=cfg", "cfg:1: malformed number near '08'"),
    ("a = 1\n\nb = 0e5", "=cfg", "cfg:3: malformed number near '0e5'"),
    ('x = "\\xZZ"', 'x = "\\xZZ"', "[string \"x = \"\\xZZ\"\"]:1: expected hex digit near '\"'"),
    ("x = 08\ny = 1", "x = 08\ny = 1", "[string \"x = 08...\"]:1: malformed number near '08'"),
]


@pytest.mark.parametrize(("source", "chunkname", "message"), LEXER_ERRORS)
def test_lexer_errors_read_like_thrlua(
    lua: lua51.LuaRuntime, source: str, chunkname: str, message: str
) -> None:
    """What a loader reports: our error for thrLua-only rejections, Lua's for the rest."""
    translated, problem = translate_for_loader(source, chunkname)
    if problem is None:
        _, problem = lua.globals().loadstring(translated, chunkname)
    assert problem == message


def test_lexer_error_carries_line() -> None:
    with pytest.raises(LuaDialectSyntaxError) as raised:
        translate("a = 1\r\nb = 2\n\rc = '\\x'", "@f.lua")
    assert raised.value.line == 3
    assert raised.value.message == "expected hex digit"


def test_long_chunk_names_are_shortened_like_lua() -> None:
    with pytest.raises(LuaDialectSyntaxError) as raised:
        translate('"\\xq"', "@/" + "d" * 100 + "/script.lua")
    assert str(raised.value).startswith("...")
    assert str(raised.value).split(":")[0].endswith("/script.lua")


def test_loader_form_returns_message_instead_of_raising() -> None:
    assert translate_for_loader("print(1 != 2)", "=x") == ("print(1 ~= 2)", None)
    assert translate_for_loader('s = "\\xq"', "=x") == (
        None, "x:1: expected hex digit near '\"'")


# -- what gets rewritten --------------------------------------------------------------------

@pytest.mark.parametrize(("source", "rewritten"), [
    ("for k, v in pairs(t) do end", False),
    ("for i, v in ipairs(t) do end", False),
    ("for w in s:gmatch('x') do end", False),
    ("for w in string.gmatch(s, 'x') do end", False),
    ("for l in io.lines('f') do end", False),
    ("for k, v in next, t do end", False),
    ("for i = 1, 3 do end", False),
    ("for k, v in t do end", True),
    ("for k, v in doc.items do end", True),
    ("for k, v in json.decode(s) do end", True),
    ("for k, v in (pairs(t)) do end", True),
])
def test_iter_rule(source: str, rewritten: bool) -> None:
    assert (f"{dialect.HELPERS_NAME}.iter(" in translate(source, "=t")) is rewritten


def test_bang_gets_the_spaces_it_needs() -> None:
    assert translate("return!x", "=t") == "return not x"
    assert translate("if !!a then end", "=t") == "if not not a then end"
    assert translate("x=!(a)", "=t") == "x=not (a)"


def test_helper_prelude_goes_on_line_one_or_after_a_shebang() -> None:
    assert translate("x = 1 | 2", "=t").startswith(PRELUDE + "x = ")
    translated = translate("#!/usr/bin/env rclua\nx = 1 | 2\n", "=t")
    assert translated.startswith("#!/usr/bin/env rclua\n" + PRELUDE + "x = ")
    assert translated.count("\n") == 2


def test_token_level_rewrites_need_no_prelude() -> None:
    assert translate("print(0660, 1 != 2, !x, '\\x41')", "=t") == (
        "print(0660, 1 ~= 2, not x, '\\065')")  # numerals are the VM's (docs/lua-vm.md)


def test_source_whose_only_thrlua_trait_is_octal_numerals_is_returned_unchanged() -> None:
    source = "local mode = 0660\nlocal max = 0xFFFFFFFFFFFFFFFF\nreturn mode, max, 007\n"
    assert translate(source, "=t") is source  # the fast path: not even tokenized


# -- runtime behaviour ----------------------------------------------------------------------

def test_helpers_work_under_setfenv_and_module(lua: lua51.LuaRuntime) -> None:
    lua.globals().package.loaded["mod"] = None
    chunk = lua.compile(translate("return 6 | 1, ~0", "=sandboxed"))
    assert lua.eval("function(f) setfenv(f, {}) return f() end")(chunk) == (7, -1)
    module_source = "module('mod')\nvalue = 12 >> 2\n"
    lua.execute(translate(module_source, "=mod"))
    assert lua.eval("mod.value") == 3


def test_error_messages_point_at_the_users_line(lua: lua51.LuaRuntime) -> None:
    source = "local x\n\nlocal y = x | 1\n"
    with pytest.raises(lua51.LuaError, match=r"^t\.lua:3: attempt to perform bitwise "
                       r"operation on local 'x' \(a nil value\)"):
        run(lua, source)


def test_bitwise_on_boolean_blames_the_non_number(lua: lua51.LuaRuntime) -> None:
    with pytest.raises(lua51.LuaError, match="on a boolean value"):
        run(lua, "return 1 & true")
    with pytest.raises(lua51.LuaError, match="arithmetic on a string value"):
        run(lua, "return 'abc' \\ 1")


# -- long left folds: order, metamethods, errors ---------------------------------------------

LOGGING_OPERANDS = """\
local log = {}
local mt = {}
local function name(x) return type(x) == "table" and x.n or tostring(x) end
for _, event in ipairs({"or", "and", "xor", "shl", "shr", "div", "add", "sub"}) do
  mt["__" .. event] = function(a, b)
    log[#log + 1] = event .. "(" .. name(a) .. "," .. name(b) .. ")"
    return setmetatable({n = event}, mt)
  end
end
local function v(n)
  log[#log + 1] = "v" .. n
  return n == 1 and setmetatable({n = "t"}, mt) or n
end
"""


@pytest.mark.parametrize(("expression", "expected"), [
    ("v(1) | v(2)", "v1 v2 or(t,2)"),
    ("v(1) | v(2) & v(3) ^^ v(4)", "v1 v2 or(t,2) v3 and(or,3) v4 xor(and,4)"),
    ("v(1) << v(2) >> v(3) \\ v(4)", "v1 v2 shl(t,2) v3 shr(shl,3) v4 div(shr,4)"),
    ("v(1) | v(2) + v(3) - v(4) & v(5)", "v1 v2 or(t,2) v3 add(or,3) v4 sub(add,4) v5 and(sub,5)"),
    ("v(5) | v(1) | v(2)", "v5 v1 or(5,t) v2 or(or,2)"),
])
def test_chain_applies_each_operator_pairwise_as_soon_as_its_operand_is_ready(
    lua: lua51.LuaRuntime, expression: str, expected: str
) -> None:
    source = LOGGING_OPERANDS + f"local result = {expression}\nreturn table.concat(log, ' ')"
    assert run(lua, source) == expected


def test_500_operator_chain_calls_metamethods_in_order(lua: lua51.LuaRuntime) -> None:
    chain = " | ".join(["v(1)", *(f"v({n})" for n in range(2, 502))])
    log = run(lua, LOGGING_OPERANDS + f"local r = {chain}\nreturn table.concat(log, ' ')")
    expected = ["v1", "v2", "or(t,2)", *(f"v{n} or(or,{n})" for n in range(3, 502))]
    assert log == " ".join(expected)


def test_error_in_a_long_chain_names_the_operands_line_and_stops_there(
    lua: lua51.LuaRuntime,
) -> None:
    # 400 operators, one per line; operand 250 (on line 251) is nil
    lines = ["local function v(n) last_seen = n return n end", "local r = v(1)"]
    lines += [f"  | v({n})" if n != 250 else "  | nothing" for n in range(2, 402)]
    lines.append("return r")
    assert lines[251 - 1] == "  | nothing"
    with pytest.raises(lua51.LuaError, match=r"^t\.lua:251: attempt to perform bitwise "
                       r"operation on a nil value"):
        run(lua, "\n".join(lines))
    assert lua.eval("last_seen") == 249  # the operands after the failing one never ran


@pytest.mark.parametrize(("source", "message"), [
    ("local x = 1 | 2 | 3\nlocal y = 1 | 2 + {} | 3",
     r"^t\.lua:2: attempt to perform arithmetic on a table value"),
    ("local y = 1 | 2\n  & 3 \\ 'a'\n  | 4",
     r"^t\.lua:2: attempt to perform arithmetic on a string value"),
    ("local y = 1 | 2\n  & 3\n  | true",
     r"^t\.lua:3: attempt to perform bitwise operation on a boolean"),
    ("local function f()\n  return 1 | 2 | {}\nend\nf()",
     r"^t\.lua:2: attempt to perform bitwise operation on a table value"),
])
def test_chain_errors_point_at_the_users_line(
    lua: lua51.LuaRuntime, source: str, message: str
) -> None:
    with pytest.raises(lua51.LuaError, match=message):
        run(lua, source)


def test_arithmetic_inside_a_chain_coerces_strings_like_lua(lua: lua51.LuaRuntime) -> None:
    assert run(lua, "return 1 | '2' + '3' - 1 | 8, 7 & 3 * '2' % 4 | 16") == (13, 18)


def test_one_operator_is_a_direct_helper_call_naming_variable_operands() -> None:
    assert translate("x = 1 | 2", "=t") == PRELUDE + "x = __thrlua.bor(1 , 2)"
    assert translate("x = a | t.b", "=t") == PRELUDE + 'x = __thrlua.bor(a , t.b, ",a,.b")'
    assert translate("x = f() | 2 + c", "=t") == PRELUDE + "x = __thrlua.bor(f() , 2) + c"


def test_operators_of_one_fold_nest_and_carry_their_line_when_it_differs() -> None:
    assert translate("x = 1 | 2\n& 3", "=t") == (
        PRELUDE + 'x = __thrlua.band(__thrlua.bor(1 , 2)\n, 3, "2,,")')


def test_a_fold_past_the_nesting_limit_becomes_one_flat_chain() -> None:
    source = "x = " + " | ".join(["1"] * (NESTED_FOLD_LIMIT + 2))
    assert translate(source, "=t").startswith(PRELUDE + 'x = __thrlua.chain(1  )("|", 1  )(')


def test_iter_passes_callable_tables_without_iter(lua: lua51.LuaRuntime) -> None:
    source = (
        "local calls = 0\n"
        "local gen = setmetatable({}, {__call = function() calls = calls + 1\n"
        "  if calls < 3 then return calls end end})\n"
        "local seen = {}\nfor v in gen do seen[#seen + 1] = v end\n"
        "return table.concat(seen, ',')"
    )
    assert run(lua, source) == "1,2"


# -- caching --------------------------------------------------------------------------------

@pytest.fixture
def count_tokenize(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = dialect.tokenize

    def counting(source: str, chunkname: str) -> object:
        calls.append(chunkname)
        return real(source, chunkname)

    dialect.clear_memory_cache()
    monkeypatch.setattr(dialect, "tokenize", counting)
    monkeypatch.delenv(dialect.CACHE_DIR_ENV, raising=False)
    return calls


def test_memory_cache_translates_each_source_once(count_tokenize: list[str]) -> None:
    first = translate("x = 1 | 2", "=a")
    assert translate("x = 1 | 2", "=b") == first
    assert count_tokenize == ["=a"]


def test_source_without_candidates_skips_the_tokenizer(count_tokenize: list[str]) -> None:
    source = "local t = {}\nfor k, v in pairs(t) do print(k ~= v, 'x') end\n"
    assert translate(source, "=plain") is source
    assert count_tokenize == []


@pytest.mark.parametrize("via_env", [False, True])
def test_disk_cache_survives_memory_loss(
    count_tokenize: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, via_env: bool
) -> None:
    options: dict[str, Path] = {}
    if via_env:
        monkeypatch.setenv(dialect.CACHE_DIR_ENV, str(tmp_path))
    else:
        options["cache_dir"] = tmp_path
    first = translate("y = 3 << 1", "=d", **options)
    assert len(list(tmp_path.glob("*.lua"))) == 1
    dialect.clear_memory_cache()
    assert translate("y = 3 << 1", "=d", **options) == first
    assert count_tokenize == ["=d"]


def test_failed_translations_are_not_cached(count_tokenize: list[str]) -> None:
    for name in ("=one", "=two"):
        with pytest.raises(LuaDialectSyntaxError, match=name[1:]):
            translate("z = '\\xZZ'", name)
    assert count_tokenize == ["=one", "=two"]


# -- Test.More ------------------------------------------------------------------------------

TEST_MORE_SCRIPT = r"""
package.path = ... .. "/?.lua;" .. package.path
local lines = {}
local function collect(line) lines[#lines + 1] = line end
local T = require("Test.More")
T.out, T.err = collect, collect
plan(16)
ok(true, "ok")
nok(false, "nok")
is(1 + 1, 2, "is")
isnt("a", "b", "isnt")
like("hello", "^h", "like")
unlike("hello", "^x", "unlike")
cmp_ok(3, "!=", 2, "cmp_ok")
is_deeply({1, {a = {2}}}, {1, {a = {2}}}, "is_deeply")
eq_array({1, 2}, {1, 2}, "eq_array")
type_ok({}, "table", "type_ok")
error_like(function() error("boom") end, "bo+m", "error_like")
error_is(function() error("x", 0) end, "x", "error_is")
lives_ok(function() end, "lives_ok")
todo("not yet", 1)
is(1, 2, "expected failure")
pass("pass")
skip("no network", 1)
note("a note")
local done = done_testing()
return table.concat(lines, "\n"), done
"""


def test_test_more_prints_tap() -> None:
    lua = lua51.LuaRuntime(encoding="latin-1", unpack_returned_tuples=True)
    output, all_passed = lua.execute(TEST_MORE_SCRIPT, str(SHIPPED_LUA))
    lines = output.splitlines()
    assert lines[0] == "1..16"
    assert [line for line in lines if line.startswith(("ok", "not ok"))] == [
        "ok 1 - ok", "ok 2 - nok", "ok 3 - is", "ok 4 - isnt", "ok 5 - like", "ok 6 - unlike",
        "ok 7 - cmp_ok", "ok 8 - is_deeply", "ok 9 - eq_array", "ok 10 - type_ok",
        "ok 11 - error_like", "ok 12 - error_is", "ok 13 - lives_ok",
        "not ok 14 - expected failure # TODO # not yet", "ok 15 - pass",
        "ok 16 - # skip no network",
    ]
    assert "#          got: 1" in lines
    assert "# a note" in lines
    assert all_passed is True


def test_test_more_reports_failures_with_location() -> None:
    lua = lua51.LuaRuntime(encoding="latin-1", unpack_returned_tuples=True)
    script = TEST_MORE_SCRIPT.replace('is(1 + 1, 2, "is")', 'is(1 + 1, 3, "is")')
    output, all_passed = lua.execute(script, str(SHIPPED_LUA))
    lines = output.splitlines()
    assert "not ok 3 - is" in lines
    assert "#   Failed test 'is'" in lines
    assert any(line.startswith("#   at [string") for line in lines)
    assert "#     expected: 3" in lines
    assert "# Looks like you failed 1 test of 16." in lines
    assert all_passed is False


# -- through `momentum-httpsrv lua` ---------------------------------------------------------

THRLUA_TEST_FILE = r"""
require("Test.More")
plan(6)
is(0x54 | 0x55, 0x55, "bor")
is(1 << 2 + 1, 5, "shift binds like multiplication")
is(":" .. 0660, ":432", "octal")
is("\x41\u00e9", "A\195\169", "escapes")
ok(1 != 2 and !false, "not-equal and bang")
local t = setmetatable({"a", "b"}, {__iter = ipairs})
local seen = {}
for _, v in t do seen[#seen + 1] = v end
is(table.concat(seen), "ab", "__iter")
"""


def test_thrlua_test_file_runs_through_the_lua_command(tmp_path: Path) -> None:
    script = tmp_path / "dialect.lua"
    script.write_text(THRLUA_TEST_FILE, encoding="latin-1")
    result = subprocess.run(
        [sys.executable, "-m", "momentum_httpsrv", "lua", "-I", str(SHIPPED_LUA), str(script)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1..6"
    assert len(lines) == 7 and all(line.startswith("ok ") for line in lines[1:]), lines
