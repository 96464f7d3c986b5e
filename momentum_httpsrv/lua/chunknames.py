"""Chunk names of the package's own Lua files.

Lua shortens ``@path`` chunk names to their last 60 characters in messages, so a long
install path cannot be recognised in a traceback. Our files are loaded as
``=[momentum-httpsrv]/<file>``: short, never mistaken for a user's script, and easy to
drop from the tracebacks users see (``runtime.trim_traceback``)."""

from __future__ import annotations

INTERNAL_MARK = "[momentum-httpsrv]"


def package_chunkname(relative: str) -> str:
    """The chunk name of package Lua file ``relative`` (e.g. ``httpsrv/session.lua``)."""
    return f"={INTERNAL_MARK}/{relative}"
