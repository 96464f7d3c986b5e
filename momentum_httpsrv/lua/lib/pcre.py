"""``require("msys.pcre")`` / ``require("pcre")``: thrlua's PCRE binding on the ``regex`` package.

thrlua compiles every pattern with ``PCRE_UTF8``: subject and pattern are UTF-8 text, ``\\d``,
``\\w``, ``\\s``, ``\\b`` and the POSIX classes stay ASCII while ``\\p{…}`` and caseless matching
are Unicode. ``regex`` speaks PCRE natively (recursion, ``\\K``, ``\\p{…}``, atomic groups,
possessive quantifiers, ``(?<name>…)``/``(?P<name>…)``); ``_to_regex`` rewrites only the
spellings where the two differ. We mirror ``modules/pcre.c``'s loop: its replacement-string
parser, its split rules (empty pieces dropped, ``limit`` counts pieces) and its handling of
invalid UTF-8 (a subject that is not UTF-8 never matches: ``match`` → nil, ``replace`` → "",
``split`` → {}).

The Lua half (``pcre.lua``) checks arguments and runs replacement callbacks; this module does
the matching and hands Lua plain strings and tables.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import regex
from lupa import lua51

from momentum_httpsrv.lua.lib._source import run_library_chunk

NO_LIMIT = -1

# regex's compile errors → PCRE's texts, and where PCRE puts the offset: "here" (where
# regex stopped), "before" (one character earlier), "end" (the pattern's end) or "brace"
# (the quantifier's closing brace).
_ERROR_TEXTS: list[tuple[str, str, str]] = [
    ("missing )", "missing )", "end"),
    ("unbalanced parenthesis", "unmatched parentheses", "here"),
    ("unterminated character set", "missing terminating ] for character class", "end"),
    ("nothing to repeat", "nothing to repeat", "here"),
    ("multiple repeat", "nothing to repeat", "here"),
    ("bad escape (end of pattern)", "\\ at end of pattern", "end"),
    ("unknown extension", "unrecognized character after (? or (?-", "here"),
    ("unknown group", "reference to non-existent subpattern", "here"),
    ("invalid group reference", "reference to non-existent subpattern", "here"),
    ("bad character range", "range out of order in character class", "before"),
    ("missing group name", "group name must start with a non-digit", "here"),
    ("bad character in group name", "syntax error in subpattern name (missing terminator)",
     "here"),
    ("missing >", "syntax error in subpattern name (missing terminator)", "here"),
    ("unknown property", "unknown property name after \\P or \\p", "before"),
    ("min repeat greater than max repeat", "numbers out of order in {} quantifier", "brace"),
]
# A named group's opener: (?<name>, (?P<name> or (?'name' (not the lookbehinds (?<= (?<!).
_NAMED_GROUP = regex.compile(r"\(\?(?:P?<(?![=!])|')")
# An option setting that names J (PCRE's DUPNAMES, which regex allows without asking).
_DUPNAMES_OPTION = regex.compile(r"\(\?([a-zA-Z-]*J[a-zA-Z-]*)([):])")

# PCRE without PCRE_UCP: these classes are ASCII, as class contents (usable inside [...]).
_ASCII_CLASSES = {
    "alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
    "space": "\\t-\\r ", "blank": " \\t", "xdigit": "0-9A-Fa-f", "word": "a-zA-Z0-9_",
    "punct": "!-/:-@\\[-`{-~", "cntrl": "\\x00-\\x1f\\x7f", "print": " -~", "graph": "!-~",
    "ascii": "\\x00-\\x7f",
}
_ESCAPE_CLASSES = {"d": "digit", "w": "word", "s": "space"}
# PCRE's \v is vertical space (regex's is the VT character alone).
_VERTICAL_SPACE = "\\n\\x0b\\x0c\\r\\x85\\u2028\\u2029"
# Rewrites outside a class: ASCII meanings of \d \w \s \b, and PCRE's spellings regex lacks.
_OUTSIDE_CLASS = {
    **{e: f"(?a:\\{e})" for e in "dDwWsSbB"},
    "v": f"[{_VERTICAL_SPACE}]", "V": f"[^{_VERTICAL_SPACE}]", "N": "[^\\n]",
    "Z": "(?=\\n?\\z)", "e": "\\x1b",
}


class PcreCompileError(Exception):
    """A pattern PCRE would reject; carries PCRE's message and byte offset."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class _Translation:
    text: str
    source_index: list[int]  # index in the PCRE pattern for each character of ``text``


def _complement(ranges: str) -> str:
    """The class contents matching every character ``ranges`` (an ASCII class body) does not."""
    members = regex.compile(f"[{ranges}]")
    out, code = [], 0
    while code < 0x80:
        if members.match(chr(code)):
            code += 1
            continue
        end = code
        while end + 1 < 0x80 and not members.match(chr(end + 1)):
            end += 1
        out.append(f"\\x{code:02x}-\\x{end:02x}")
        code = end + 1
    return "".join(out) + "\\x80-\\U0010ffff"


