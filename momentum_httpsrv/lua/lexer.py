"""Tokenizer for thrLua 5.1 source, the lexical half of the dialect translator.

It follows thrLua's ``llex.c`` rather than stock Lua's, so it knows the extra tokens
(``!= ! & | ^^ << >> \\ ~``) and understands the ``\\xHH`` / ``\\uHHHH`` string escapes.
Numerals are left as written: lupa's Lua 5.1 is built to read them as thrLua's
``luaO_str2d`` does (``010`` is 8, ``08`` is malformed; docs/lua-vm.md). Besides the token
stream it computes the *lexical* rewrites: the replacement text of tokens whose stock-Lua
spelling differs (``!=``, strings using the new escapes). Input thrLua itself rejects while
lexing raises :class:`LuaDialectSyntaxError` with Lua's own message shape.

Text is Latin-1 (one character per byte); character classes are those of the C locale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["LuaDialectSyntaxError", "Tokens", "chunk_id", "tokenize"]

# Multi-character operators, longest first; any other character is a one-character token.
_OPERATOR = r"\.\.\.|\.\.|==|>=|<=|~=|!=|<<|>>|\^\^|[\s\S]"
_TOKEN = re.compile(
    r"(?P<space>[ \t\f\v\r\n]+)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<number>\.?[0-9][0-9.]*(?:[Ee][+-]?)?[A-Za-z0-9_]*)"
    r"|(?P<plainstring>\"[^\"\\\r\n]*\"|'[^'\\\r\n]*')"
    r"|(?P<quote>[\"'])"
    r"|(?P<longbracket>\[=*\[)"
    r"|(?P<comment>--)"
    r"|(?P<minus>-)"
    r"|(?P<op>" + _OPERATOR + r")"
)
_STRING_STOP = {'"': re.compile(r'["\\\r\n]'), "'": re.compile(r"['\\\r\n]")}
_ESCAPE = re.compile(r"\\(?:(\r\n|\n\r)|([0-9]{1,3})|(x)|(u)|([\s\S]))")
_HEX_DIGITS = re.compile(r"[0-9A-Fa-f]{0,8}")
_TWO_HEX_DIGITS = re.compile(r"[0-9A-Fa-f]{0,2}")
_UTF8_LIMITS = ((2, 0x7FF), (3, 0xFFFF), (4, 0x1FFFFF), (5, 0x3FFFFFF), (6, 0x7FFFFFFF))
_LONG_COMMENT_OPEN = re.compile(r"\[(=*)\[")
_NEWLINE = re.compile(r"\r\n|\n\r|\r|\n")
_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
_KEYWORDS = frozenset(
    "and break do else elseif end false for function if in local nil not or repeat "
    "return then true until while".split()
)
_STOCK_SPELLING = {"!=": "~=", "!": "not "}  # operators that are pure token swaps
_LEXER_SOURCE_BUFFER = 80  # MAXSRC in llex.c: room for the chunk name in lexer errors


class LuaDialectSyntaxError(Exception):
    """Source that thrLua's lexer rejects; ``str()`` is the message thrLua would report."""

    def __init__(self, chunkname: str, line: int, message: str, near: str | None) -> None:
        self.chunkname = chunkname
        self.line = line
        self.message = message
        self.near = near
        text = f"{chunk_id(chunkname, _LEXER_SOURCE_BUFFER)}:{line}: {message}"
        if near is not None:
            text += f" near '{near}'"
        super().__init__(text)


def chunk_id(chunkname: str, bufflen: int = 60) -> str:
    """Render a chunk name the way Lua's ``luaO_chunkid`` does for error messages.

    ``=name`` shows ``name``, ``@file`` shows the file name (keeping its tail when long),
    anything else is treated as source text and shown as ``[string "first line..."]``.
    """
    if chunkname.startswith("="):
        return chunkname[1 : bufflen]
    if chunkname.startswith("@"):
        room = bufflen - len(" '...' ") - 1
        name = chunkname[1:]
        return "..." + name[len(name) - room :] if len(name) > room else name
    room = bufflen - len(' [string "..."] ') - 1
    first_line = re.split(r"[\r\n]", chunkname, maxsplit=1)[0]
    if len(first_line) > room or len(first_line) < len(chunkname):
        return f'[string "{first_line[:room]}..."]'
    return f'[string "{chunkname}"]'


