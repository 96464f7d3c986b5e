"""``require("msys.base64")``: ``encode(s[, fold[, charset]])`` and ``decode(s[, charset])``.

Strings follow the runtime's Latin-1 convention (one character per byte). ``charset`` names
the encoding on the far side of UTF-8: ``encode`` converts the UTF-8 input to it first,
``decode`` converts the decoded bytes from it to UTF-8.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from typing import Any

from lupa import lua51

from momentum_httpsrv.lua.lib._source import run_library_chunk

FOLD_WIDTH = 76
_WHITESPACE = re.compile(rb"\s+")


class Base64Error(ValueError):
    """Input that cannot be decoded or converted; the message is shown to the script."""


def _codec(charset: str) -> str:
    try:
        return codecs.lookup(charset).name
    except LookupError:
        raise Base64Error(f"unknown charset '{charset}'") from None


def encode(data: str, fold: bool, charset: str | None) -> str:
    """Base64 of the bytes of ``data``; ``fold`` puts CRLF between 76-character lines."""
    raw = data.encode("latin-1")
    if charset is not None:
        try:
            raw = raw.decode("utf-8").encode(_codec(charset))
        except (UnicodeDecodeError, UnicodeEncodeError) as error:
            raise Base64Error(f"cannot convert the text to {charset}: {error.reason}") from None
    text = base64.b64encode(raw).decode("ascii")
    if fold:
        text = "\r\n".join(text[i:i + FOLD_WIDTH] for i in range(0, len(text), FOLD_WIDTH))
    return text


def decode(data: str, charset: str | None) -> str:
    """The bytes ``data`` encodes (whitespace and missing padding tolerated)."""
    compact = _WHITESPACE.sub(b"", data.encode("latin-1"))
    compact += b"=" * (-len(compact) % 4)
    try:
        raw = base64.b64decode(compact, validate=True)
    except binascii.Error:
        raise Base64Error("invalid base64 input") from None
    if charset is not None:
        try:
            raw = raw.decode(_codec(charset)).encode("utf-8")
        except (UnicodeDecodeError, UnicodeEncodeError) as error:
            raise Base64Error(f"decoded text is not valid {charset}: {error.reason}") from None
    return raw.decode("latin-1")


def open_base64(lua: lua51.LuaRuntime) -> Any:
    """Create the ``msys.base64`` module table in ``lua``."""
    return run_library_chunk(lua, "base64.lua", encode, decode)