def _ascii_class(name: str, negated: bool) -> str:
    return _complement(_ASCII_CLASSES[name]) if negated else _ASCII_CLASSES[name]


def _to_regex(pattern: str) -> _Translation:
    """Rewrite the few PCRE spellings ``regex`` reads differently: ASCII ``\\d \\w \\s \\b``
    and POSIX classes, ``\\Q…\\E``, ``\\Z``, ``\\v``, ``\\N``, ``\\e``, ``\\x{…}``,
    ``(?'name'…)`` and the ``\\k``/``\\g{name}`` back-references."""
    out: list[str] = []
    where: list[int] = []

    def emit(text: str, at: int) -> None:
        out.append(text)
        where.extend([at] * len(text))

    i, n, in_class = 0, len(pattern), False
    names: set[str] = set()
    duplicate_names_allowed = _DUPNAMES_OPTION.search(pattern) is not None
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            i = _escape(pattern, i, in_class, emit)
            continue
        if in_class:
            if pattern.startswith("[:", i) and (end := pattern.find(":]", i + 2)) > 0:
                name = pattern[i + 2:end]
                if name.lstrip("^") not in _ASCII_CLASSES:
                    raise PcreCompileError("unknown POSIX class name", i)
                emit(_ascii_class(name.lstrip("^"), name.startswith("^")), i)
                i = end + 2
                continue
            in_class = c != "]"
            emit(c, i)
        elif c == "[":
            in_class = True
            emit(c, i)
            if pattern.startswith("^", i + 1):
                emit("^", i + 1)
                i += 1
            if pattern.startswith("]", i + 1):  # a leading ] is a literal
                emit("\\]", i + 1)
                i += 1
        elif (option := _DUPNAMES_OPTION.match(pattern, i)) is not None:
            letters, closer = option.group(1).replace("J", ""), option.group(2)
            if letters.strip("-") or closer == ":":
                emit(f"(?{letters.rstrip('-')}{closer}", i)
            i = option.end()
            continue
        elif (opener := _NAMED_GROUP.match(pattern, i)) is not None:
            start = opener.end()
            end = pattern.find("'" if opener.group().endswith("'") else ">", start)
            if end < 0:
                raise PcreCompileError("syntax error in subpattern name (missing terminator)", i)
            name = pattern[start:end]
            if name[:1].isdigit():
                raise PcreCompileError("group name must start with a non-digit", start)
            if name in names and not duplicate_names_allowed:
                raise PcreCompileError("two named subpatterns have the same name", end)
            names.add(name)
            emit("(?P<" + name + ">", i)
            i = end + 1
            continue
        else:
            emit(c, i)
        i += 1
    return _Translation("".join(out), where)


def _escape(pattern: str, i: int, in_class: bool, emit: Callable[[str, int], None]) -> int:
    """Emit the rewrite of the escape at ``pattern[i]``; returns the index after it."""
    e = pattern[i + 1]
    if e == "Q":
        end = pattern.find("\\E", i + 2)
        literal = pattern[i + 2:] if end < 0 else pattern[i + 2:end]
        emit(regex.escape(literal), i)
        return len(pattern) if end < 0 else end + 2
    if e == "E":
        return i + 2
    if e == "x" and pattern.startswith("{", i + 2):
        end = pattern.find("}", i + 3)
        if end < 0:
            raise PcreCompileError("missing terminating } in \\x{}", i)
        try:
            emit(regex.escape(chr(int(pattern[i + 3:end] or "0", 16))), i)
        except ValueError:
            raise PcreCompileError("invalid character in \\x{}", i) from None
        return end + 1
    if in_class:
        if e.lower() in _ESCAPE_CLASSES:
            emit(_ascii_class(_ESCAPE_CLASSES[e.lower()], e.isupper()), i)
        elif e.lower() == "v":
            emit(_VERTICAL_SPACE if e == "v" else _complement(_VERTICAL_SPACE), i)
        else:
            emit("\\x1b" if e == "e" else "\\" + e, i)
        return i + 2
    if e in "kg" and i + 2 < len(pattern) and not pattern[i + 2].isdigit() and (
            e == "k" or pattern[i + 2] == "{"):
        reference, length = _group_reference(pattern, i)
        emit(reference, i)
        return i + length
    emit(_OUTSIDE_CLASS.get(e, "\\" + e), i)
    return i + 2