@dataclass
class Tokens:
    """A chunk's tokens as parallel lists, plus the lexical rewrites found while reading them.

    ``kinds[i]`` is the keyword or operator text itself, or one of ``"name"``, ``"number"``,
    ``"string"``; the list ends with an ``"eof"`` token. ``replacements`` maps a token index to
    the stock-Lua text that must stand in its place.
    """

    source: str
    kinds: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    replacements: dict[int, str] = field(default_factory=dict)
    body_start: int = 0  # 0, or the offset after a leading "#" line (skipped like lua.c does)

    def text(self, index: int) -> str:
        return self.source[self.starts[index] : self.ends[index]]


def _matched(pattern: re.Pattern[str], text: str, pos: int) -> str:
    """The text of ``pattern`` (one that also matches nothing) at ``pos``."""
    match = pattern.match(text, pos)
    assert match is not None
    return match.group()


def line_at(source: str, offset: int) -> int:
    """1-based line number of ``offset``, counting CR, LF, CRLF and LFCR as one line break."""
    return len(_NEWLINE.findall(source, 0, offset)) + 1


class _Lexer:
    def __init__(self, source: str, chunkname: str) -> None:
        self.source = source
        self.chunkname = chunkname

    def error(self, offset: int, message: str, near: str | None) -> LuaDialectSyntaxError:
        return LuaDialectSyntaxError(
            self.chunkname, line_at(self.source, offset), message, near
        )

    def run(self) -> Tokens:
        source = self.source
        tokens = Tokens(source)
        kinds, starts, ends = tokens.kinds, tokens.starts, tokens.ends
        pos = 0
        if source.startswith("#"):  # lua.c skips a first line such as "#!/usr/bin/env lua"
            newline = source.find("\n")
            pos = tokens.body_start = newline if newline >= 0 else len(source)
        size = len(source)
        match = _TOKEN.match
        while pos < size:
            m = match(source, pos)
            assert m is not None  # the token pattern's last branch takes any character
            group = m.lastgroup
            end = m.end()
            if group == "space":
                pos = end
                continue
            if group == "name":
                text = m.group()
                kinds.append(text if text in _KEYWORDS else "name")
            elif group == "plainstring":
                kinds.append("string")
            elif group == "number":  # read by the VM as thrLua reads it (docs/lua-vm.md)
                kinds.append("number")
            elif group == "op":
                text = m.group()
                if text == "[":
                    end = self.open_bracket(pos)
                    kinds.append("[" if end == pos + 1 else "string")
                else:
                    kinds.append(text)
                    if text in _STOCK_SPELLING:
                        tokens.replacements[len(starts)] = _STOCK_SPELLING[text]
            elif group == "minus":
                kinds.append("-")
            elif group == "comment":
                pos = self.comment(end)
                continue
            elif group == "longbracket":
                kinds.append("string")
                end = self.long_bracket_end(pos, len(m.group()) - 2, is_comment=False)
            else:  # a quote that the plain-string pattern did not take
                kinds.append("string")
                end, replacement = self.escaped_string(pos)
                if replacement is not None:
                    tokens.replacements[len(starts)] = replacement
            starts.append(pos)
            ends.append(end)
            pos = end
        kinds.append("eof")
        starts.append(size)
        ends.append(size)
        return tokens

    def open_bracket(self, pos: int) -> int:
        """Handle ``[`` followed by ``=``: a long string opener or thrLua's delimiter error."""
        m = re.compile(r"\[(=*)").match(self.source, pos)
        assert m is not None  # called at a "["
        if not m.group(1):
            return pos + 1
        if self.source.startswith("[", m.end()):
            return self.long_bracket_end(pos, len(m.group(1)), is_comment=False)
        raise self.error(pos, "invalid long string delimiter", m.group())

    def comment(self, pos: int) -> int:
        """Skip a comment whose ``--`` ends at ``pos``; return the offset after it."""
        opener = _LONG_COMMENT_OPEN.match(self.source, pos)
        if opener:
            return self.long_bracket_end(pos, len(opener.group(1)), is_comment=True)
        newline = _NEWLINE.search(self.source, pos)
        return newline.start() if newline else len(self.source)

    def long_bracket_end(self, pos: int, level: int, is_comment: bool) -> int:
        """End offset of the long string/comment whose opening bracket starts at ``pos``."""
        source = self.source
        body = pos + level + 2
        close = source.find("]" + "=" * level + "]", body)
        if level == 0:  # Lua 5.1 (LUA_COMPAT_LSTR 1) refuses a nested "[[" in a level-0 string
            nested = source.find("[[", body, close if close >= 0 else len(source))
            if nested >= 0:
                raise self.error(nested, "nesting of [[...]] is deprecated", "[")
        if close < 0:
            kind = "comment" if is_comment else "string"
            raise self.error(len(source), f"unfinished long {kind}", "<eof>")
        return close + level + 2

    def escaped_string(self, pos: int) -> tuple[int, str | None]:
        """Read a short string with escapes (or unfinished) the way ``read_string`` does.

        Returns the end offset and, when the string uses ``\\x``/``\\u``, its stock-Lua text.
        """
        source = self.source
        stop = _STRING_STOP[source[pos]]
        pieces: list[str] = []
        last = i = pos + 1
        while True:
            m = stop.search(source, i)
            if m is None:
                raise self.error(len(source), "unfinished string", "<eof>")
            at = m.start()
            char = source[at]
            if char in "\r\n":
                raise self.error(at, "unfinished string", _decode_escapes(source[pos:at]))
            if char != "\\":
                break
            esc = _ESCAPE.match(source, at)
            if esc is None:  # a backslash ending the chunk
                raise self.error(len(source), "unfinished string", "<eof>")
            i = esc.end()
            decimal, is_hex, is_unicode = esc.group(2, 3, 4)
            if decimal is not None and int(decimal) > 255:
                self.raise_in_string(pos, at, i, "escape sequence too large")
            if is_hex is None and is_unicode is None:
                continue
            if is_hex is not None:
                digits = _matched(_TWO_HEX_DIGITS, source, i)
                if len(digits) < 2:
                    self.raise_in_string(pos, at, i + len(digits), "expected hex digit")
                encoded = bytes([int(digits, 16)])
            else:
                digits = _matched(_HEX_DIGITS, source, i)
                if len(digits) not in (4, 6, 8):
                    self.raise_in_string(
                        pos, at, i + len(digits),
                        "expected either 4, 6 or 8 hex digits for unicode escape",
                    )
                encoded = _thrlua_utf8(int(digits, 16))
            pieces.append(source[last:at])
            pieces.append("".join(f"\\{byte:03d}" for byte in encoded))
            i = last = i + len(digits)
        end = at + 1
        if not pieces:
            return end, None
        pieces.append(source[last:end])
        return end, source[pos] + "".join(pieces)

    def raise_in_string(self, pos: int, escape: int, at: int, message: str) -> None:
        """Raise a string-escape error the way llex.c words it: near the text read so far."""
        raise self.error(at, message, _decode_escapes(self.source[pos:escape]))


