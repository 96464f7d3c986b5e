"""The Lua side of the console: ``msys.registerControl``, running a registered command with
its ``print`` output captured, ``scriptlet eval``, and ``msys.core``'s mail-queue calls.

Command functions stay in a Lua id table (lua/boundary.py); the host's ``ControlRegistry``
holds their numbers, and a fresh registry is used for every configuration generation, like
the endpoint registry. When a registry is collected its numbers are retired: Lua forgets
them when the next ``registerControl`` returns or the next command starts.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Configuration
from ..lua.runtime import LuaScriptError, LuaState
from .mailqueue import MailQueue
from .msys_config import MsysConfig
from .registry import CommandOutcome, ControlRegistry


class LuaControlBinding:
    """Installs the console's Lua API into one Lua state."""

    def __init__(
        self, state: LuaState, mail_queue: MailQueue, config: Configuration | None = None
    ) -> None:
        self.state = state
        # msys.config over the generation's tree; the node connects its console once the
        # generation runs (``msys_config.console``).
        self.msys_config = MsysConfig(state, config) if config is not None else None
        boundary = state.boundary
        self._commands = boundary.id_table("console command")
        self._registry = self._tracked(ControlRegistry(warn=state.warn))
        self._run_ids = itertools.count(1)
        host = boundary.host_table({"register": self._register, "delay_domain": mail_queue.delay})
        core = state.lua.globals().require("msys.core")
        self._api: Any = state.run_package_lua(
            Path(__file__).with_name("control.lua"), host, core, state.api,
            self._commands.lua_table,
        )
        self._take_output = boundary.trampoline(self._api.take_output, "take_output")

    @property
    def registry(self) -> ControlRegistry:
        """Where ``msys.registerControl`` adds now."""
        return self._registry

    @registry.setter
    def registry(self, registry: ControlRegistry) -> None:
        self._registry = self._tracked(registry)

    def _tracked(self, registry: ControlRegistry) -> ControlRegistry:
        self._commands.watch(registry, registry.command_ids)
        return registry

    def registered_commands(self) -> int:
        """How many command functions Lua holds (leak checks)."""
        return self._commands.count()

    def _register(self, prefix: str, command_id: int) -> object:
        """A host call: returns the retired command numbers for control.lua to forget (a
        table), if any."""
        self._registry.register(prefix, command_id)
        return self._commands.retired()

    async def run_command(
        self, command_id: int, words: list[str], line: str, xml: bool
    ) -> CommandOutcome:
        """Run a registered command as a task (it may ``msys.sleep``) and collect its print
        output; a Lua error is returned with whatever was printed before it."""
        self._commands.release()
        xml_flag = 1 if xml else 0
        return await self._run_captured(
            lambda task_id, run_id: self.state.api.start_task(
                task_id, 0, self._api.run_command, run_id, command_id, xml_flag, line, *words
            )
        )

    async def evaluate(self, source: str) -> CommandOutcome:
        """``scriptlet eval``: run a chunk in the shared state and print what it returns.
        An expression is tried first (``return <source>``), as Lua's interactive mode does."""
        try:
            chunk = self.state.compile("return " + source, "=console")
        except LuaScriptError:
            try:
                chunk = self.state.compile(source, "=console")
            except LuaScriptError as error:
                return CommandOutcome("", error)
        return await self._run_captured(
            lambda task_id, run_id: self.state.api.start_task(
                task_id, 0, self._api.eval, run_id, chunk
            )
        )

    async def _run_captured(self, start: Callable[[int, int], object]) -> CommandOutcome:
        """Run a task with its print output captured; the runInPool jobs it started finish
        (and print) before the reply is taken."""
        run_id = next(self._run_ids)
        task_ids: list[int] = []

        def started(task_id: int) -> object:
            task_ids.append(task_id)
            return start(task_id, run_id)

        error = None
        try:
            await self.state.run_task(started)
        except LuaScriptError as raised:
            error = raised
        finally:
            if task_ids:
                await self.state.msys_async.wait_jobs(task_ids[0])
        return CommandOutcome(self._take_output(run_id), error)
