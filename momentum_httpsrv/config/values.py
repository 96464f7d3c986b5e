"""Option values: how they are read, represented, converted and written back.

A value keeps both what it means and how it was written, so ``config show`` can print it the
way the operator wrote it and typed accessors can still convert it:

* scalar: ``str`` for quoted strings and bare words, ``int`` for bare integer literals
  (decimal, leading-zero octal ``0660`` → 432, ``0x1F`` hex), ``float`` for bare ``1.5``;
  ``raw`` is the text as written (quotes included);
* list ``( a "b" 3 )`` → ``list`` of values; parameter block ``[ k = v ]`` → ``dict`` (last
  duplicate key wins); both may nest.

Quoted text is never turned into a number: ``"0660"`` stays the string ``"0660"`` and
``to_int`` converts it when asked (leading zero still means octal, as ``strtol(…, 0)`` does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias

from .errors import ConfigSyntaxError
from .lexer import Token, TokenKind, tokenize

ConfigValue: TypeAlias = "str | int | float | list[ConfigValue] | dict[str, ConfigValue]"

_DECIMAL = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")
_OCTAL = re.compile(r"[+-]?0[0-7]+")
_HEX = re.compile(r"[+-]?0[xX][0-9a-fA-F]+")
_FLOAT = re.compile(r"[+-]?[0-9]+\.[0-9]+")
_BARE_SAFE = re.compile(r"[^\s#/\"'={}\[\]()]+")

# ec_atobool's words (docs: console-commands/config) plus yes/no.
_BOOLEAN_WORDS = {
    "true": True, "on": True, "enabled": True, "yes": True, "1": True,
    "false": False, "off": False, "disabled": False, "no": False, "0": False,
}  # fmt: skip
BOOLEAN_WORDS_HELP = "true/false, on/off, enabled/disabled, yes/no or 1/0"


def number_from_text(text: str) -> int | float | None:
    """The number a bare word denotes, or None if it is not a numeric literal."""
    if _DECIMAL.fullmatch(text):
        return int(text, 10)
    if _OCTAL.fullmatch(text):
        return int(text, 8)
    if _HEX.fullmatch(text):
        return int(text, 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    return None


@dataclass(frozen=True)
class Scalar:
    raw: str  # as written, quotes included
    text: str  # the string it stands for: quoted content or the bare word
    value: str | int | float

    def render(self, indent: str = "") -> str:
        return self.raw


@dataclass(frozen=True)
class ListValue:
    items: tuple[ValueNode, ...]

    @property
    def value(self) -> list[ConfigValue]:
        return [item.value for item in self.items]

    @property
    def raw(self) -> str:
        return "( " + " ".join(item.raw for item in self.items) + " )" if self.items else "( )"

    def render(self, indent: str = "") -> str:
        if not self.items:
            return "( )"
        inner = indent + "  "
        lines = [inner + item.render(inner) for item in self.items]
        return "(\n" + "\n".join(lines) + "\n" + indent + ")"


@dataclass(frozen=True)
class ParamsValue:
    entries: tuple[tuple[Scalar, ValueNode], ...]  # (key as written, value)

    @property
    def value(self) -> dict[str, ConfigValue]:
        return {key.text: node.value for key, node in self.entries}

    @property
    def raw(self) -> str:
        inner = " ".join(f"{key.raw} = {node.raw}" for key, node in self.entries)
        return f"[ {inner} ]" if inner else "[ ]"

    def render(self, indent: str = "") -> str:
        if not self.entries:
            return "[ ]"
        inner = indent + "  "
        lines = [f"{inner}{key.raw} = {node.render(inner)}" for key, node in self.entries]
        return "[\n" + "\n".join(lines) + "\n" + indent + "]"


ValueNode: TypeAlias = Scalar | ListValue | ParamsValue


# --- reading ------------------------------------------------------------------------------------


def scalar_from_token(token: Token) -> Scalar:
    if token.kind is TokenKind.STRING:
        return Scalar(token.text, token.value, token.value)
    number = number_from_text(token.value)
    return Scalar(token.text, token.value, token.value if number is None else number)


def read_value(tokens: list[Token], pos: int, after: str) -> tuple[ValueNode, int]:
    """Read one value starting at ``tokens[pos]``; ``after`` completes "expected a value …"."""
    token = tokens[pos]
    if token.kind in (TokenKind.WORD, TokenKind.STRING):
        return scalar_from_token(token), pos + 1
    if token.kind is TokenKind.LPAREN:
        return _read_list(tokens, pos)
    if token.kind is TokenKind.LBRACKET:
        return _read_params(tokens, pos)
    raise ConfigSyntaxError(token.location, f"expected a value {after}, found {token.describe()}")


def _opened_at(token: Token) -> str:
    return f"opened at {token.location.line}:{token.location.col}"


def _read_list(tokens: list[Token], pos: int) -> tuple[ListValue, int]:
    opening = tokens[pos]
    pos += 1
    items: list[ValueNode] = []
    while tokens[pos].kind is not TokenKind.RPAREN:
        if tokens[pos].kind not in (
            TokenKind.WORD,
            TokenKind.STRING,
            TokenKind.LPAREN,
            TokenKind.LBRACKET,
        ):
            raise ConfigSyntaxError(
                tokens[pos].location,
                f"expected a value or ')' to close the list {_opened_at(opening)}, "
                f"found {tokens[pos].describe()}",
            )
        item, pos = read_value(tokens, pos, "in the list")
        items.append(item)
    return ListValue(tuple(items)), pos + 1


def _read_params(tokens: list[Token], pos: int) -> tuple[ParamsValue, int]:
    opening = tokens[pos]
    pos += 1
    entries: list[tuple[Scalar, ValueNode]] = []
    while tokens[pos].kind is not TokenKind.RBRACKET:
        key_token = tokens[pos]
        if key_token.kind not in (TokenKind.WORD, TokenKind.STRING):
            raise ConfigSyntaxError(
                key_token.location,
                f"expected a parameter name or ']' to close the parameter block "
                f"{_opened_at(opening)}, found {key_token.describe()}",
            )
        pos += 1
        if tokens[pos].kind is TokenKind.EQUALS:
            pos += 1
        node, pos = read_value(tokens, pos, f"for parameter '{key_token.value}'")
        entries.append((scalar_from_token(key_token), node))
    return ParamsValue(tuple(entries)), pos + 1


def parse_value_text(text: str, filename: str = "<value>") -> ValueNode:
    """Read exactly one value from ``text`` (console input such as ``( a b )`` or ``0666``)."""
    tokens = tokenize(text, filename)
    node, pos = read_value(tokens, 0, "")
    if tokens[pos].kind is not TokenKind.EOF:
        raise ConfigSyntaxError(
            tokens[pos].location, f"expected end of value, found {tokens[pos].describe()}"
        )
    return node


# --- building from Python values ----------------------------------------------------------------


def quote(text: str) -> str:
    """Double-quoted form of ``text`` that reads back to the same string."""
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\t", "\\t")
        .replace("\r", "\\r")
    )
    return f'"{escaped}"'


def _scalar_for_text(text: str) -> Scalar:
    # Bare only when that reads back as the same string (not as a number, not split).
    if _BARE_SAFE.fullmatch(text) and number_from_text(text) is None:
        return Scalar(text, text, text)
    return Scalar(quote(text), text, text)


def node_from_python(value: object) -> ValueNode:
    """Build the written form of a Python value: bool → true/false, list → ( ), dict → [ ]."""
    if isinstance(value, bool):
        word = "true" if value else "false"
        return Scalar(word, word, word)
    if isinstance(value, int | float):
        text = repr(value)
        return Scalar(text, text, value)
    if isinstance(value, str):
        return _scalar_for_text(value)
    if isinstance(value, list | tuple):
        return ListValue(tuple(node_from_python(item) for item in value))
    if isinstance(value, dict):
        entries = ((_scalar_for_text(str(key)), node_from_python(v)) for key, v in value.items())
        return ParamsValue(tuple(entries))
    raise TypeError(f"cannot store a {type(value).__name__} in the configuration")


# --- conversions (ValueError messages are completed with the option's name and location) ------


def to_bool(node: ValueNode) -> bool:
    if isinstance(node, Scalar):
        word = node.text.strip().lower()
        if word in _BOOLEAN_WORDS:
            return _BOOLEAN_WORDS[word]
    raise ValueError(f"expected a boolean ({BOOLEAN_WORDS_HELP}), found {node.raw}")


def to_int(node: ValueNode) -> int:
    if isinstance(node, Scalar):
        number = number_from_text(node.text.strip())
        if isinstance(number, int):
            return number
    raise ValueError(f"expected an integer (decimal, 0-prefixed octal or 0x hex), found {node.raw}")


def to_float(node: ValueNode) -> float:
    if isinstance(node, Scalar):
        number = number_from_text(node.text.strip())
        if number is not None:
            return float(number)
    raise ValueError(f"expected a number, found {node.raw}")


def to_str(node: ValueNode) -> str:
    if isinstance(node, Scalar):
        return node.text
    raise ValueError(f"expected a single value, found {node.raw}")


def to_list(node: ValueNode) -> list[ConfigValue]:
    """A list as Python values; a single scalar counts as a one-item list."""
    if isinstance(node, ListValue):
        return node.value
    if isinstance(node, Scalar):
        return [node.value]
    raise ValueError(f"expected a list ( … ), found {node.raw}")


def to_params(node: ValueNode) -> dict[str, ConfigValue]:
    if isinstance(node, ParamsValue):
        return node.value
    raise ValueError(f"expected a parameter block [ key = value … ], found {node.raw}")