def _decode_escapes(text: str) -> str:
    """Decode the (valid) escapes of a partial short string, as llex.c buffers it."""
    out: list[str] = []
    last = 0
    for esc in _ESCAPE.finditer(text):
        newline, decimal, is_hex, is_unicode, other = esc.groups()
        out.append(text[last : esc.start()])
        last = esc.end()
        if newline is not None:
            out.append("\n")
        elif decimal is not None:
            out.append(chr(int(decimal)))
        elif is_hex is not None:
            out.append(chr(int(text[last : last + 2], 16)))
            last += 2
        elif is_unicode is not None:
            digits = _matched(_HEX_DIGITS, text, last)
            out.append(_thrlua_utf8(int(digits, 16)).decode("latin-1"))
            last += len(digits)
        elif other in _SIMPLE_ESCAPES:
            out.append(chr(_SIMPLE_ESCAPES[other]))
        else:
            out.append("\n" if other == "\r" else other)
    out.append(text[last:])
    return "".join(out)


def _thrlua_utf8(code: int) -> bytes:
    """Encode a ``\\u`` escape value as thrLua does: the original UTF-8 scheme up to 6 bytes.

    The value lives in a C ``int``; eight hex digits above 0x7FFFFFFF wrap negative and thrLua
    then stores the low byte alone.
    """
    if code > 0x7FFFFFFF:
        return bytes([code & 0xFF])
    if code <= 0x7F:
        return bytes([code])
    length = next(n for n, limit in _UTF8_LIMITS if code <= limit)
    trail = [0x80 | ((code >> (6 * k)) & 0x3F) for k in reversed(range(length - 1))]
    lead = ((0xFF << (8 - length)) & 0xFF) | ((code >> (6 * (length - 1))) & (0xFF >> (length + 1)))
    return bytes([lead, *trail])


def tokenize(source: str, chunkname: str) -> Tokens:
    """Split thrLua ``source`` into tokens and collect its lexical rewrites."""
    return _Lexer(source, chunkname).run()
