"""The ``json`` library: json-c's parser, texts and object semantics as thrlua exposes them.

Expected decoder results were checked against json-c 0.11 built from source.
"""

from __future__ import annotations

import pytest
from lupa import lua51

from momentum_httpsrv.lua.lib import LIBRARY_OPENERS
from momentum_httpsrv.lua.lib.json import JSON_TYPE_NAME


@pytest.fixture
def lua() -> lua51.LuaRuntime:
    runtime = lua51.LuaRuntime(
        encoding="latin-1", unpack_returned_tuples=True, register_eval=False,
        register_builtins=False,
    )
    runtime.globals().package.loaded["json"] = LIBRARY_OPENERS["json"](runtime)
    return runtime


DECODE_SNIPPET = """
    local o, code, message = require("json").decode(...)
    if o == nil then return "ERR " .. code .. " " .. message end
    return tostring(o)
"""


def run(lua: lua51.LuaRuntime, body: str) -> object:
    return lua.execute("local json = require('json')\n" + body)


def decoded(lua: lua51.LuaRuntime, text: str) -> str:
    """``tostring`` of the decoded value, or ``ERR code message``."""
    return lua.execute(DECODE_SNIPPET, text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"foo": "bar"}', '{ "foo": "bar" }'),
        ("{}", "{ }"),
        ("[] ", "[ ]"),
        ('[1, 2.5, "a/b", null, true, {"x": -0, "y": 99999999999}]',
         '[ 1, 2.500000, "a\\/b", null, true, { "x": 0, "y": 99999999999 } ]'),
        ('{"b": 1, "a": 2, "b": 3}', '{ "b": 3, "a": 2 }'),
        ('"\\ud83d\\ude00" ', "\xf0\x9f\x98\x80"),
        ('"\\ud83d" ', "\xef\xbf\xbd"),
        ('{"a\\u0000b": 1}', '{ "a": 1 }'),
        ('"tab\\tnl\\n\\u0001"', "tab\tnl\n\x01"),
        ('["\\b\\f\\u0001\\u001f\\u007f"]', '[ "\\b\\u000c\\u0001\\u001f\x7f" ]'),
        ("-.5 ", "-0.500000"),
        ("1..2 ", "1.000000"),
        ("0001 ", "1"),
        ("1-2 ", "1"),
        ("-9223372036854775809 ", "-9223372036854775808"),
        ("[1e400, -1e400] ", "[ inf, -inf ]"),
        ("[1,]", "[ 1 ]"),
        ('{"a":1,}', '{ "a": 1 }'),
        ("{'a':'b'}", '{ "a": "b" }'),
        ("TRUE ", "true"),
        ("/* c */ [1] // tail\n", "[ 1 ]"),
        ('{"a":1}xyz', '{ "a": 1 }'),
        ("[" * 32 + "]" * 32, "[ " * 32 + "]" + " ]" * 31),
        ('{ bad: "json" }', "ERR 9 quoted object property name expected at offset 2"),
        ("42", "ERR 1 continue at offset 2"),
        ("", "ERR 1 continue at offset 0"),
        ("nul", "ERR 1 continue at offset 3"),
        ("NuLl ", "ERR 0 success at offset 5"),
        ("[" * 33 + "]" * 33, "ERR 2 nesting too deep at offset 32"),
        ("[\x00]", "ERR 3 unexpected end of data at offset 1"),
        ('"a\x00b"', "ERR 3 unexpected end of data at offset 3"),
        (". ", "ERR 4 unexpected character at offset 0"),
        ("nulx", "ERR 5 null expected at offset 3"),
        ("tru ", "ERR 6 boolean expected at offset 3"),
        ("- ", "ERR 7 number expected at offset 1"),
        ("[1 2]", "ERR 8 array value separator ',' expected at offset 3"),
        ('{"a" 1}', "ERR 10 object property name separator ':' expected at offset 5"),
        ('{"a": 1 "b"}', "ERR 11 object value separator ',' expected at offset 8"),
        ('"\\x"', "ERR 12 invalid string sequence at offset 2"),
        ('"\\u00"', "ERR 12 invalid string sequence at offset 5"),
        ("/x", "ERR 13 expected comment at offset 1"),
        ("/* x **/ 1 ", "ERR 1 continue at offset 11"),
    ],
)
def test_decode_matches_json_c(lua: lua51.LuaRuntime, text: str, expected: str) -> None:
    assert decoded(lua, text) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # reading: scalars come back as Lua values, null and missing keys as nil
        ('local o = json.decode(\'{"s": "x", "n": 42, "d": 1.5, "t": true, "z": null} \')\n'
         "return o.s, o.n, o.d, o.t, o.z, o.missing", ("x", 42, 1.5, True, None, None)),
        ("local o = json.decode('[10, 20, 30] ') return o[1], o[3], o[4], o[0], o['2'], #o",
         (10, 30, None, None, 20, 3)),
        ("local o = json.decode('{\"5\": \"five\"}') return o[5], #o", ("five", 0)),
        # json-c hands integers outside 32 bits to Lua clamped, but keeps them in its text
        ("local o = json.decode('[99999999999, -99999999999] ') return o[1], o[2], tostring(o)",
         (2147483647, -2147483648, "[ 99999999999, -99999999999 ]")),
        # assignment rules
        ("local o = json.new() o.a = 1 o.b = 'x/y' o.c = false o.d = 2.25\n"
         "o.e = { 1, 2, nil, 4 } o.f = { k = 'v' } return tostring(o)",
         '{ "a": 1, "b": "x\\/y", "c": false, "d": 2.250000, "e": [ 1, 2 ], "f": { "k": "v" } }'),
        ("local o = json.new() o.x = 1 o.y = 2 o.x = 3 o.y = nil return tostring(o)",
         '{ "x": 3 }'),
        ("local o = json.new() o[1.5] = 'a' o[7] = 'b' return tostring(o)",
         '{ "1.5": "a", "7": "b" }'),
        ("local o = json.encode({ 1 }) o[4] = 'x' return tostring(o), #o, o[2]",
         ('[ 1, null, null, "x" ]', 4, None)),
        ("local o = json.encode({ 1, 2 }) o['2'] = 5 o[1.9] = 7 return tostring(o)", "[ 7, 5 ]"),
        ("return tostring(json.encode({ [32] = 'dude', foo = 'bar' }).foo)", "bar"),
        ("return json.encode({ [32] = 'dude' })['32']", "dude"),
        # numbers: integral within 32 bits (with thrlua's tolerance) become ints, else doubles
        ("local o = json.new() o.a = 2147483647 o.b = 2147483648 o.c = -2147483648\n"
         "o.d = 3.000000001 o.e = -2.999999999 o.f = -0.0 return tostring(o)",
         '{ "a": 2147483647, "b": 2147483648.000000, "c": -2147483648, "d": 3, "e": -2, '
         '"f": 0 }'),
        ("local o = json.new() o.big = 2147483648 return o.big == 2147483648", True),
        # containers are stored by reference
        ("local o, kid = json.new(), json.new() o.kid = kid kid.name = 'k' return tostring(o)",
         '{ "kid": { "name": "k" } }'),
        ("local o = json.decode('{\"a\": {\"b\": 1}}') return o.a == o.a", True),
        # scalar roots
        ("local o = json.encode(42) return type(o), tostring(o), o.foo, #o",
         ("userdata", "42", None, 0)),
        ("return tostring(json.encode('raw \"text\"')), tostring(json.encode(1.5)), "
         "tostring(json.encode(true))", ('raw "text"', "1.500000", "true")),
        ("local o = json.new() o.v = json.encode(7) return tostring(o), o.v", ('{ "v": 7 }', 7)),
        ("local o = json.new() return json.encode(o) == o, tostring(json.encode())", (True, "{ }")),
        # strerror and the constants use json-c's numbering
        ("return json.strerror(json.ERROR_PARSE_NULL), json.strerror(0), json.strerror(13),\n"
         "json.strerror(-1), json.strerror(14), json.strerror('3')",
         ("null expected", "success", "expected comment", "unknown error", "unknown error",
          "unexpected end of data")),
        ("return json.ERROR_DEPTH, json.ERROR_PARSE_EOF, json.ERROR_PARSE_UNEXPECTED,\n"
         "json.ERROR_PARSE_NULL, json.ERROR_PARSE_BOOLEAN, json.ERROR_PARSE_NUMBER,\n"
         "json.ERROR_PARSE_ARRAY, json.ERROR_PARSE_OBJECT_KEY_NAME,\n"
         "json.ERROR_PARSE_OBJECT_KEY_SEP,\n"
         "json.ERROR_PARSE_OBJECT_VALUE_SEP, json.ERROR_PARSE_STRING, json.ERROR_PARSE_COMMENT",
         tuple(range(2, 14))),
        ("return json.decode(42)", (None, 1, "continue at offset 2")),
        ("return json.free(json.new()), json.addref(json.new())", (None, True)),
        ("return getmetatable(json.new())['@type']", JSON_TYPE_NAME),
    ],
)
def test_object_semantics(lua: lua51.LuaRuntime, body: str, expected: object) -> None:
    assert run(lua, body) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("local o = json.new() o.f = coroutine.create(function() end)",
         "cannot assign values of type thread"),
        ("local o = json.new() o.f = print", "cannot assign values of type function"),
        ("json.encode(nil)", "cannot assign values of type nil"),
        ("local o = json.new() o.f = { { print } }", "cannot assign values of type function"),
        ("local o = json.new() o.f = newproxy()",
         "bad argument #3 to '?' (libjson:json_object* expected, got userdata)"),
        ("local o = json.new() o.f = { a = { newproxy() } }",
         "bad argument #6 to '?' (libjson:json_object* expected, got userdata)"),
        ("json.encode(newproxy())",
         "bad argument #1 to 'encode' (libjson:json_object* expected, got userdata)"),
        ("local o = json.new() o.f = { [true] = 1 }", "cannot use a boolean key in a json object"),
        ("local o = json.encode({ 1 }) o[1] = nil", "cannot delete from json arrays"),
        ("local o = json.encode({ 1 }) o.moo = 1", "json array index must be numeric"),
        ("local o = json.encode({ 1 }) o[0] = 1",
         "lua array semantics are that index operations are 1-based"),
        ("local o = json.encode({ 1 }) o[0.5] = 1",
         "lua array semantics are that index operations are 1-based"),
        ("local o = json.encode(42) o.foo = 1", "cannot assign to this type of json object"),
        ("local o = json.encode({ 1 }) return o.moo",
         "bad argument #2 to '?' (number expected, got string)"),
        ("local o = json.new() return o[true]",
         "bad argument #2 to '?' (string expected, got boolean)"),
        ("local o = json.new() o[{}] = 1", "bad argument #2 to '?' (string expected, got table)"),
        ("json.decode({})", "bad argument #1 to 'decode' (string expected, got table)"),
        ("json.strerror('x')", "bad argument #1 to 'strerror' (number expected, got string)"),
        ("json.free({})", "bad argument #1 to 'free' (libjson:json_object* expected, got table)"),
    ],
)
def test_errors_match_thrlua_messages(lua: lua51.LuaRuntime, body: str, message: str) -> None:
    # luaL_error names the line of the Lua code that called into the binding, by a call or
    # through a metamethod (rclua: `o.f = print` fails at the assignment's line).
    assert run(lua, f"return select(2, pcall(function() {body} end))") == (
        f'[string "<python>"]:2: {message}'
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"b": 1, "a": [1, 2], "c": null, "d": {"e": 1}}',
         'b=1 a=[ 1, 2 ] c=nil d={ "e": 1 } '),
        ("[1, 2, 3] ", "1=1 2=2 3=3 "),
        ("[1, null, 3] ", "1=1 "),  # thrlua's array iterator stops at the first null
        ("{}", ""),
        ("7 ", ""),
        ('"s" ', ""),
    ],
)
def test_iter_metamethod(lua: lua51.LuaRuntime, text: str, expected: str) -> None:
    got = run(lua, f"""
        local o = json.decode({text!r})
        local parts = {{}}
        for k, v in getmetatable(o).__iter(o) do
            parts[#parts + 1] = k .. "=" .. tostring(v) .. " "
        end
        return table.concat(parts)
    """)
    assert got == expected
