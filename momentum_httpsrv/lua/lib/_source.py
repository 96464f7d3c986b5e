"""Loading the Lua halves of the libraries into a Lua state."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from lupa import lua51

from ..chunknames import package_chunkname


@cache
def _lua_source(filename: str) -> str:
    # Latin-1 keeps the bytes as they are, matching the runtime's text convention.
    return resources.files(__package__).joinpath(filename).read_text(encoding="latin-1")


def run_library_chunk(lua: lua51.LuaRuntime, filename: str, *args: Any) -> Any:
    """Run the library file ``filename`` with ``args`` as its ``...`` and return its result."""
    return lua.execute(_lua_source(filename), *args, name=package_chunkname(f"lua/lib/{filename}"))
