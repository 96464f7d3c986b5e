"""``momentum-httpsrv lua`` behaves as thrLua's ``rclua``: each expected value here is what
rclua prints for the same script (thrLua built from SparkPost/thrlua).

To check the expected values themselves, run this file against rclua:
``MOMENTUM_TEST_RCLUA=/path/to/thrlua/.libs/rclua pytest tests/test_thrlua_fidelity.py``
runs every script with rclua (its tree's ``etc/`` and ``.libs/`` as search paths, as
thrLua's harness sets them) instead of ``momentum-httpsrv lua``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import momentum_httpsrv

RCLUA = os.environ.get("MOMENTUM_TEST_RCLUA")


def interpreter() -> tuple[list[str], dict[str, str] | None]:
    """The command and environment scripts run with: ``momentum-httpsrv lua``, or rclua
    when ``MOMENTUM_TEST_RCLUA`` names it (to check this file's expected values)."""
    if not RCLUA:
        return [sys.executable, "-m", "momentum_httpsrv", "lua"], None
    rclua = Path(RCLUA).resolve()
    tree = rclua.parent.parent
    search = f"./?.lua;{tree}/etc/?.lua;{tree}/etc/?/init.lua"
    env = dict(os.environ, LD_LIBRARY_PATH=str(rclua.parent), RCLUA_PATH=search,
               LUA_PATH=search, RCLUA_CPATH=f"{rclua.parent}/?.so")
    return [str(rclua)], env


def program() -> str:
    """What the interpreter's errors start with (``argv[0]: ``, as lua.c reports): under
    ``python -m`` argv[0] is the package's ``__main__.py``."""
    if RCLUA:
        return str(Path(RCLUA).resolve())
    return str(Path(momentum_httpsrv.__file__).with_name("__main__.py"))


def run_lua(tmp_path: Path, source: str, *args: str) -> tuple[int, str, str]:
    """Run ``source`` as a script file with ``momentum-httpsrv lua`` (a process of its own,
    as print writes to C's stdout): exit status, stdout, stderr."""
    script = tmp_path / "script.lua"
    script.write_bytes(source.encode("latin-1"))
    command, env = interpreter()
    done = subprocess.run(
        [*command, *args, "script.lua"], cwd=tmp_path, env=env, capture_output=True,
        timeout=60, stdin=subprocess.DEVNULL,
    )
    return done.returncode, done.stdout.decode("latin-1"), done.stderr.decode("latin-1")


def lua_lines(tmp_path: Path, source: str) -> list[str]:
    """stdout lines of a script that must succeed."""
    code, out, err = run_lua(tmp_path, source)
    assert code == 0, err
    return out.splitlines()


# -- Test.More ------------------------------------------------------------------------------


def test_test_more_is_compares_numbers_as_printed(tmp_path: Path) -> None:
    lines = lua_lines(tmp_path, """require("Test.More")
plan(3)
is(0.1 + 0.2, 0.3, "sum")
isnt(0.1 + 0.2, 0.3, "isnt")
is(1e300 * 10, 1e301, "big")
""")
    assert lines[1:] == ["ok 1 - sum", "not ok 2 - isnt", "ok 3 - big"]


def test_test_more_lays_out_names_todo_and_skip_as_thrlua(tmp_path: Path) -> None:
    lines = lua_lines(tmp_path, """require("Test.More")
plan(5)
ok(true, "a # b")
todo("later", 1)
ok(false, "soon")
skip("no network", 1)
skip()
todo_skip("someday")
""")
    assert [line for line in lines if not line.startswith("#")] == [
        "1..5", "ok 1 - a # b", "not ok 2 - soon # TODO # later", "ok 3 - # skip no network",
        "ok 4 - # skip", "not ok 5 - # TODO & SKIP someday",
    ]


# -- numbers: leading-zero strings, inf and nan ---------------------------------------------

LEADING_ZERO_SCRIPT = r"""
print(tonumber("010"), tonumber("08"), tonumber("0e1"), tonumber("010", 10), tonumber("-010"))
print(tonumber("0x1F"), tonumber("0.5"), tonumber(" 010"), tonumber("0 "), tonumber("00.5"))
print(tonumber("0777777777777777777777777"), tonumber(("2020-08-05"):sub(6, 7)))
print(string.format("%d %x %5.1f", "010", "011", "012"), ("%d"):format("0x10"))
print(pcall(string.format, "%d", "08"))
print("010" | 0, "0x10" & 0xff, ~"07")
print(pcall(function() return "08" | 0 end))
print(tonumber("-0"), tonumber("0x"), tonumber("-0x10"), tonumber("0xFFFFFFFFFFFFFFFFFF"))
"""


def test_leading_zero_strings_are_octal_in_runtime_conversions(tmp_path: Path) -> None:
    assert lua_lines(tmp_path, LEADING_ZERO_SCRIPT) == [
        "8\tnil\tnil\t8\t-8",
        "31\t0.5\t10\t0\tnil",
        "9.2233720368548e+18\tnil",
        "8 9  10.0\t16",
        "false\tbad argument #2 to '?' (number expected, got string)",
        "8\t16\t-8",
        "false\tscript.lua:8: attempt to perform bitwise operation on a string value",
        "0\tnil\t-16\t9.2233720368548e+18",
    ]


def test_inf_and_nan_are_written_without_sign(tmp_path: Path) -> None:
    assert lua_lines(tmp_path, r"""
print(-1/0, 0/0, 1/0, tostring(-1/0), tostring(0/0))
print(table.concat({-1/0, 0/0, "info"}, ","), string.format("%s|%s|%.1f", -1/0, 0/0, 1.25))
print(string.format("%5s|%-5s|", 0/0, "x"))
""") == ["inf\tnan\tinf\tinf\tnan", "inf,nan,info\tinf|nan|1.2", "  nan|x    |"]


# The VM's own conversions (lupa's Lua 5.1 built by vm/build_lupa.py): arithmetic on
# strings, `..` on numbers, numeric for limits, C functions' number arguments.


def test_vm_arithmetic_reads_leading_zero_strings_as_thrlua(tmp_path: Path) -> None:
    assert lua_lines(tmp_path, r"""
print("010" + 0, "-010" * 2, "0x10" - 1, "010" / 2, "010" % 3, "010" ^ 1, -"010")
print(pcall(function() return "08" + 0 end))
print(pcall(function() return "0e1" * 1 end))
print(pcall(function() local s = "09" return s - 1 end))
for i = "01", "010", "03" do io.write(i, " ") end print()
print(("2020-08-05"):sub(9) + 0, math.floor("010"), string.rep("ab", "03"))
""") == [
        "8\t-16\t15\t4\t2\t8\t-8",
        "false\tscript.lua:3: attempt to perform arithmetic on a string value",
        "false\tscript.lua:4: attempt to perform arithmetic on a string value",
        "false\tscript.lua:5: attempt to perform arithmetic on local 's' (a string value)",
        "1 4 7 ",
        "5\t8\tababab",
    ]


def test_vm_concatenation_writes_inf_and_nan_without_sign(tmp_path: Path) -> None:
    assert lua_lines(tmp_path, r"""
print("x" .. -1/0, "x" .. 1/0, "x" .. 0/0, "x" .. -(0/0), 1/0 .. "", -1/0 .. 0/0)
""") == ["xinf\txinf\txnan\txnan\tinf\tinfnan"]


def test_tail_called_library_errors_name_the_callers_line(tmp_path: Path) -> None:
    # tonumber, string.format, tostring and table.concat are lupa's C functions again, so
    # a tail call keeps the caller's frame and the error its file:line, as in thrLua.
    assert lua_lines(tmp_path, r"""local function a() return tonumber() end
local function b() return string.format("%d", {}) end
local function c() return tostring() end
local function d() return table.concat({{}}) end
print(pcall(a))
print(pcall(b))
print(pcall(c))
print(pcall(d))
""") == [
        "false\tscript.lua:1: bad argument #1 to 'tonumber' (value expected)",
        "false\tscript.lua:2: bad argument #2 to 'format' (number expected, got table)",
        "false\tscript.lua:3: bad argument #1 to 'tostring' (value expected)",
        "false\tscript.lua:4: invalid value (table) at index 1 in table for 'concat'",
    ]


# -- the main chunk, print, the command line ------------------------------------------------


def test_main_chunk_is_not_a_coroutine(tmp_path: Path) -> None:
    assert lua_lines(tmp_path, "print(coroutine.running())\n") == ["nil"]
    code, out, err = run_lua(tmp_path, "print('before')\ncoroutine.yield(1)\nprint('after')\n")
    assert (code, out) == (1, "before\n")
    assert err.startswith(f"{program()}: attempt to yield across metamethod/C-call boundary\n")


PRINT_IS_C_SCRIPT = r"""
print(debug.getinfo(print).what, debug.getinfo(print, "S").short_src, debug.getupvalue(print, 1))
print(debug.getinfo(tonumber).what, debug.getinfo(1, "l").currentline)
print(pcall(setfenv, print, {}))
print(pcall(coroutine.create, print))
print(pcall(string.dump, print))
local quiet = setmetatable({}, {__tostring = function() return nil end})
print(pcall(function() print(quiet) end))
local tostring = tostring
_G.tostring = function(v) return "<" .. tostring(v) .. ">" end
print(1, nil)
"""


def test_print_is_a_c_function(tmp_path: Path) -> None:
    assert lua_lines(tmp_path, PRINT_IS_C_SCRIPT) == [
        "C\t[C]",
        "C\t3",
        "false\t'setfenv' cannot change environment of given object",
        "false\tbad argument #1 to '?' (Lua function expected)",
        "false\tunable to dump given function",
        "false\tscript.lua:8: 'tostring' must return a string to 'print'",
        "<1>\t<nil>",
    ]


def test_command_line_options_version_and_arg_table(tmp_path: Path) -> None:
    (tmp_path / "lib.lua").write_text("print('lib loaded')\n")
    code, out, _ = run_lua(
        tmp_path, "print(_VERSION, arg[0], arg[-1], arg[-2], x, ...)\n", "-e", "x = 1 + 1",
        "-l", "lib",
    )
    assert code == 0
    assert out.splitlines() == ["lib loaded", "thrLua 5.1\tscript.lua\tlib\t-l\t2"]


def test_non_string_error_at_top_level(tmp_path: Path) -> None:
    # lua.c writes no traceback for an error object that is not a string, nothing for nil
    assert run_lua(tmp_path, "error({})\n") == (
        1, "", f"{program()}: (error object is not a string)\n"
    )
    assert run_lua(tmp_path, "error()\n") == (1, "", "")
    code, _, err = run_lua(tmp_path, "error(42)\n")
    assert code == 1 and err.startswith(f"{program()}: script.lua:1: 42\nstack traceback:\n")


def test_dofile_and_format_errors_read_as_thrlua_s(tmp_path: Path) -> None:
    (tmp_path / "broken.lua").write_text("x = = 1\n")
    assert lua_lines(tmp_path, r"""
print(pcall(dofile, "broken.lua"))
print(pcall(function() dofile("broken.lua") end))
print(pcall(function() local s = string.format("%s") return s end))
print(pcall(function() local s = string.format("%d %s", 1) return s end))
""") == [
        "false\tbroken.lua:1: unexpected symbol near '='",
        "false\tbroken.lua:1: unexpected symbol near '='",
        "false\tscript.lua:4: bad argument #2 to 'format' (string expected, got no value)",
        "false\tscript.lua:5: bad argument #3 to 'format' (string expected, got no value)",
    ]


# -- the dialect -----------------------------------------------------------------------------


def test_iter_applies_to_a_list_of_several_expressions(tmp_path: Path) -> None:
    assert lua_lines(tmp_path, r"""local t = setmetatable({"a", "b"}, {__iter = ipairs})
for i, v in t, nil do print(i, v) end
for k, v in next, {5} do print(k, v) end
print(pcall(function() for i in {}, 1 do end end))
""") == ["1\ta", "2\tb", "1\t5", "false\tscript.lua:4: attempt to call a table value"]


def test_syntax_errors_name_bang_as_written(tmp_path: Path) -> None:
    for source, message in [
        ("x = 1 !\n", "script.lua:1: unexpected symbol near '!'"),
        ("if x !! then end\n", "script.lua:1: 'then' expected near '!'"),
        ("if not then end\n", "script.lua:1: unexpected symbol near 'then'"),
    ]:
        assert run_lua(tmp_path, source) == (1, "", f"{program()}: {message}\n")


# -- libraries -------------------------------------------------------------------------------


def test_json_encode_error_names_the_caller_line_and_xml_parse_failure_is_a_lone_nil(
    tmp_path: Path,
) -> None:
    assert lua_lines(tmp_path, r"""require("json") require("xml")
print(pcall(function() local s = json.encode(nil) return s end))
print(pcall(function() local o = json.new() o.f = print end))
print(select("#", xml.parsexml("<a>")), xml.parsexml("<a>"))
print(pcall(json.decode, {}))
print(pcall(function() local o = json.new() o.f = { a = { io.stdout } } end))
""") == [
        "false\tscript.lua:2: cannot assign values of type nil",
        "false\tscript.lua:3: cannot assign values of type function",
        "1\tnil",
        "false\tbad argument #1 to '?' (string expected, got table)",
        "false\tscript.lua:6: bad argument #6 to '?' (libjson:json_object* expected, got userdata)",
    ]


def test_os_setenv_reaches_getenv_and_children(tmp_path: Path) -> None:
    assert lua_lines(tmp_path, r"""
print(os.setenv("FIDELITY_X", "one"), os.getenv("FIDELITY_X"))
os.setenv("FIDELITY_X", "two", false)
print(os.getenv("FIDELITY_X"))
local child = io.popen("echo $FIDELITY_X")
print(child:read("*l"))
child:close()
os.setenv("FIDELITY_X", nil)
print(os.getenv("FIDELITY_X"))
""") == ["true\tone", "one", "one", "nil"]


def test_io_popen_gives_real_files_and_close_waits(tmp_path: Path) -> None:
    assert lua_lines(tmp_path, r"""
local reader = io.popen("printf 'a\\nb\\n'")
print(io.type(reader))
for line in reader:lines() do print(line) end
print(reader:close(), io.type(reader))
local writer = io.popen("sleep 0.2; cat > piped.txt", "w")
writer:write("through the pipe\n")
print(io.close(writer))
print(io.open("piped.txt"):read("*a"))
""") == ["file", "a", "b", "true\tclosed file", "true", "through the pipe", ""]


MATHX_AND_BUFFER_SCRIPT = r"""require("mathx")
print(math.fpclassify(0), math.fpclassify(1e-310), math.fpclassify(1/0), math.isnormal(1),
  math.isnan(0/0))
print(math.log2(32), math.cbrt(27), math.gamma(5), math.round(-2.5), math.trunc(-1.7),
  math.remainder(13, -3))
print(math.fmax(1, math.nan, 2), math.fmin(3, 2, 5), math.nextafter(0, 1), math.fma(3, 2, 1),
  math.scalbn(1, 10))
print(select(2, pcall(math.log2, "x")), math.log2("010"))
local b = buffer.new(8)
print(#b, b:write("hello"), b:write("world"), tostring(b), b:string(1, 3), b:string(-1))
local s = b:slice(2, 3)
print(#s, tostring(s), s:write("XY", 0), tostring(b), b:slice(6, 5))
local c = buffer.new(4)
print(b:copy(c), tostring(c), buffer.new(), #buffer.new("abc"))
local f = io.tmpfile() f:write(b, "!") f:seek("set") print(f:read("*a"))
"""


def test_mathx_and_buffer_libraries(tmp_path: Path) -> None:
    assert lua_lines(tmp_path, MATHX_AND_BUFFER_SCRIPT) == [
        "zero\tsubnormal\tinf\ttrue\ttrue",
        "5\t3\t24\t-3\t-1\t1",
        "2\t2\t4.9406564584125e-324\t7\t1024",
        "bad argument #1 to '?' (number expected, got string)\t3",
        "0\t5\t3\thellowor\tel\tnil",
        "3\tllo\t2\theXYowor\tnil",
        "4\theXY\tnil\t3",
        "heXYowor!",
    ]


YAML_SCRIPT = r"""require("yaml")
local a, b = yaml.load("---\nx: 010\ny: '5'\nz: ~\nw: yes\n---\n- 1.5\n- [a, b]\n")
print(a.x, type(a.y), a.z == yaml.null, a.w, b[1], b[2][2], getmetatable(b)._yaml)
io.write(yaml.dump({ "true", "12", "08", 3, true, false }))
local shared = { 1 }
io.write(yaml.dump({ shared, shared }, { k = "multi\nline" }))
print(pcall(yaml.load, "a: [1, 2"))
print(pcall(function() local t = yaml.load("'abc") return t end))
print(pcall(yaml.load, "--- &x a\n--- *x\n"))
print(pcall(yaml.load, "- *y\n- ["))
print(pcall(yaml.load, "a: 1\n--- [\n"))
print(pcall(yaml.load, "a: b: c"))
"""


def test_yaml_loads_and_dumps_as_lyaml(tmp_path: Path) -> None:
    assert lua_lines(tmp_path, YAML_SCRIPT) == [
        "8\tstring\ttrue\ttrue\t1.5\tb\tsequence",
        "---", "- 'true'", "- '12'", "- 08", "- 3", "- true", "- false",
        "---", "- &0", "  - 1", "- *0", "---", "k: 'multi", "", "  line'",
        "false\tdid not find expected ',' or ']' at document: 1, line: 2, column: 1",
        "while parsing a flow sequence at line: 1, column: 4", "",
        "false\tfound unexpected end of stream at document: 0, line: 1, column: 5",
        "while scanning a quoted scalar at line: 1, column: 1", "",
        "false\tinvalid reference: x",
        "false\tinvalid reference: y",
        "false\tdid not find expected node content at document: 2, line: 3, column: 1",
        "while parsing a flow node at line: 3, column: 1", "",
        "false\tmapping values are not allowed in this context at document: 1, line: 1, column: 5",
        "",
    ]


def test_strict_rejects_undeclared_globals(tmp_path: Path) -> None:
    assert lua_lines(tmp_path, r"""require("strict")
x = 1
print(x)
print(pcall(function() y = 2 end))
print(pcall(function() return z end))
z = nil
print(pcall(function() return z end))
""") == [
        "1",
        "false\tscript.lua:4: assign to undeclared variable 'y'",
        "false\tscript.lua:5: variable 'z' is not declared",
        "true\tnil",
    ]


OPERATOR_ERRORS = [
    ("local q\nlocal x = 1 |\n  2 |\n  q\n",
     "script.lua:4: attempt to perform bitwise operation on local 'q' (a nil value)"),
    ("local q\nlocal x = 1\n  |\n  q\n  + 3\n",
     "script.lua:4: attempt to perform bitwise operation on local 'q' (a nil value)"),
    ("t = {}\nlocal y = t.f | 1\n",
     "script.lua:2: attempt to perform bitwise operation on field 'f' (a nil value)"),
    ("local y = z | 1\n",
     "script.lua:1: attempt to perform bitwise operation on global 'z' (a nil value)"),
    ("local u\nfunction g() return 1 | u end\ng()\n",
     "script.lua:2: attempt to perform bitwise operation on upvalue 'u' (a nil value)"),
]


@pytest.mark.parametrize(("source", "message"), OPERATOR_ERRORS)
def test_operator_errors_name_the_variable_and_the_operators_line(
    tmp_path: Path, source: str, message: str
) -> None:
    code, _, err = run_lua(tmp_path, source)
    assert code == 1 and err.splitlines()[0] == f"{program()}: {message}"
