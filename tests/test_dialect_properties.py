"""Property tests for the thrLua translator (hypothesis)."""

from __future__ import annotations

import math
import re
from functools import cache

import lupa.lua51 as lua51
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from momentum_httpsrv.lua.dialect import LuaDialectSyntaxError, install_dialect_runtime, translate

# the program strategies are big trees; hypothesis warns that their repr is long
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def lua() -> lua51.LuaRuntime:
    runtime = lua51.LuaRuntime(encoding="latin-1", unpack_returned_tuples=True)
    install_dialect_runtime(runtime)
    return runtime


def compiles(lua: lua51.LuaRuntime, source: str) -> bool:
    loaded = lua.globals().loadstring(source, "=generated")
    return not isinstance(loaded, tuple)


# -- stock Lua 5.1 without any thrLua extension ---------------------------------------------

names = st.sampled_from(["a", "b", "t", "s", "count", "_x"])
numbers = st.sampled_from(["0", "7", "12", "0.5", "3.25", "1e3", "2E-2", "0x1F", "0XfF", "007",
                           "00", ".5", "4096", "0x7FFFFFFFFFFFFFFF"])
string_bodies = st.sampled_from([
    "plain", "a != b", "x | y & z", "1 << 2 >> 3", "~a", "a \\\\ b", "!x", "0660",
    "tab\\tnew\\nline", "quote \" here", "it's", "\\65\\066", "\\\\x41", "^^", "for k in t do",
])
short_strings = st.builds(lambda body, quote: quote + body.replace(quote, "\\" + quote) + quote,
                          string_bodies, st.sampled_from(['"', "'"]))
long_strings = st.builds(lambda body, level: f"[{'=' * level}[{body}]{'=' * level}]",
                         st.sampled_from(["x | y", "\\x41 != 0660", "a\nb ~c", "]] ~= 1"]),
                         st.integers(1, 2))
stock_binary = st.sampled_from(["+", "-", "*", "/", "%", "^", "..", "==", "~=", "<", "<=", ">",
                                ">=", "and", "or"])
stock_unary = st.sampled_from(["-", "not ", "#"])


@cache
def stock_operand(depth: int) -> st.SearchStrategy[str]:
    leaves = st.one_of(names, numbers, short_strings, long_strings,
                       st.sampled_from(["nil", "true", "false", "..."]))
    if depth == 0:
        return leaves
    inner = stock_expression(depth - 1)
    return st.one_of(
        leaves,
        st.builds(lambda op, e: f"{op} {e}" if op == "-" else op + e, stock_unary, inner),
        st.builds(lambda e: f"({e})", inner),
        st.builds(lambda f, e: f"{f}({e})", names, inner),
        st.builds(lambda o, m, e: f"{o}:{m}({e})", names, names, inner),
        st.builds(lambda o, e: f"{o}[ {e} ]", names, inner),
        st.builds(lambda e, n: f"{{{e}, {n} = 1}}", inner, names),
        st.builds(lambda e: f"function(x, ...) return {e} end", inner),
    )


@cache
def stock_expression(depth: int) -> st.SearchStrategy[str]:
    return st.builds(
        lambda first, rest: " ".join([first, *(f"{op} {e}" for op, e in rest)]),
        stock_operand(depth),
        st.lists(st.tuples(stock_binary, stock_operand(depth)), max_size=3),
    )


expressions = stock_expression(2)
# Statement separators, some carrying comments full of operator-looking text.
separators = st.sampled_from([
    "\n", "\r\n", ";\n", " -- a != b | c & d << 1\n", " --[[ ~x \\ y ^^ z 0660 ]] ",
    "\n--[==[ \"\\x41\" ]==]\n", "\n-- for k, v in t do\n", "\n--[[\nmulti-line != comment\n]]\n",
    "\n--\n",
])
simple_statements = st.one_of(
    st.builds(lambda n, e: f"local {n} = {e}", names, expressions),
    st.builds(lambda n, e: f"{n}.field, {n} = {e}, 1", names, expressions),
    st.builds(lambda f, e: f"{f}({e})", names, expressions),
    st.builds(lambda o, e: f"{o}:method({e}):other()", names, expressions),
)


