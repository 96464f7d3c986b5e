"""``msys.httpsrv.register_auth`` (httpsrv.md §3.A.2): Lua auth callbacks in a registry of
their own, run by the same machinery as request handlers.

Auth functions stay in Lua (lupa rule: no Lua object is kept past the host call); the auth
registry holds LuaAuthHandler objects naming them by number. One registry belongs to one
configuration generation, like the endpoint registry.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from ..lua.runtime import LuaState
from .lua_binding import LuaHandler, LuaHttpsrvBinding
from .routing import EndpointRegistry
from .session import HttpSession


@dataclass(frozen=True)
class LuaAuthHandler:
    """A registered Lua auth function: called with a session, returns (verdict, user)."""

    binding: LuaAuthBinding
    handler: LuaHandler

    async def __call__(self, session: HttpSession) -> tuple[object, object]:
        run = next(self.binding.run_ids)
        self.binding.api.announce(run)
        await self.handler(session)
        return self.binding.api.take_verdict(run)


class LuaAuthBinding:
    """Adds ``register_auth`` to the ``msys.httpsrv`` table of one Lua state."""

    def __init__(self, state: LuaState, httpsrv: LuaHttpsrvBinding) -> None:
        self.httpsrv = httpsrv
        self._warn = state.warn
        self.registry = EndpointRegistry(warn=state.warn)  # where register_auth adds, now
        self.run_ids = itertools.count(1)
        self._endpoints: EndpointRegistry | None = None
        host = state.lua.table_from(
            {"begin_registration": self._begin, "end_registration": self._end}
        )
        table = state.lua.globals().require("msys.httpsrv")
        self.api = state.run_package_lua(Path(__file__).with_name("auth_binding.lua"), host, table)

    def _begin(self) -> None:
        """Point ``httpsrv.register`` at a scratch registry for one register_auth call."""
        self._endpoints = self.httpsrv.registry
        self.httpsrv.registry = EndpointRegistry(warn=self._warn)

    def _end(self) -> None:
        scratch, self.httpsrv.registry = self.httpsrv.registry, self._endpoints
        self._endpoints = None
        for registration in scratch:
            self.registry.register(
                registration.method,
                registration.base,
                LuaAuthHandler(self, registration.handler),
                closure=registration.closure,
            )
