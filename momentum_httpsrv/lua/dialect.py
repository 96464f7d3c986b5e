"""thrLua 5.1 → Lua 5.1 source translation.

Every chunk of Lua that reaches the interpreter (scripts, ``require``d modules,
``loadstring`` chunks, console ``scriptlet eval``) passes through :func:`translate`, and
every Lua state gets the runtime helpers once through :func:`install_dialect_runtime`.

What is translated (thrlua ``PATCHES``, ``src/llex.c``, ``src/lparser.c``, ``src/lvm.c``):

* ``a != b`` → ``a ~= b``; unary ``!x`` → ``not x`` (pure token swaps).
* ``a | b``, ``a & b``, ``a ^^ b``, ``a << b``, ``a >> b``, ``a \\ b`` and unary ``~a`` →
  calls ``__thrlua.bor(a, b)`` … ``__thrlua.bnot(a)``, parsed with thrLua's precedence
  (see :mod:`momentum_httpsrv.lua.parser`). The helpers (``thrlua_ops.lua``) convert operands
  to 64-bit integers like thrLua and honour ``__or __and __xor __shl __shr __not``; ``\\`` on
  non-numbers falls back to ``__div`` exactly as thrLua's VM does.
  A left fold nests them (``a | b + c & d`` → ``band(bor(a, b) + c, d)``), the fastest
  form; a call whose operand is a variable or field, or whose right operand ends on another
  line, gets a third argument (``"4,,q"``) so its error names ``local 'q'`` and line 4 as
  thrLua's does. Folds of more than 32 become one flat call chain,
  ``__thrlua.chain(a)("|", b)("+", c)("&", d)()``, so long chains stay within Lua's 200
  syntax levels; each step applies its operator right after its operand is evaluated.
* Numerals are not translated: lupa's Lua 5.1 is built to read them as thrLua does, with
  C's ``strtol(s, NULL, 0)`` after a leading ``0`` (``0660`` is 432; hex above 2^63-1
  saturates; ``08``, ``0e5`` are malformed), see docs/lua-vm.md.
* ``"\\xHH"`` and ``"\\uHHHH"``/``"\\uHHHHHH"``/``"\\uHHHHHHHH"`` escapes in short strings →
  decimal escapes of the same bytes (UTF-8 for ``\\u``). Long strings are never touched.
* The ``__iter`` rule: in ``for names in explist do``, the explist is wrapped as
  ``__thrlua.iter(explist)``, which returns generator, state and control unchanged when the
  generator is a function and otherwise applies its ``__iter`` metamethod, as thrLua's
  ``OP_TFORLOOP`` does (``for i in t, nil do`` iterates ``t``). Left byte-identical: a single
  call of a standard iterator factory, ``pairs``, ``ipairs``, ``gmatch`` or ``lines``
  (``string.gmatch(s, p)``, ``f:lines()`` …), and lists that start with ``next``
  (``for k, v in next, t do``): those give functions.

Guarantees: text inside strings (other than the escapes above) and comments is never changed;
no newline is added or removed, so every error reports the source's own line; a chunk that
needs helpers gets ``local __thrlua = ("").__thrlua;`` prepended to its first line. The
helpers are reached through the string metatable rather than a global so that chunks run
under ``setfenv``/``module(...)`` environments still find them.

Speed: a cheap scan returns sources without any candidate character unchanged; results are
cached by content hash in memory and, when a cache directory is given (parameter, or the
``MOMENTUM_HTTPSRV_DIALECT_CACHE`` environment variable), on disk.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from momentum_httpsrv.lua.errors import LuaScriptError
from momentum_httpsrv.lua.lexer import LuaDialectSyntaxError, tokenize
from momentum_httpsrv.lua.parser import HELPERS_NAME, find_rewrites

__all__ = [
    "CACHE_DIR_ENV",
    "LuaDialectSyntaxError",
    "StockLuaVMError",
    "check_thrlua_vm",
    "clear_memory_cache",
    "install_dialect_runtime",
    "translate",
    "translate_for_loader",
]

CACHE_DIR_ENV = "MOMENTUM_HTTPSRV_DIALECT_CACHE"
PRELUDE = f'local {HELPERS_NAME} = ("").{HELPERS_NAME}; '
"""Put in front of line 1 of chunks that call helpers (no newline, so lines stay put)."""

_TRANSLATOR_VERSION = b"thrlua-dialect-4\0"  # part of the cache key: bump when output changes
_MEMORY_CACHE_LIMIT = 1024
_memory_cache: dict[str, str] = {}

# Anything that might be a thrLua extension. Sources without a match are returned as is;
# a match only means the real tokenizer and parser get to decide. Separate simple searches
# are several times faster than one alternation.
_CANDIDATE_SUBSTRINGS = ("^^", "<<", ">>")
_CANDIDATE_PATTERNS = tuple(
    re.compile(pattern, re.ASCII)
    for pattern in (r"[!&|\\]", r"~(?!=)", r"\bin\b(?!\s*i?pairs\s*\()")
)
_IDENTIFIER_CHAR = re.compile(r"\w", re.ASCII)


def translate(
    source: str, chunkname: str, *, cache_dir: str | os.PathLike[str] | None = None
) -> str:
    """Translate thrLua source (Latin-1 text) into plain Lua 5.1 with the same line count.

    ``chunkname`` follows Lua's convention (``@file``, ``=name`` or the source itself) and
    only appears in :class:`LuaDialectSyntaxError`, raised for input that thrLua's own lexer
    rejects. Parser-level errors are left for stock Lua to report at the same line.
    """
    key = hashlib.blake2b(
        _TRANSLATOR_VERSION + source.encode("utf-8", "surrogatepass"), digest_size=20
    ).hexdigest()
    translated = _memory_cache.get(key)
    if translated is not None:
        return translated
    directory = cache_dir if cache_dir is not None else os.environ.get(CACHE_DIR_ENV)
    disk_path = Path(directory, f"{key}.lua") if directory else None
    if disk_path is not None and disk_path.is_file():
        translated = disk_path.read_bytes().decode("utf-8", "surrogatepass")
    else:
        translated = _translate_uncached(source, chunkname)
        if disk_path is not None:
            _write_atomically(disk_path, translated.encode("utf-8", "surrogatepass"))
    if len(_memory_cache) >= _MEMORY_CACHE_LIMIT:
        del _memory_cache[next(iter(_memory_cache))]
    _memory_cache[key] = translated
    return translated


def translate_for_loader(source: str, chunkname: str) -> tuple[str | None, str | None]:
    """:func:`translate` shaped for a Lua loader: ``(text, None)`` or ``(None, message)``.

    Lua's ``loadstring`` reports syntax errors by returning ``nil, message``; returning the
    message (instead of raising through lupa) lets a loader written in Lua do the same.
    """
    try:
        return translate(source, chunkname), None
    except LuaDialectSyntaxError as error:
        return None, str(error)


def clear_memory_cache() -> None:
    """Forget every in-memory translation (the on-disk cache is left alone)."""
    _memory_cache.clear()


def _translate_uncached(source: str, chunkname: str) -> str:
    if not _may_use_extensions(source):
        return source
    tokens = tokenize(source, chunkname)
    kinds = tokens.kinds
    needs_parser = any(
        kind in ("|", "&", "^^", "<<", ">>", "\\", "~", "in") for kind in kinds
    )
    if not needs_parser and not tokens.replacements:
        return source
    if needs_parser:
        rewrites = find_rewrites(tokens)
        before, instead, after = rewrites.before, rewrites.instead, rewrites.after
        uses_helpers = rewrites.uses_helpers
    else:
        before, instead, after = {}, tokens.replacements, {}
        uses_helpers = False
    edited = sorted(set(before) | set(instead) | set(after))
    if not edited:
        return source

    starts, ends = tokens.starts, tokens.ends
    pieces: list[str] = []
    last = 0
    if uses_helpers:
        at = tokens.body_start + 1 if tokens.body_start else 0
        pieces += [source[:at], PRELUDE]
        last = at
    for index in edited:
        start, end = starts[index], ends[index]
        gap = source[last:start]
        text = before.get(index, "") + instead.get(index, source[start:end]) + after.get(index, "")
        previous = gap[-1:] or (pieces[-1][-1:] if pieces else "")
        if previous and _IDENTIFIER_CHAR.match(previous) and _IDENTIFIER_CHAR.match(text):
            gap += " "
        pieces += [gap, text]
        last = end
    pieces.append(source[last:])
    return "".join(pieces)


def _may_use_extensions(source: str) -> bool:
    return any(text in source for text in _CANDIDATE_SUBSTRINGS) or any(
        pattern.search(source) for pattern in _CANDIDATE_PATTERNS
    )


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".lua")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


@cache
def _package_lua(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text("latin-1")


class StockLuaVMError(LuaScriptError):
    """lupa's Lua 5.1 is a stock build, without thrLua's number conversions.

    A Lua error as far as callers go (reported on one line) because nothing in Lua can run
    as on Momentum until lupa is reinstalled."""


def check_thrlua_vm(lua: Any) -> None:
    """Refuse a ``LuaRuntime`` whose VM converts numbers as stock Lua 5.1 does.

    thrLua's conversions live inside the VM (docs/lua-vm.md), so they come from the lupa
    the Makefile builds (vm/build_lupa.py); a lupa from PyPI would silently give stock
    results (``"010" + 0`` is 10 there, 8 in thrLua)."""
    if lua.eval('"010" + 0') != 8:
        raise StockLuaVMError(
            "lupa's Lua 5.1 is a stock build (\"010\" + 0 is not 8 as in thrLua); install "
            "the one vm/build_lupa.py builds: make .venv/bin/momentum-httpsrv (README, "
            "\"The Lua VM\")"
        )


def install_dialect_runtime(lua: Any) -> None:
    """Define the helpers translated chunks call, replace the standard functions thrLua
    changed (``thrlua_stdlib.lua``) and add its ``buffer`` library, in one
    ``lupa.lua51.LuaRuntime``.

    Call once per Lua state, before running translated code. Safe to call again.
    Raises :class:`StockLuaVMError` if lupa is not the build with thrLua's conversions.
    """
    check_thrlua_vm(lua)
    lua.execute(_package_lua("thrlua_ops.lua"), name="=thrlua_ops")
    lua.execute(_package_lua("thrlua_stdlib.lua"), name="=[C]")
    lua.execute(_package_lua("thrlua_buffer.lua"), name="=[C]")



_NEAR_HIGH_BYTE = re.compile(r":(\d+): (.*)near '([\x80-\xff])'")


def readable_syntax_error(source: str, message: str) -> str:
    """Lua's syntax error ``message`` for ``source``, with a non-ASCII character named.

    Lua reads source byte by byte, so a UTF-8 character outside a string (a curly quote
    pasted from a document) is reported near its first byte alone (``near 'â'``). This
    names the whole character instead (as its UTF-8 bytes, the runtime's Latin-1 text)
    and its code point. Other messages are returned unchanged."""
    match = _NEAR_HIGH_BYTE.search(message)
    if match is None:
        return message
    lines = source.splitlines()
    line_number, first_byte = int(match.group(1)), match.group(3)
    line = lines[line_number - 1] if 0 < line_number <= len(lines) else ""
    at = line.find(first_byte)
    raw = line[at : at + 4].encode("latin-1") if at >= 0 else first_byte.encode("latin-1")
    for length in (4, 3, 2):
        try:
            character = raw[:length].decode("utf-8")
        except UnicodeDecodeError:
            continue
        if len(character) == 1:
            shown = f"'{raw[:length].decode('latin-1')}' (U+{ord(character):04X})"
            break
    else:
        shown = f"byte 0x{ord(first_byte):02X}"
    return f"{message[: match.start(3) - 1]}{shown}{message[match.end(3) + 1 :]}"