def _group_reference(pattern: str, i: int) -> tuple[str, int]:
    """``\\k<name>``, ``\\k'name'``, ``\\k{name}``, ``\\g{name}``, ``\\g{N}``."""
    closer = {"<": ">", "'": "'", "{": "}"}.get(pattern[i + 2])
    if closer is None:
        raise PcreCompileError("\\k is not followed by a braced, angle-bracketed, or quoted name",
                               i)
    end = pattern.find(closer, i + 3)
    if end < 0:
        raise PcreCompileError("syntax error in subpattern name (missing terminator)", i)
    name = pattern[i + 3:end]
    if name.lstrip("-").isdigit():
        return f"\\g<{name}>", end + 1 - i
    return f"(?P={name})", end + 1 - i


def _utf8_byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _as_text(lua_string: str) -> str:
    """Latin-1 convention → real text; raises UnicodeDecodeError for invalid UTF-8."""
    if lua_string.isascii():
        return lua_string
    return lua_string.encode("latin-1").decode("utf-8")


def _as_lua(text: str) -> str:
    if text.isascii():
        return text
    return text.encode("utf-8").decode("latin-1")


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """Compile a Latin-1 convention PCRE pattern; raises PcreCompileError like pcre_compile."""
    try:
        text = _as_text(pattern)
    except UnicodeDecodeError as error:
        raise PcreCompileError("invalid UTF-8 string", error.start) from None
    try:
        translation = _to_regex(text)
    except PcreCompileError as error:
        raise PcreCompileError(error.message, _utf8_byte_offset(text, error.offset)) from None
    try:
        return regex.compile(translation.text)
    except regex.error as error:
        raise _pcre_error(error, text, translation) from None


def _pcre_error(error: regex.error, text: str, translation: _Translation) -> PcreCompileError:
    message, where = error.msg, "here"
    for prefix, pcre_message, pcre_where in _ERROR_TEXTS:
        if error.msg.startswith(prefix):
            message, where = pcre_message, pcre_where
            break
    index = translation.source_index
    if where == "end" or error.pos is None:
        return PcreCompileError(message, _utf8_byte_offset(text, len(text)))
    at = index[error.pos] if error.pos < len(index) else len(text)
    if where == "before":
        at = max(at - 1, 0)
    elif where == "brace" and (brace := text.find("}", at)) >= 0:
        at = brace
    return PcreCompileError(message, _utf8_byte_offset(text, at))


def _captures(match: regex.Match[str]) -> list[str]:
    """Lua strings for ``[0]``…``[rc-1]``: pcre_exec's rc stops at the last group that took
    part; groups before it that did not are empty strings."""
    groups = match.groups()
    rc = len(groups)
    while rc and groups[rc - 1] is None:
        rc -= 1
    return [_as_lua(match.group(0))] + [_as_lua(g or "") for g in groups[:rc]]


@dataclass
class _Scan:
    """What pcre.c's loop produced: text between matches and the matches it acted on."""

    between: list[str]  # len(matches) + 1 pieces of subject (Unicode)
    matches: list[regex.Match[str]]


def _scan(compiled: regex.Pattern[str], text: str, limit: int) -> _Scan:
    """Walk the subject as pcre.c's replace loop does (Perl /g semantics, ``limit`` matches).

    After an empty match PCRE retries at the same spot for a non-empty one; ``regex`` has no such
    mode, so we move one character on, which differs only for patterns that prefer an empty
    match where a longer one would also fit (``a*?``).
    """
    between: list[str] = []
    matches: list[regex.Match[str]] = []
    start, after_empty, n = 0, False, len(text)
    piece_start = 0
    while True:
        match = None if after_empty else compiled.search(text, start)
        if match is not None and limit != 0:
            between.append(text[piece_start:match.start()])
            matches.append(match)
            piece_start = match.end()
            if limit != NO_LIMIT:
                limit -= 1
            end0, end1 = match.span()
        elif after_empty and start < n:
            end0, end1 = start, start + 1
        else:
            break
        after_empty = end0 == end1
        start = end1
    between.append(text[piece_start:])
    return _Scan(between, matches)


def _expand(replacement: str, match: regex.Match[str], captures: list[str],
            compiled: regex.Pattern[str]) -> Iterator[str]:
    """pcre.c's replacement parser: ``$N``, ``${N}``, ``${name}``, ``\\N``; a character after a
    backslash is literal; ``$`` or ``\\`` followed by anything else vanishes."""
    rc = len(captures)
    walk, end = 0, len(replacement)

    def at(k: int) -> str:
        return replacement[k] if k < end else "\0"

    while walk < end:
        c = replacement[walk]
        if c not in "\\$":
            yield c
            walk += 1
            continue
        if walk > 0 and replacement[walk - 1] == "\\":
            yield c
            walk += 1
            continue
        in_brace = False
        walk += 1
        if c == "$" and at(walk) == "{":
            in_brace = True
            walk += 1
        reference = 0
        name = ""
        if at(walk).isdigit() and at(walk).isascii():
            while walk < end:
                if in_brace and replacement[walk] == "}":
                    walk += 1
                    break
                if replacement[walk] in "0123456789":
                    reference = reference * 10 + int(replacement[walk])
                    walk += 1
                    continue
                break
        elif in_brace:
            close = replacement.find("}", walk)
            close = end if close < 0 else close
            name = replacement[walk:close][:127]
            walk = min(close + 1, end)
            reference = compiled.groupindex.get(_name_text(name), -1) if name else 0
        else:
            continue
        if 0 <= reference < rc:
            yield captures[reference]


