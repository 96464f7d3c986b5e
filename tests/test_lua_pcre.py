"""``msys.pcre``: thrlua's pcre.c semantics (captures, replacement syntax, split rules)."""

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
    runtime.globals().package.loaded["msys.pcre"] = LIBRARY_OPENERS["msys.pcre"](runtime)
    return runtime


def run(lua: lua51.LuaRuntime, body: str) -> object:
    return lua.execute("local pcre = require('msys.pcre')\n" + body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # [0] is the match, [1..rc-1] the groups up to the last one that took part
        (r"local m = pcre.match('hello there', '^(\\S+)\\s+(\\S+)$')"
         "\nreturn m[0], m[1], m[2], #m", ("hello there", "hello", "there", 2)),
        ("local m = pcre.match('abc', '(x)?(b)(y)?') return m[0], m[1], m[2], m[3], #m",
         ("b", "", "b", None, 2)),
        ("local m = pcre.match('abc', [[(?<first>a)(?P<second>z)?(?'third'b)]])\n"
         "return m.first, m.second, m.third, m[3]", ("a", "", "b", "b")),
        ("return pcre.match('abc', 'z')", None),
        ("return pcre.match(12345, 3)[0]", "3"),
        # PCRE_UTF8: '.' is one character, \d \s stay ASCII; invalid UTF-8 never matches
        ("return pcre.match('h\\195\\169llo', '^h.l')[0]", "h\xc3\xa9l"),
        ("return pcre.match('a\\217\\163 1', '\\\\d')[0]", "1"),
        ("return pcre.match('\\255abc', 'a')", None),
        # PCRE-only syntax
        (r"return pcre.match('ab\n', 'b\\Z')[0], pcre.match('ab\n', 'b\\z')", ("b", None)),
        (r"return pcre.match('a.b*c', '\\Q.b*\\E')[0]", ".b*"),
        ("return pcre.match('x9', '[[:digit:]]')[0], pcre.match('a\\tb', 'a\\\\hb')[0]",
         ("9", "a\tb")),
        (r"return pcre.match('abab', '(?<x>ab)\\k<x>')[0], pcre.match('aa', '(a)\\g{1}')[0]",
         ("abab", "aa")),
        # PCRE features re lacks: recursion, \K, \p{..}, atomic groups, possessive quantifiers,
        # named groups defined and referenced every way, subroutine calls
        (r"return pcre.match('x(a(b)c)y', [[\((?:[^()]|(?R))*\)]])[0]", "(a(b)c)"),
        (r"return pcre.match('ab-ab', [[(?<p>a(?:b|(?&p)))-(?P>p)]])[0]", "ab-ab"),
        (r"return pcre.replace('price: 10', [[price: \K\d+]], '99')", "price: 99"),
        ("return pcre.match('a\\206\\177\\206\\178!', [[\\p{Greek}+]])[0], "
         "pcre.match('\\217\\1631', [[\\d]])[0], pcre.match('x\\217\\163', [[\\p{Nd}]])[0]",
         ("\xce\xb1\xce\xb2", "1", "\xd9\xa3")),
        (r"return pcre.match('aaa', [[(?>a+)a]]), pcre.match('aaa', [[a++a]]), "
         r"pcre.match('aaa', [[a+a]])[0]", (None, None, "aaa")),
        (r"return pcre.match('xyxy', [[(?'w'xy)\k'w']])[0],"
         r" pcre.match('xyxy', [[(?<w>xy)(?P=w)]])[0],"
         r" pcre.match('xyxy', [[(?P<w>xy)\k{w}]])[0], pcre.match('xyxy', [[(?<w>xy)\g{w}]])[0]",
         ("xyxy", "xyxy", "xyxy", "xyxy")),
        (r"return pcre.match('ab1', '[[:^alpha:]]')[0], pcre.match('\195\169a', '[[:alpha:]]')[0],"
         r" pcre.match('a\nb', 'a\\vb')[0], pcre.match('axb', 'a\\Nb')[0]",
         ("1", "a", "a\nb", "axb")),
        # caseless matching is Unicode under PCRE_UTF8 (É matches é); \w stays ASCII
        ("return pcre.match('\\195\\137', '(?i)\\195\\169')[0], pcre.match('\\195\\169', '\\\\w')",
         ("\xc3\x89", None)),
        # compile errors: nil, PCRE's message, byte offset
        ("return pcre.match('abc', 'asd(')", (None, "missing )", 4)),
        ("return pcre.match('abc', '[a')", (None, "missing terminating ] for character class", 2)),
        ("return pcre.match('abc', '*a')", (None, "nothing to repeat", 0)),
        ("return pcre.match('abc', 'a)')", (None, "unmatched parentheses", 1)),
        ("return pcre.match('abc', '\\255')", (None, "invalid UTF-8 string", 0)),
        ("return pcre.match('abc', '')", (None, "an empty pattern was provided", 0)),
        # messages and offsets as thrLua's rclua reports them
        ("return pcre.match('abc', 'a{3,1}')", (None, "numbers out of order in {} quantifier", 5)),
        ("return pcre.match('abc', '[z-a]')", (None, "range out of order in character class", 3)),
        ("return pcre.match('abc', '(?<1a>x)')",
         (None, "group name must start with a non-digit", 3)),
        ("return pcre.match('abc', [[\\p{Foo}]])",
         (None, "unknown property name after \\P or \\p", 6)),
        ("return pcre.match('abc', '(?<x>a)(?<x>b)')",
         (None, "two named subpatterns have the same name", 11)),
        ("return pcre.match('ab', '(?J)(?<x>a)(?<x>b)')[0]", "ab"),
        ("return pcre.split('abc', '')", (None, "an empty pattern was provided", 0)),
        ("return pcre.replace('abc', 'b(', 'x')", (None, "missing )", 2)),
        # replacement strings: $N ${N} \N ${name}; a char after \ is literal; a bare $ vanishes
        (r"return pcre.replace('the quick quick', '(qu)ic(k)', '${1}sl$2ow')",
         "the quslkow quslkow"),
        (r"return pcre.replace('hello there', 'l(o)', 'hey \\\\1 \\1')", "helhey \\1 o there"),
        (r"return pcre.replace('cost 5', '(\\d)', '$$1 $x ${} \\$1')", "cost 5 x 5 $1"),
        (r"return pcre.replace('abc', '(?<n>b)', '<${n}${zz}$9>')", "a<b>c"),
        ("return pcre.replace('aaa', 'a', 'b', 2), pcre.replace('abc', 'b', 'x', 0)",
         ("bba", "abc")),
        ("return pcre.replace('abc', 'x*', '-')", "-a-b-c-"),
        ("return pcre.replace('abc', 'b', 7)", "a7c"),
        ("return pcre.replace('h\\195\\169llo', '\\195\\169', 'e')", "hello"),
        ("return pcre.replace('\\255abc', 'b', 'x')", ""),
        # callbacks get the match table; nil/false keeps the text
        ("return pcre.replace('a1b22', '(?<d>\\\\d+)', function(t) return '<' .. t.d .. '>' end)",
         "a<1>b<22>"),
        ("return pcre.replace('a1b2', '\\\\d', function(t) if t[0] == '1' then return false end"
         " return 9 end)", "a1b9"),
        ("return pcre.replace('a1b2', '\\\\d', function(t) return nil end, 1)", "a1b2"),
        # split: empty pieces dropped, limit counts pieces, captures are not returned
        ("return table.concat(pcre.split('the quick brown fox', '\\\\s+'), '|')",
         "the|quick|brown|fox"),
        ("return table.concat(pcre.split('the quick brown fox', '(\\\\s+|brown\\\\s+)'), '|')",
         "the|quick|fox"),
        ("return table.concat(pcre.split('a,b,c', ',', 2), '|'), "
         "table.concat(pcre.split('a,b,c', ',', 1), '|'), "
         "table.concat(pcre.split('a,b,c', ',', 0), '|')", ("a|b,c", "a,b,c", "a|b|c")),
        ("return #pcre.split(',a,,b,', ','), #pcre.split('abc', 'x*'),\n"
         "#pcre.split('\\255a,b', ',')", (2, 0, 0)),
    ],
)
def test_pcre(lua: lua51.LuaRuntime, body: str, expected: object) -> None:
    assert run(lua, body) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("pcre.replace('abc', 'b', {})", "bad argument #3 to 'replace' (expected string/function)"),
        ("pcre.replace(nil, 'b', 'x')", "bad argument #1 to 'replace' (string expected, got nil)"),
        ("pcre.match('a', {})", "bad argument #2 to 'match' (string expected, got table)"),
        ("pcre.split('a', 'b', 'x')", "bad argument #3 to 'split' (number expected, got string)"),
        ("pcre.replace('abc', 'b', function() return {} end)",
         "invalid replacement value (a table)"),
        ("pcre.replace('abc', 'b', function() error('from callback', 0) end)", "from callback"),
    ],
)
def test_errors(lua: lua51.LuaRuntime, body: str, message: str) -> None:
    assert run(lua, f"return select(2, pcall(function() {body} end))") == message


def test_match_table_has_names_and_numbers(lua: lua51.LuaRuntime) -> None:
    keys = run(lua, """
        local m = pcre.match('hello there', '^(?P<one>\\\\S+)\\\\s+(?P<two>\\\\S+)$')
        local keys = {}
        for k in pairs(m) do keys[#keys + 1] = tostring(k) end
        table.sort(keys)
        return table.concat(keys, ',')
    """)
    assert keys == "0,1,2,one,two"


def test_plain_pcre_module_is_the_same_api() -> None:
    runtime = lua51.LuaRuntime(encoding="latin-1", unpack_returned_tuples=True)
    module = LIBRARY_OPENERS["pcre"](runtime)
    assert module.replace("a-b", "-", "+") == "a+b"
