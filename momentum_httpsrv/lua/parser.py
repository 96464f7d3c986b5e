"""Recursive-descent parser for thrLua 5.1 that records the syntactic rewrites.

It walks the whole Lua 5.1 grammar (blocks, every statement, function bodies, table
constructors, the full operator-precedence expression grammar) over the token stream from
:mod:`momentum_httpsrv.lua.lexer`, using thrLua's priority table from ``lparser.c``:

====================  =====  ======
operators             left   right
====================  =====  ======
``or``                1      1
``and``               2      2
comparisons           3      3
``..``                5      4
``+ - | & ^^``        6      6
``* / % << >> \\``    7      7
unary ``not ! - # ~`` 8 (operand parsed at 8)
``^``                 10     9
====================  =====  ======

Instead of building a tree it records, per token, text to put before it, in place of it, or
after it. A bitwise operation ``L op R`` becomes ``__thrlua.f(L, R)`` by writing
``__thrlua.f(`` before the first token of ``L``, ``,`` in place of ``op`` and ``)`` after the
last token of ``R``; nested operations compose because inner ones are recorded first and the
enclosing prefix is put in front of theirs. A call may get a third argument naming its
operands and line for thrLua's error messages; a left fold with more bitwise operators than
Lua's nesting allows becomes a flat call chain (see :meth:`_Parser.emit_left_fold`). No
newline is ever added or removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from momentum_httpsrv.lua.lexer import Tokens, line_at

__all__ = ["HELPERS_NAME", "ITERATOR_FACTORIES", "NESTED_FOLD_LIMIT", "Rewrites", "find_rewrites"]

HELPERS_NAME = "__thrlua"
"""The local that translated chunks use to reach the runtime helpers."""

ITERATOR_FACTORIES = frozenset({"pairs", "ipairs", "gmatch", "lines"})
"""Calls left alone in a one-expression ``for … in`` (they return iterator functions)."""

_BINARY_PRIORITY = {
    "+": (6, 6), "-": (6, 6), "*": (7, 7), "/": (7, 7), "%": (7, 7), "^": (10, 9),
    "|": (6, 6), "&": (6, 6), "^^": (6, 6), "<<": (7, 7), ">>": (7, 7), "\\": (7, 7),
    "..": (5, 4),
    "==": (3, 3), "~=": (3, 3), "!=": (3, 3),
    "<": (3, 3), "<=": (3, 3), ">": (3, 3), ">=": (3, 3),
    "and": (2, 2), "or": (1, 1),
}  # fmt: skip
_UNARY_PRIORITY = 8
_UNARY = frozenset({"not", "!", "-", "#", "~"})
_BITWISE_HELPERS = {"|": "bor", "&": "band", "^^": "bxor", "<<": "shl", ">>": "shr", "\\": "idiv"}
# How a step of ``__thrlua.chain`` names its operator (a Lua string literal's contents).
# Only + - * / % can stand between two bitwise operators of one left fold: every other
# operator binds either tighter (and sits inside an operand) or looser (and ends the fold).
_CHAIN_STEPS = {
    "|": "|", "&": "&", "^^": "^^", "<<": "<<", ">>": ">>", "\\": "\\\\",
    "+": "+", "-": "-", "*": "*", "/": "/", "%": "%",
}  # fmt: skip
# On a syntax error, extension operators not yet rewritten become stock operators of the same
# priority, so that stock Lua's parser takes thrLua's path and stops at the same token.
# ``~`` is not here: thrLua has no binary ``~``, so one the parser never consumed as unary
# stays ``~`` and stock Lua rejects it as thrLua does (``unexpected symbol near '~'``).
# A unary ``~`` whose operand was cut short gets its ``-`` stand-in in ``subexpression``.
_SYNTAX_STAND_INS = {"|": "+", "&": "+", "^^": "+", "<<": "*", ">>": "*", "\\": "*"}
_UNARY_BNOT_STAND_IN = "-"
NESTED_FOLD_LIMIT = 32
"""Most bitwise operators in one left fold written as nested calls (each nests a syntax
level; Lua 5.1 allows 200)."""
_NEWLINE = re.compile(r"[\r\n]")
_BLOCK_END = frozenset({"else", "elseif", "end", "until", "eof"})
_LITERALS = frozenset({"number", "string", "nil", "true", "false", "..."})

# Expression results are (first token, last token, tag); the tag tells the statement level
# what the expression was: a helper call we generated, a call of a named function, or other.
_PLAIN = ""
_HELPER_CALL = "helper"
_CALL_PREFIX = "call:"
Expr = tuple[int, int, str]


class ParseError(Exception):
    """The token stream is not valid Lua here; stock Lua will report it with the right line."""


class Rewrites:
    """Text to emit before, instead of, and after tokens, plus whether helpers are needed."""

    def __init__(self, replacements: dict[int, str]) -> None:
        self.before: dict[int, str] = {}
        self.instead: dict[int, str] = dict(replacements)
        self.after: dict[int, str] = {}
        self.uses_helpers = False
        self.complete = True  # False when parsing stopped at a syntax error

    def wrap(self, first: int, last: int, opening: str, closing: str = ")") -> None:
        self.before[first] = opening + self.before.get(first, "")
        self.after[last] = self.after.get(last, "") + closing

    def helper_call(self, first: int, last: int, helper: str) -> None:
        self.wrap(first, last, f"{HELPERS_NAME}.{helper}(")
        self.uses_helpers = True


class _Parser:
    def __init__(self, tokens: Tokens, rewrites: Rewrites) -> None:
        self.tokens = tokens
        self.kinds = tokens.kinds
        self.rewrites = rewrites
        self.pos = 0

    # -- helpers ---------------------------------------------------------------------------

    def expect(self, kind: str) -> int:
        pos = self.pos
        if self.kinds[pos] != kind:
            raise ParseError(f"'{kind}' expected at token {pos}")
        self.pos = pos + 1
        return pos

    def accept(self, kind: str) -> bool:
        if self.kinds[self.pos] == kind:
            self.pos += 1
            return True
        return False

    # -- blocks and statements -------------------------------------------------------------

    def chunk(self) -> None:
        self.block()
        self.expect("eof")

    def block(self) -> None:
        kinds = self.kinds
        while kinds[self.pos] not in _BLOCK_END:
            kind = kinds[self.pos]
            if kind == "return":
                self.return_statement()
                self.accept(";")
                return
            if kind == "break":
                self.pos += 1
                self.accept(";")
                return
            self.statement(kind)
            self.accept(";")

    def statement(self, kind: str) -> None:
        handler = self._STATEMENTS.get(kind)
        if handler is not None:
            self.pos += 1
            handler(self)
        else:
            self.expression_statement()

    def if_statement(self) -> None:
        self.expression()
        self.expect("then")
        self.block()
        while self.accept("elseif"):
            self.expression()
            self.expect("then")
            self.block()
        if self.accept("else"):
            self.block()
        self.expect("end")

    def while_statement(self) -> None:
        self.expression()
        self.expect("do")
        self.block()
        self.expect("end")

    def do_statement(self) -> None:
        self.block()
        self.expect("end")

    def repeat_statement(self) -> None:
        self.block()
        self.expect("until")
        self.expression()

    def for_statement(self) -> None:
        self.expect("name")
        if self.accept("="):
            self.expression()
            self.expect(",")
            self.expression()
            if self.accept(","):
                self.expression()
        else:
            while self.accept(","):
                self.expect("name")
            self.expect("in")
            self.route_through_iter(self.expression_list())
        self.expect("do")
        self.block()
        self.expect("end")

    def route_through_iter(self, expressions: list[Expr]) -> None:
        """Let ``__iter`` apply: thrLua consults it whenever the generator is not a function,
        however many expressions the list has. Left alone: a lone call of an iterator
        factory, and lists that start with ``next`` (both give functions)."""
        first, last, tag = expressions[0]
        if len(expressions) == 1:
            if tag.startswith(_CALL_PREFIX) and tag[len(_CALL_PREFIX) :] in ITERATOR_FACTORIES:
                return
        elif first == last and self.tokens.text(first) == "next":
            return
        self.rewrites.helper_call(first, expressions[-1][1], "iter")

    def function_statement(self) -> None:
        self.expect("name")
        while self.accept("."):
            self.expect("name")
        if self.accept(":"):
            self.expect("name")
        self.function_body()

    def local_statement(self) -> None:
        if self.accept("function"):
            self.expect("name")
            self.function_body()
            return
        self.expect("name")
        while self.accept(","):
            self.expect("name")
        if self.accept("="):
            self.expression_list()

    def return_statement(self) -> None:
        self.pos += 1
        if self.kinds[self.pos] in _BLOCK_END or self.kinds[self.pos] == ";":
            return
        expressions = self.expression_list()
        if len(expressions) == 1 and expressions[0][2] == _HELPER_CALL:
            # `return f(x)` would be a tail call and lose the caller's line in error messages
            first, last, _ = expressions[0]
            self.rewrites.wrap(first, last, "(")

    def expression_statement(self) -> None:
        self.suffixed_expression()
        if self.kinds[self.pos] in ("=", ","):
            while self.accept(","):
                self.suffixed_expression()
            self.expect("=")
            self.expression_list()

    _STATEMENTS: dict[str, Callable[[_Parser], None]] = {
        "if": if_statement,
        "while": while_statement,
        "do": do_statement,
        "for": for_statement,
        "repeat": repeat_statement,
        "function": function_statement,
        "local": local_statement,
    }

    # -- expressions -----------------------------------------------------------------------

    def expression_list(self) -> list[Expr]:
        expressions = [self.expression()]
        while self.accept(","):
            expressions.append(self.expression())
        return expressions

    def expression(self) -> Expr:
        return self.subexpression(0)

    def subexpression(self, limit: int) -> Expr:
        kinds = self.kinds
        first = self.pos
        kind = kinds[first]
        if kind in _UNARY:
            if kind == "~":
                # Kept if the operand has a syntax error, replaced below once it parses.
                self.rewrites.instead[first] = _UNARY_BNOT_STAND_IN
            self.pos += 1
            _, last, _ = self.subexpression(_UNARY_PRIORITY)
            tag = _PLAIN
            if kind == "~":
                self.rewrites.instead[first] = f"{HELPERS_NAME}.bnot("
                self.rewrites.after[last] = self.rewrites.after.get(last, "") + ")"
                self.rewrites.uses_helpers = True
                tag = _HELPER_CALL
            expr = (first, last, tag)
        else:
            expr = self.simple_expression()
        op = kinds[self.pos]
        priority = _BINARY_PRIORITY.get(op)
        if priority is None or priority[0] <= limit:
            return expr
        # Every operator this loop consumes applies to the value so far (a left fold); the
        # bitwise ones among them are rewritten together once the loop is done.
        operations: list[tuple[int, str, int]] = []  # (operator token, operator, right end)
        while priority is not None and priority[0] > limit:
            op_pos = self.pos
            self.pos += 1
            _, last, _ = self.subexpression(priority[1])
            operations.append((op_pos, op, last))
            op = kinds[self.pos]
            priority = _BINARY_PRIORITY.get(op)
        self.emit_left_fold(first, operations)
        _, last_op, last = operations[-1]
        return (first, last, _HELPER_CALL if last_op in _BITWISE_HELPERS else _PLAIN)

    def emit_left_fold(self, first: int, operations: list[tuple[int, str, int]]) -> None:
        """Rewrite the bitwise operators of one left fold ``first op1 R1 op2 R2 …``.

        Up to ``NESTED_FOLD_LIMIT`` of them become nested helper calls, the fastest form:
        ``a | b + c & d`` → ``__thrlua.band(__thrlua.bor(a, b) + c, d)``. A call gets a
        third argument, a string telling where thrLua would report an error (see
        :meth:`error_site`), only when it has something to tell. Longer folds become
        ``__thrlua.chain(L)("|", R1)("+", R2)…()``: a call suffix per operator, which Lua
        parses in a loop, so nesting does not grow with the fold (``1 | 2 | … | 300`` as
        nested calls exceeds Lua's 200 syntax levels); each suffix opens on its right
        operand's first line. Stock operators outside the bitwise span stay as they are.
        """
        rewrites = self.rewrites
        bitwise = [i for i, (_, op, _) in enumerate(operations) if op in _BITWISE_HELPERS]
        if not bitwise:
            return
        if len(bitwise) <= NESTED_FOLD_LIMIT:
            for index in bitwise:
                op_pos, op, last = operations[index]
                left_end = op_pos - 1 if index == 0 else None
                site = self.error_site(first, left_end, op_pos + 1, last)
                rewrites.helper_call(first, last, _BITWISE_HELPERS[op])
                rewrites.instead[op_pos] = ","
                if site:
                    rewrites.after[last] = rewrites.after[last][:-1] + f', "{site}")'
            return
        chained = operations[bitwise[0] : bitwise[-1] + 1]
        last = chained[-1][2]
        rewrites.helper_call(first, last, "chain")
        rewrites.after[last] += "()"
        for op_pos, op, _ in chained:
            rewrites.instead[op_pos] = ""
            step = f')("{_CHAIN_STEPS[op]}", '
            rewrites.before[op_pos + 1] = step + rewrites.before.get(op_pos + 1, "")

    def error_site(self, call_start: int, left_end: int | None, right_start: int,
                   right_end: int) -> str:
        """``"line,left,right"`` for an operation's helper call, or "" when it adds nothing:
        the line thrLua reports (that of the right operand's last token) when the call
        starts on another line, and how thrLua names each operand, for one that is a
        variable (``q``) or a field (``.f``). Left is empty unless the left operand is the
        expression from ``call_start`` to ``left_end``."""
        source, starts = self.tokens.source, self.tokens.starts
        line = ""
        if _NEWLINE.search(source, starts[call_start], starts[right_end]):
            line = str(line_at(source, starts[right_end]))
        left = self.operand_name(call_start, left_end) if left_end is not None else ""
        right = self.operand_name(right_start, right_end)
        if not (line or left or right):
            return ""
        return f"{line},{left},{right}"

    def operand_name(self, first: int, last: int) -> str:
        """``q`` for an operand that is a lone name, ``.f`` for a dotted one (``a.b.f``), ""
        otherwise."""
        if first == last:
            return self.tokens.text(last) if self.kinds[last] == "name" else ""
        dotted = all(
            kind == ("name" if (index - first) % 2 == 0 else ".")
            for index, kind in enumerate(self.kinds[first : last + 1], first)
        )
        return "." + self.tokens.text(last) if dotted and (last - first) % 2 == 0 else ""

    def simple_expression(self) -> Expr:
        pos = self.pos
        kind = self.kinds[pos]
        if kind in _LITERALS:
            self.pos = pos + 1
            return (pos, pos, _PLAIN)
        if kind == "{":
            return (pos, self.table_constructor(), _PLAIN)
        if kind == "function":
            self.pos = pos + 1
            return (pos, self.function_body(), _PLAIN)
        return self.suffixed_expression()

    def primary_expression(self) -> None:
        kind = self.kinds[self.pos]
        if kind == "name":
            self.pos += 1
        elif kind == "(":
            self.pos += 1
            self.expression()
            self.expect(")")
        else:
            raise ParseError(f"unexpected symbol at token {self.pos}")

    def suffixed_expression(self) -> Expr:
        kinds = self.kinds
        first = self.pos
        self.primary_expression()
        name = self.tokens.text(first) if kinds[first] == "name" else ""
        tag = _PLAIN
        while True:
            kind = kinds[self.pos]
            if kind == ".":
                self.pos += 1
                name = self.tokens.text(self.expect("name"))
                tag = _PLAIN
            elif kind == "[":
                self.pos += 1
                self.expression()
                self.expect("]")
                name, tag = "", _PLAIN
            elif kind == ":":
                self.pos += 1
                name = self.tokens.text(self.expect("name"))
                self.call_arguments()
                name, tag = "", _CALL_PREFIX + name
            elif kind in ("(", "string", "{"):
                self.call_arguments()
                name, tag = "", _CALL_PREFIX + name
            else:
                return (first, self.pos - 1, tag)

    def call_arguments(self) -> None:
        kind = self.kinds[self.pos]
        if kind == "string":
            self.pos += 1
        elif kind == "{":
            self.table_constructor()
        elif kind == "(":
            self.pos += 1
            if self.kinds[self.pos] != ")":
                self.expression_list()
            self.expect(")")
        else:
            raise ParseError(f"function arguments expected at token {self.pos}")

    def table_constructor(self) -> int:
        kinds = self.kinds
        self.expect("{")
        while kinds[self.pos] != "}":
            kind = kinds[self.pos]
            if kind == "[":
                self.pos += 1
                self.expression()
                self.expect("]")
                self.expect("=")
            elif kind == "name" and kinds[self.pos + 1] == "=":
                self.pos += 2
            self.expression()
            if not (self.accept(",") or self.accept(";")):
                break
        return self.expect("}")

    def function_body(self) -> int:
        self.expect("(")
        if self.kinds[self.pos] != ")":
            while not self.accept("..."):
                self.expect("name")
                if not self.accept(","):
                    break
        self.expect(")")
        self.block()
        return self.expect("end")


def find_rewrites(tokens: Tokens) -> Rewrites:
    """Parse ``tokens`` and return the rewrites that turn thrLua into stock Lua 5.1.

    On a syntax error parsing stops (``complete`` is False): the rewrites recorded for the
    complete expressions before it are kept, the remaining extension operators get stand-ins,
    and stock Lua reports the error itself, at the line thrLua would.
    """
    rewrites = Rewrites(tokens.replacements)
    try:
        _Parser(tokens, rewrites).chunk()
    except (ParseError, RecursionError):
        rewrites.complete = False
        for index, kind in enumerate(tokens.kinds):
            if kind in _SYNTAX_STAND_INS and index not in rewrites.instead:
                rewrites.instead[index] = _SYNTAX_STAND_INS[kind]
    return rewrites
