"""Shared by the Lua handler tests: a Lua site served through the in-process pipeline
(LuaState → binding → Dispatcher → CollectingSink), with the Lua libraries others ship."""

from __future__ import annotations

import asyncio
from pathlib import Path

from momentum_httpsrv.httpsrv.dispatch import Dispatcher
from momentum_httpsrv.httpsrv.lua_binding import LuaHttpsrvBinding
from momentum_httpsrv.httpsrv.requests import OFFLINE_CONNECTION, ConnectionInfo, Request
from momentum_httpsrv.httpsrv.responses import CollectingSink, Response
from momentum_httpsrv.lua.runtime import LuaState

# Lua helper the test sites share: join(...) → the values as text, separated by "|".
JOIN_LUA = '''local function join(...)
  local out = {}
  for i = 1, select("#", ...) do out[i] = tostring((select(i, ...))) end
  return table.concat(out, "|")
end
'''


class LuaSite:
    """One Lua script loaded into a fresh state; ``request`` runs one request to its end."""

    def __init__(self, script: str, directory: Path) -> None:
        self.log: list[str] = []
        self.state = LuaState([directory], print_sink=self.log.append, warn=self.log.append)
        self.binding = LuaHttpsrvBinding(self.state)
        self.state.execute(script, "@site.lua")
        self.dispatch = Dispatcher(
            self.binding.registry, lambda message, tb: self.log.append(message)
        )

    async def arequest(
        self,
        method: str,
        target: str,
        body: bytes = b"",
        headers: tuple[tuple[str, str], ...] = (),
        connection: ConnectionInfo = OFFLINE_CONNECTION,
    ) -> Response:
        sink = CollectingSink()
        await self.dispatch(Request(method, target, "1.1", list(headers), body, connection), sink)
        assert sink.finished or sink.aborted
        return sink.response

    def request(self, method: str, target: str, **kwargs) -> Response:
        return asyncio.run(self.arequest(method, target, **kwargs))