def _name_text(name: str) -> str:
    try:
        return _as_text(name)
    except UnicodeDecodeError:
        return name


def _pcre_call(on_bad_subject: Callable[[Any], Any]) -> Callable[[Callable], Callable]:
    """pcre.c's envelope for match/replace/split: a pattern that does not compile answers
    ``nil, message, offset``; a subject that is not UTF-8 never matches
    (``on_bad_subject(host)``). The method gets the decoded subject and compiled pattern."""

    def wrap(method: Callable) -> Callable:
        @functools.wraps(method)
        def call(self: Any, subject: str, pattern: str, *args: Any) -> Any:
            try:
                compiled = compile_pattern(pattern)
            except PcreCompileError as error:
                return None, error.message, error.offset
            try:
                text = _as_text(subject)
            except UnicodeDecodeError:
                return on_bad_subject(self)
            return method(self, text, compiled, *args)

        return call

    return wrap


class PcreLibrary:
    """The Python functions ``pcre.lua`` calls; one per Lua state (it builds Lua tables)."""

    def __init__(self, lua: lua51.LuaRuntime) -> None:
        self._lua = lua

    def _match_table(self, match: regex.Match[str], compiled: regex.Pattern[str]) -> Any:
        captures = _captures(match)
        entries: dict[object, str] = dict(enumerate(captures))
        for name, number in compiled.groupindex.items():
            entries[_as_lua(name)] = _as_lua(match.group(number) or "")
        return self._lua.table_from(entries)

    @_pcre_call(lambda self: None)
    def match(self, text: str, compiled: regex.Pattern[str]) -> Any:
        match = compiled.search(text)
        return None if match is None else self._match_table(match, compiled)

    @_pcre_call(lambda self: "")
    def replace(self, text: str, compiled: regex.Pattern[str], replacement: str, limit: int) -> Any:
        def expanded(match: regex.Match[str]) -> str:
            return "".join(_expand(replacement, match, _captures(match), compiled))

        return "".join(_interleave(_scan(compiled, text, limit), expanded))

    @_pcre_call(lambda self: self._lua.table_from([""]))
    def replace_plan(self, text: str, compiled: regex.Pattern[str], limit: int) -> Any:
        """For a callback replacement: a Lua array ``{text, match, text, …, text}``."""
        scan = _scan(compiled, text, limit)
        return self._lua.table_from(
            _interleave(scan, lambda match: self._match_table(match, compiled))
        )

    @_pcre_call(lambda self: self._lua.table_from([]))
    def split(self, text: str, compiled: regex.Pattern[str], limit: int) -> Any:
        return self._lua.table_from([_as_lua(piece) for piece in _split(compiled, text, limit)])


def _interleave(scan: _Scan, item: Callable[[regex.Match[str]], Any]) -> list[Any]:
    """The text between matches (Lua strings) with ``item(match)`` in each match's place."""
    out: list[Any] = [_as_lua(scan.between[0])]
    for match, following in zip(scan.matches, scan.between[1:], strict=True):
        out += [item(match), _as_lua(following)]
    return out


def _split(compiled: regex.Pattern[str], text: str, limit: int) -> list[str]:
    """pcre.c's split: pieces between matches, empty ones dropped; ``limit`` caps the count
    (the last piece keeps the rest of the subject)."""
    remaining = limit - 1 if limit != NO_LIMIT else NO_LIMIT
    pieces: list[str] = []
    start, after_empty, n = 0, False, len(text)
    while True:
        match = None if after_empty else compiled.search(text, start)
        if match is not None and remaining != 0:
            if match.start() > start:
                pieces.append(text[start:match.start()])
                if remaining != NO_LIMIT:
                    remaining -= 1
            end0, end1 = match.span()
        elif after_empty and start < n:
            end0, end1 = start, start + 1
        else:
            if start < n:
                pieces.append(text[start:])
            return pieces
        after_empty = end0 == end1
        start = end1


def open_pcre(lua: lua51.LuaRuntime) -> Any:
    """Create the ``msys.pcre`` module table (also served as ``pcre``) in ``lua``."""
    library = PcreLibrary(lua)
    return run_library_chunk(
        lua, "pcre.lua", library.match, library.replace, library.replace_plan, library.split
    )
