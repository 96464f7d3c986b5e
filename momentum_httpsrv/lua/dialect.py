"""thrLua 5.1 → Lua 5.1 source translation.

Every chunk of Lua that reaches the interpreter (scripts, ``require``d modules,
``loadstring`` chunks, console ``scriptlet eval``) passes through ``translate``.
"""

from __future__ import annotations


def translate(source: str, chunkname: str) -> str:
    """Translate thrLua source (Latin-1 text) into plain Lua 5.1 with the same line count.

    Identity for now: the dialect translator replaces this.
    """
    return source
