"""Scripts may assign any global or library field; the emulator's own Lua must not notice.
Our files capture what they use as locals when they load (before any script runs), so a
script's `setmetatable = nil` breaks only that script."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from lua_site import scriptlet_client
from lupa import lua51

import momentum_httpsrv
from momentum_httpsrv.testing.client import MomentumTestClient

PACKAGE = Path(momentum_httpsrv.__file__).resolve().parent
# Globals our functions read on purpose at run time: the script-visible tables a script
# extends (msys, package) and the names it may legitimately wrap (require, loadfile, _G).
LOOKED_UP_AT_RUN_TIME = {"msys", "_G", "package", "require", "loadfile"}

GETGLOBAL, SETGLOBAL, SELF = 5, 7, 11  # Lua 5.1 opcodes
RK_CONSTANT = 256  # an RK operand at or above this names a constant
# Method calls through the string metatable (`s:sub(1)`) find string.sub at run time.
STRING_METHODS = {
    "byte", "char", "dump", "find", "format", "gmatch", "gsub", "len", "lower", "match",
    "rep", "reverse", "sub", "upper",
}  # fmt: skip


class BytecodeReader:
    """Just enough of Lua 5.1's string.dump format (x86-64 layout) to list the globals
    each function reads or writes."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 12  # past the header

    def byte(self) -> int:
        self.at += 1
        return self.data[self.at - 1]

    def int(self) -> int:
        self.at += 4
        return struct.unpack_from("<i", self.data, self.at - 4)[0]

    def string(self) -> str | None:
        size = struct.unpack_from("<Q", self.data, self.at)[0]
        self.at += 8 + size
        return self.data[self.at - size : self.at - 1].decode("latin-1") if size else None

    def function(self, nested: bool, found: list[tuple[int, str]]) -> None:
        """Append (line, name) for each global a nested function (not the chunk's top
        level, which runs at load time) reads or writes, and (line, ":name") for each
        call of a string method by name."""
        self.string()
        self.int(), self.int()
        for _ in range(4):
            self.byte()
        code = [self.int() & 0xFFFFFFFF for _ in range(self.int())]
        constants: list[object] = []
        for _ in range(self.int()):
            kind = self.byte()
            if kind == 1:
                constants.append(self.byte())
            elif kind == 3:
                self.at += 8
                constants.append(0)
            elif kind == 4:
                constants.append(self.string())
            else:
                constants.append(None)
        for _ in range(self.int()):
            self.function(True, found)
        lines = [self.int() for _ in range(self.int())]
        for _ in range(self.int()):
            self.string(), self.int(), self.int()
        for _ in range(self.int()):
            self.string()
        if nested:
            for pc, instruction in enumerate(code):
                if instruction & 0x3F in (GETGLOBAL, SETGLOBAL):
                    found.append((lines[pc], str(constants[instruction >> 14])))
                elif instruction & 0x3F == SELF and (instruction >> 14) & 0x1FF >= RK_CONSTANT:
                    name = constants[((instruction >> 14) & 0x1FF) - RK_CONSTANT]
                    if name in STRING_METHODS:
                        found.append((lines[pc], f":{name}"))


def globals_used_at_run_time(path: Path) -> list[tuple[int, str]]:
    lua = lua51.LuaRuntime(encoding=None)
    dump = lua.eval(
        "function(source, name) return string.dump(assert(loadstring(source, name))) end"
    )
    found: list[tuple[int, str]] = []
    BytecodeReader(dump(path.read_bytes(), b"=x")).function(False, found)
    return found


SHIPPED_LUA = sorted(PACKAGE.rglob("*.lua"))


@pytest.mark.parametrize("path", SHIPPED_LUA, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_our_lua_functions_use_no_global_a_script_can_replace(path):
    used = [
        f"line {line}: {name}"
        for line, name in globals_used_at_run_time(path)
        if name not in LOOKED_UP_AT_RUN_TIME
    ]
    assert used == []


BASE_FUNCTIONS = [
    "setmetatable", "getmetatable", "pairs", "ipairs", "next", "rawget", "rawset",
    "rawequal", "type", "tostring", "tonumber", "error", "assert", "pcall", "xpcall",
    "select", "unpack", "newproxy",
]  # fmt: skip
LIBRARIES = ["table", "coroutine", "math", "os", "debug", "io", "string"]

SITE = r"""
local error = error  -- /fails raises its own error, whatever else is gone
require("msys.extended.httpsrv")
msys.httpsrv.register("GET", "/clobber", function(s)
  s:response_append("clobbered")
  local names, libraries, pairs = NAMES, LIBRARIES, pairs
  for i = 1, #libraries do
    local library = _G[libraries[i]]
    for key in pairs(library) do library[key] = nil end
  end
  for i = 1, #names do _G[names[i]] = nil end
end)
msys.httpsrv.register("GET", "/plain", function(s)
  s:response_printf("plain %s", s:request_url_get().url)
  s:response_header_set("X-Family", s:request_header_get("Host") and "set" or "unset")
end)
msys.httpsrv.register("GET", "/fails", function(s)
  s:response_header_set("Bad\nName", "x")  -- refused: the name is no token
  error("it failed")
end)
msys.registerModule("m", {
  rsrc_setup = function()
    msys.registerControl("hello", function(cc) print("hello back") end)
    return true
  end,
  deinit = function() DEINIT_RAN = true end,
})
"""


@pytest.fixture
def site(tmp_path: Path):
    client = scriptlet_client(tmp_path, SITE)
    yield client
    client.close()


def clobber(site: MomentumTestClient, names: list[str], libraries: list[str]) -> None:
    lua = site.node.generation.lua.lua
    lua.globals().NAMES = lua.table_from(names)
    lua.globals().LIBRARIES = lua.table_from(libraries)
    assert site.get("/clobber").body == b"clobbered"


@pytest.mark.parametrize("name", BASE_FUNCTIONS + [f"{lib}.*" for lib in LIBRARIES])
def test_a_script_replacing_a_global_does_not_break_requests_console_or_shutdown(site, name):
    if name.endswith(".*"):
        clobber(site, [], [name[:-2]])
    else:
        clobber(site, [name], [])
    for _ in range(2):
        response = site.get("/plain?q=1")
        assert (response.status, response.body) == (200, b"plain /plain?q=1")
    assert site.get("/fails").status == 500
    assert "it failed" in site.paniclog
    reply = site.node.console("hello")
    if name == "tostring":  # print converts with the global tostring, as stock Lua's does
        assert "attempt to call" in reply
    else:
        assert "hello back" in reply
    globals_ = site.node.generation.lua.lua.globals()
    site.close()
    assert globals_.DEINIT_RAN is True
    assert "Traceback" not in site.paniclog