def block_statement(body: str) -> st.SearchStrategy[str]:
    return st.sampled_from([
        f"for k, v in pairs(t) do\n{body}\nend",
        f"for i, v in ipairs(t) do {body} end",
        f"for k, v in next, t do {body} end",
        f"for k, v in next, t, nil do {body} end",
        f"for w in s:gmatch('%a+') do\n{body}\nend",
        f"for line in io.lines(s) do {body} end",
        f"for i = 1, 10, 2 do {body} end",
        f"if a ~= b then {body} elseif not a then {body} else {body} end",
        f"while a do {body} break end",
        f"repeat\n{body}\nuntil true",
        f"do {body} end",
        f"local function helper(x, ...)\n{body}\nreturn x\nend",
        f"function t.m(self, y, ...) {body} end",
        f"function t:n(...) {body} return end",
    ])


stock_programs = st.lists(
    st.one_of(simple_statements, simple_statements.flatmap(block_statement)), min_size=1,
    max_size=8,
).flatmap(lambda statements: separators.map(lambda separator: separator.join(statements)))


@PROPERTY_SETTINGS
@given(stock_programs)
def test_source_without_extensions_is_unchanged(lua: lua51.LuaRuntime, source: str) -> None:
    """Stock Lua comes out byte-identical, except for one construct left out on purpose.

    ``for names in expr do`` with a single expression that is not a call of ``pairs``,
    ``ipairs``, ``gmatch`` or ``lines`` is valid stock Lua, but thrLua gives it a meaning of its
    own (``__iter``), so the translator rewrites it and the generator above never emits it.
    That it still behaves the same for plain iterator functions is the next property.
    """
    assert compiles(lua, source), source  # the generator only produces stock Lua 5.1
    assert translate(source, "=generated") == source


ITERATOR_SETUP = """\
local function counter(n)
  local i = 0
  return function() i = i + 1 if i <= n then return i, -i end end
end
local words = string.gmatch("alpha beta gamma", "%a+")
local object = {count = counter}
local out = {}
"""
plain_iterators = st.one_of(
    st.integers(0, 4).map(lambda n: f"counter({n})"),
    st.integers(0, 4).map(lambda n: f"object.count({n})"),
    st.integers(0, 4).map(lambda n: f"(counter({n}))"),
    st.integers(0, 4).map(lambda n: f"coroutine.wrap(function() for i = 1, {n} do "
                                    "coroutine.yield(i, i * 2) end end)"),
    st.just("words"),
    st.just("function() return nil end"),
)


@PROPERTY_SETTINGS
@given(plain_iterators, st.sampled_from(["x", "x, y"]))
def test_single_expression_for_in_over_plain_functions_behaves_as_stock(
    lua: lua51.LuaRuntime, iterator: str, names: str
) -> None:
    """The rewritten stock form ``for names in expr do`` (see above) iterates exactly as before."""
    loop = f"for {names} in {iterator} do out[#out + 1] = table.concat({{{names}}}, ':') end"
    source = f"{ITERATOR_SETUP}{loop}\nreturn table.concat(out, ',')"
    translated = translate(source, "=iter")
    assert translated != source and translated.count("\n") == source.count("\n")
    assert lua.execute(translated) == lua.execute(source)


# -- thrLua source with extensions ----------------------------------------------------------

extension_numbers = st.sampled_from(["0660", "010", "0x10", "0777", "0xFFFFFFFFFFFFFFFF"])
extension_strings = st.sampled_from(['"\\x41"', "'\\u00e9'", '"a\\x20b\\u0001f600"'])
extension_binary = st.sampled_from(["|", "&", "^^", "<<", ">>", "\\", "!=", "+", "..", "=="])


@cache
def thrlua_operand(depth: int) -> st.SearchStrategy[str]:
    leaves = st.one_of(names, numbers, extension_numbers, extension_strings, short_strings)
    if depth == 0:
        return leaves
    inner = thrlua_expression(depth - 1)
    return st.one_of(
        leaves,
        st.builds(lambda op, e: f"{op}{e}", st.sampled_from(["~", "!", "- ", "not "]), inner),
        st.builds(lambda e: f"({e})", inner),
        st.builds(lambda f, e: f"{f}({e})", names, inner),
    )


