"""``require("json")``: json-c compatible JSON objects for scripts.

The whole object model and the decoder live in ``json.lua`` (see its header); this module opens
it and gives the session API two conveniences that go through the same Lua functions scripts
use, so a request body decodes exactly like ``json.decode`` would decode it.
"""

from __future__ import annotations

from typing import Any

from lupa import lua51

from momentum_httpsrv.lua.lib._source import run_library_chunk

JSON_TYPE_NAME = "libjson:json_object*"


def open_json(lua: lua51.LuaRuntime) -> Any:
    """Create the ``json`` module table in ``lua``."""
    return run_library_chunk(lua, "json.lua")


def json_decode_to_lua(lua: lua51.LuaRuntime, text: str) -> tuple[Any, int | None, str | None]:
    """Decode Latin-1 convention ``text`` like ``json.decode``: ``(obj, None, None)`` or
    ``(None, code, message)``."""
    result = lua.require("json").decode(text)
    if isinstance(result, tuple):
        _, code, message = result
        return None, code, message
    return result, None, None


def json_to_text(lua: lua51.LuaRuntime, value: Any) -> str:
    """json-c text of a JSON userdata, or of a Lua table (or scalar) per ``json.encode``."""
    module = lua.require("json")
    if lua51.lua_type(value) != "userdata":
        value = module.encode(value)
    return lua.globals().tostring(value)
