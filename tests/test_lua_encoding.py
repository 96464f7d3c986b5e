"""``msys.base64`` and ``msys.dumper``."""

from __future__ import annotations

import pytest
from lupa import lua51

from momentum_httpsrv.lua.lib import LIBRARY_OPENERS


@pytest.fixture(scope="module")
def lua() -> lua51.LuaRuntime:
    runtime = lua51.LuaRuntime(
        encoding="latin-1", unpack_returned_tuples=True, register_eval=False,
        register_builtins=False,
    )
    loaded = runtime.globals().package.loaded
    for name in ("msys.base64", "msys.dumper", "json"):
        loaded[name] = LIBRARY_OPENERS[name](runtime)
    return runtime


def run(lua: lua51.LuaRuntime, body: str) -> object:
    return lua.execute(
        "local base64, dumper = require('msys.base64'), require('msys.dumper')\n" + body
    )


LONG = "x" * 100


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("return base64.encode('hello')", "aGVsbG8="),
        ("return base64.encode('\\0\\255\\1')", "AP8B"),
        ("return base64.encode(42), base64.encode('')", ("NDI=", "")),
        (f"return base64.encode('{LONG}', true)",
         "eHh4" * 19 + "\r\n" + "eHh4" * 14 + "eA=="),
        (f"return base64.encode('{LONG}', false) == base64.encode('{LONG}')", True),
        ("return base64.encode('caf\\195\\169', nil, 'iso-8859-1')", "Y2Fm6Q=="),
        ("return base64.decode('aGVsbG8=')", "hello"),
        ("return base64.decode('aGVs\\r\\nbG8')", "hello"),
        ("return base64.decode('AP8B')", "\x00\xff\x01"),
        ("return base64.decode('Y2Fm6Q==', 'latin1')", "caf\xc3\xa9"),
    ],
)
def test_base64(lua: lua51.LuaRuntime, body: str, expected: object) -> None:
    assert run(lua, body) == expected


def test_base64_accepts_string_objects(lua: lua51.LuaRuntime) -> None:
    encoded = run(lua, """
        local s = newproxy(true)
        getmetatable(s).__tostring = function() return "buffer text" end
        return base64.encode(s)
    """)
    assert encoded == "YnVmZmVyIHRleHQ="


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("base64.decode('a*b=')", "invalid base64 input"),
        ("base64.decode('abcde')", "invalid base64 input"),
        ("base64.encode({})", "bad argument #1 to 'encode' (string expected, got table)"),
        ("base64.encode('x', true, 'no-such-charset')", "unknown charset 'no-such-charset'"),
        ("base64.encode('\\255', false, 'latin1')",
         "cannot convert the text to latin1: invalid start byte"),
        ("base64.decode('/w==', 'utf-8')", "decoded text is not valid utf-8: invalid start byte"),
        ("base64.decode('aGk=', 5)", "bad argument #2 to 'decode' (string expected, got number)"),
    ],
)
def test_base64_errors(lua: lua51.LuaRuntime, body: str, message: str) -> None:
    assert run(lua, f"return select(2, pcall(function() {body} end))") == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42", "return 42"),
        ("'a\"b\\n\\0'", 'return "a\\"b\\n\\000"'),
        ("nil", "return nil"),
        ("{}", "return {}"),
        ("{ 'x', 2.5, true, k = 'v', ['two words'] = 1, [10] = 0/0, ['end'] = 1/0 }",
         'return {\n  [1] = "x",\n  [2] = 2.5,\n  [3] = true,\n  [10] = 0/0,\n'
         '  ["end"] = math.huge,\n  k = "v",\n  ["two words"] = 1,\n}'),
        ("{ outer = { inner = { 1 } } }",
         "return {\n  outer = {\n    inner = {\n      [1] = 1,\n    },\n  },\n}"),
        ("{ f = print, [true] = 'yes' }", 'return {\n  f = "function",\n  [true] = "yes",\n}'),
        ("{ j = require('json').decode('{\"a\": [1]}') }",
         'return {\n  j = "{ \\"a\\": [ 1 ] }",\n}'),
        ("(function() local t = { name = 'loop' } t.self = t return t end)()",
         'return {\n  name = "loop",\n  self = {} --[[ cycle ]],\n}'),
    ],
)
def test_dumper(lua: lua51.LuaRuntime, value: str, expected: str) -> None:
    assert run(lua, f"return dumper.Dumper({value})") == expected


def test_dumper_output_loads_back(lua: lua51.LuaRuntime) -> None:
    same = run(lua, """
        local t = { 1, 2, { a = 'b\\r' }, x = -0.1, y = 'caf\\195\\169' }
        local copy = loadstring(dumper.Dumper(t))()
        return copy[3].a == 'b\\r' and copy.x == -0.1 and copy.y == t.y and #copy == 3
    """)
    assert same is True