@cache
def thrlua_expression(depth: int) -> st.SearchStrategy[str]:
    return st.builds(
        lambda first, rest: "".join([first, *(f"{gap}{op}{gap2}{e}" for gap, op, gap2, e in rest)]),
        thrlua_operand(depth),
        st.lists(st.tuples(st.sampled_from([" ", "\n", " \r\n  "]), extension_binary,
                           st.sampled_from([" ", "\n  "]), thrlua_operand(depth)), max_size=3),
    )


thrlua_statements = st.one_of(
    simple_statements,
    st.builds(lambda n, e: f"local {n} = {e}", names, thrlua_expression(2)),
    st.builds(lambda e: f"for k, v in {e} do end", st.one_of(names, thrlua_expression(1))),
    st.builds(lambda e: f"if {e} != nil then return\n{e} end", thrlua_expression(1)),
)
thrlua_programs = st.lists(thrlua_statements, min_size=1, max_size=6).map("\n".join)


@PROPERTY_SETTINGS
@given(thrlua_programs)
def test_translation_keeps_lines_and_compiles(lua: lua51.LuaRuntime, source: str) -> None:
    translated = translate(source, "=generated")
    assert [translated.count(c) for c in "\r\n"] == [source.count(c) for c in "\r\n"]
    assert compiles(lua, translated), translated


lua_ish_text = st.text(alphabet="abx019 \n\r\t\"'\\[]=-!~|&^<>.(){}#;:,uxe", max_size=60)


@PROPERTY_SETTINGS
@given(lua_ish_text)
def test_arbitrary_text_keeps_lines_or_raises_lexer_error(source: str) -> None:
    try:
        translated = translate(source, "=fuzz")
    except LuaDialectSyntaxError as error:
        assert str(error).startswith("fuzz:")
        return
    assert [translated.count(c) for c in "\r\n"] == [source.count(c) for c in "\r\n"]


# -- evaluation against a reference evaluator -----------------------------------------------

# thrLua's lparser.c priority table: (left, right); unary operators parse their operand at 8.
PRIORITY = {"+": (6, 6), "-": (6, 6), "|": (6, 6), "&": (6, 6), "^^": (6, 6),
            "*": (7, 7), "/": (7, 7), "%": (7, 7), "<<": (7, 7), ">>": (7, 7), "\\": (7, 7),
            "^": (10, 9), "==": (3, 3), "!=": (3, 3), "~=": (3, 3), "<": (3, 3), "<=": (3, 3),
            ">": (3, 3), ">=": (3, 3)}
UNARY_PRIORITY = 8
INT64_MIN = -(2**63)


def to_int64(value: float) -> int:
    """C's (int64_t) cast on x86-64: truncation, INT64_MIN when out of range or NaN."""
    if math.isnan(value) or not -(2.0**63) <= value < 2.0**63:
        return INT64_MIN
    return int(value)


def wrap64(value: int) -> int:
    return (value + 2**63) % 2**64 - 2**63


class ZeroDivisor(Exception):
    """The expression divides by zero somewhere.

    Lua shares one constant slot between 0 and -0 within a function, so the sign of a zero
    divisor depends on which literal came first; such expressions are left to the table tests.
    """


