"""``require("msys.dumper")``: ``Dumper(value)``, written in Lua (``dumper.lua``)."""

from __future__ import annotations

from typing import Any

from lupa import lua51

from momentum_httpsrv.lua.lib._source import run_library_chunk


def open_dumper(lua: lua51.LuaRuntime) -> Any:
    """Create the ``msys.dumper`` module table in ``lua``."""
    return run_library_chunk(lua, "dumper.lua")
