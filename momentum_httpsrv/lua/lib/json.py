"""``require("json")``: json-c compatible JSON objects for scripts.

The whole object model and the decoder live in ``json.lua`` (see its header); this module
opens it. The session's JSON methods use the same Lua functions from ``session.lua``, so a
request body decodes exactly like ``json.decode`` would decode it.
"""

from __future__ import annotations

from typing import Any

from lupa import lua51

from momentum_httpsrv.lua.lib._source import run_library_chunk

JSON_TYPE_NAME = "libjson:json_object*"


def open_json(lua: lua51.LuaRuntime) -> Any:
    """Create the ``json`` module table in ``lua``."""
    return run_library_chunk(lua, "json.lua")