def divide(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisor
    return a / b


def floor(value: float) -> float:
    return value if math.isnan(value) or math.isinf(value) else float(math.floor(value))


def power(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        return math.inf if a > 0 or b % 2 == 0 else -math.inf
    except ValueError:  # C's pow: 0 to a negative power divides by zero
        if a == 0:
            raise ZeroDivisor from None
        return math.nan


def modulo(a: float, b: float) -> float:  # luai_nummod: a - floor(a/b)*b
    quotient = floor(divide(a, b))
    return a - quotient * b


BINARY = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": divide, "%": modulo, "^": power,
    "|": lambda a, b: float(to_int64(a) | to_int64(b)),
    "&": lambda a, b: float(to_int64(a) & to_int64(b)),
    "^^": lambda a, b: float(to_int64(a) ^ to_int64(b)),
    "<<": lambda a, b: float(wrap64(to_int64(a) << (to_int64(b) & 63))),
    ">>": lambda a, b: float(to_int64(a) >> (to_int64(b) & 63)),
    "\\": lambda a, b: floor(divide(a, b)),
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "~=": lambda a, b: a != b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def reference_eval(tokens: list[str]) -> float | bool:
    """Evaluate a token list by precedence climbing over thrLua's priority table."""
    pos = 0

    def subexpr(limit: int) -> float | bool:
        nonlocal pos
        token = tokens[pos]
        if token in ("-", "~"):
            pos += 1
            operand = subexpr(UNARY_PRIORITY)
            value = -operand if token == "-" else float(~to_int64(operand))
        elif token == "(":
            pos += 1
            value = subexpr(0)
            pos += 1  # ")"
        else:
            pos += 1
            value = float(token)
        while pos < len(tokens) and tokens[pos] in PRIORITY and PRIORITY[tokens[pos]][0] > limit:
            op = tokens[pos]
            pos += 1
            value = BINARY[op](value, subexpr(PRIORITY[op][1]))
        return value

    return subexpr(0)


arithmetic_ops = st.sampled_from(["+", "-", "*", "/", "%", "^", "|", "&", "^^", "<<", ">>", "\\"])
literal_numbers = st.one_of(
    st.integers(0, 40).map(str),
    st.integers(0, 2**62).map(str),
    st.sampled_from(["0.5", "2.75", "1e15", "9007199254740993", "65535", "4294967296"]),
)


@st.composite
def operand_tokens(draw: st.DrawFn, depth: int) -> list[str]:
    choice = draw(st.integers(0, 3 if depth else 1))
    if choice == 0 or choice == 1 and depth == 0:
        return [draw(literal_numbers)]
    if choice == 1:
        return [draw(st.sampled_from(["-", "~"])), *draw(operand_tokens(depth - 1))]
    return ["(", *draw(expression_tokens(depth - 1)), ")"]


@st.composite
def expression_tokens(draw: st.DrawFn, depth: int) -> list[str]:
    tokens = draw(operand_tokens(depth))
    for _ in range(draw(st.integers(0, 4))):
        tokens += [draw(arithmetic_ops), *draw(operand_tokens(depth))]
    return tokens


@st.composite
def comparison_tokens(draw: st.DrawFn) -> list[str]:
    tokens = draw(expression_tokens(2))
    if draw(st.booleans()):
        comparison = draw(st.sampled_from(["==", "!=", "~=", "<", "<=", ">", ">="]))
        tokens += [comparison, *draw(expression_tokens(1))]
    return tokens


def same_value(got: object, expected: float | bool) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return got is expected
    assert isinstance(got, (int, float))
    return (math.isnan(got) and math.isnan(expected)) or got == expected


@PROPERTY_SETTINGS
@given(comparison_tokens())
def test_expressions_match_reference_evaluator(lua: lua51.LuaRuntime, tokens: list[str]) -> None:
    source = "return " + " ".join(tokens)
    try:
        expected = reference_eval(tokens)
    except ZeroDivisor:
        assume(False)
    got = lua.execute(translate(source, "=expr"))
    assert same_value(got, expected), (source, got, expected)


def test_reference_evaluator_knows_thrlua_precedence() -> None:
    cases = {"1 << 2 + 1": 5.0, "2 | 1 + 1": 4.0, "12 | 10 & 1": 0.0, "- 2 ^ 2": -4.0,
             "~ 2 ^ 2": -5.0, "7 \\ 2 * 2": 6.0, "1 | 2 == 3": True}
    for text, value in cases.items():
        assert reference_eval(re.findall(r"\^\^|<<|>>|==|[-+*/%^|&\\~()]|[\d.e]+", text)) == value


# -- long left folds --------------------------------------------------------------------------
# Lua 5.1 refuses more than 200 nested syntax levels, and thrLua parses `a | b | c …` in a loop,
# so a chain of any length compiles there; so must its translation (stock `+` chains do).

BITWISE_OPS = ["|", "&", "^^", "<<", ">>", "\\"]
# Operands that keep each operator's 500-fold interesting (not stuck at 0 or -1 early on).
LONG_FOLD_OPERANDS = {
    "|": lambda i: str(i * 7919 % 2**40),
    "&": lambda i: str(2**52 - 1 - 2 ** (i % 52) if i % 9 == 0 else 2**52 - 1),
    "^^": lambda i: str(i * 104729),
    "<<": lambda i: str(int(i % 13 == 0)),
    ">>": lambda i: str(int(i % 17 == 0)),
    "\\": lambda i: "1.5" if i % 25 == 0 else "1",
}


def fold_tokens(start: str, ops: list[str], operands: list[str]) -> list[str]:
    tokens = [start]
    for op, operand in zip(ops, operands, strict=True):
        tokens += [op, operand]
    return tokens


@pytest.mark.parametrize("op", BITWISE_OPS)
def test_500_operator_chain_compiles_and_folds_left(lua: lua51.LuaRuntime, op: str) -> None:
    start = "1125899906842624" if op in (">>", "\\") else "1"
    tokens = fold_tokens(start, [op] * 500, [LONG_FOLD_OPERANDS[op](i) for i in range(1, 501)])
    got = lua.execute(translate("return " + " ".join(tokens), "=chain"))
    assert same_value(got, reference_eval(tokens)), (op, got)


@pytest.mark.parametrize(("name", "ops"), [
    ("bitwise, one level", ["|", "&", "^^"]),
    ("shifts and idiv", ["<<", ">>", "\\"]),
    ("bitwise and arithmetic, one level", ["|", "+", "&", "-", "^^"]),
    ("shifts and arithmetic, one level", ["<<", "*", ">>", "%", "\\", "/"]),
    ("both levels", ["|", "<<", "+", "&", "*", "^^", ">>"]),
])
def test_500_operator_mixed_chain(lua: lua51.LuaRuntime, name: str, ops: list[str]) -> None:
    chain_ops = [ops[i % len(ops)] for i in range(500)]
    operands = [str(i % 7 + 1) for i in range(500)]
    tokens = fold_tokens("3", chain_ops, operands)
    got = lua.execute(translate("return " + " ".join(tokens), "=chain"))
    assert same_value(got, reference_eval(tokens)), (name, got)


# One fold of 320+ operators of priority 6, three quarters bitwise (so nesting a call per
# operator would exceed Lua's 200 levels); operands are numbers or priority-7 operations.
long_fold_ops = st.sampled_from(["+", "-", "|", "&", "^^", "|", "&", "^^"])
small_numbers = st.integers(1, 40).map(str)
long_fold_operands = st.one_of(
    small_numbers.map(lambda n: [n]),
    st.tuples(small_numbers, st.sampled_from(["*", "/", "%", "<<", ">>", "\\"]),
              small_numbers).map(list),
)


@settings(PROPERTY_SETTINGS, max_examples=40)
@given(st.lists(st.tuples(long_fold_ops, long_fold_operands), min_size=320, max_size=450))
def test_long_random_folds_match_reference(
    lua: lua51.LuaRuntime, steps: list[tuple[str, list[str]]]
) -> None:
    tokens = ["5"]
    for op, operand in steps:
        tokens += [op, *operand]
    got = lua.execute(translate("return " + " ".join(tokens), "=chain"))
    assert same_value(got, reference_eval(tokens)), (" ".join(tokens), got)


def test_concatenation_of_bitwise_chains_nests_no_deeper_than_stock_lua(
    lua: lua51.LuaRuntime,
) -> None:
    # Stock Lua 5.1 accepts at most 197 right-associative `..`; each operand here is a chain.
    parts = [f"{i} | 1 << 2 & 255 ^^ {i}" for i in range(190)]
    got = lua.execute(translate("return " + " .. ".join(parts), "=concat"))
    assert got == "".join(str(((i | 1 << 2) & 255) ^ i) for i in range(190))  # thrLua priorities
