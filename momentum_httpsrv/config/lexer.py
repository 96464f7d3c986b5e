"""Tokenizer for ecelerity.conf text.

Tokens are bare words, quoted strings and the punctuation ``{ } ( ) [ ] =``. Whitespace,
``#`` line comments and non-nesting ``/* … */`` comments separate tokens. A bare word is any
run of characters other than whitespace and ``# " ' = { } [ ] ( )``. The Momentum docs ask for
quotes around values containing ``/``, yet their own examples write ``Listen /tmp/2025 {}`` and
``Relay_Hosts = ( 127.0.0.0/8 )``, so ``/`` is accepted inside a bare word unless it starts a
``/*`` comment.
"""

from __future__ import annotations

import bisect
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ConfigLocation, ConfigSyntaxError


class TokenKind(enum.Enum):
    WORD = "word"
    STRING = "string"
    LBRACE = "'{'"
    RBRACE = "'}'"
    LPAREN = "'('"
    RPAREN = "')'"
    LBRACKET = "'['"
    RBRACKET = "']'"
    EQUALS = "'='"
    EOF = "end of file"


_PUNCTUATION = {
    "{": TokenKind.LBRACE,
    "}": TokenKind.RBRACE,
    "(": TokenKind.LPAREN,
    ")": TokenKind.RPAREN,
    "[": TokenKind.LBRACKET,
    "]": TokenKind.RBRACKET,
    "=": TokenKind.EQUALS,
}

_BARE_WORD = re.compile(r"(?:[^\s#/\"'={}\[\]()]|/(?!\*))+")
_WHITESPACE = re.compile(r"\s+")
_LINE_BREAK = re.compile(r"\n")

# Inside double quotes; any other backslash pair is kept as written, so regex scopes such as
# Domain "/^(a|b)\.example$/" keep their backslashes.
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str  # exactly as written, quotes included
    value: str  # bare word text, or the string's content with escapes applied
    location: ConfigLocation

    def describe(self) -> str:
        """How error messages name what was found."""
        if self.kind is TokenKind.WORD:
            return f"word '{self.value}'"
        if self.kind is TokenKind.STRING:
            return f"string {self.text}"
        return self.kind.value


def unescape_double_quoted(body: str) -> str:
    """Apply the escapes Momentum's double-quoted strings understand."""
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body) and body[i + 1] in _ESCAPES:
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


class _LineIndex:
    """Turns offsets into 1-based line/column without tracking them per character."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


def is_bare_word(text: str) -> bool:
    """Whether ``text`` reads back as one bare word (otherwise it needs quotes)."""
    return _BARE_WORD.fullmatch(text) is not None


def tokenize(text: str, filename: str) -> list[Token]:
    """Split ``text`` into tokens, ending with one EOF token; raises ConfigSyntaxError."""
    lines = _LineIndex(text)

    def location(offset: int) -> ConfigLocation:
        line, col = lines.line_col(offset)
        return ConfigLocation(filename, line, col)

    tokens: list[Token] = []
    pos = 0
    end = len(text)
    while pos < end:
        char = text[pos]
        if char.isspace():
            pos = _WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]
        elif char == "#":
            newline = text.find("\n", pos)
            pos = end if newline < 0 else newline + 1
        elif text.startswith("/*", pos):
            close = text.find("*/", pos + 2)
            if close < 0:
                raise ConfigSyntaxError(
                    location(pos), "unterminated comment: expected '*/' before end of file"
                )
            pos = close + 2
        elif char in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[char], char, char, location(pos)))
            pos += 1
        elif char == '"' or char == "'":
            tokens.append(_quoted(text, pos, location))
            pos += len(tokens[-1].text)
        else:
            word = _BARE_WORD.match(text, pos).group()  # type: ignore[union-attr]
            tokens.append(Token(TokenKind.WORD, word, word, location(pos)))
            pos += len(word)
        if tokens and "\0" in tokens[-1].text:  # no path, name or URI can hold one
            offset = pos - len(tokens[-1].text) + tokens[-1].text.index("\0")
            raise ConfigSyntaxError(location(offset), "a NUL byte is not allowed here")
    tokens.append(Token(TokenKind.EOF, "", "", location(end)))
    return tokens


def _quoted(text: str, start: int, location: Callable[[int], ConfigLocation]) -> Token:
    quote = text[start]
    pos = start + 1
    while True:
        close = text.find(quote, pos)
        if close < 0:
            raise ConfigSyntaxError(
                location(start), f"unterminated string: expected closing {quote} before end of file"
            )
        if quote == "'":
            break
        # A quote preceded by an odd number of backslashes is escaped.
        backslashes = 0
        while text[close - 1 - backslashes] == "\\":
            backslashes += 1
        if backslashes % 2 == 0:
            break
        pos = close + 1
    raw = text[start : close + 1]
    body = raw[1:-1]
    value = unescape_double_quoted(body) if quote == '"' else body
    return Token(TokenKind.STRING, raw, value, location(start))
