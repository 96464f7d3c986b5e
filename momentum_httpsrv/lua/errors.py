"""Lua errors as Python sees them, shaped as Lua reports them (``script:line: message``)."""

from __future__ import annotations

from .chunknames import INTERNAL_MARK


def script_text(text: str) -> str:
    """Lua text as the script wrote it. Lua strings are bytes (Latin-1 in Python, see the
    package docstring), and scripts are written in UTF-8: where the bytes are valid UTF-8
    they are shown decoded (``error("héllo ✓")`` reads so in a pytest failure), else as
    they are. For text leaving the package as Python text; the paniclog file and console
    replies carry the bytes themselves."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


class LuaScriptError(Exception):
    """A Lua error, shaped as Lua reports it (``script:line: message``)."""

    def __init__(self, message: str, traceback: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.traceback = trim_traceback(traceback) if traceback else None


def trim_traceback(traceback: str) -> str:
    """Keep the message and the script's frames of a Lua traceback; drop our harness's
    frames (the package's own Lua files, xpcall, the C ``error`` frame behind an argument
    check). The message itself is never touched, even if it names a package file."""
    message, marker, frames = traceback.partition("\nstack traceback:")
    if not marker:
        return traceback
    kept = [message + marker]
    for line in frames.splitlines()[1:]:
        if "in function 'xpcall'" in line:
            break
        internal = line.strip().startswith(INTERNAL_MARK) or line.strip() in (
            "[C]: in function 'error'",
            "(tail call): ?",
        )
        if not internal:
            kept.append(line)
    return "\n".join(kept)
